"""The hook classifier turns loop open/close timings into what the person did."""

from __future__ import annotations

import pytest

from hal.events import HookFlash, LineEvent, OffHook, OnHook, PulseDigit
from hal.hook import HookClassifier, HookState, HookTiming, HookTimingError


class Driver:
    """Feeds raw levels at exact times and fires the classifier's timers in order."""

    def __init__(self, timing: HookTiming | None = None) -> None:
        self.hook = HookClassifier("fxs:1", timing)
        self.now = 0.0
        self.events: list[LineEvent] = []

    def advance(self, ms: float) -> None:
        target = self.now + ms / 1000.0
        while (deadline := self.hook.next_deadline()) is not None and deadline <= target:
            self.now = max(self.now, deadline)
            self.events += self.hook.on_timer(self.now)
        self.now = target

    def level(self, off_hook: bool, hold_ms: float) -> None:
        self.events += self.hook.raw(off_hook, self.now)
        self.advance(hold_ms)

    def lifted(self) -> Driver:
        self.level(True, 1000)
        assert self.events == [OffHook("fxs:1", 0.0)]
        self.events.clear()
        return self

    def break_for(self, ms: float, then_off_ms: float = 2000) -> list[LineEvent]:
        self.events.clear()
        self.level(False, ms)
        self.level(True, then_off_ms)
        return [e for e in self.events if not isinstance(e, OffHook)]


def kinds(events: list[LineEvent]) -> list[str]:
    out = []
    for e in events:
        if isinstance(e, PulseDigit):
            out.append(f"digit {e.digit}")
        else:
            out.append(type(e).__name__)
    return out


@pytest.mark.parametrize(
    ("break_ms", "expected"),
    [
        (14.9, []),  # bounce
        (15.0, ["digit 1"]),  # shortest pulse
        (60.0, ["digit 1"]),  # US 10 pps break
        (99.9, ["digit 1"]),  # longest pulse
        (100.0, ["HookFlash"]),  # shortest flash
        (500.0, ["HookFlash"]),
        (899.9, ["HookFlash"]),  # longest flash
        (900.0, ["OnHook"]),  # shortest hang-up
        (5000.0, ["OnHook"]),
    ],
)
def test_each_window_edge_has_one_meaning(break_ms: float, expected: list[str]) -> None:
    d = Driver().lifted()
    assert kinds(d.break_for(break_ms)) == expected


def test_flash_reports_its_length_and_time() -> None:
    d = Driver().lifted()
    d.level(False, 300)
    d.level(True, 10)
    assert d.events == [HookFlash("fxs:1", 1.3, 300.0)]


def test_hang_up_is_dated_when_the_hook_went_down() -> None:
    d = Driver().lifted()
    d.level(False, 2000)
    assert d.events == [OnHook("fxs:1", 1.0)]
    assert d.hook.state is HookState.ON_HOOK
    assert not d.hook.off_hook


def test_lift_shorter_than_debounce_is_ignored() -> None:
    d = Driver()
    d.level(True, 14)
    d.level(False, 1000)
    assert d.events == []
    d.level(True, 15)
    assert d.events == [OffHook("fxs:1", 1.014)]


def dial_pulses(d: Driver, digit: int, break_ms: float = 60, make_ms: float = 40) -> None:
    for _ in range(digit or 10):
        d.level(False, break_ms)
        d.level(True, make_ms)


@pytest.mark.parametrize(("brk", "make"), [(60, 40), (67, 33)])  # US and European ratios
def test_pulse_dialled_number(brk: float, make: float) -> None:
    d = Driver().lifted()
    for digit in (1, 0, 2):
        dial_pulses(d, digit, brk, make)
        d.advance(800)  # typical inter-digit pause
    assert kinds(d.events) == ["digit 1", "digit 0", "digit 2"]


def test_gap_just_under_the_digit_gap_keeps_counting() -> None:
    d = Driver().lifted()
    dial_pulses(d, 2)
    d.advance(249 - 40)  # make is 249 ms in all, still inside the digit
    dial_pulses(d, 1)
    d.advance(300)
    assert kinds(d.events) == ["digit 3"]


def test_bounce_during_a_pulse_train_does_not_add_a_pulse() -> None:
    d = Driver().lifted()
    d.level(False, 60)
    d.level(True, 20)
    d.level(False, 5)  # contact chatter while the dial returns
    d.level(True, 20)
    d.level(False, 60)
    d.level(True, 500)
    assert kinds(d.events) == ["digit 2"]


def test_more_than_ten_pulses_is_no_digit() -> None:
    d = Driver().lifted()
    dial_pulses(d, 10)
    dial_pulses(d, 1)
    d.advance(500)
    assert d.events == []


def test_flash_right_after_pulses_reports_the_digit_first() -> None:
    d = Driver().lifted()
    dial_pulses(d, 4)
    d.level(False, 400)
    d.level(True, 10)
    assert kinds(d.events) == ["digit 4", "HookFlash"]


def test_hang_up_mid_digit_drops_the_digit() -> None:
    d = Driver().lifted()
    dial_pulses(d, 3)
    d.level(False, 2000)
    assert kinds(d.events) == ["OnHook"]


def test_repeated_levels_change_nothing() -> None:
    d = Driver().lifted()
    d.level(True, 100)
    d.level(True, 100)
    assert d.events == []
    d.level(False, 2000)
    d.level(False, 100)
    assert kinds(d.events) == ["OnHook"]


def test_late_poll_after_the_flash_window_still_means_hang_up() -> None:
    d = Driver().lifted()
    d.events += d.hook.raw(False, d.now)
    d.now += 1.5  # no timer fired (a slow poller), then the phone is lifted again
    d.events += d.hook.raw(True, d.now)
    d.advance(100)
    assert kinds(d.events) == ["OnHook", "OffHook"]


def test_settable_windows() -> None:
    timing = HookTiming(flash_min_ms=200, flash_max_ms=1250)
    d = Driver(timing).lifted()
    assert kinds(d.break_for(150)) == []  # between the pulse and flash windows
    assert kinds(d.break_for(1200)) == ["HookFlash"]
    assert kinds(d.break_for(1250)) == ["OnHook"]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"debounce_ms": 0},
        {"debounce_ms": 100},
        {"pulse_max_ms": 150},
        {"flash_min_ms": 900},
        {"pulse_digit_gap_ms": 0},
    ],
)
def test_inconsistent_windows_are_refused(kwargs: dict[str, float]) -> None:
    with pytest.raises(HookTimingError):
        HookTiming(**kwargs)
