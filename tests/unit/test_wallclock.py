"""The wall clock moves with the loop's clock, and follows the system clock when it is set
forward after the start (a board without a real-time clock, until NTP answers)."""

from __future__ import annotations

import asyncio

import pytest

from firmware.engine import wallclock
from firmware.engine.wallclock import WallClock


async def test_the_wall_clock_moves_with_the_loop_and_follows_a_clock_set_later(
        monkeypatch: pytest.MonkeyPatch) -> None:
    real = [1_000_000.0]
    monkeypatch.setattr(wallclock.time, "time", lambda: real[0])
    clock = WallClock(asyncio.get_running_loop())
    start = clock.now()
    assert start == pytest.approx(real[0], abs=1)
    await asyncio.sleep(30)  # fast-forwarded: the loop runs ahead of the frozen clock
    assert clock.now() == pytest.approx(start + 30, abs=1)
    real[0] += 86_400  # NTP sets the clock a day forward
    assert clock.now() == pytest.approx(real[0], abs=1)
    assert WallClock(asyncio.get_running_loop()).now() == pytest.approx(real[0], abs=1)
