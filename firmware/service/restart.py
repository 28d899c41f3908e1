"""Restarting a box that runs from a checkout (no data partition, so no stage one to go
through: `firmware.service.slot` restarts the others).

Only the front panel's factory reset restarts such a box. Its office config is the file
given with --config, which belongs to whoever started the box and is left alone; the box
comes back without it, on the built-in office, as a reset box does.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Sequence

__all__ = ["restart_argv", "restart_checkout"]

log = logging.getLogger(__name__)


def restart_argv(argv: Sequence[str]) -> list[str]:
    """`argv` (the script and its options) without --config and its value."""
    kept: list[str] = []
    skip = False
    for arg in argv:
        if skip:
            skip = False
        elif arg == "--config":
            skip = True
        elif not arg.startswith("--config="):
            kept.append(arg)
    return kept


def restart_checkout() -> int:
    """Start this process again (exec: same PID), on the built-in office."""
    argv = [sys.executable, *restart_argv(sys.argv)]
    log.info("restarting: %s", " ".join(argv[1:]))
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(argv[0], argv)
    return 1  # not reached
