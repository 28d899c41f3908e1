"""A DECT handset as a device: it rings with caller ID, answers, dials and talks.

The base (`hal.interfaces.DectBase`) does the radio and the signalling; this module turns
its events into channel behaviour, like `channels.fxs` does for an analog line. A handset
that calls is connected at once, and the box plays call progress in-band as to an analog
phone: dial tone while it dials key by key (a number typed before the talk key is dialled
as it comes), ringback, busy. When the box ends a call it releases the handset, which
shows the call ended; a failed attempt first plays why (busy, SIT + congestion) for
`CLEARED_S`. Keys pressed in a call go to an application that listens, then to the
transfer codes (`features.incall`), then to the other party (RFC 4733 to a SIP phone,
DTMF tones in the audio to anyone else).

    state       the handset         what runs
    IDLE        idle                nothing (off the media clock)
    RINGING     rings               nothing: the base rings it, caller ID on its display
    OFF_HOOK    dials, or talks     the session: dial tone, keys, the call
    CLEARED     its call failed     the tone saying why, then the box releases it
"""

from __future__ import annotations

import asyncio
import enum
import itertools
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any

from firmware.engine.channel import Cause, Channel, ChannelState, Party
from firmware.engine.channels.fxs import ANNOUNCEMENT_PAUSE_S, TREATMENT
from firmware.engine.dialplan import Match
from firmware.engine.features.incall import in_call_key
from firmware.logs import call_event
from firmware.media.dtmf import DtmfGenerator
from firmware.media.frames import Frame, silence
from firmware.media.player import FrameSource, SamplePlayer
from firmware.media.tones import ToneGenerator
from hal.dect.errors import DectError
from hal.dect.events import (
    DectEvent,
    HandsetAnswered,
    HandsetCalling,
    HandsetKeys,
    HandsetRegistered,
    HandsetReleased,
    HandsetRemoved,
    RegistrationClosed,
    RegistrationOpened,
    ReleaseReason,
)
from hal.interfaces import DectBase

if TYPE_CHECKING:
    from firmware.config import LineSettings, OfficeConfig
    from firmware.engine.pbx import Engine

CLEARED_S = 8.0  # a failed call's tone plays this long before the box releases the handset
# Why a call ringing on a handset did not get answered, as the caller's side sees it.
RINGING_CAUSE = {ReleaseReason.REJECTED: Cause.USER_BUSY,
                 ReleaseReason.OUT_OF_RANGE: Cause.NO_ANSWER}

_leg_numbers = itertools.count(1)


class HandsetState(enum.Enum):
    IDLE = "idle"
    RINGING = "ringing"
    OFF_HOOK = "off-hook"
    CLEARED = "cleared"


class DectChannel(Channel):
    def __init__(self, handset: DectHandset, party: Party) -> None:
        super().__init__(f"{handset.name}/{next(_leg_numbers)}", party)
        self.handset = handset
        self.internal = True  # a handset paired to the office's own base

    def indicate(self, tone: str | None) -> None:
        if self.handset.channel is self:
            self.handset.play_tone(tone)

    def ring(self, caller: Party) -> None:
        self.handset.start_ringing(self, caller)

    def deliver(self, frame: Frame) -> None:
        if self.handset.channel is self:
            self.handset.peer_frame = frame

    def _release(self, cause: Cause) -> None:
        self.handset.leg_cleared(self, cause)


class DectHandset:
    """The device behind one handset slot, and the media-clock participant for its voice."""

    def __init__(self, name: str, base: DectBase, engine: Engine, settings: LineSettings,
                 party: Party | None) -> None:
        self.name = name
        self.base = base
        self.engine = engine
        self.settings = settings
        self.party = party  # who this handset is (its extension); None: not in service
        self.state = HandsetState.IDLE
        self.channel: DectChannel | None = None
        self.peer_frame: Frame | None = None
        self._player: FrameSource | None = None
        self._keytone: SamplePlayer | None = None  # keys played to the other party
        self._task: asyncio.Task[Any] | None = None
        self._digits: asyncio.Queue[str] | None = None  # while dialling

    def __repr__(self) -> str:
        return f"<DectHandset {self.name} {self.state.value}>"

    def reconfigure(self, settings: LineSettings, party: Party | None) -> None:
        self.settings = settings
        self.party = party

    @property
    def available(self) -> bool:
        return self.state is HandsetState.IDLE and self.name in self.base.subscribed()

    def claim(self) -> DectChannel:
        """A new leg towards this handset (the engine is about to ring it)."""
        if not self.available:
            raise RuntimeError(f"{self.name} is not free")
        leg = DectChannel(self, self.party or Party(None, None))
        self.state = HandsetState.RINGING
        self.channel = leg
        return leg

    # -- what the person does (events from the base) -----------------------------------

    def on_event(self, event: DectEvent) -> None:
        if isinstance(event, HandsetCalling):
            self._calling(event.digits)
        elif isinstance(event, HandsetKeys):
            for key in event.keys:
                self._key(key)
        elif isinstance(event, HandsetAnswered):
            self._answered()
        elif isinstance(event, HandsetReleased):
            self._released(event.reason)
        elif isinstance(event, HandsetRemoved):
            self._released(ReleaseReason.REMOVED)

    def _calling(self, digits: str) -> None:
        if self.state is not HandsetState.IDLE:
            self._released(ReleaseReason.NORMAL)  # out of step with the base: start afresh
        if self.party is None:
            call_event("offhook", port=self.name, ext="none")
            self.base.release(self.name)  # a handset no extension owns: not in service
            return
        try:
            self.base.answer(self.name)  # connected at once: the box plays the progress
        except DectError:  # it hung up again before the box got to it (Released follows)
            return
        self.state = HandsetState.OFF_HOOK
        channel = DectChannel(self, self.party)
        channel.state = ChannelState.UP
        self.channel = channel
        self._sync_clock()
        channel.session = self._start(f"call from {self.name}", self._originate(channel, digits))

    def _key(self, key: str) -> None:
        if self._digits is not None:
            self._digits.put_nowait(key)
            return
        channel = self.channel
        if channel is None or self.state is not HandsetState.OFF_HOOK:
            return
        if channel.key_pressed(key) or in_call_key(self.engine, channel, key):
            return  # an application, or a transfer code, took it
        other = channel.partner()
        send_digit = getattr(other, "send_digit", None)
        if send_digit is not None:
            send_digit(key)
        elif other is not None:
            self._keytone = SamplePlayer(DtmfGenerator().samples(key))

    def _answered(self) -> None:
        if self.state is HandsetState.RINGING and self.channel is not None:
            self.state = HandsetState.OFF_HOOK
            self._sync_clock()
            self.channel.answer()

    def _released(self, reason: ReleaseReason) -> None:
        channel, ringing = self.channel, self.state is HandsetState.RINGING
        self._idle()
        call_event("onhook", port=self.name, reason=reason.value)
        if channel is not None:
            cause = RINGING_CAUSE.get(reason, Cause.NORMAL_CLEARING) if ringing \
                else Cause.NORMAL_CLEARING
            channel.device_hangup(cause)

    # -- what the engine asks ---------------------------------------------------------

    def start_ringing(self, channel: DectChannel, caller: Party) -> None:
        channel.state = ChannelState.RINGING
        call_event("ring", port=self.name, caller=caller.number, name=caller.name)
        shown = caller if self.settings.callerid else Party(None, None)
        try:
            self.base.ring(self.name, shown.number, shown.name)
        except DectError as exc:  # unpaired or busy a moment ago: this phone cannot ring
            call_event("ring-failed", port=self.name, why=str(exc))
            self._idle()
            channel.device_hangup(Cause.NO_ANSWER)

    def leg_cleared(self, channel: DectChannel, cause: Cause) -> None:
        """The box cleared `channel`: stop ringing, or end the handset's call."""
        if self.channel is not channel:
            return
        if self._task is not None and asyncio.current_task() is self._task:
            return  # the session itself ends the call: it says why first (`_originate`)
        self.base.release(self.name)
        self._idle()

    def play_tone(self, tone: str | None) -> None:
        self.play(None if tone is None else ToneGenerator(self.engine.plan.tone(tone)))

    def play(self, source: FrameSource | None) -> None:
        self._player = source
        self._sync_clock()

    # -- the session of a call the handset makes ------------------------------------------

    async def _originate(self, channel: DectChannel, digits: str) -> None:
        call_event("offhook", port=self.name, ext=channel.party.number)
        number = digits or await self._collect_digits(
            self.engine.dial_tone(channel.party.number))
        if number is None:
            call_event("dial-timeout", port=self.name)
            cause = Cause.CONGESTION
        else:
            call_event("dialled", port=self.name, number=number)
            cause = await self.engine.route(channel, number)
        current = self.channel is channel
        channel.hangup(cause)
        if current:
            await self._cleared(cause)

    async def _collect_digits(self, tone: str) -> str | None:
        """Dial tone, then keys until the dial plan knows the number, '#', or the time
        between keys runs out. None: nothing dialled."""
        match = self.engine.dialplan.match
        self.play_tone(tone)
        self._digits = asyncio.Queue()
        number = ""
        timeout = self.settings.first_digit_timeout_s
        try:
            while True:
                try:
                    key = await asyncio.wait_for(self._digits.get(), timeout)
                except TimeoutError:
                    return number or None
                self.play(None)  # the first key stops dial tone
                if key == "#" and number and match(number + "#") is Match.NONE:
                    return number  # '#' means "dial now", unless it is part of a code
                number += key
                if match(number) in (Match.COMPLETE, Match.NONE):
                    return number
                timeout = self.settings.interdigit_timeout_s
        finally:
            self._digits = None

    async def _cleared(self, cause: Cause) -> None:
        """The handset's own call is over: say why if it failed, then release it."""
        tones = TREATMENT.get(cause)
        if tones is not None:
            self.state = HandsetState.CLEARED
            for tone in tones[:-1]:  # a play-once tone such as SIT, then a pause (as fxs)
                self.play_tone(tone)
                spec = self.engine.plan.tone(tone)
                await asyncio.sleep(sum(s.ms or 0 for s in spec.segments) / 1000)
                self.play(None)
                await asyncio.sleep(ANNOUNCEMENT_PAUSE_S)
            self.play_tone(tones[-1])
            await asyncio.sleep(CLEARED_S)
        self.base.release(self.name)
        self._idle()

    def _start(self, name: str, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        self._stop_task()
        self._task = self.engine.supervisor.spawn(name, coro, on_crash=self.crashed)
        return self._task

    def _stop_task(self) -> None:
        if self._task is not None and self._task is not asyncio.current_task():
            self._task.cancel()
        self._task = None

    def _idle(self) -> None:
        self._stop_task()  # (not the task running this: a session that ends itself)
        self._digits = None
        self.channel = None
        self.peer_frame = None
        self._keytone = None
        self._player = None
        self.state = HandsetState.IDLE
        self._sync_clock()

    # -- the media clock -------------------------------------------------------------------

    def _sync_clock(self) -> None:
        if self.state in (HandsetState.OFF_HOOK, HandsetState.CLEARED):
            self.engine.clock.add(self)
        else:
            self.engine.clock.discard(self)

    def capture(self) -> None:
        frame = self.base.read_frame(self.name)
        keytone = self._keytone
        if keytone is not None:  # the key's tone replaces the voice while it sounds
            frame = keytone.next_frame()
            if keytone.finished:
                self._keytone = None
        channel = self.channel
        bridge = channel.bridge if channel is not None else None
        if frame is not None and bridge is not None and channel is not None:
            bridge.forward(channel, frame)

    def render(self) -> None:
        player = self._player
        if player is not None:
            frame = player.next_frame()
            if player.finished:
                self._player = None
        else:
            frame = self.peer_frame if self.peer_frame is not None else silence()
        self.peer_frame = None
        self.base.write_frame(self.name, frame)

    def crashed(self, exc: BaseException) -> None:
        """A task or frame callback of this handset failed: clear its call, keep it."""
        channel = self.channel
        self.base.release(self.name)
        self._idle()
        if channel is not None:
            channel.hangup(Cause.FAILURE)


class DectHandsets:
    """Every slot of the board's DECT base as a device, and the one listener of the base."""

    def __init__(self, base: DectBase, engine: Engine, office: OfficeConfig) -> None:
        self.base = base
        self.engine = engine
        self.handsets = {
            f"dect:{n}": DectHandset(f"dect:{n}", base, engine,
                                     office.line_settings(f"dect:{n}"), None)
            for n in range(1, base.slots + 1)
        }
        base.set_listener(self._on_event)

    def _on_event(self, event: DectEvent) -> None:
        if isinstance(event, RegistrationOpened):
            call_event("dect-pairing", state="open", seconds=f"{event.seconds:g}")
        elif isinstance(event, RegistrationClosed):
            call_event("dect-pairing", state="closed", reason=event.reason)
        elif isinstance(event, HandsetRegistered):
            call_event("dect-registered", port=event.port)
        elif isinstance(event, HandsetRemoved):
            call_event("dect-removed", port=event.port)
        handset = self.handsets.get(event.port)
        if handset is None:
            return
        try:
            handset.on_event(event)
        except Exception as exc:  # noqa: BLE001 - one handset's trouble must not stop the rest
            self.engine.supervisor.contain(f"DECT event on {handset.name}", exc,
                                           handset.crashed)
