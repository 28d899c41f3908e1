"""A virtual FXS port with a virtual analog phone plugged into it.

The firmware side is the `AnalogLine` interface. The person side (`lift`, `hang_up`,
`hook_pattern`, `speak`, `heard`, `status`) is what the control interface drives: a hook
switch with exact timing, a microphone and an earpiece. Both sides meet the same hook
classifier a real SLIC driver uses, so flashes and pulse digits behave as on hardware.
The phone itself may answer the line on its own: with caller ID on call waiting turned on
(`cidcw`, `hal.sim.cidcw`) it acknowledges the box's alert with DTMF D into the microphone.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from hal.audio import FRAME_SAMPLES, SAMPLE_RATE, Frame
from hal.events import LineEvent
from hal.hook import HookTiming
from hal.hookmon import HookMonitor
from hal.interfaces import Linefeed
from hal.sim.cidcw import CidcwPhone
from hal.sim.recorder import Recorder

EARPIECE_SECONDS = 15.0  # covers the longest cadence (call waiting: 10 s of silence)
ONHOOK_SECONDS = 4.0  # a caller-ID burst (alert + FSK) lasts under 1.5 s
MIC_MAX_SECONDS = 120.0
ONHOOK_BURST_GAP_S = 1.0  # on-hook audio after a pause this long is a new transmission
RING_HISTORY = 16


class SimLineError(ValueError):
    """A request the virtual phone cannot carry out (bad pattern, audio too long)."""


class SimAnalogLine:
    def __init__(self, name: str, loop: asyncio.AbstractEventLoop) -> None:
        self._name = name
        self._loop = loop
        self._hook = HookMonitor(name, loop)
        self._raw_off_hook = False
        self._linefeed = Linefeed.ACTIVE
        self._rings: deque[list[float | None]] = deque(maxlen=RING_HISTORY)
        self._mic = np.zeros(0, dtype=np.int16)
        self._earpiece = Recorder(EARPIECE_SECONDS)
        self._onhook_rx = Recorder(ONHOOK_SECONDS)
        self._pattern: list[asyncio.TimerHandle] = []
        self.cidcw = CidcwPhone()
        self.message_waiting = False  # the lamp, as the firmware last set it

    # -- AnalogLine (the firmware's side) ---------------------------------------------

    @property
    def name(self) -> str:
        return self._name

    @property
    def off_hook(self) -> bool:
        return self._hook.off_hook

    @property
    def linefeed(self) -> Linefeed:
        return self._linefeed

    def set_listener(self, listener: Callable[[LineEvent], None]) -> None:
        self._hook.set_listener(listener)

    def configure(self, timing: HookTiming) -> None:
        self._hook.configure(timing)

    def set_message_waiting(self, on: bool) -> None:
        self.message_waiting = on

    def set_linefeed(self, state: Linefeed) -> None:
        now = self._loop.time()
        if state is Linefeed.RINGING and self._linefeed is not Linefeed.RINGING:
            if self._raw_off_hook:
                return  # ring trip: a SLIC never rings a lifted phone
            self._rings.append([now, None])
        elif self._linefeed is Linefeed.RINGING and state is not Linefeed.RINGING:
            self._end_ring(now)
        self._linefeed = state

    def read_frame(self) -> Frame | None:
        if not self._raw_off_hook or len(self._mic) == 0:
            return None
        frame = self._mic[:FRAME_SAMPLES]
        self._mic = self._mic[FRAME_SAMPLES:]
        if len(frame) < FRAME_SAMPLES:
            frame = np.concatenate((frame, np.zeros(FRAME_SAMPLES - len(frame), np.int16)))
        return frame

    def write_frame(self, frame: Frame) -> None:
        now = self._loop.time()
        if self._raw_off_hook:
            self._earpiece.write(frame, now)
            ack = self.cidcw.earpiece(frame, now)
            if ack is not None:  # said at once, before anything the person queued
                self._mic = np.concatenate((ack, self._mic))
            return
        last = self._onhook_rx.last_write
        if last is None or now - last > ONHOOK_BURST_GAP_S:
            self._onhook_rx.clear()  # a new on-hook transmission (caller ID, VMWI)
        self._onhook_rx.write(frame, now)

    # -- the virtual phone (the person's side) ------------------------------------------

    @property
    def timing(self) -> HookTiming:
        return self._hook.timing

    def set_hook(self, off_hook: bool) -> None:
        """The hook switch moves now; cancels any pattern still being played."""
        self._cancel_pattern()
        self._move_hook(off_hook)

    def hook_pattern(self, steps: Sequence[tuple[bool, float]]) -> float:
        """Move the hook through (off_hook, hold_ms) steps; returns the total ms."""
        self._cancel_pattern()
        at = 0.0
        for off_hook, hold_ms in steps:
            if not 0 <= hold_ms <= 60_000:
                raise SimLineError(f"hold time {hold_ms} ms is outside 0..60000 ms")
            self._pattern.append(self._loop.call_later(at / 1000.0, self._move_hook, off_hook))
            at += hold_ms
        return at

    def speak(self, samples: np.ndarray) -> float:
        """Queue audio into the microphone; returns how many ms are queued in all."""
        if len(self._mic) + len(samples) > MIC_MAX_SECONDS * SAMPLE_RATE:
            raise SimLineError(f"more than {MIC_MAX_SECONDS:.0f} s of audio queued")
        self._mic = np.concatenate((self._mic, samples.astype(np.int16, copy=False)))
        return len(self._mic) * 1000.0 / SAMPLE_RATE

    def heard(self, seconds: float) -> np.ndarray:
        """What the earpiece played during the last `seconds`."""
        return self._earpiece.heard(seconds, self._loop.time())

    def heard_on_hook(self) -> np.ndarray:
        """The last transmission to the phone while it was on-hook (caller ID lives here)."""
        last = self._onhook_rx.last_write
        if last is None:
            return np.zeros(0, dtype=np.int16)
        return self._onhook_rx.heard(ONHOOK_SECONDS, last)

    def status(self) -> dict[str, Any]:
        now = self._loop.time()
        return {
            "port": self._name,
            "hook": "off" if self._raw_off_hook else "on",
            "off_hook": self._hook.off_hook,
            "linefeed": self._linefeed.value,
            "message_waiting": self.message_waiting,
            "ringing": self._linefeed is Linefeed.RINGING,
            "rings": [[start, end] for start, end in self._rings],
            "events": [_event_dict(e) for e in self._hook.recent],
            "mic_queued_ms": len(self._mic) * 1000.0 / SAMPLE_RATE,
            "cidcw": self.cidcw.status(),
            "now": now,
        }

    def _move_hook(self, off_hook: bool) -> None:
        if off_hook == self._raw_off_hook:
            return
        self._raw_off_hook = off_hook
        if off_hook and self._linefeed is Linefeed.RINGING:
            self._end_ring(self._loop.time())
            self._linefeed = Linefeed.ACTIVE  # ring trip
        if not off_hook:
            self._mic = self._mic[:0]  # words spoken into a hung-up phone go nowhere
            self.cidcw.on_hook()
        self._hook.raw(off_hook)

    def _end_ring(self, now: float) -> None:
        if self._rings and self._rings[-1][1] is None:
            self._rings[-1][1] = now

    def _cancel_pattern(self) -> None:
        for handle in self._pattern:
            handle.cancel()
        self._pattern.clear()


def _event_dict(event: LineEvent) -> dict[str, Any]:
    fields = {name: getattr(event, name) for name in event.__slots__}  # type: ignore[attr-defined]
    return {"type": type(event).__name__, **fields}
