"""Frame-timer lateness, CPU and memory with analog calls up, and idle CPU.

The box runs in this process in real time (uvloop where installed, as in production) on a
virtual board with eight FXS ports. The driver sets up four calls through the control
socket, with both ends speaking continuously, then does nothing while the box is measured:
the 20 ms media clock's lateness (p50/p99/max), the process's CPU share and peak RSS.
The idle figure is the CPU share with every line on-hook.

    python -m tools.bench.frames [--runs 3] [--seconds 10] [--calls 4]
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from firmware.box import Box
from firmware.config import parse_board, parse_office
from tools.phone.client import ControlClient
from tools.phone.handset import VirtualPhone, sine_tone


def bench_board(ports: int) -> str:
    fxs = "".join(f"[[fxs]]\nport = {n}\n" for n in range(1, ports + 1))
    return f'name = "Bench board"\nbackend = "sim"\n{fxs}'


def bench_office(ports: int) -> str:
    exts = "".join(
        f'[[extension]]\nnumber = "{100 + n}"\nname = "Bench {n}"\ndevices = ["fxs:{n}"]\n'
        for n in range(1, ports + 1)
    )
    return f'[site]\ncountry = "us"\ntimezone = "UTC"\n{exts}'


async def measure(box: Box, seconds: float) -> tuple[list[float], float]:
    """Lateness samples (ms) and CPU share over `seconds` of doing nothing but waiting."""
    assert box.engine is not None
    clock = box.engine.clock
    clock.lateness.clear()
    cpu0, wall0 = time.process_time(), time.perf_counter()
    await asyncio.sleep(seconds)
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    return [x * 1000 for x in clock.lateness], cpu / wall


async def one_run(calls: int, seconds: float) -> dict[str, float]:
    ports = calls * 2
    board = parse_board(bench_board(ports), "bench-board.toml")
    office = parse_office(bench_office(ports), "bench-office.toml", board)
    state = Path(tempfile.mkdtemp(prefix="pbx-bench-"))
    box = Box(board, office, state)
    await box.start()
    try:
        async with ControlClient(str(box.control_path)) as client:
            await asyncio.sleep(0.5)
            _, idle_cpu = await measure(box, min(seconds, 5.0))
            speech = sine_tone(700, (seconds + 5) * 1000)
            for n in range(1, ports, 2):
                a = await VirtualPhone.find(client, str(100 + n))
                b = await VirtualPhone.find(client, str(101 + n))
                await a.offhook()
                await asyncio.sleep(0.1)
                await asyncio.sleep(await a.dial(str(101 + n)) / 1000 + 0.3)
                await b.offhook()
                await a.say(speech)
                await b.say(speech)
            await asyncio.sleep(1.0)
            assert box.engine is not None
            up = sum(1 for p in box.engine.devices.values() if p.state.value == "off-hook")
            if up != ports:
                raise RuntimeError(f"only {up} of {ports} lines are in a call")
            lateness, busy_cpu = await measure(box, seconds)
    finally:
        await box.stop()
        shutil.rmtree(state, ignore_errors=True)
    arr = np.array(lateness)
    return {
        "p50_ms": float(np.percentile(arr, 50)),
        "p99_ms": float(np.percentile(arr, 99)),
        "max_ms": float(arr.max()),
        "ticks": float(len(arr)),
        "cpu_calls": busy_cpu * 100,
        "cpu_idle": idle_cpu * 100,
    }


def run_loop(coro_factory, use_uvloop: bool):  # type: ignore[no-untyped-def]
    if use_uvloop:
        import uvloop

        return uvloop.run(coro_factory())
    return asyncio.run(coro_factory())


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--seconds", type=float, default=10.0)
    p.add_argument("--calls", type=int, default=4)
    p.add_argument("--asyncio", action="store_true", help="plain asyncio instead of uvloop")
    args = p.parse_args()
    use_uvloop = not args.asyncio
    if use_uvloop:
        try:
            import uvloop  # noqa: F401
        except ImportError:
            use_uvloop = False
    results = [run_loop(lambda: one_run(args.calls, args.seconds), use_uvloop)
               for _ in range(args.runs)]
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    def med(key: str) -> float:
        return statistics.median(r[key] for r in results)

    loop_name = "uvloop" if use_uvloop else "asyncio"
    print(f"{args.calls} analog calls on the virtual board, {loop_name}, "
          f"median of {args.runs} runs x {args.seconds:.0f} s ({med('ticks'):.0f} ticks each)")
    print(f"  frame-timer lateness  p50 {med('p50_ms'):.3f} ms   p99 {med('p99_ms'):.3f} ms"
          f"   max {med('max_ms'):.3f} ms   (target p99 < 2 ms)")
    print(f"  CPU with calls up     {med('cpu_calls'):.2f} % of one core")
    print(f"  CPU idle (on-hook)    {med('cpu_idle'):.3f} % of one core   (target < 1 %)")
    print(f"  peak RSS              {rss_mb:.1f} MB (this process: box + driver)"
          "   (target < 60 MB)")


if __name__ == "__main__":
    main()
