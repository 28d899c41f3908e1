"""The loop-side shell of the hook classifier: one `call_at` timer, events to a listener.

Every backend feeds raw hook levels here (the sim from its virtual handset, a SLIC driver
from its hook-status register) so all of them classify flashes and pulses the same way.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable

from hal.events import LineEvent
from hal.hook import HookClassifier, HookTiming

log = logging.getLogger(__name__)

RECENT_EVENTS = 32  # kept for the virtual board's status report


class HookMonitor:
    def __init__(self, port: str, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._classifier = HookClassifier(port)
        self._timer: asyncio.Handle | None = None
        self._timer_at = 0.0
        self._listener: Callable[[LineEvent], None] | None = None
        self.recent: deque[LineEvent] = deque(maxlen=RECENT_EVENTS)

    @property
    def off_hook(self) -> bool:
        return self._classifier.off_hook

    @property
    def timing(self) -> HookTiming:
        return self._classifier.timing

    def configure(self, timing: HookTiming) -> None:
        self._classifier.timing = timing

    def set_listener(self, listener: Callable[[LineEvent], None]) -> None:
        self._listener = listener

    def raw(self, off_hook: bool) -> None:
        self._emit(self._classifier.raw(off_hook, self._loop.time()))

    def _on_timer(self) -> None:
        self._timer = None
        self._emit(self._classifier.on_timer(self._loop.time()))

    def _emit(self, events: list[LineEvent]) -> None:
        for event in events:
            self.recent.append(event)
            if self._listener is not None:
                self._listener(event)
        self._reschedule()

    def _reschedule(self) -> None:
        deadline = self._classifier.next_deadline()
        # The deadline is kept beside the timer: uvloop answers a `call_at` for a moment
        # already past with a plain Handle, which has no `when()`.
        if self._timer is not None and (deadline is None or self._timer_at != deadline):
            self._timer.cancel()
            self._timer = None
        if deadline is not None and self._timer is None:
            self._timer_at = deadline
            self._timer = self._loop.call_at(deadline, self._on_timer)
