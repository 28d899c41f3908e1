"""Is a box using this state directory? Its control socket answers while it runs. Restoring
or resetting under a running box would mix its writes with ours: refused."""

from __future__ import annotations

import socket
from pathlib import Path

from firmware.box import CONTROL_SOCKET


def box_running(state: Path) -> bool:
    path = state / CONTROL_SOCKET
    if not path.exists():
        return False
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(1.0)
        try:
            s.connect(str(path))
        except OSError:
            return False  # a socket file left by a box that stopped
    return True
