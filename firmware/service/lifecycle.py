"""What happens once the box has started, and on its way down (main.py calls it):

1. The health check (firmware.service.health). Failed: a trial slot is failed (the next
   start rolls back) and the box exits non-zero (systemd starts it again: stage one).
2. Passed: the slot is committed, systemd hears READY=1, the watchdog pings start, and
   after STABLE_S the slot's count of starts in a row is cleared.
3. With --admin-http, on a box run from a data partition: the admin interface (updates).
4. Stopping cleanly also clears the count: a stop is not a crash.
"""

from __future__ import annotations

import asyncio
import enum
import logging
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from bootslots.state import Event
from firmware.service import health
from firmware.service.admin import admin_secret
from firmware.service.notify import Notifier
from firmware.service.slot import STABLE_S, RunningSlot
from firmware.service.watchdog import Watchdog, watchdog_interval

if TYPE_CHECKING:
    from firmware.box import Box
    from firmware.service.updates import UpdateServer

log = logging.getLogger(__name__)


class Outcome(enum.Enum):
    STOPPED = 0      # asked to stop: exit 0
    UNHEALTHY = 1    # failed the health check: exit 1
    RESTART = 2      # an update was installed: run stage one again


class BoxService:
    def __init__(self, box: Box, environ: Mapping[str, str], stop: Callable[[], None]) -> None:
        self.box = box
        self.slot = RunningSlot.from_environ(environ)
        self.notifier = Notifier(environ)
        self._watchdog_interval = watchdog_interval(environ)
        self._stop = stop
        self.outcome = Outcome.STOPPED
        self.healthy = False
        self.watchdog: Watchdog | None = None
        self.updates: UpdateServer | None = None
        self._stable: asyncio.TimerHandle | None = None

    async def start(self, admin_http: tuple[str, int] | None = None) -> bool:
        """Check the box's health and, if it passes, commit and serve. False: exit."""
        result = await health.check(self.box)
        if not result.ok:
            log.error("health check failed: %s", "; ".join(result.problems))
            if self.slot is not None:
                self.slot.unhealthy("; ".join(result.problems))
            self.outcome = Outcome.UNHEALTHY
            return False
        self.healthy = True
        if self.slot is not None:
            self.slot.healthy()
            self._stable = asyncio.get_running_loop().call_later(STABLE_S, self._stable_now)
        secret = admin_secret(self.box.state_dir)
        if admin_http is not None:
            await self._start_updates(admin_http, secret)
        self.notifier.ready(f"ready: {len(self.box.office.extensions)} extensions")
        if self._watchdog_interval is not None:
            self.watchdog = Watchdog(self.notifier, self._watchdog_interval)
            self.watchdog.start()
        log.info("box healthy: scheduler, SIP and every port of the board are up")
        return True

    async def _start_updates(self, address: tuple[str, int], secret: str) -> None:
        if self.slot is None:
            log.warning("--admin-http ignored: this box runs from a checkout, not from a data "
                        "partition's slots, so there is nothing to update")
            return
        # Imported here: image checks need `cryptography`, some megabytes of memory that a
        # box without the update endpoint never uses.
        from firmware.service.updates import UpdateServer

        self.updates = UpdateServer(self.slot, secret, self.request_restart)
        await self.updates.start(*address)

    def request_restart(self) -> None:
        self.outcome = Outcome.RESTART
        self._stop()

    def _stable_now(self) -> None:
        self._stable = None
        if self.slot is not None:  # an fsync may take a while on an SD card: off the loop
            self.box.supervisor.spawn("slot stable",
                                      asyncio.to_thread(self.slot.record, Event.STABLE))

    async def stop(self) -> None:
        self.notifier.stopping()
        if self._stable is not None:
            self._stable.cancel()
            self._stable = None
        if self.watchdog is not None:
            self.watchdog.stop()
        if self.updates is not None:
            await self.updates.stop()
        if self.slot is not None and self.healthy:
            self.slot.record(Event.STABLE)  # a clean stop is not a crash
        self.notifier.close()
