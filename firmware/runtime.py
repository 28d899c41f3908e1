"""The supervisor: every long-lived piece of work is a named task it watches.

A task that crashes is logged with its traceback and its `on_crash` clean-up runs (for a
call: hang up that call's channels), so one broken call never takes the box down. This is
the one place allowed to catch every exception.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any

log = logging.getLogger(__name__)

CrashHandler = Callable[[BaseException], None]


class Supervisor:
    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()
        self.crashes = 0

    def spawn(
        self,
        name: str,
        coro: Coroutine[Any, Any, Any],
        on_crash: CrashHandler | None = None,
    ) -> asyncio.Task[Any]:
        task = asyncio.get_running_loop().create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(lambda t: self._finished(t, on_crash))
        return task

    def contain(self, what: str, exc: BaseException, on_crash: CrashHandler | None) -> None:
        """Log a crash found outside a task (a frame callback) and clean up after it."""
        self.crashes += 1
        log.error("%s crashed; cleaning up and carrying on", what, exc_info=exc)
        if on_crash is not None:
            try:
                on_crash(exc)
            except Exception:  # the clean-up itself failed: still keep the box up
                log.exception("clean-up after %s failed", what)

    def _finished(self, task: asyncio.Task[Any], on_crash: CrashHandler | None) -> None:
        self._tasks.discard(task)
        if task.cancelled():
            return
        exc = task.exception()
        if exc is not None:
            self.contain(f"task {task.get_name()!r}", exc, on_crash)

    @property
    def running(self) -> int:
        return len(self._tasks)

    async def shutdown(self) -> None:
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
