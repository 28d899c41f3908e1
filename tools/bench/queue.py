"""A busy queue: 4 agents talking to 4 queue callers while 20 more callers wait, hearing
hold music and, every `--every` seconds, their place and estimated wait.

- CPU share and peak RSS of the box as its own process (`main.py`), read from /proc.
- The lateness of the announcements: each waiting caller's next announcement is due
  `--every` seconds after their last one; measured in this process with `perf_counter`
  (uvloop's clock has 1 ms resolution), with the 20 ms media clock's lateness beside it.

    python -m tools.bench.queue [--runs 3] [--seconds 60] [--every 15] [--asyncio]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import shutil
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

import firmware.apps.queues.caller as queue_caller
from firmware.box import Box
from firmware.config import parse_board, parse_office
from firmware.media.frames import FRAME_SECONDS
from tools.bench.frames import ROOT, connect_when_up, cpu_share, peak_rss_mb
from tools.bench.runs import median, run
from tools.phone.client import ControlClient
from tools.phone.handset import VirtualPhone, sine_tone

AGENTS = 4
TALKING = 4  # callers the agents talk to
WAITING = 20  # callers in line meanwhile
LINES = AGENTS + TALKING + WAITING


def bench_board() -> str:
    fxs = "".join(f"[[fxs]]\nport = {n}\n" for n in range(1, LINES + 1))
    return f'name = "Queue bench board"\nbackend = "sim"\n{fxs}'


def bench_office(every: float) -> str:
    exts = "".join(
        f'[[extension]]\nnumber = "{100 + n}"\nname = "Bench {n}"\ndevices = ["fxs:{n}"]\n'
        for n in range(1, LINES + 1))
    agents = ", ".join(f'"{100 + n}"' for n in range(1, AGENTS + 1))
    return (f'[site]\ncountry = "us"\ntimezone = "UTC"\n[sip]\nlisten = "127.0.0.1:0"\n{exts}'
            f'[[queue]]\nname = "bench"\nnumber = "600"\nstrategy = "longest-idle"\n'
            f'agents = [{agents}]\nannounce_every_s = {every}\ncallback = true\n')


async def join(client: ControlClient, extensions: range) -> None:
    phones = [await VirtualPhone.find(client, str(ext)) for ext in extensions]
    for phone in phones:
        await phone.offhook()
    await asyncio.sleep(1.0)
    longest = max([await phone.dial("600") for phone in phones])
    await asyncio.sleep(longest / 1000 + 1.0)


async def set_up(client: ControlClient, seconds: float) -> None:
    """The agents answer the first callers and talk on; then the rest join the line."""
    await join(client, range(101 + AGENTS, 101 + AGENTS + TALKING))
    speech = sine_tone(700, (seconds + 5) * 1000)
    for ext in range(101, 101 + AGENTS):
        agent = await VirtualPhone.find(client, str(ext))
        await agent.offhook()  # answers the queue call ringing there
        await agent.say(speech[: 8000 * 10])  # (talk for a while; then silence)
    await asyncio.sleep(0.5)
    await join(client, range(101 + AGENTS + TALKING, 101 + LINES))
    for ext in range(101, 101 + AGENTS):
        status = await (await VirtualPhone.find(client, str(ext))).status()
        if status["hook"] != "off":
            raise RuntimeError(f"agent {ext} is not in a call")


async def process_run(seconds: float, every: float, plain_asyncio: bool) -> dict[str, float]:
    work = Path(tempfile.mkdtemp(prefix="pbx-bench-"))
    (work / "board.toml").write_text(bench_board())
    (work / "office.toml").write_text(bench_office(every))
    env = {**os.environ, "PBX_NO_UVLOOP": "1"} if plain_asyncio else dict(os.environ)
    proc = await asyncio.create_subprocess_exec(
        sys.executable, str(ROOT / "main.py"), "--board", str(work / "board.toml"),
        "--config", str(work / "office.toml"), "--state-dir", str(work),
        "--log-level", "warning", env=env,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
    try:
        client = await connect_when_up(str(work / "control.sock"), proc)
        async with client:
            await set_up(client, seconds)
            busy = await cpu_share(proc.pid, seconds)
            rss = peak_rss_mb(proc.pid)
            waiting = (await client.request("info"))["published"]["apps"]["queue"]["bench"]
    finally:
        proc.terminate()
        await asyncio.wait_for(proc.wait(), 30)
        shutil.rmtree(work, ignore_errors=True)
    if waiting["callers_waiting"] != WAITING:
        raise RuntimeError(f"{waiting['callers_waiting']} callers waited, not {WAITING}")
    return {"cpu": busy, "rss_mb": rss}


async def lateness_run(seconds: float, every: float) -> dict[str, float]:
    board = parse_board(bench_board(), "bench-board.toml")
    office = parse_office(bench_office(every), "bench-office.toml", board)
    state = Path(tempfile.mkdtemp(prefix="pbx-bench-"))
    said: dict[str, list[float]] = defaultdict(list)
    original = queue_caller._announce

    def timed_announce(queue: Any, entry: Any, first: bool) -> None:
        said[entry.channel.name].append(time.perf_counter())
        original(queue, entry, first)

    box = Box(board, office, state)
    await box.start()
    try:
        async with ControlClient(str(box.control_path)) as client:
            await set_up(client, seconds)
            assert box.engine is not None
            clock = box.engine.clock
            ticks: list[tuple[int, float]] = []
            tick = clock._tick

            def timed_tick() -> None:
                ticks.append((clock._n, time.perf_counter()))
                tick()

            clock._tick = timed_tick  # type: ignore[method-assign]
            queue_caller._announce = timed_announce  # type: ignore[assignment]
            await asyncio.sleep(seconds)
    finally:
        queue_caller._announce = original  # type: ignore[assignment]
        await box.stop()
        shutil.rmtree(state, ignore_errors=True)
    # Each announcement is due `every` after the caller's previous one.
    late = np.array([(b - a - every) * 1000 for times in said.values()
                     for a, b in itertools.pairwise(times)])
    n = np.array([t[0] for t in ticks], dtype=np.float64)
    at = np.array([t[1] for t in ticks])
    frames = at - (at[0] + (n - n[0]) * FRAME_SECONDS)
    frames = (frames - frames.min()) * 1000
    if not len(late):
        raise RuntimeError("no announcement was repeated: measure for longer than --every")
    return {"p50": float(np.percentile(late, 50)), "p99": float(np.percentile(late, 99)),
            "max": float(late.max()), "announcements": float(len(late)),
            "frames_p99": float(np.percentile(frames, 99))}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--seconds", type=float, default=60.0)
    p.add_argument("--every", type=float, default=15.0, help="announce_every_s")
    p.add_argument("--asyncio", action="store_true", help="plain asyncio instead of uvloop")
    args = p.parse_args()
    late = [run(lambda: lateness_run(args.seconds, args.every), args.asyncio)
            for _ in range(args.runs)]
    proc = [run(lambda: process_run(args.seconds, args.every, args.asyncio), args.asyncio)
            for _ in range(args.runs)]

    med = median

    loop_name = "asyncio" if args.asyncio else "uvloop (where installed)"
    print(f"queue: {AGENTS} agents talking, {WAITING} callers waiting (music, announcements "
          f"every {args.every:g} s), {loop_name}; median of {args.runs} runs x "
          f"{args.seconds:.0f} s")
    print(f"  announcement lateness  p50 {med(late, 'p50'):.2f} ms   p99 {med(late, 'p99'):.2f}"
          f" ms   max {med(late, 'max'):.2f} ms   ({med(late, 'announcements'):.0f} measured)")
    print(f"  frame-timer lateness   p99 {med(late, 'frames_p99'):.3f} ms")
    print(f"  box CPU                {med(proc, 'cpu'):.2f} % of one core")
    print(f"  box peak RSS           {med(proc, 'rss_mb'):.1f} MB")


if __name__ == "__main__":
    main()
