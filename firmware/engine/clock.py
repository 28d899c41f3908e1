"""The 20 ms media clock: every active audio port gets one capture and one render per tick.

Ticks are paced by deadline (tick n is due at t0 + n * 20 ms, STYLE.md principle 8) with one
`call_at` per tick, no task. The clock runs only while something takes part: with every line
on-hook it is stopped, so an idle box spends nothing on audio. Each tick first captures from
every participant (so bridged audio is in place), then renders to every participant.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Protocol

from firmware.media.frames import FRAME_SECONDS
from firmware.runtime import Supervisor

LATENESS_SAMPLES = 30_000  # ten minutes of ticks for the benchmark's percentiles
# After a stall this long (a suspended laptop, a debugger) restart the timeline instead of
# firing every missed tick back to back.
RESYNC_AFTER_S = 0.2


class Participant(Protocol):
    name: str

    def capture(self) -> None: ...

    def render(self) -> None: ...

    def crashed(self, exc: BaseException) -> None: ...


class FrameClock:
    def __init__(self, loop: asyncio.AbstractEventLoop, supervisor: Supervisor) -> None:
        self._loop = loop
        self._supervisor = supervisor
        self._participants: dict[Participant, None] = {}  # ordered set
        self._snapshot: tuple[Participant, ...] = ()
        self._timer: asyncio.TimerHandle | None = None
        self._t0 = 0.0
        self._n = 0
        self._ticking = False
        self.lateness: deque[float] = deque(maxlen=LATENESS_SAMPLES)
        self.ticks = 0
        self.resyncs = 0

    @property
    def running(self) -> bool:
        return self._timer is not None

    def add(self, participant: Participant) -> None:
        if participant in self._participants:
            return
        self._participants[participant] = None
        self._snapshot = tuple(self._participants)
        if self._timer is None and not self._ticking:
            self._t0, self._n = self._loop.time(), 0
            self._timer = self._loop.call_at(self._t0, self._tick)

    def discard(self, participant: Participant) -> None:
        if self._participants.pop(participant, 0) is None:
            self._snapshot = tuple(self._participants)
            if not self._participants and self._timer is not None:
                self._timer.cancel()
                self._timer = None

    def _tick(self) -> None:
        self._timer = None
        self._ticking = True
        due = self._t0 + self._n * FRAME_SECONDS
        now = self._loop.time()
        self.lateness.append(now - due)
        self.ticks += 1
        participants = self._snapshot
        try:
            for p in participants:
                try:
                    p.capture()
                except Exception as exc:  # noqa: BLE001 - one broken call must not stop the others
                    self._crashed(p, exc)
            for p in participants:
                try:
                    p.render()
                except Exception as exc:  # noqa: BLE001
                    self._crashed(p, exc)
        finally:
            self._ticking = False
        if not self._participants:
            return  # everyone left: the clock stops until someone needs audio again
        self._n += 1
        next_due = self._t0 + self._n * FRAME_SECONDS
        if now - next_due > RESYNC_AFTER_S:
            self.resyncs += 1
            self._t0, self._n, next_due = now, 0, now
        self._timer = self._loop.call_at(next_due, self._tick)

    def _crashed(self, p: Participant, exc: BaseException) -> None:
        self.discard(p)
        self._supervisor.contain(f"audio of {p.name}", exc, p.crashed)
