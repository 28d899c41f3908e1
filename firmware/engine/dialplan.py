"""The dial plan: which dialled strings lead where, and when a number is complete.

Digits arrive one at a time; after each, `match` says whether to dial now (a number is
complete and nothing longer starts with it), wait for more, or give up (nothing can match).
"""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from firmware.engine.channel import Cause, Channel

Destination = Callable[["Channel"], Awaitable["Cause"]]


class Match(enum.Enum):
    COMPLETE = "complete"  # dial now
    AMBIGUOUS = "ambiguous"  # a number, but a longer one starts with it: wait the inter-digit time
    PARTIAL = "partial"  # the start of a number: wait for more
    NONE = "none"  # nothing starts like this


class DialPlan:
    def __init__(self) -> None:
        self._numbers: dict[str, Destination] = {}

    def add(self, number: str, destination: Destination) -> None:
        if number in self._numbers:
            raise ValueError(f"number {number} is already in the dial plan")
        self._numbers[number] = destination

    def lookup(self, number: str) -> Destination | None:
        return self._numbers.get(number)

    def match(self, digits: str) -> Match:
        longer = any(n != digits and n.startswith(digits) for n in self._numbers)
        if digits in self._numbers:
            return Match.AMBIGUOUS if longer else Match.COMPLETE
        return Match.PARTIAL if longer else Match.NONE
