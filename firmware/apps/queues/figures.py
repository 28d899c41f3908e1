"""A queue's figures since the box started: how many callers were answered, how soon,
how many gave up, and how the callbacks went. Plain counters; the queue adds what is
happening now (who waits, for how long) when it shows them (`Queue.snapshot`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["QueueFigures"]


@dataclass
class QueueFigures:
    service_level_s: float
    answered: int = 0
    answered_within: int = 0  # answered within service_level_s
    abandoned: int = 0  # hung up while waiting
    overflowed: int = 0  # sent on: waited max_wait_s, or nobody logged in
    total_wait_s: float = 0.0  # of the answered
    callbacks_requested: int = 0
    callbacks_done: int = 0
    callbacks_failed: int = 0  # every try unanswered

    def answer(self, waited_s: float) -> None:
        self.answered += 1
        self.total_wait_s += waited_s
        if waited_s <= self.service_level_s:
            self.answered_within += 1

    @property
    def average_wait_s(self) -> float | None:
        return self.total_wait_s / self.answered if self.answered else None

    @property
    def service_level(self) -> float | None:
        """The share of answered callers answered within `service_level_s` (0-1)."""
        return self.answered_within / self.answered if self.answered else None

    def as_dict(self) -> dict[str, Any]:
        average = self.average_wait_s
        level = self.service_level
        return {
            "answered": self.answered,
            "answered_within": self.answered_within,
            "service_level_s": self.service_level_s,
            "service_level": None if level is None else round(level, 3),
            "abandoned": self.abandoned,
            "overflowed": self.overflowed,
            "average_wait_s": None if average is None else round(average, 1),
            "callbacks_requested": self.callbacks_requested,
            "callbacks_done": self.callbacks_done,
            "callbacks_failed": self.callbacks_failed,
        }
