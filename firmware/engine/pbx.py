"""The call engine: devices, the dial plan and routing, on one media clock.

Built once from the office config and the board's HAL ports (DESIGN.md: the hardware is
chosen once in main.py and passed down). Analog lines become FXS devices; every extension
number in the config becomes a dial-plan entry leading to `dial_extension`, every outbound
route a prefixed range leading to `dial_out`.
"""

from __future__ import annotations

import asyncio
import datetime
import functools
import logging
import weakref
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

from firmware.config import ExtensionConfig, FxoLineConfig, OfficeConfig, RouteConfig
from firmware.config.destinations import split_target
from firmware.engine.channel import Cause, Channel, Party
from firmware.engine.channels.dect import DectHandset, DectHandsets
from firmware.engine.channels.fxo import FxoPort
from firmware.engine.channels.fxs import FxsPort
from firmware.engine.channels.fxs_vmwi import AnalogMessageWaiting
from firmware.engine.clock import FrameClock
from firmware.engine.dial import dial_extension
from firmware.engine.dialplan import Destination, DialPlan
from firmware.engine.features.forward import SettingsStore, change_setting
from firmware.engine.features.incall import InCallCodes
from firmware.engine.features.park import ParkingLot, park_here, take_parked
from firmware.engine.features.pickup import RingingCalls, pickup
from firmware.engine.goodbye import say_goodbye
from firmware.engine.mwi import MessageWaiting
from firmware.engine.outbound import dial_out
from firmware.engine.wallclock import WallClock
from firmware.logs import call_event
from firmware.media.errors import MediaError
from firmware.media.music import HoldMusic, office_music_samples
from firmware.media.player import FrameSource
from firmware.media.prompts import SHIPPED_DIR, PromptSet
from firmware.media.tones import ToneGenerator, ToneSpec, plan
from firmware.runtime import Supervisor
from hal.interfaces import AnalogLine, Trunk

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from firmware.engine.apps import App
    from firmware.engine.sipua import SipDevice, SipUserAgent
    from hal.interfaces import DectBase

    Device = FxsPort | DectHandset | SipDevice


class Engine:
    def __init__(
        self,
        office: OfficeConfig,
        lines: dict[str, AnalogLine],
        supervisor: Supervisor,
        loop: asyncio.AbstractEventLoop,
        settings: SettingsStore | None = None,
        apps: Sequence[App] = (),
        *,
        trunks: dict[str, Trunk] | None = None,
        prompts_dir: Path | None = None,
        dect: DectBase | None = None,
    ) -> None:
        self.supervisor = supervisor
        # Where the office's own prompts are when [features] prompts_dir is not set (the
        # state directory's, where greetings recorded from a phone go).
        self.default_prompts_dir = prompts_dir
        # Wall-clock time (caller ID, business hours), moving with the loop's clock as the
        # queues' and promises' stored times do; tests may set a clock of their own.
        self.wall_clock: Callable[[], float] = WallClock(loop).now
        self.apps = {app.kind: app for app in apps}  # menus, groups, queues, voicemail ...
        self.settings = settings or SettingsStore()  # forwards and DND, per extension
        self.ringing = RingingCalls()  # calls ringing now, for pickup
        self.parking = ParkingLot()
        self.mwi = MessageWaiting()  # voice messages per mailbox, set by voicemail
        # Transfer codes keyed in calls, per leg; forgotten with the leg.
        self.in_call: weakref.WeakKeyDictionary[Channel, InCallCodes] = \
            weakref.WeakKeyDictionary()
        self.sip: SipUserAgent | None = None  # set by the box once SIP listens
        # The box sets this: tell the tools that snapshot() changed (queue figures).
        self.publish: Callable[[], None] = lambda: None
        self.clock = FrameClock(loop, supervisor)
        self.devices = {
            name: FxsPort(line, self, office.line_settings(name), None)
            for name, line in lines.items()
        }
        # The handset slots of the board's DECT base ("dect:1" ...): devices too.
        self.handsets = DectHandsets(dect, self, office).handsets if dect is not None else {}
        self.fxo = {name: FxoPort(line, self, office.fxo.get(name) or FxoLineConfig())
                    for name, line in (trunks or {}).items()}  # the phone lines
        self.vmwi = AnalogMessageWaiting(self)  # message-waiting lamps and displays
        self.apply(office)

    def apply(self, office: OfficeConfig) -> None:
        """Run `office` from now on. Calls in progress go on; what they do next (the tones
        they hear, who a lifted phone is) follows the new config."""
        self.office = office
        self.plan = plan(office.site.country)
        self._load_sounds(office)
        self.timezone = ZoneInfo(office.site.timezone)
        dialplan = DialPlan()
        for ext in office.extensions:
            dialplan.add(ext.number, functools.partial(dial_extension, self, ext))
        for route in office.routes:
            dialplan.add_range(route.prefix, route.patterns(),
                               functools.partial(self._dial_out, route))
        self._add_setting_codes(dialplan, office)
        for app in self.apps.values():
            app.configure(self, office, dialplan)
        self.dialplan = dialplan
        owners = {device: ext for ext in office.extensions for device in ext.devices}
        for name, port in [*self.devices.items(), *self.handsets.items()]:
            owner = owners.get(name)
            party = Party(owner.number, owner.name) if owner else None
            port.reconfigure(office.line_settings(name), party)
        for name, line in self.fxo.items():
            line.reconfigure(office.fxo.get(name) or FxoLineConfig())
        self.vmwi.refresh()  # a port may belong to another mailbox now

    def _load_sounds(self, office: OfficeConfig) -> None:
        """The prompts (shipped, and the office's own recordings) and the hold music. A
        broken office file is logged and left out: the box speaks and plays without it."""
        features = office.features
        self.prompts = PromptSet.load(SHIPPED_DIR, self.prompts_dir)
        for problem in self.prompts.problems:
            log.warning("prompts: %s", problem)
        self._music: npt.NDArray[np.int16] | None = None
        if features.hold_music:
            try:
                self._music = office_music_samples(Path(features.hold_music))
            except MediaError as exc:
                log.error("hold music %s not used (the built-in tune plays): %s",
                          features.hold_music, exc)

    def hold_music(self) -> HoldMusic:
        return HoldMusic(self._music)

    def announcement(self, keys: list[str], beeps: int = 0) -> tuple[FrameSource, float]:
        """`keys` spoken, and how long that takes; without the prompts, `beeps` short
        beeps (at least one) instead: the box runs without its prompt files."""
        spoken = self.prompts.sequence(keys)
        if spoken is not None:
            return spoken, spoken.seconds
        return self.beeps(max(beeps, 1), 200)

    def beeps(self, count: int, ms: int) -> tuple[FrameSource, float]:
        """`count` short beeps at the dial tone's pitch, and how long they take."""
        pitch = "+".join(f"{f:g}" for f in self.plan.dial.segments[0].freqs) or "425"
        text = ",".join([f"!{pitch}/{ms},!0/{ms}"] * count)
        return ToneGenerator(ToneSpec.parse("beeps", text)), count * 2 * ms / 1000

    def devices_of(self, extension: ExtensionConfig) -> list[Device]:
        """Every phone of `extension`: its analog ports, DECT handsets and live SIP
        registrations."""
        devices: list[Device] = [self.devices[d] for d in extension.devices if d in self.devices]
        devices += [self.handsets[d] for d in extension.devices if d in self.handsets]
        if self.sip is not None:
            devices += self.sip.devices_for(extension)
        return devices

    def ring_timeout(self, extension: ExtensionConfig) -> float:
        """How long an extension rings: the shortest ring time of its lines."""
        ports = [d for d in extension.devices if d in self.devices]
        return min(  # SIP phones ring for the [analog] default
            (self.office.line_settings(p).ring_timeout_s for p in ports),
            default=self.office.analog.ring_timeout_s,
        )

    def _add_setting_codes(self, dialplan: DialPlan, office: OfficeConfig) -> None:
        codes = office.features
        for on, off, what in ((codes.forward_all_on, codes.forward_all_off, "forward_all"),
                              (codes.forward_busy_on, codes.forward_busy_off, "forward_busy"),
                              (codes.forward_no_answer_on, codes.forward_no_answer_off,
                               "forward_no_answer")):
            dialplan.add_code(on, functools.partial(self._setting, what))
            dialplan.add(off, self._setting(what, None))
        dialplan.add(codes.dnd_on, self._setting("dnd", True))
        dialplan.add(codes.dnd_off, self._setting("dnd", False))
        dialplan.add(codes.pickup, functools.partial(pickup, self))
        dialplan.add(codes.park, functools.partial(park_here, self))
        dialplan.add(codes.park_code, functools.partial(park_here, self))
        for slot in codes.park_numbers:
            dialplan.add(slot, functools.partial(take_parked, self, slot))
        dialplan.add_code(codes.directed_pickup, self._directed_pickup)

    def _directed_pickup(self, extension: str) -> Destination:
        return functools.partial(pickup, self, extension=extension)

    def _setting(self, what: str, value: str | bool | None) -> Destination:
        return functools.partial(change_setting, self, what=what, value=value)

    def dial_tone(self, extension: str | None) -> str:
        """What a lifted analog phone hears: stutter dial tone while its calls go elsewhere,
        or while its mailbox holds new messages."""
        settings = self.settings.get(extension) if extension else None
        stutter = (settings is not None and settings.stutter) or self.mwi.waiting(extension)
        return "stutter_dial" if stutter else "dial"

    def _dial_out(self, route: RouteConfig, number: str) -> Destination:
        return functools.partial(dial_out, self, route, number)

    def destination(self, target: str) -> Destination | None:
        """Where `target` leads: a number of the dial plan, or a destination of the
        config ("menu:main", "voicemail:101", "operator", "hangup"; config.destinations)."""
        kind, name = split_target(target)
        if kind == "number":
            return self.dialplan.lookup(name)
        if kind == "operator":
            operator = self.office.features.operator
            return self.dialplan.lookup(operator) if operator is not None else None
        if kind == "hangup":
            return functools.partial(say_goodbye, self)
        app = self.apps.get(kind)
        return app.destination(name) if app is not None else None

    async def route(self, channel: Channel, number: str) -> Cause:
        """Send `channel` to `number` (digits dialled, or a destination of the config)."""
        destination = self.destination(number)
        if destination is not None:
            return await destination(channel)
        route = next((r for r in self.office.routes if number.startswith(r.prefix)), None)
        if route is not None:  # an outside number the route does not allow
            call_event("outbound-refused", channel=channel.name, number=number,
                       why="not an allowed number")
            return Cause.CALL_BARRED
        call_event("unknown-number", channel=channel.name, number=number)
        return Cause.UNALLOCATED_NUMBER

    async def take_outside_call(self, channel: Channel, target: str | None) -> Cause:
        """A call from outside (a trunk's DID, the phone line) to `target`; if nobody
        there answers (busy, no answer, and no voicemail took it), the operator gets it
        rather than the caller hearing nothing more (`[features] operator`)."""
        cause = await self.route(channel, target) if target is not None \
            else Cause.UNALLOCATED_NUMBER
        operator = self.office.features.operator
        if cause in (Cause.NO_ANSWER, Cause.USER_BUSY) and operator is not None and \
                not channel.gone.is_set() and target not in (operator, "operator"):
            call_event("to-operator", channel=channel.name, why=cause.value)
            cause = await self.route(channel, operator)
        return cause

    def adopt(self, leg: Channel) -> None:
        """Look after a leg whose session ended while a transfer keeps it in a call: hang
        it up once it is alone (the other party hung up)."""
        async def keep() -> None:
            await leg.until_alone()
            leg.hangup()

        self.supervisor.spawn(f"transferred {leg.name}", keep(),
                              on_crash=lambda _exc: leg.hangup(Cause.FAILURE))

    @property
    def prompts_dir(self) -> Path | None:
        """The office's own prompts: [features] prompts_dir, else the state directory's."""
        configured = self.office.features.prompts_dir
        return Path(configured) if configured else self.default_prompts_dir

    async def reload_prompts(self) -> None:
        """Read the prompts again (a greeting was recorded), off the loop: files are read."""
        self.prompts = await asyncio.to_thread(PromptSet.load, SHIPPED_DIR, self.prompts_dir)

    def now_local(self) -> datetime.datetime:
        """Wall-clock time in the office's zone (caller ID's date and time, business
        hours), from `wall_clock`."""
        return datetime.datetime.fromtimestamp(self.wall_clock(), self.timezone)

    def snapshot(self) -> dict[str, Any]:
        return {
            "ports": {name: port.state.value for name, port in self.devices.items()},
            "handsets": {name: h.state.value for name, h in self.handsets.items()},
            "clock_running": self.clock.running,
            "lines": {name: line.snapshot() for name, line in self.fxo.items()},
            "trunks": {name: link.snapshot() for name, link in self.sip.trunks.items()}
            if self.sip is not None else {},
            # What applications show (queue figures, promises): those with a snapshot().
            "apps": {kind: show() for kind, app in self.apps.items()
                     if (show := getattr(app, "snapshot", None)) is not None},
        }
