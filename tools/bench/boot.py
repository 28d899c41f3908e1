"""Start-up time and image sizes: from `boot.py` start to a box that is ready, and how big
the images are for each board.

"Ready" is the box's own health check passed (the scheduler turns, SIP answered an OPTIONS
from outside, every port of the board is there: its "box healthy" log line), and then a
virtual handset lifted on fxs:1 hearing dial tone. Measured from a data partition as a box
starts (stage one verifies the slot's signature and every file, then execs main.py), and
from the checkout (./run.sh) for comparison. The first start of a new slot also compiles
its bytecode: reported apart ("cold"); figures are medians of --runs warm starts.

    python -m tools.bench.boot [--runs 7]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from tests.integration.harness import office_toml
from tools.image.build import build
from tools.image.flash_dir import flash_dir
from tools.image.keys import keygen
from tools.phone.client import ControlClient
from tools.phone.handset import VirtualPhone

ROOT = Path(__file__).resolve().parents[2]
LISTEN_S = 0.1  # how much of what the handset heard each poll looks at
POLL_S = 0.02
LIMIT_S = 60.0
MB = 1_000_000


@dataclass(frozen=True, slots=True)
class Start:
    healthy_s: float
    dial_tone_s: float


async def hear_dial_tone(state: Path) -> float:
    """Lift the handset on fxs:1 and poll what it heard over the last LISTEN_S until that
    is the dial tone's 350+440 Hz; the monotonic time when it was first there."""
    client = await ControlClient(str(state / "control.sock")).connect()
    try:
        phone = await VirtualPhone.find(client, "101")
        await phone.offhook()
        deadline = time.monotonic() + LIMIT_S
        while time.monotonic() < deadline:
            heard = await phone.listen(LISTEN_S)
            if "dial" in (heard.tone, *heard.candidates):
                return time.monotonic() - LISTEN_S / 2  # on average, half a window ago
            await asyncio.sleep(POLL_S)
        raise SystemExit("the handset on fxs:1 never heard dial tone")
    finally:
        await client.close()


def start_once(command: list[str], state: Path, cwd: Path) -> Start:
    """Start the box, wait for it to be healthy and give dial tone, stop it."""
    t0 = time.monotonic()
    proc = subprocess.Popen(command, cwd=cwd, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL,
                            text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        assert proc.stderr is not None
        for line in proc.stderr:
            if "box healthy" in line:
                break
            if time.monotonic() - t0 > LIMIT_S or proc.poll() is not None:
                raise SystemExit(f"the box did not become healthy: {line}")
        healthy = time.monotonic() - t0
        # Keep reading its log: a full pipe would block the box's loop, and its audio.
        threading.Thread(target=proc.stderr.read, daemon=True).start()
        dial = asyncio.run(hear_dial_tone(state)) - t0
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    return Start(healthy, dial)


def report(what: str, starts: list[Start]) -> None:
    healthy = statistics.median(s.healthy_s for s in starts)
    dial = statistics.median(s.dial_tone_s for s in starts)
    print(f"{what:32s} healthy {healthy:.2f} s, dial tone {dial:.2f} s "
          f"(median of {len(starts)}; dial tone range {min(s.dial_tone_s for s in starts):.2f}"
          f"-{max(s.dial_tone_s for s in starts):.2f} s)")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m tools.bench.boot", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--runs", type=int, default=7)
    p.add_argument("--source", type=Path, default=ROOT,
                   help="the source tree to build the image from (default: this checkout)")
    args = p.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="pbx-bench-"))
    try:
        pair = keygen(work / "keys")
        office = work / "office.toml"
        office.write_text(office_toml("us"))
        for board in ("sim", "rpi4-2fxs1fxo"):
            built = build(args.source, args.source / "board-configs" / f"{board}.toml",
                          pair.private, work / f"{board}.img", None, "bench")
            print(f"image for {board:16s} {built.size / MB:.2f} MB "
                  f"({len(built.manifest.files)} files, no office config)")
        # SIP on a free loopback port, not the box's real 5060: the office travels along.
        build(args.source, args.source / "board-configs" / "sim.toml", pair.private,
              work / "office.img", office, "bench")
        data = work / "data"
        flash_dir(work / "office.img", data, [pair.public])
        boot = [sys.executable, str(data / "boot.py"), "--data", str(data)]
        cold = start_once(boot, data / "state", data)
        print(f"{'from a data partition, cold':32s} healthy {cold.healthy_s:.2f} s, "
              f"dial tone {cold.dial_tone_s:.2f} s (a new slot's first start)")
        report("from a data partition", [start_once(boot, data / "state", data)
                                         for _ in range(args.runs)])
        state = work / "checkout-state"
        checkout = [sys.executable, "boot.py", "--config", str(office), "--state-dir", str(state)]
        report("from the checkout (./run.sh)", [start_once(checkout, state, args.source)
                                               for _ in range(args.runs)])
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
