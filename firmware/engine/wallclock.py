"""Time stamps that outlive the box (a callback's place in line, a promise's due time) on
the loop's clock.

Stored times must mean something after a reboot, so they are seconds since the epoch; but
every wait in the firmware reads the loop's clock (DESIGN.md, "Runtime"), and tests run it
fast-forwarded. So the wall clock is the loop's clock plus the offset between the two,
taken once: a promise due in 30 minutes falls due when the loop has run 30 minutes, and a
stamp written before a restart still compares right after it.
"""

from __future__ import annotations

import asyncio
import datetime
import time
import weakref

__all__ = ["WallClock"]


# The offset per loop, taken once: a box restarted on the same loop (tests restart boxes
# in one fake-time loop) keeps one timeline, so stamps from before the restart still sort
# before those after it.
_offsets: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, float] = \
    weakref.WeakKeyDictionary()


RESYNC_S = 60.0


class WallClock:
    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        if loop not in _offsets:
            _offsets[loop] = time.time() - loop.time()
        self._offset = _offsets[loop]

    def now(self) -> float:
        """Seconds since the epoch (UTC), moving with the loop's clock."""
        now = self._loop.time() + self._offset
        real = time.time()
        if real - now > RESYNC_S:
            # The system clock was set after the box started (a board without a real-time
            # clock boots in the past until NTP answers): follow it from now on. A clock
            # behind ours is a fast-forwarded test loop, or a small step back: ignored.
            self._offset += real - now
            _offsets[self._loop] = self._offset
            now = real
        return now

    def loop_time(self, epoch_s: float) -> float:
        """The loop-clock moment of `epoch_s` (for waiting until a stored time)."""
        return epoch_s - self._offset

    def iso(self, epoch_s: float | None = None) -> str:
        """`epoch_s` (default: now) as ISO 8601 UTC, as the store keeps it."""
        moment = self.now() if epoch_s is None else epoch_s
        return datetime.datetime.fromtimestamp(moment, datetime.UTC).isoformat(
            timespec="seconds")
