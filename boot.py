"""Stage one: short, deterministic set-up that picks what to run, then hands over to main.

As on MicroPython's boot.py/main.py split, this file only decides and must not linger.

On a box (`--data DIR` or $PBX_DATA: a data partition, docs/install.md) it picks the image
slot (A/B) to run, verifies the slot's signed manifest and every file before running
anything from it, records the choice (a new slot is tried once; a failing one is rolled
back), and execs that slot's main.py. It uses only the standard library and
`cryptography` (bootslots/).

From a checkout (no data partition) it runs main.py beside it, picking the board config:
`--board` if given, else `PBX_BOARD`, else the virtual board.

    python boot.py [--data DIR] [main.py options]
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SIM_BOARD = HERE / "board-configs" / "sim.toml"


def pick_board(argv: list[str], environ: dict[str, str]) -> list[str]:
    """`argv` with a --board option added unless one is given."""
    if any(arg == "--board" or arg.startswith("--board=") for arg in argv):
        return argv
    return ["--board", environ.get("PBX_BOARD", str(SIM_BOARD)), *argv]


def run(argv: list[str], environ: dict[str, str]) -> int:
    from bootslots.layout import DataPartition, data_option

    data, rest = data_option(argv, environ)
    if data is None:
        import main

        return main.main(pick_board(rest, environ))
    from bootslots.handover import boot_from

    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    return boot_from(DataPartition(data), rest, sys.executable,
                     [sys.executable, str(Path(__file__).absolute()), *argv])


if __name__ == "__main__":
    sys.exit(run(sys.argv[1:], dict(os.environ)))
