"""Pure hook-switch classifier: raw hook transitions in, line events out.

An FXS port only sees the loop open (on-hook) and close (off-hook). How long the loop stays
open tells what the person did (REFERENCE.md, "Hook switch at an FXS port"):

    on-hook lasting                     means
    [0, debounce_ms)                    contact bounce: ignored
    [debounce_ms, pulse_max_ms)         one dial pulse (off-hook pulse_digit_gap_ms ends a digit)
    [flash_min_ms, flash_max_ms)        hook-flash
    [flash_max_ms, ...)                 hang-up (known once flash_max_ms has passed)
    [pulse_max_ms, flash_min_ms)        nothing (only when the two windows leave a gap)

A lift must also last debounce_ms before it counts. Windows are half-open, so every duration
has exactly one meaning. Time is an argument (`now`, in seconds of the loop's clock); the
caller schedules `on_timer(next_deadline())` — this module never reads a clock.

Transition table (state, input) -> state; guards on the measured duration pick the row:

    ON_HOOK      raw off                  -> LIFTING      (deadline: +debounce)
    LIFTING      raw on                   -> ON_HOOK      (bounce)
    LIFTING      timer                    -> OFF_HOOK     emits OffHook
    OFF_HOOK     raw on                   -> BREAK        (deadline: +flash_max)
    PULSE_MAKE   raw on                   -> BREAK        (deadline: +flash_max)
    BREAK        raw off, bounce          -> the state before the break
    BREAK        raw off, pulse           -> PULSE_MAKE   (deadline: +pulse_digit_gap)
    BREAK        raw off, flash           -> OFF_HOOK     emits a pending PulseDigit, HookFlash
    BREAK        raw off, in neither      -> OFF_HOOK     emits a pending PulseDigit
    BREAK        timer                    -> ON_HOOK      emits OnHook (a pending digit is dropped)
    PULSE_MAKE   timer                    -> OFF_HOOK     emits PulseDigit (1..10 pulses: "1".."0")

A repeated raw level (a poll that reports the same state twice) changes nothing.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from hal.events import HookFlash, LineEvent, OffHook, OnHook, PulseDigit

# Float noise in loop times (e.g. 0.1 + 0.2) must not push a duration across a window edge.
_MS_DIGITS = 6


class HookTimingError(ValueError):
    """The hook windows overlap or are out of order."""


@dataclass(frozen=True, slots=True)
class HookTiming:
    """The windows of the classifier, in milliseconds; settable per line."""

    debounce_ms: float = 15.0
    pulse_max_ms: float = 100.0
    flash_min_ms: float = 100.0
    flash_max_ms: float = 900.0
    pulse_digit_gap_ms: float = 250.0

    def __post_init__(self) -> None:
        if not 0 < self.debounce_ms < self.pulse_max_ms <= self.flash_min_ms < self.flash_max_ms:
            raise HookTimingError(
                "hook timings must satisfy 0 < debounce_ms < pulse_max_ms <= flash_min_ms"
                f" < flash_max_ms; got {self.debounce_ms}, {self.pulse_max_ms},"
                f" {self.flash_min_ms}, {self.flash_max_ms}"
            )
        if self.pulse_digit_gap_ms <= 0:
            raise HookTimingError("pulse_digit_gap_ms must be positive")

    @property
    def typical_flash_ms(self) -> float:
        """A flash length well inside the window, for a virtual handset's R key."""
        return (self.flash_min_ms + self.flash_max_ms) / 2


class HookState(enum.Enum):
    ON_HOOK = "on-hook"
    LIFTING = "lifting"
    OFF_HOOK = "off-hook"
    BREAK = "break"
    PULSE_MAKE = "pulse-make"


def _ms(later: float, earlier: float) -> float:
    return round((later - earlier) * 1000.0, _MS_DIGITS)


class HookClassifier:
    """Classifies one line's raw hook transitions; see the module docstring for the table."""

    def __init__(self, port: str, timing: HookTiming | None = None) -> None:
        self.port = port
        self.timing = timing or HookTiming()
        self.state = HookState.ON_HOOK
        self._since = 0.0  # when the current state's measured interval began
        self._pulses = 0
        self._before_break = HookState.OFF_HOOK
        self._make_since = 0.0  # start of the make before the current break

    @property
    def off_hook(self) -> bool:
        """Whether the line counts as off-hook now (a break may still turn out a flash)."""
        return self.state not in (HookState.ON_HOOK, HookState.LIFTING)

    def next_deadline(self) -> float | None:
        t = self.timing
        if self.state is HookState.LIFTING:
            return self._since + t.debounce_ms / 1000.0
        if self.state is HookState.BREAK:
            return self._since + t.flash_max_ms / 1000.0
        if self.state is HookState.PULSE_MAKE:
            return self._since + t.pulse_digit_gap_ms / 1000.0
        return None

    def raw(self, off_hook: bool, now: float) -> list[LineEvent]:
        """The loop was seen closed (`off_hook`) or open at `now`."""
        if off_hook:
            return self._raw_off(now)
        return self._raw_on(now)

    def on_timer(self, now: float) -> list[LineEvent]:
        deadline = self.next_deadline()
        if deadline is None or now < deadline - 10.0**-_MS_DIGITS / 1000.0:
            return []
        if self.state is HookState.LIFTING:
            self.state = HookState.OFF_HOOK
            return [OffHook(self.port, self._since)]
        if self.state is HookState.BREAK:
            self.state = HookState.ON_HOOK
            self._pulses = 0
            return [OnHook(self.port, self._since)]
        # PULSE_MAKE: the gap after the last pulse ends the digit.
        self.state = HookState.OFF_HOOK
        return self._take_digit(self._since)

    def _raw_off(self, now: float) -> list[LineEvent]:
        if self.state is HookState.ON_HOOK:
            self.state, self._since = HookState.LIFTING, now
            return []
        if self.state is not HookState.BREAK:
            return []  # already off-hook: a repeated level
        t = self.timing
        ms = _ms(now, self._since)
        if ms >= t.flash_max_ms:
            # The timer should have fired already; a late poll still means a hang-up.
            events: list[LineEvent] = [OnHook(self.port, self._since)]
            self._pulses = 0
            self.state, self._since = HookState.LIFTING, now
            return events
        if ms < t.debounce_ms:
            self.state, self._since = self._before_break, self._make_since
            return []
        if ms < t.pulse_max_ms:
            self._pulses += 1
            self.state, self._since = HookState.PULSE_MAKE, now
            return []
        events = self._take_digit(self._since)
        self.state, self._since = HookState.OFF_HOOK, now
        if ms >= t.flash_min_ms:
            events.append(HookFlash(self.port, now, ms))
        return events

    def _raw_on(self, now: float) -> list[LineEvent]:
        if self.state is HookState.LIFTING:
            self.state, self._since = HookState.ON_HOOK, now
            return []
        if self.state not in (HookState.OFF_HOOK, HookState.PULSE_MAKE):
            return []  # already on-hook or in a break: a repeated level
        self._before_break, self._make_since = self.state, self._since
        self.state, self._since = HookState.BREAK, now
        return []

    def _take_digit(self, at: float) -> list[LineEvent]:
        pulses, self._pulses = self._pulses, 0
        if not 1 <= pulses <= 10:
            return []  # no pulses pending, or more than a dial can send: not a digit
        return [PulseDigit(self.port, at, str(pulses % 10))]
