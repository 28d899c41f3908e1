"""The timers that follow a machine's deadline work on uvloop, the loop the box runs on in
production (uvloop answers a `call_at` for a moment already past with a plain Handle)."""

from __future__ import annotations

import asyncio

import pytest

from firmware.deadline import DeadlineTimer
from hal.events import OffHook, OnHook
from hal.hook import HookTiming
from hal.hookmon import HookMonitor

uvloop = pytest.importorskip("uvloop", reason="uvloop is not installed (pip install '.[fast]')")


def run_on_uvloop(coro_fn) -> object:  # type: ignore[no-untyped-def]
    loop = uvloop.new_event_loop()
    try:
        return loop.run_until_complete(coro_fn())
    finally:
        loop.close()


def test_a_deadline_already_past_fires_and_can_be_moved() -> None:
    async def scenario() -> int:
        loop = asyncio.get_running_loop()
        fired = asyncio.Event()
        timer = DeadlineTimer(loop, fired.set)
        timer.follow(loop.time() - 1.0)  # already past: uvloop gives a plain Handle
        timer.follow(loop.time() - 0.5)  # moving it must not ask that Handle when()
        await asyncio.wait_for(fired.wait(), 2)
        return 1

    assert run_on_uvloop(scenario) == 1


def test_the_hook_monitor_classifies_on_uvloop() -> None:
    async def scenario() -> list[object]:
        loop = asyncio.get_running_loop()
        monitor = HookMonitor("fxs:1", loop)
        # Short windows, so that this real-time test takes milliseconds.
        monitor.configure(HookTiming(debounce_ms=1, pulse_max_ms=2, flash_min_ms=2,
                                     flash_max_ms=5, pulse_digit_gap_ms=3))
        events: list[object] = []
        hung_up = asyncio.Event()

        def heard(event: object) -> None:
            events.append(event)
            if isinstance(event, OnHook):
                hung_up.set()

        monitor.set_listener(heard)
        monitor.raw(True)
        await asyncio.sleep(0.01)
        monitor.raw(False)
        await asyncio.wait_for(hung_up.wait(), 2)  # on-hook past flash_max_ms: a hang-up
        return events

    kinds = [type(e) for e in run_on_uvloop(scenario)]
    assert OffHook in kinds and OnHook in kinds
