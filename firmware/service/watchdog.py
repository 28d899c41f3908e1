"""Watchdog pings from the scheduler loop: systemd restarts a box whose loop stops turning.

The pings are sent by a loop timer, not a thread, so a hung loop (a blocking call, an
endless loop in a callback) stops them, and after WatchdogSec systemd kills and restarts
the service. They go at half the interval systemd asks for (sd_watchdog_enabled(3)).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Mapping

from firmware.service.notify import Notifier


def watchdog_interval(environ: Mapping[str, str]) -> float | None:
    """Seconds between pings, or None when systemd asks for none (or asks another PID)."""
    usec = environ.get("WATCHDOG_USEC", "")
    pid = environ.get("WATCHDOG_PID", "")
    if not usec.isdigit() or int(usec) == 0 or (pid and pid != str(os.getpid())):
        return None
    return int(usec) / 1e6 / 2


class Watchdog:
    def __init__(self, notifier: Notifier, interval: float) -> None:
        self._notifier = notifier
        self._interval = interval
        self._timer: asyncio.TimerHandle | None = None
        self.pings = 0

    def start(self) -> None:
        self._ping()

    def _ping(self) -> None:
        self._notifier.send("WATCHDOG=1")
        self.pings += 1
        self._timer = asyncio.get_running_loop().call_later(self._interval, self._ping)

    def stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
