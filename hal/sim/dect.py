"""The virtual board's DECT base, with virtual handsets a person pairs, lifts and dials.

The firmware side is `hal.interfaces.DectBase`, behaving as the UART module does (one
contract test runs against both). The person side (`pair`, `press_talk`, `dial`,
`press_end`, `walk_away`, `restart`, `speak`, `heard`, `status`) is what the control
interface drives (`hal.sim.dect_control`). Each handset's call follows the same state
table as the real module's (`hal.dect.calls`), with the person in the module's place. Like
a real base the virtual one closes its pairing window once a handset has paired; unlike
one it forgets its handsets when the box restarts.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from hal.audio import FRAME_SAMPLES, SAMPLE_RATE, Frame
from hal.dect.calls import CallEvent, CallState, HandsetCall
from hal.dect.errors import DectRequestError
from hal.dect.events import (
    BASE_PORT,
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
    handset_number,
    handset_port,
)
from hal.sim.recorder import Recorder

EARPIECE_SECONDS = 15.0
MIC_MAX_SECONDS = 120.0
PAGE_SECONDS = 30.0  # a paged handset beeps this long (or until a key is pressed)
RING_HISTORY = 16
_KEYS = frozenset("0123456789*#")


class SimDectError(ValueError):
    """Something the person cannot do with a virtual handset now (the message says why)."""


@dataclass
class SimHandset:
    """A handset in a slot of the virtual base (paired or not)."""

    number: int
    paired: bool = False
    in_range: bool = True
    call: HandsetCall = field(init=False)
    display: tuple[str | None, str | None] | None = None  # caller shown while it rings
    rings: list[list[float | None]] = field(default_factory=list)
    mic: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int16))
    earpiece: Recorder = field(default_factory=lambda: Recorder(EARPIECE_SECONDS))
    paged_at: float | None = None

    def __post_init__(self) -> None:
        self.call = HandsetCall(self.number)

    @property
    def port(self) -> str:
        return handset_port(self.number)


class SimDectBase:
    def __init__(self, slots: int, loop: asyncio.AbstractEventLoop) -> None:
        self._slots = slots
        self._loop = loop
        self._handsets = {n: SimHandset(n) for n in range(1, slots + 1)}
        self._listener: Callable[[DectEvent], None] | None = None
        self._window: asyncio.TimerHandle | None = None

    # -- DectBase (the firmware's side) ---------------------------------------------------

    @property
    def slots(self) -> int:
        return self._slots

    def subscribed(self) -> list[str]:
        return [h.port for h in self._handsets.values() if h.paired]

    @property
    def registration_open(self) -> bool:
        return self._window is not None

    def set_listener(self, listener: Callable[[DectEvent], None]) -> None:
        self._listener = listener

    async def start(self) -> None:
        """Nothing to bring up: the virtual base is ready at once."""

    async def stop(self) -> None:
        self._close_window(None)

    def open_registration(self, seconds: float) -> None:
        if self._window is not None:
            self._window.cancel()
        self._window = self._loop.call_later(seconds, self._close_window, "timeout")
        self._emit(RegistrationOpened(BASE_PORT, self._now(), seconds))

    def close_registration(self) -> None:
        self._close_window("closed")

    def delete_handset(self, handset: str) -> None:
        h = self._handset(handset)
        if not h.paired:
            raise DectRequestError(f"{handset} has no handset to delete")
        self._drop_call(h, ReleaseReason.REMOVED)
        h.paired = False
        self._emit(HandsetRemoved(h.port, self._now()))

    def page(self) -> None:
        now = self._now()
        for h in self._handsets.values():
            if h.paired and h.in_range:
                h.paged_at = now

    def ring(self, handset: str, number: str | None, name: str | None) -> None:
        h = self._handset(handset)
        if not h.paired:
            raise DectRequestError(f"{handset} has no handset subscribed")
        if h.call.busy:
            raise DectRequestError(f"{handset} is busy ({h.call.state.value})")
        if not h.in_range:  # the base pages in vain
            self._emit(HandsetReleased(h.port, self._now(), ReleaseReason.OUT_OF_RANGE))
            return
        h.call.step(CallEvent.HOST_RING)
        h.call.step(CallEvent.MODULE_ALERTING)
        h.display = (number, name)
        h.rings.append([self._now(), None])
        del h.rings[:-RING_HISTORY]

    def answer(self, handset: str) -> None:
        h = self._handset(handset)
        if h.call.state is not CallState.CALLING:
            raise DectRequestError(f"{handset} is not calling ({h.call.state.value})")
        h.call.step(CallEvent.HOST_ANSWER)

    def release(self, handset: str) -> None:
        h = self._handset(handset)
        if h.call.state is CallState.IDLE:
            return
        self._end_ring(h)
        h.call.step(CallEvent.HOST_RELEASE)
        h.mic = h.mic[:0]

    def read_frame(self, handset: str) -> Frame | None:
        h = self._handset(handset)
        if h.call.state is not CallState.CONNECTED or len(h.mic) == 0:
            return None
        frame, h.mic = h.mic[:FRAME_SAMPLES], h.mic[FRAME_SAMPLES:]
        if len(frame) < FRAME_SAMPLES:
            frame = np.concatenate((frame, np.zeros(FRAME_SAMPLES - len(frame), np.int16)))
        return frame

    def write_frame(self, handset: str, frame: Frame) -> None:
        h = self._handset(handset)
        if h.call.state is CallState.CONNECTED:
            h.earpiece.write(frame, self._now())

    # -- the virtual handsets (the person's side) -------------------------------------

    def pair(self) -> str:
        """A handset asks to register: it gets the lowest free slot."""
        if self._window is None:
            raise SimDectError("the base is not accepting handsets: open its registration "
                               "window first (`phone dect open`, or the PAIR button)")
        free = next((h for h in self._handsets.values() if not h.paired), None)
        if free is None:
            raise SimDectError(f"all {self._slots} slots of the base are taken")
        free.paired, free.in_range = True, True
        self._emit(HandsetRegistered(free.port, self._now()))
        self._close_window("registered")
        return free.port

    def press_talk(self, handset: str) -> None:
        """The talk key: answer a ringing call, or start one (the keys follow)."""
        h = self._usable(handset)
        if h.call.state in (CallState.SETUP, CallState.ALERTING):
            self._end_ring(h)
            h.call.step(CallEvent.MODULE_ANSWER)
            self._emit(HandsetAnswered(h.port, self._now()))
        elif h.call.state is CallState.IDLE:
            self._call(h, "")

    def dial(self, handset: str, keys: str) -> None:
        """Keys on the keypad: typed before talk, they are the number (block dialling);
        in a call or while dialling, they go as keys."""
        h = self._usable(handset)
        if not keys or set(keys) - _KEYS:
            raise SimDectError(f"a handset keypad has 0-9 * #, not {keys!r}")
        h.paged_at = None
        if h.call.state is CallState.IDLE:
            self._call(h, keys)
        elif h.call.state in (CallState.CALLING, CallState.CONNECTED):
            self._emit(HandsetKeys(h.port, self._now(), keys))
        else:
            raise SimDectError(f"{handset} is ringing: press talk to answer first")

    def press_end(self, handset: str) -> None:
        """The end key: hang up, or refuse the call ringing in."""
        h = self._handset(handset)
        state = h.call.state
        if state is CallState.IDLE:
            return
        reason = ReleaseReason.REJECTED if state in (CallState.SETUP, CallState.ALERTING) \
            else ReleaseReason.NORMAL
        self._drop_call(h, reason)

    def walk_away(self, handset: str, in_range: bool) -> None:
        """Carry the handset out of range (its call breaks), or back."""
        h = self._handset(handset)
        h.in_range = in_range
        if not in_range:
            self._drop_call(h, ReleaseReason.OUT_OF_RANGE)

    def restart(self) -> None:
        """The base restarts: every call on it is dropped; paired handsets stay paired."""
        for h in self._handsets.values():
            self._drop_call(h, ReleaseReason.MODULE_RESET)
        self._close_window("module-reset")

    def speak(self, handset: str, samples: np.ndarray) -> float:
        h = self._handset(handset)
        if len(h.mic) + len(samples) > MIC_MAX_SECONDS * SAMPLE_RATE:
            raise SimDectError(f"more than {MIC_MAX_SECONDS:.0f} s of audio queued")
        h.mic = np.concatenate((h.mic, samples.astype(np.int16, copy=False)))
        return len(h.mic) * 1000.0 / SAMPLE_RATE

    def heard(self, handset: str, seconds: float) -> np.ndarray:
        return self._handset(handset).earpiece.heard(seconds, self._now())

    def status(self, handset: str) -> dict[str, Any]:
        h = self._handset(handset)
        now = self._now()
        ringing = h.call.state in (CallState.SETUP, CallState.ALERTING)
        number, name = h.display or (None, None)
        return {
            "port": h.port, "paired": h.paired, "in_range": h.in_range,
            "call": h.call.state.value, "off_hook": h.call.state in (CallState.CALLING,
                                                                    CallState.CONNECTED),
            "ringing": ringing, "rings": [list(r) for r in h.rings],
            "display": {"number": number, "name": name} if h.display else None,
            "paging": h.paged_at is not None and now - h.paged_at < PAGE_SECONDS,
            "mic_queued_ms": len(h.mic) * 1000.0 / SAMPLE_RATE, "now": now,
        }

    def base_status(self) -> dict[str, Any]:
        return {"slots": self._slots, "paired": self.subscribed(),
                "registration_open": self.registration_open}

    # -- helpers ------------------------------------------------------------------------

    def _handset(self, handset: str) -> SimHandset:
        n = handset_number(handset)
        h = self._handsets.get(n) if n is not None else None
        if h is None:
            raise DectRequestError(f"{handset!r} is not a slot of this base "
                                   f"(dect:1 .. dect:{self._slots})")
        return h

    def _usable(self, handset: str) -> SimHandset:
        h = self._handset(handset)
        if not h.paired:
            raise SimDectError(f"{handset} has no handset paired: pair one first "
                               "(`phone dect open`, then `phone dect pair`)")
        if not h.in_range:
            raise SimDectError(f"{handset} is out of range of the base")
        return h

    def _call(self, h: SimHandset, digits: str) -> None:
        h.call.step(CallEvent.MODULE_SETUP)
        self._emit(HandsetCalling(h.port, self._now(), digits))

    def _drop_call(self, h: SimHandset, reason: ReleaseReason) -> None:
        state = h.call.state
        if state is CallState.IDLE:
            return
        self._end_ring(h)
        h.call.reset()
        h.mic = h.mic[:0]
        self._emit(HandsetReleased(h.port, self._now(), reason))

    def _end_ring(self, h: SimHandset) -> None:
        if h.rings and h.rings[-1][1] is None:
            h.rings[-1][1] = self._now()

    def _close_window(self, reason: str | None) -> None:
        if self._window is None:
            return
        self._window.cancel()
        self._window = None
        if reason is not None:
            self._emit(RegistrationClosed(BASE_PORT, self._now(), reason))

    def _now(self) -> float:
        return self._loop.time()

    def _emit(self, event: DectEvent) -> None:
        self._loop.call_soon(self._deliver, event)

    def _deliver(self, event: DectEvent) -> None:
        if self._listener is not None:
            self._listener(event)
