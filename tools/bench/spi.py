"""SPI polling of the line card: transactions per second and CPU, 4 FXS + 1 FXO ports.

Runs the real drivers (ProSLIC, DAA, the poller at its 10 ms interval, the hook classifier,
the DAA line watch) on a real event loop, over the register-level fakes of hal.rpi.fakes,
with one phone off-hook and the phone line ringing, for realistic register traffic.

Reported, median of several runs:
- SPI frames per second (one frame = one byte under its own chip select = one spidev ioctl
  on a Pi) and register accesses per second;
- CPU of the whole process, % of one core (loop + drivers + fakes);
- the fakes' own share (measured separately), and so the drivers' CPU without them. On a Pi
  add the kernel's cost per ioctl (a few us each), which no fake can measure.

    python -m tools.bench.spi [--runs 3] [--seconds 5] [--interval-ms 10] [--uvloop]
"""

from __future__ import annotations

import argparse
import asyncio
import time

from hal.rpi.board import RpiBoard
from hal.rpi.country import country
from hal.rpi.fakes.daa import FakeDaa
from hal.rpi.fakes.devices import FakeDevices
from hal.rpi.fakes.proslic import FakeProSlic
from hal.rpi.proslic_regs import LOOP_STATUS, READ
from hal.rpi.wiring import PortWiring
from hal.sim.panel import SimPanel
from tools.bench.runs import median, run

WIRING = (
    *(PortWiring("fxs", n, "si3215", (n - 1) // 2, (n - 1) % 2, n - 1) for n in range(1, 5)),
    PortWiring("fxo", 1, "si3050", 0, 2, 4),
)


async def measure(seconds: float, interval_ms: float) -> dict[str, float]:
    loop = asyncio.get_running_loop()
    devices = FakeDevices.for_wiring(loop, WIRING)
    board = RpiBoard("bench", WIRING, devices, country("us"), SimPanel((), (), loop), loop,
                     poll_interval_s=interval_ms / 1000)
    await board.start()
    assert not board.faults, board.faults
    first = devices.chips[(0, 0)]
    assert isinstance(first, FakeProSlic)
    first.set_hook(True)
    line = devices.chips[(0, 2)]
    assert isinstance(line, FakeDaa)
    line.ring(True)
    await asyncio.sleep(0.5)
    frames0 = sum(c.transactions for c in devices.chips.values())
    polls0, busy0 = board.poller.polls, board.poller.busy_s
    cpu0, wall0 = time.process_time(), time.perf_counter()
    await asyncio.sleep(seconds)
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    frames = sum(c.transactions for c in devices.chips.values()) - frames0
    polls = board.poller.polls - polls0
    busy = board.poller.busy_s - busy0
    await board.stop()
    fake_us = fake_frame_cost_us()
    return {
        "frames_per_s": frames / wall,
        "polls_per_s": polls / wall,
        "cpu_pct": 100 * cpu / wall,
        "poll_us": 1e6 * busy / max(polls, 1),
        "fake_pct": 100 * frames * fake_us / 1e6 / wall,
        "fake_us": fake_us,
    }


def fake_frame_cost_us(n: int = 20_000) -> float:
    """What the fake chip costs per SPI frame (to subtract: a real chip costs the CPU an
    ioctl instead)."""
    chip = FakeProSlic(time.perf_counter)
    started = time.perf_counter()
    for _ in range(n // 2):
        chip.exchange(READ | LOOP_STATUS)
        chip.exchange(0)
    return 1e6 * (time.perf_counter() - started) / n


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--seconds", type=float, default=5.0)
    p.add_argument("--interval-ms", type=float, default=10.0)
    p.add_argument("--uvloop", action="store_true")
    args = p.parse_args()
    results = [run(lambda: measure(args.seconds, args.interval_ms), not args.uvloop)
               for _ in range(args.runs)]

    def med(key: str) -> float:
        return median(results, key)

    print(f"4 FXS + 1 FXO polled every {args.interval_ms:g} ms, "
          f"{'uvloop' if args.uvloop else 'asyncio'}; median of {args.runs} runs x "
          f"{args.seconds:g} s")
    print(f"  polls                 {med('polls_per_s'):.1f} /s")
    print(f"  SPI frames (ioctls)   {med('frames_per_s'):.0f} /s")
    print(f"  one poll, 5 ports     {med('poll_us'):.0f} us (drivers + fakes)")
    print(f"  process CPU           {med('cpu_pct'):.2f} % of one core")
    print(f"  of which the fakes    {med('fake_pct'):.2f} % ({med('fake_us'):.2f} us per frame)")
    print(f"  drivers + loop        {med('cpu_pct') - med('fake_pct'):.2f} % of one core "
          "(on a Pi add the kernel's ioctl cost per frame)")


if __name__ == "__main__":
    main()
