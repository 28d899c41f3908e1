"""An analog phone on an FXS port: dial tone, digits, ringing, talking, and the tones after.

The port turns the HAL's line events (off-hook, on-hook, flash, pulse digits) and the
captured audio (DTMF) into channel behaviour, and renders what the person hears. One task
at a time works for the port (`_task`): the origination session (dial tone, digits, the
call, then the tones after it), the ringer, or the tones after a call it answered ended.
Putting the phone down cancels that task and frees the port.

    state       the phone is    what runs
    IDLE        on-hook         nothing (the port is off the media clock: it costs nothing)
    RINGING     on-hook         the ringer: cadence and caller ID
    OFF_HOOK    lifted          dialling, then the call
    CLEARED     lifted          the call is over: busy/congestion/cleared tone, then howler
"""

from __future__ import annotations

import asyncio
import enum
import itertools
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any

from firmware.engine.channel import Cause, Channel, ChannelState, Party
from firmware.engine.channels.fxs_keys import CallKeys
from firmware.engine.channels.fxs_ringer import ring_with_callerid
from firmware.engine.dialplan import Match
from firmware.engine.features.flash import FlashCalls
from firmware.engine.features.waiting import CallWaiting
from firmware.logs import call_event
from firmware.media.dtmf import DtmfDetector
from firmware.media.frames import Frame, silence
from firmware.media.player import FrameSource
from firmware.media.tones import ToneGenerator
from hal.events import HookFlash, LineEvent, OffHook, OnHook, PulseDigit
from hal.hook import HookTiming
from hal.interfaces import AnalogLine, Linefeed

if TYPE_CHECKING:
    from firmware.config import LineSettings
    from firmware.engine.pbx import Engine

# What a person hears, by why their call ended; the last tone runs until the howler.
TREATMENT: dict[Cause, tuple[str, ...]] = {
    Cause.USER_BUSY: ("busy",),
    Cause.UNALLOCATED_NUMBER: ("sit", "congestion"),
    Cause.CALL_BARRED: ("sit", "congestion"),
    Cause.NO_ANSWER: ("congestion",),
    Cause.CONGESTION: ("congestion",),
    Cause.FAILURE: ("congestion",),
}

ANNOUNCEMENT_PAUSE_S = 1.0
KEY_RELEASE_S = 0.3  # a DTMF key press lasts 40-200 ms (REFERENCE.md, "DTMF"); then some

_leg_numbers = itertools.count(1)


class PortState(enum.Enum):
    IDLE = "idle"
    RINGING = "ringing"
    OFF_HOOK = "off-hook"
    CLEARED = "cleared"


def hook_timing(settings: LineSettings) -> HookTiming:
    return HookTiming(
        debounce_ms=settings.debounce_ms,
        pulse_max_ms=settings.pulse_max_ms,
        flash_min_ms=settings.flash_min_ms,
        flash_max_ms=settings.flash_max_ms,
        pulse_digit_gap_ms=settings.pulse_digit_gap_ms,
    )


class FxsChannel(Channel):
    def __init__(self, port: FxsPort, party: Party) -> None:
        super().__init__(f"{port.name}/{next(_leg_numbers)}", party)
        self.port = port
        self.internal = True  # a phone on the office's own wires

    def indicate(self, tone: str | None) -> None:
        if self.port.channel is self:
            self.port.play_tone(tone)

    def ring(self, caller: Party) -> None:
        self.port.start_ringing(self, caller)

    def deliver(self, frame: Frame) -> None:
        if self.port.channel is self:
            self.port.peer_frame = frame

    def _release(self, cause: Cause) -> None:
        self.port.leg_cleared(self, cause)

    def listen_keys(self) -> asyncio.Queue[str]:
        # The port's own detector and pulse digits feed the queue (as when dialling).
        queue = super().listen_keys()
        if self.port.channel is self:
            self.port.listen_for(queue)
        return queue

    def stop_keys(self) -> None:
        super().stop_keys()
        if self.port.channel is self:
            self.port.listen_for(None)


class FxsPort:
    """The device behind one FXS port, and the media-clock participant for its audio."""

    def __init__(
        self, line: AnalogLine, engine: Engine, settings: LineSettings, party: Party | None
    ) -> None:
        self.name = line.name
        self.line = line
        self.engine = engine
        self.settings = settings
        self.party = party  # who this phone is (its extension); None: not in service
        self.state = PortState.IDLE
        self.channel: FxsChannel | None = None
        self.peer_frame: Frame | None = None
        self._player: FrameSource | None = None
        self._task: asyncio.Task[Any] | None = None
        self._detector: DtmfDetector | None = None
        self.call_keys = CallKeys(self)  # keys pressed in a call: codes, digits for SIP
        self._digits: asyncio.Queue[str] = asyncio.Queue()
        self.flash = FlashCalls(self)
        self.waiting = CallWaiting(self)
        line.configure(hook_timing(settings))
        line.set_listener(self._on_line_event)
        line.set_linefeed(Linefeed.ACTIVE)

    def reconfigure(self, settings: LineSettings, party: Party | None) -> None:
        self.settings = settings
        self.party = party
        self.line.configure(hook_timing(settings))

    def __repr__(self) -> str:
        return f"<FxsPort {self.name} {self.state.value}>"

    @property
    def available(self) -> bool:
        idle = self.state is PortState.IDLE and not self.line.off_hook
        return idle or self.waiting.possible()

    def claim(self) -> FxsChannel:
        """A new leg towards this phone (the engine is about to ring it): it rings, or, in a
        call, waits (call waiting)."""
        if not self.available:
            raise RuntimeError(f"{self.name} is not free")
        leg = FxsChannel(self, self.party or Party(None, None))  # who answers, if it does
        if self.state is PortState.OFF_HOOK:
            self.waiting.leg = leg  # rung by ring() as a waiting call
            return leg
        self.state = PortState.RINGING
        self.channel = leg
        return leg

    # -- what the person does --------------------------------------------------------

    def _on_line_event(self, event: LineEvent) -> None:
        if isinstance(event, OffHook):
            self._lifted()
        elif isinstance(event, OnHook):
            self._put_down()
        elif isinstance(event, HookFlash):
            call_event("flash", port=self.name, ms=f"{event.ms:.0f}", state=self.state.value)
            if self.state in (PortState.OFF_HOOK, PortState.CLEARED):
                self.flash.flash()
        elif isinstance(event, PulseDigit):
            self._digit(event.digit)

    def _lifted(self) -> None:
        if self.state is PortState.RINGING and self.channel is not None:
            self._stop_task()
            self.play(None)
            self.line.set_linefeed(Linefeed.ACTIVE)
            self.state = PortState.OFF_HOOK
            self.channel.answer()
            self._sync_clock()
            return
        if self.state is not PortState.IDLE:
            return
        self.state = PortState.OFF_HOOK
        self._sync_clock()
        if self.party is None:
            call_event("offhook", port=self.name, ext="none")
            self._start("not in service", self._tones(TREATMENT[Cause.CONGESTION]))
            return
        channel = FxsChannel(self, self.party)
        channel.state = ChannelState.UP
        self.channel = channel
        channel.session = self._start(f"call from {self.name}", self._originate(channel))

    def _put_down(self) -> None:
        channel = self.channel
        # A hang-up in the middle of a flash sequence transfers or recalls (features.flash).
        keep = channel is not None and self.flash.hung_up(channel)
        self.channel = None
        self._stop_task()
        self._detector = None
        self.call_keys.reset()
        self.play(None)
        self.peer_frame = None
        self.state = PortState.IDLE
        self.line.set_linefeed(Linefeed.ACTIVE)
        self._sync_clock()
        call_event("onhook", port=self.name)
        if channel is not None and not keep:
            channel.device_hangup()
        self.waiting.off_this_call = False
        waiting, caller = self.waiting.leg, self.waiting.caller
        self.waiting.take()
        if waiting is not None and caller is not None and not waiting.gone.is_set():
            self.state = PortState.RINGING  # the waiting call rings the phone now
            self.channel = waiting
            self.start_ringing(waiting, caller)
            return
        self.flash.put_down()

    def _digit(self, digit: str) -> None:
        if self._detector is not None:
            self._digits.put_nowait(digit)

    # -- what the engine asks --------------------------------------------------------

    def start_ringing(self, channel: FxsChannel, caller: Party) -> None:
        if channel is self.waiting.leg:
            self.waiting.offer(channel, caller)
            return
        channel.state = ChannelState.RINGING
        call_event("ring", port=self.name, caller=caller.number, name=caller.name)
        callerid = caller if self.settings.callerid else None
        self._start(f"ringing {self.name}", ring_with_callerid(self, callerid))

    def leg_cleared(self, channel: FxsChannel, cause: Cause) -> None:
        """The box cleared `channel`: stop ringing, or tell a lifted phone the call is over."""
        if self.waiting.gone(channel):
            return
        if self.channel is not channel:
            return
        self.channel = None
        self.peer_frame = None
        self.call_keys.reset()
        if self.state is PortState.RINGING:
            self._stop_task()
            self.play(None)
            self.line.set_linefeed(Linefeed.ACTIVE)
            self.state = PortState.IDLE
            self._sync_clock()
        elif self.state is PortState.OFF_HOOK and (
                self._task is None or asyncio.current_task() is not self._task):
            self._start(f"cleared {self.name}", self._tones(self._treatment(cause)))

    def play_tone(self, tone: str | None) -> None:
        self.play(None if tone is None else ToneGenerator(self.engine.plan.tone(tone)))

    def play(self, source: FrameSource | None) -> None:
        self._player = source
        self._sync_clock()

    # -- sessions ----------------------------------------------------------------------

    async def _originate(self, channel: FxsChannel) -> None:
        call_event("offhook", port=self.name, ext=channel.party.number)
        tone = self.engine.dial_tone(channel.party.number)
        no_waiting = self.engine.office.features.no_call_waiting
        number = await self.collect_digits(tone, _with_code(self.engine.dialplan.match,
                                                            no_waiting))
        if number == no_waiting:  # *70: this call without call waiting; dial it now
            self.waiting.off_this_call = True
            call_event("call-waiting-off", port=self.name)
            # Dial tone again once the last key's tone is over: a fresh DTMF detector
            # would take the tail of that tone for one more digit.
            await asyncio.sleep(KEY_RELEASE_S)
            number = await self.collect_digits(tone)
        if number is None:
            call_event("dial-timeout", port=self.name)
            cause = Cause.CONGESTION
        else:
            call_event("dialled", port=self.name, number=number)
            cause = await self.engine.route(channel, number)
        await self.call_ended(channel, cause)

    async def call_ended(self, channel: FxsChannel, cause: Cause) -> None:
        """`channel`'s call is over: the person hears why, unless the port has moved on to
        another leg (a flash put this call on hold, or handed it on)."""
        current = self.channel is channel
        channel.hangup(cause)
        if current:
            await self._tones(self._treatment(cause))

    def start(self, name: str, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        """Run `coro` as what the port does now (the previous task is cancelled)."""
        return self._start(name, coro)

    def new_leg(self) -> FxsChannel:
        """A fresh leg for the person at this phone (after a flash): what the old leg was
        hearing stops, and the old leg ends quietly (its call went on hold or on)."""
        assert self.party is not None
        leg = FxsChannel(self, self.party)
        leg.state = ChannelState.UP
        return self.switch_to(leg)

    def switch_to(self, leg: FxsChannel) -> FxsChannel:
        """Make `leg` the phone's leg now (a new one, or a waiting call it answers)."""
        self.play(None)
        self.state = PortState.OFF_HOOK
        old, self.channel = self.channel, leg
        if old is not None and old is not leg:
            old.hangup()
        return leg

    def listen_for(self, queue: asyncio.Queue[str] | None) -> None:
        """Keys the person presses go to `queue` (an application listens); None: stop."""
        if queue is None:
            self._detector = None
            return
        self._digits = queue
        # The last key dialled may still sound: its tail is not a new press.
        self._detector = DtmfDetector(key_may_be_down=True)

    async def key(self, within_s: float) -> str | None:
        """The next key the person presses (DTMF or pulses) within `within_s`, or None."""
        self._digits = asyncio.Queue()
        self._detector = DtmfDetector()
        try:
            return await asyncio.wait_for(self._digits.get(), within_s)
        except TimeoutError:
            return None
        finally:
            self._detector = None

    def detach_task(self) -> asyncio.Task[Any] | None:
        """Let the port's task run on without the port (a transfer that still rings)."""
        task, self._task = self._task, None
        return task

    async def collect_digits(self, tone: str = "dial",
                             match: Callable[[str], Match] | None = None) -> str | None:
        """Play `tone` and collect a number: until `match` (the dial plan's by default)
        says it is complete, '#', or the inter-digit time. None: nothing dialled."""
        match = match or self.engine.dialplan.match
        self.play_tone(tone)
        self._digits = asyncio.Queue()
        self._detector = DtmfDetector()
        digits = ""
        timeout = self.settings.first_digit_timeout_s
        try:
            while True:
                try:
                    digit = await asyncio.wait_for(self._digits.get(), timeout)
                except TimeoutError:
                    return digits or None
                if not digits:
                    self.play(None)  # the first digit stops dial tone
                if digit == "#" and digits and match(digits + "#") is Match.NONE:
                    return digits  # '#' means "dial now", unless it is part of a code
                digits += digit
                if match(digits) in (Match.COMPLETE, Match.NONE):
                    return digits
                timeout = self.settings.interdigit_timeout_s
        finally:
            self._detector = None

    def _treatment(self, cause: Cause) -> tuple[str, ...]:
        return TREATMENT.get(cause, (self.engine.plan.cleared,))

    async def _tones(self, tones: tuple[str, ...]) -> None:
        """Play `tones` in turn, the last for the reorder time, then howl until put down."""
        self.state = PortState.CLEARED
        for tone in tones[:-1]:
            self.play_tone(tone)  # a play-once tone such as SIT: wait for its end
            spec = self.engine.plan.tone(tone)
            await asyncio.sleep(sum(s.ms or 0 for s in spec.segments) / 1000)
            # SIT announces an announcement: until recorded prompts exist, a pause stands in
            # for it, so the caller hears SIT as a signal of its own before the reorder.
            self.play(None)
            await asyncio.sleep(ANNOUNCEMENT_PAUSE_S)
        self.play_tone(tones[-1])
        await asyncio.sleep(self.settings.reorder_s)
        self.play_tone("howler")
        await asyncio.Future()  # until the phone is put down (which cancels this task)

    def _start(self, name: str, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        self._stop_task()
        self._task = self.engine.supervisor.spawn(name, coro, on_crash=self.crashed)
        return self._task

    def _stop_task(self) -> None:
        if self._task is not None and self._task is not asyncio.current_task():
            self._task.cancel()
        self._task = None

    # -- the media clock -----------------------------------------------------------------

    def _sync_clock(self) -> None:
        if self.state in (PortState.OFF_HOOK, PortState.CLEARED) or self._player is not None:
            self.engine.clock.add(self)
        else:
            self.engine.clock.discard(self)

    def capture(self) -> None:
        frame = self.line.read_frame()
        heard = silence() if frame is None else frame  # pauses count: they separate digits
        if self._detector is not None:
            for digit in self._detector.feed(heard):
                self._digits.put_nowait(digit)
        channel = self.channel
        bridge = channel.bridge if channel is not None else None
        if bridge is None or channel is None:
            return
        if self.waiting.muting:
            # Caller ID on call waiting: the phone's acknowledgement is for the box alone.
            self.waiting.hear(heard)
            mute = True
        elif self._detector is None:  # (an application listening takes every key)
            mute = self.call_keys.hear(channel, bridge, heard)
            if channel.bridge is not bridge:
                return  # a code moved the call (a transfer): this frame is nobody's now
        else:
            mute = False
        if frame is not None:
            bridge.forward(channel, silence() if mute else frame)

    def render(self) -> None:
        player = self._player
        if player is not None:
            frame = player.next_frame()
            if player.finished:
                self.play(None)
        else:
            frame = self.peer_frame if self.peer_frame is not None else silence()
            if self.waiting.sounding:
                frame = self.waiting.overlay(frame)
        self.peer_frame = None
        self.line.write_frame(frame)

    def crashed(self, exc: BaseException) -> None:
        """A task or frame callback of this port failed: clear its call, keep the port."""
        channel, self.channel = self.channel, None
        self._stop_task()
        self._detector = None
        self.play(None)
        if channel is not None:
            channel.hangup(Cause.FAILURE)
        if self.line.off_hook:
            self._start(f"failed {self.name}", self._tones(TREATMENT[Cause.FAILURE]))
        else:
            self.state = PortState.IDLE
            self.line.set_linefeed(Linefeed.ACTIVE)
            self._sync_clock()


def _with_code(match: Callable[[str], Match], code: str) -> Callable[[str], Match]:
    """`match`, with `code` (dialled before a number) complete on its own."""
    def matcher(digits: str) -> Match:
        if digits == code:
            return Match.COMPLETE
        found = match(digits)
        if code.startswith(digits):
            return Match.PARTIAL if found in (Match.NONE, Match.PARTIAL) else Match.AMBIGUOUS
        return found
    return matcher
