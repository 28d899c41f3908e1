"""How long a front-panel button is held, told as gestures: a plain state machine, time
passed in (STYLE.md: `next_deadline()` / `on_timer(now)`, one timer in the shell).

Each button may have marks (seconds held) at which something happens while it is still
down: PAIR opens the pairing window at 3 s, RESET warns at 3 s and resets at 10 s. Each
mark is told once as it passes (`HeldFor`), and the release with how long the button was
held and how many marks it passed (`Released`; none: a short press).

    state   event                   next    told
    up      pressed                 down    -
    down    a mark passes           down    HeldFor(mark)
    down    released                up      every mark passed by then, then Released
    up      released                up      - (it went down before anyone listened)
    down    pressed                 down    - (a second press: the first one counts)

A release at the very moment of a mark counts the mark: a 10 s press is a 10 s hold,
whichever of the release and the timer the loop runs first.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

__all__ = ["Gesture", "HeldFor", "HoldTracker", "Released"]


@dataclass(frozen=True, slots=True)
class HeldFor:
    """`button` has been down for `seconds` (one of its marks) and still is."""

    button: str
    seconds: float


@dataclass(frozen=True, slots=True)
class Released:
    """`button` came up after `held` seconds, having passed `marks` of its marks."""

    button: str
    held: float
    marks: int


Gesture = HeldFor | Released


@dataclass(slots=True)
class _Down:
    at: float
    passed: int = 0


class HoldTracker:
    def __init__(self, marks: Mapping[str, Sequence[float]]) -> None:
        self._marks = {button: tuple(sorted(m)) for button, m in marks.items()}
        self._down: dict[str, _Down] = {}

    def press(self, button: str, at: float) -> list[Gesture]:
        self._down.setdefault(button, _Down(at))
        return []

    def release(self, button: str, at: float) -> list[Gesture]:
        down = self._down.pop(button, None)
        if down is None:
            return []
        told = self._passed(button, down, at)
        told.append(Released(button, at - down.at, down.passed))
        return told

    def on_timer(self, now: float) -> list[Gesture]:
        told: list[Gesture] = []
        for button, down in self._down.items():
            told += self._passed(button, down, now)
        return told

    def next_deadline(self) -> float | None:
        """When the next mark of a button held down passes."""
        due = [down.at + self._marks[b][down.passed] for b, down in self._down.items()
               if down.passed < len(self._marks.get(b, ()))]
        return min(due, default=None)

    def _passed(self, button: str, down: _Down, now: float) -> list[Gesture]:
        marks = self._marks.get(button, ())
        told: list[Gesture] = []
        while down.passed < len(marks) and down.at + marks[down.passed] <= now:
            told.append(HeldFor(button, marks[down.passed]))
            down.passed += 1
        return told
