"""The dial plan: which dialled strings lead where, and when a number is complete.

Three kinds of entry: a number (an extension: `201`, a feature code: `*73`), a prefixed
range (an outbound route: `9` followed by a number that one of the route's dial patterns
allows), and a code followed by a number of the plan (`*72` + `102`: forward to 102).
Digits arrive one at a time; after each, `match` says whether to dial now (a number is
complete and nothing longer can follow), wait for more, or give up (nothing can match).
"""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from firmware.config import DialPattern
    from firmware.engine.channel import Cause, Channel

Destination = Callable[["Channel"], Awaitable["Cause"]]
# A prefixed range's destination is made per number: the number without the prefix.
RangeDestination = Callable[[str], Destination]


class Match(enum.Enum):
    COMPLETE = "complete"  # dial now
    AMBIGUOUS = "ambiguous"  # a number, but a longer one starts with it: wait the inter-digit time
    PARTIAL = "partial"  # the start of a number: wait for more
    NONE = "none"  # nothing starts like this


@dataclass(frozen=True, slots=True)
class _Range:
    prefix: str
    patterns: Sequence[DialPattern]
    destination: RangeDestination

    def matches(self, digits: str) -> bool:
        rest = digits.removeprefix(self.prefix)
        return rest != digits and any(p.matches(rest) for p in self.patterns)

    def may_continue(self, digits: str) -> bool:
        if len(digits) < len(self.prefix):
            return self.prefix.startswith(digits)
        rest = digits.removeprefix(self.prefix)
        return rest != digits and (rest == "" or any(p.may_continue(rest)
                                                     for p in self.patterns))


class DialPlan:
    def __init__(self) -> None:
        self._numbers: dict[str, Destination] = {}
        self._ranges: list[_Range] = []
        self._codes: dict[str, RangeDestination] = {}  # code + a number of the plan

    def add(self, number: str, destination: Destination) -> None:
        if number in self._numbers:
            raise ValueError(f"number {number} is already in the dial plan")
        self._numbers[number] = destination

    def add_range(self, prefix: str, patterns: Sequence[DialPattern],
                  destination: RangeDestination) -> None:
        """`prefix` + any number one of `patterns` allows leads to `destination(number)`."""
        self._ranges.append(_Range(prefix, tuple(patterns), destination))

    def add_code(self, code: str, destination: RangeDestination) -> None:
        """`code` followed by a number this plan knows leads to `destination(number)`."""
        self._codes[code] = destination

    def lookup(self, number: str) -> Destination | None:
        found = self._lookup_number(number)
        if found is not None:
            return found
        for code, destination in self._codes.items():
            rest = number.removeprefix(code)
            if rest != number and self._lookup_number(rest) is not None:
                return destination(rest)
        return None

    def match(self, digits: str) -> Match:
        matched, longer = self._number_match(digits)
        for code in self._codes:
            if code.startswith(digits) and code != digits:
                longer = True
            elif digits.startswith(code):
                rest = digits[len(code):]
                rest_matched, rest_longer = self._number_match(rest) if rest else (False, True)
                matched, longer = matched or rest_matched, longer or rest_longer
        if matched:
            return Match.AMBIGUOUS if longer else Match.COMPLETE
        return Match.PARTIAL if longer else Match.NONE

    def _lookup_number(self, number: str) -> Destination | None:
        if number in self._numbers:
            return self._numbers[number]
        for entry in self._ranges:
            if entry.matches(number):
                return entry.destination(number.removeprefix(entry.prefix))
        return None

    def _number_match(self, digits: str) -> tuple[bool, bool]:
        """(a number or range matches `digits`, a longer one may still)."""
        longer = any(n != digits and n.startswith(digits) for n in self._numbers) or \
            any(r.may_continue(digits) for r in self._ranges)
        matched = digits in self._numbers or any(r.matches(digits) for r in self._ranges)
        return matched, longer
