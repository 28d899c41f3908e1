"""One `loop.call_at` that follows a sans-I/O machine's next deadline (STYLE.md principle 2).

The machine says when it next needs `on_timer(now)`; the shell calls `follow(deadline)`
after every input, and this keeps exactly one timer armed for that moment (or none).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable


class DeadlineTimer:
    def __init__(self, loop: asyncio.AbstractEventLoop, fire: Callable[[], None]) -> None:
        self._loop = loop
        self._fire = fire
        self._handle: asyncio.Handle | None = None
        # Kept here, not read back from the handle: uvloop answers a `call_at` for a moment
        # already past with a plain Handle, which has no `when()`.
        self._deadline: float | None = None

    def follow(self, deadline: float | None) -> None:
        handle = self._handle
        if handle is not None and (deadline is None or self._deadline != deadline):
            handle.cancel()
            self._handle = handle = None
        if deadline is not None and handle is None:
            self._deadline = deadline
            self._handle = self._loop.call_at(deadline, self._on_time)

    def cancel(self) -> None:
        self.follow(None)

    def _on_time(self) -> None:
        self._handle = None
        self._fire()
