"""Frame delivery lateness through the PCM thread bridge.

A real thread stands in for the sound card (the loopback stream, clock="thread": a block
every 20 ms, paced by deadline) and hands each block to the event loop exactly as the
PortAudio callback does (`call_soon_threadsafe`). Lateness = when the loop ran the
hand-over minus when the audio thread stamped the block (both perf_counter).

Measured on an idle loop and on a loop kept busy with `--load-ms` of synchronous work every
20 ms (the media clock's and the SIP stack's share on a loaded box), 5 slots (4 FXS + 1 FXO).
Also reports the audio thread's own pacing (stand-in codec clock jitter) for reference.

    python -m tools.bench.pcm [--runs 3] [--seconds 10] [--load-ms 5] [--uvloop]
"""

from __future__ import annotations

import argparse
import asyncio
import time

import numpy as np

from hal.rpi.pcm import PcmHighway
from hal.rpi.pcm_loopback import LoopbackPcm
from tools.bench.runs import median, run

SLOTS = (0, 1, 2, 3, 4)


async def busy_loop(load_ms: float) -> None:
    """Synchronous work on the loop every 20 ms, paced by deadline."""
    loop = asyncio.get_running_loop()
    t0, n = loop.time(), 0
    while True:
        n += 1
        await asyncio.sleep(max(0.0, t0 + n * 0.02 - loop.time()))
        end = time.perf_counter() + load_ms / 1000
        while time.perf_counter() < end:
            pass


async def measure(seconds: float, load_ms: float) -> dict[str, float]:
    loop = asyncio.get_running_loop()
    highway = PcmHighway(loop, SLOTS)
    lateness: list[float] = []
    stamps: list[float] = []

    def delivered(stamp: float) -> None:
        lateness.append(time.perf_counter() - stamp)
        stamps.append(stamp)

    highway.on_delivered = delivered
    pcm = LoopbackPcm(highway, clock="thread")
    load = asyncio.create_task(busy_loop(load_ms)) if load_ms > 0 else None
    pcm.start()
    # The engine's side: every port plays and reads one frame per 20 ms.
    frame = np.zeros(160, np.int16)
    t0, n = loop.time(), 0
    end = t0 + seconds
    while loop.time() < end:
        for slot in SLOTS:
            port = highway.port(slot)
            port.write_frame(frame)
            port.read_frame()
        n += 1
        await asyncio.sleep(max(0.0, t0 + n * 0.02 - loop.time()))
    pcm.stop()
    if load is not None:
        load.cancel()
    late = np.array(lateness[25:]) * 1000  # skip the start-up half second
    pacing = np.diff(np.array(stamps[25:])) * 1000 - 20.0
    return {
        "p50": float(np.percentile(late, 50)), "p99": float(np.percentile(late, 99)),
        "max": float(late.max()), "blocks": float(len(late)),
        "pace_p99": float(np.percentile(np.abs(pacing), 99)),
        "underruns": float(highway.counters.playback_underruns),
        "overruns": float(highway.counters.capture_overruns
                          + highway.counters.playback_overruns),
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--seconds", type=float, default=10.0)
    p.add_argument("--load-ms", type=float, default=0.0)
    p.add_argument("--uvloop", action="store_true")
    args = p.parse_args()
    results = [run(lambda: measure(args.seconds, args.load_ms), not args.uvloop)
               for _ in range(args.runs)]

    def med(key: str) -> float:
        return median(results, key)

    print(f"PCM thread -> loop hand-over, {len(SLOTS)} slots, "
          f"{'uvloop' if args.uvloop else 'asyncio'}, loop load {args.load_ms:g} ms per 20 ms; "
          f"median of {args.runs} runs x {args.seconds:g} s ({med('blocks'):.0f} blocks)")
    print(f"  lateness   p50 {med('p50'):.3f} ms   p99 {med('p99'):.3f} ms   "
          f"max {med('max'):.3f} ms")
    print(f"  audio-thread pacing error p99 {med('pace_p99'):.3f} ms (the stand-in codec clock)")
    print(f"  playback underruns {med('underruns'):.0f}, overruns {med('overruns'):.0f} "
          "(two unsynchronised 20 ms clocks)")


if __name__ == "__main__":
    main()
