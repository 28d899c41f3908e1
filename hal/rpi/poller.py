"""Polls every line-card chip on the event loop, every POLL_INTERVAL_S, paced by deadline.

Why on the loop and not on a thread (DESIGN.md lets a blocking driver live on a thread and
hand events over with `call_soon_threadsafe`): one poll of a port is one to three register
reads, each a few spidev ioctls of ~10 us at 2 MHz. Polling 4 FXS + 1 FXO ports every 10 ms
is about 1,400 SPI frames a second and costs a few percent of one core in all
(tools/bench/spi.py; docs/hardware.md has the figures). Work that small does not earn a
thread: on the loop the hook edges are stamped with the loop's own clock (the clock the hook
classifier's timers use), no lock guards the chips (linefeed writes come from the loop too),
and the tests run the real driver in fake time. A thread would add a GIL hand-off per poll
and a second place where state changes.

Why 10 ms: the hook classifier measures on-hook times against 15 ms (bounce), 100 ms
(pulse/flash) and 900 ms (flash/hang-up) edges. A 10 ms poll measures a break to +-10 ms: a
dial pulse's 60 ms break reads 50-70 ms, well inside 15-100 ms. A 20 Hz ring's detector
fires every 25 ms, so a 10 ms poll sees it within a ring's first half-cycle.

An interrupt pin (optional) only makes a poll happen at once; the timer goes on regardless,
so a missed or stuck interrupt costs at most one interval.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from typing import Protocol

log = logging.getLogger(__name__)

POLL_INTERVAL_S = 0.010
RESYNC_AFTER_S = 0.2  # after a stall this long, restart the timeline instead of catching up


class Pollable(Protocol):
    @property
    def name(self) -> str: ...

    def poll(self) -> None: ...

    def acknowledge_interrupt(self) -> None: ...

    def fail(self, reason: str) -> None: ...


class Poller:
    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        ports: Sequence[Pollable],
        interval_s: float = POLL_INTERVAL_S,
    ) -> None:
        self._loop = loop
        self._ports = tuple(ports)
        self.interval_s = interval_s
        self._timer: asyncio.TimerHandle | None = None
        self._t0 = 0.0
        self._n = 0
        self.polls = 0
        self.busy_s = 0.0  # wall time spent polling (perf_counter), for the benchmark

    def start(self) -> None:
        self._t0, self._n = self._loop.time(), 0
        self._timer = self._loop.call_at(self._t0, self._tick)

    def stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def interrupted(self) -> None:
        """Any thread (a GPIO edge callback): poll at once and clear the chips' flags."""
        self._loop.call_soon_threadsafe(self._on_interrupt)

    def _on_interrupt(self) -> None:
        self.poll_all()
        for port in self._ports:
            self._contained(port, port.acknowledge_interrupt)

    def _tick(self) -> None:
        self.poll_all()
        self._n += 1
        due = self._t0 + self._n * self.interval_s
        now = self._loop.time()
        if now - due > RESYNC_AFTER_S:
            self._t0, self._n, due = now, 0, now
        self._timer = self._loop.call_at(due, self._tick)

    def poll_all(self) -> None:
        started = time.perf_counter()
        for port in self._ports:
            self._contained(port, port.poll)
        self.polls += 1
        self.busy_s += time.perf_counter() - started

    def _contained(self, port: Pollable, action: Callable[[], None]) -> None:
        try:
            action()
        except Exception as exc:  # a driver bug takes out its port, not the rest (logged)
            log.exception("%s: driver error", port.name)
            port.fail(f"driver error: {exc!r}")
