"""The media clock: 20 ms deadlines, capture before render, idle is free, crashes contained."""

from __future__ import annotations

import asyncio

from firmware.engine.clock import FrameClock
from firmware.runtime import Supervisor


class Recorder:
    def __init__(self, name: str, log: list[tuple[str, str, float]],
                 fail_on: int | None = None) -> None:
        self.name, self.log, self.fail_on = name, log, fail_on
        self.captures = 0
        self.crash: BaseException | None = None

    def capture(self) -> None:
        self.captures += 1
        if self.captures == self.fail_on:
            raise RuntimeError("bug")
        self.log.append((self.name, "capture", asyncio.get_running_loop().time()))

    def render(self) -> None:
        self.log.append((self.name, "render", asyncio.get_running_loop().time()))

    def crashed(self, exc: BaseException) -> None:
        self.crash = exc


async def test_ticks_every_20_ms_on_the_deadline_capturing_everyone_first() -> None:
    loop = asyncio.get_running_loop()
    clock = FrameClock(loop, Supervisor())
    log: list[tuple[str, str, float]] = []
    a, b = Recorder("a", log), Recorder("b", log)
    t0 = loop.time()
    clock.add(a)
    clock.add(b)
    await asyncio.sleep(0.099)
    assert clock.ticks == 5
    assert [(who, what) for who, what, _ in log[:4]] == [
        ("a", "capture"), ("b", "capture"), ("a", "render"), ("b", "render")]
    times = sorted({round(t - t0, 6) for _, _, t in log})
    assert times == [0.0, 0.02, 0.04, 0.06, 0.08]


async def test_stops_when_the_last_participant_leaves_and_restarts() -> None:
    loop = asyncio.get_running_loop()
    clock = FrameClock(loop, Supervisor())
    a = Recorder("a", [])
    assert not clock.running
    clock.add(a)
    assert clock.running
    await asyncio.sleep(0.05)
    clock.discard(a)
    assert not clock.running
    ticks = clock.ticks
    await asyncio.sleep(10)
    assert clock.ticks == ticks  # idle: not one wake-up
    clock.add(a)
    await asyncio.sleep(0.01)
    assert clock.ticks == ticks + 1


async def test_a_crashing_participant_is_removed_and_the_others_go_on() -> None:
    loop = asyncio.get_running_loop()
    supervisor = Supervisor()
    clock = FrameClock(loop, supervisor)
    broken, fine = Recorder("broken", [], fail_on=2), Recorder("fine", [])
    clock.add(broken)
    clock.add(fine)
    await asyncio.sleep(0.09)
    assert isinstance(broken.crash, RuntimeError)
    assert broken.captures == 2
    assert fine.captures == 5
    assert supervisor.crashes == 1
    assert clock.running
