"""Stage one: short, deterministic set-up that picks what to run, then hands over to main.

As on MicroPython's boot.py/main.py split, this file only decides and must not linger.
Today it picks the board config: `--board` if given, else `PBX_BOARD`, else the virtual
board. Image slots (A/B), manifest and signature checks join it with the installer issue.

    python boot.py [main.py options]
"""

from __future__ import annotations

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


if __name__ == "__main__":
    import main

    sys.exit(main.main(pick_board(sys.argv[1:], dict(os.environ))))
