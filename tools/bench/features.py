"""Call features: how fast a transfer joins the two parties, and what a 3-way call costs.

1. Transfer latency, on the virtual board with the box in this process and real time:
   101 calls 102, 102 flashes, dials 103, 103 answers; 101 and 103 talk continuously
   (a tone each). The last user action is 102 putting the handset down. Two figures:
   - from the handset going down to 101 hearing 103's tone: this includes the hook
     classifier's wait, because an on-hook shorter than `flash_max_ms` (900 ms by
     default) is a flash, not a hang-up, so no box can act on it sooner;
   - from the box recognising the hang-up (its OnHook event) to 101 hearing 103: what
     the engine itself takes (bridging, the next media ticks).
   "Hearing" is the first frame written to 101's line with 103's tone in it.
2. 3-way mixer CPU: the box as its own process (`main.py`) with 4 three-way calls up
   (12 lines on a bench board, everyone talking) against the same 12 lines in 6 two-party
   calls: the difference per 3-way call is what mixing costs. And the mixer alone: the
   CPU time of one 3-way mix per 20 ms tick, from a tight loop.

    python -m tools.bench.features [--runs 20] [--seconds 10] [--only transfer,mixer]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from firmware.box import Box
from firmware.config import parse_board, parse_office
from firmware.engine.bridges import MixerBridge
from firmware.engine.channel import Cause, Channel, Party
from firmware.media.frames import FRAME_SAMPLES, Frame
from hal.events import OnHook
from tools.bench.frames import bench_board, bench_office, connect_when_up, cpu_share
from tools.bench.runs import run
from tools.phone.client import ControlClient
from tools.phone.handset import VirtualPhone, sine_tone

ROOT = Path(__file__).resolve().parents[2]
TONE_HZ = 1000.0


def has_tone(frame: Frame, hz: float = TONE_HZ) -> bool:
    spectrum = np.abs(np.fft.rfft(frame.astype(np.float64)))
    return int(np.argmax(spectrum)) == round(hz * FRAME_SAMPLES / 8000) and spectrum.max() > 1e4


# -- 1. transfer latency ------------------------------------------------------------------


async def transfer_run() -> dict[str, float]:
    board = parse_board(bench_board(4), "bench-board.toml")
    office = parse_office(bench_office(4), "bench-office.toml", board)
    state = Path(tempfile.mkdtemp(prefix="pbx-bench-"))
    box = Box(board, office, state)
    await box.start()
    try:
        assert box.hal is not None and box.engine is not None
        async with ControlClient(str(box.control_path)) as client:
            p101, p102, p103 = [await VirtualPhone.find(client, n) for n in ("101", "102",
                                                                               "103")]
            await p101.offhook()
            await asyncio.sleep(0.3)
            await asyncio.sleep(await p101.dial("102") / 1000 + 0.3)
            await p102.offhook()
            await asyncio.sleep(0.3)
            await p102.flash(400)
            await asyncio.sleep(0.5)
            await asyncio.sleep(await p102.dial("103") / 1000 + 0.3)
            await p103.offhook()
            await asyncio.sleep(0.3)
            await p103.say(sine_tone(TONE_HZ, 8000))
            heard_at: list[float] = []
            heard = asyncio.Event()
            line101 = box.hal.lines["fxs:1"]
            original_write = line101.write_frame

            def listening(frame: Frame) -> None:
                if not heard_at and has_tone(frame):
                    heard_at.append(time.perf_counter())
                    heard.set()
                original_write(frame)

            line101.write_frame = listening  # type: ignore[method-assign]
            onhook_at: list[float] = []
            port102 = box.engine.devices["fxs:2"]
            original_event = port102._on_line_event

            def hooked(event: Any) -> None:
                if isinstance(event, OnHook):
                    onhook_at.append(time.perf_counter())
                original_event(event)

            box.hal.lines["fxs:2"].set_listener(hooked)
            down = time.perf_counter()
            await p102.onhook()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(heard.wait(), 5)
            if not heard_at or not onhook_at:
                raise RuntimeError("101 never heard 103 after the transfer")
    finally:
        await box.stop()
        shutil.rmtree(state, ignore_errors=True)
    return {"from_handset_ms": (heard_at[0] - down) * 1000,
            "from_onhook_ms": (heard_at[0] - onhook_at[0]) * 1000}


# -- 2. the mixer ---------------------------------------------------------------------------


class _Leg(Channel):
    """A channel that only hears: what the mixer delivers is dropped."""

    def indicate(self, tone: str | None) -> None:
        pass

    def ring(self, caller: Party) -> None:
        pass

    def deliver(self, frame: Frame) -> None:
        pass

    def _release(self, cause: Cause) -> None:
        pass


class _NoClock:
    def add(self, participant: object) -> None:
        pass

    def discard(self, participant: object) -> None:
        pass


def mixer_tick_us(ticks: int = 20_000) -> float:
    legs: list[Channel] = [_Leg(f"leg{n}", Party(None, None)) for n in range(3)]
    mixer = MixerBridge(legs, _NoClock())  # type: ignore[arg-type]
    voices = [(np.sin(np.arange(FRAME_SAMPLES) * (n + 1) / 7) * 8000).astype(np.int16)
              for n in range(3)]
    start = time.process_time()
    for _ in range(ticks):
        for leg, voice in zip(legs, voices, strict=True):
            mixer.forward(leg, voice)
        mixer.capture()
    return (time.process_time() - start) / ticks * 1e6


async def mixer_process_run(seconds: float, three_way: bool) -> float:
    """Box CPU % with 12 lines talking: 4 three-way calls, or 6 two-party calls."""
    work = Path(tempfile.mkdtemp(prefix="pbx-bench-"))
    (work / "board.toml").write_text(bench_board(12))
    (work / "office.toml").write_text(bench_office(12))
    proc = await asyncio.create_subprocess_exec(
        sys.executable, str(ROOT / "main.py"), "--board", str(work / "board.toml"),
        "--config", str(work / "office.toml"), "--state-dir", str(work),
        "--log-level", "warning", stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL)
    try:
        client = await connect_when_up(str(work / "control.sock"), proc)
        async with client:
            phones = [await VirtualPhone.find(client, str(101 + n)) for n in range(12)]
            groups = [phones[i:i + 3] for i in range(0, 12, 3)] if three_way else \
                [phones[i:i + 2] for i in range(0, 12, 2)]
            for group in groups:
                await _connect(group)
            speech = sine_tone(700, (seconds + 3) * 1000)
            for phone in phones:
                for start in range(0, len(speech), 16000):
                    await phone.say(speech[start:start + 16000])
            await asyncio.sleep(0.5)
            return await cpu_share(proc.pid, seconds)
    finally:
        proc.terminate()
        await asyncio.wait_for(proc.wait(), 30)
        shutil.rmtree(work, ignore_errors=True)


async def _connect(group: list[VirtualPhone]) -> None:
    """A two-party call, or a 3-way call by flash, dial, flash."""
    a, b = group[0], group[1]
    await a.offhook()
    await asyncio.sleep(0.2)
    await asyncio.sleep(await a.dial(b.extension or "") / 1000 + 0.3)
    await b.offhook()
    await asyncio.sleep(0.2)
    if len(group) == 3:
        c = group[2]
        await a.flash(400)
        await asyncio.sleep(0.5)
        await asyncio.sleep(await a.dial(c.extension or "") / 1000 + 0.3)
        await c.offhook()
        await asyncio.sleep(0.3)
        await a.flash(400)
        await asyncio.sleep(0.5)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--runs", type=int, default=20, help="transfers to time")
    p.add_argument("--seconds", type=float, default=10.0, help="per CPU measurement")
    p.add_argument("--only", default="transfer,mixer")
    args = p.parse_args()
    only = set(args.only.split(","))
    if "transfer" in only:
        results = [run(transfer_run, False) for _ in range(args.runs)]
        for key, what in (("from_handset_ms", "handset down -> 101 hears 103"),
                          ("from_onhook_ms", "hang-up recognised -> 101 hears 103")):
            values = sorted(r[key] for r in results)
            p99 = values[min(len(values) - 1, round(0.99 * (len(values) - 1)))]
            print(f"attended transfer, {what}: median {statistics.median(values):.1f} ms,"
                  f" p99 {p99:.1f} ms ({len(values)} transfers)")
    if "mixer" in only:
        print(f"mixer alone: {mixer_tick_us():.1f} us of CPU per 3-way call per 20 ms tick"
              f" ({mixer_tick_us() / 200:.3f} % of one core per 3-way call)")
        threes = [run(lambda: mixer_process_run(args.seconds, True), False) for _ in range(3)]
        twos = [run(lambda: mixer_process_run(args.seconds, False), False) for _ in range(3)]
        three, two = statistics.median(threes), statistics.median(twos)
        print(f"box CPU, 12 lines: 4 three-way calls {three:.2f} %, 6 two-party calls "
              f"{two:.2f} %: {(three - two) / 4:+.2f} % of one core per 3-way call")


if __name__ == "__main__":
    if os.environ.get("PBX_BENCH_PROFILE"):
        import cProfile

        cProfile.run("main()", sort="cumulative")
    else:
        main()
