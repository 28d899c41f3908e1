"""Frame-timer lateness, CPU and memory with analog calls up, and idle CPU.

Two measurements, both on a virtual board with eight FXS ports and four calls between them,
both ends of every call speaking continuously:

- CPU share and peak RSS of the box as its own process (`main.py`, as in production),
  read from /proc while this driver only waits; idle CPU with every line on-hook.
- The 20 ms media clock's lateness (p50/p99/max), measured in this process with
  `perf_counter` at every tick, because uvloop's loop clock has only 1 ms resolution.

    python -m tools.bench.frames [--runs 3] [--seconds 10] [--calls 4] [--asyncio]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from firmware.box import Box
from firmware.config import parse_board, parse_office
from firmware.media.frames import FRAME_SECONDS
from tools.bench.runs import median, run
from tools.phone.client import ControlClient, Unreachable
from tools.phone.handset import VirtualPhone, sine_tone

ROOT = Path(__file__).resolve().parents[2]
CLK_TCK = os.sysconf("SC_CLK_TCK")
CHUNK = 2 * 8000  # samples of microphone audio per control request


def bench_board(ports: int) -> str:
    fxs = "".join(f"[[fxs]]\nport = {n}\n" for n in range(1, ports + 1))
    return f'name = "Bench board"\nbackend = "sim"\n{fxs}'


def bench_office(ports: int) -> str:
    exts = "".join(
        f'[[extension]]\nnumber = "{100 + n}"\nname = "Bench {n}"\ndevices = ["fxs:{n}"]\n'
        for n in range(1, ports + 1)
    )
    return f'[site]\ncountry = "us"\ntimezone = "UTC"\n[sip]\nlisten = "127.0.0.1:0"\n{exts}'


async def set_up_calls(client: ControlClient, calls: int, seconds: float) -> None:
    speech = sine_tone(700, (seconds + 3) * 1000)  # as much as the measurement needs
    for n in range(1, calls * 2, 2):
        a = await VirtualPhone.find(client, str(100 + n))
        b = await VirtualPhone.find(client, str(101 + n))
        await a.offhook()
        await asyncio.sleep(0.1)
        await asyncio.sleep(await a.dial(str(101 + n)) / 1000 + 0.3)
        await b.offhook()
        await asyncio.sleep(0.1)
        for start in range(0, len(speech), CHUNK):  # in pieces, as a phone's audio arrives
            await a.say(speech[start : start + CHUNK])
            await b.say(speech[start : start + CHUNK])
    await asyncio.sleep(0.5)
    for n in range(1, calls * 2 + 1):
        status = await (await VirtualPhone.find(client, str(100 + n))).status()
        if status["hook"] != "off":
            raise RuntimeError(f"extension {100 + n} is not in a call")


# -- the box as its own process: CPU and memory ---------------------------------------


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime + stime


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def cpu_share(pid: int, seconds: float) -> float:
    c0, t0 = cpu_seconds(pid), time.perf_counter()
    await asyncio.sleep(seconds)
    return (cpu_seconds(pid) - c0) / (time.perf_counter() - t0) * 100


async def process_run(calls: int, seconds: float, plain_asyncio: bool) -> dict[str, float]:
    work = Path(tempfile.mkdtemp(prefix="pbx-bench-"))
    (work / "board.toml").write_text(bench_board(calls * 2))
    (work / "office.toml").write_text(bench_office(calls * 2))
    env = {**os.environ, "PBX_NO_UVLOOP": "1"} if plain_asyncio else dict(os.environ)
    proc = await asyncio.create_subprocess_exec(
        sys.executable, str(ROOT / "main.py"), "--board", str(work / "board.toml"),
        "--config", str(work / "office.toml"), "--state-dir", str(work),
        "--log-level", "warning",
        env=env, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        client = await connect_when_up(str(work / "control.sock"), proc)
        async with client:
            await asyncio.sleep(1.0)
            idle = await cpu_share(proc.pid, min(seconds, 5.0))
            await set_up_calls(client, calls, seconds)
            busy = await cpu_share(proc.pid, seconds)
            rss = peak_rss_mb(proc.pid)
    finally:
        proc.terminate()
        await asyncio.wait_for(proc.wait(), 30)
        shutil.rmtree(work, ignore_errors=True)
    return {"cpu_idle": idle, "cpu_calls": busy, "rss_mb": rss}


async def connect_when_up(path: str, proc: asyncio.subprocess.Process) -> ControlClient:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.returncode is not None:
            raise RuntimeError(f"the box exited with status {proc.returncode}")
        try:
            return await ControlClient(path).connect()
        except Unreachable:
            await asyncio.sleep(0.05)
    raise RuntimeError("the box did not come up within 30 s")


# -- the box in this process: frame-timer lateness --------------------------------------


async def lateness_run(calls: int, seconds: float) -> dict[str, float]:
    board = parse_board(bench_board(calls * 2), "bench-board.toml")
    office = parse_office(bench_office(calls * 2), "bench-office.toml", board)
    state = Path(tempfile.mkdtemp(prefix="pbx-bench-"))
    box = Box(board, office, state)
    await box.start()
    try:
        async with ControlClient(str(box.control_path)) as client:
            await set_up_calls(client, calls, seconds)
            assert box.engine is not None
            clock = box.engine.clock
            ticks: list[tuple[int, float]] = []
            original = clock._tick

            def timed_tick() -> None:
                ticks.append((clock._n, time.perf_counter()))
                original()

            clock._tick = timed_tick  # type: ignore[method-assign]
            await asyncio.sleep(seconds)
    finally:
        await box.stop()
        shutil.rmtree(state, ignore_errors=True)
    n = np.array([t[0] for t in ticks], dtype=np.float64)
    at = np.array([t[1] for t in ticks])
    late = at - (at[0] + (n - n[0]) * FRAME_SECONDS)
    late = (late - late.min()) * 1000  # relative to the earliest tick: lateness >= 0
    return {"p50": float(np.percentile(late, 50)), "p99": float(np.percentile(late, 99)),
            "max": float(late.max()), "ticks": float(len(late))}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--seconds", type=float, default=10.0)
    p.add_argument("--calls", type=int, default=4)
    p.add_argument("--asyncio", action="store_true", help="plain asyncio instead of uvloop")
    args = p.parse_args()
    late = [run(lambda: lateness_run(args.calls, args.seconds), args.asyncio)
            for _ in range(args.runs)]
    proc = [run(lambda: process_run(args.calls, args.seconds, args.asyncio), args.asyncio)
            for _ in range(args.runs)]

    med = median

    loop_name = "asyncio" if args.asyncio else "uvloop (where installed)"
    print(f"{args.calls} analog calls ({args.calls * 2} lines, both ends talking), {loop_name};"
          f" median of {args.runs} runs x {args.seconds:.0f} s")
    print(f"  frame-timer lateness  p50 {med(late, 'p50'):.3f} ms   p99 {med(late, 'p99'):.3f} ms"
          f"   max {med(late, 'max'):.3f} ms   ({med(late, 'ticks'):.0f} ticks; target p99 < 2 ms)")
    print(f"  box CPU, calls up     {med(proc, 'cpu_calls'):.2f} % of one core")
    print(f"  box CPU, all on-hook  {med(proc, 'cpu_idle'):.3f} % of one core   (target < 1 %)")
    print(f"  box peak RSS          {med(proc, 'rss_mb'):.1f} MB   (target < 60 MB)")


if __name__ == "__main__":
    main()
