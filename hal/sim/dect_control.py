"""The control interface's commands for the virtual DECT base and its handsets.

    dect         action=status|open|close|pair|page|restart|delete  the base: its pairing
                 window (seconds=60), a handset pairing, paging, a restart, unpairing (port=)
    dect_talk    port=dect:N      the talk key: answer, or start a call
    dect_dial    port= keys=102   the keypad (before talk: the number; after: keys)
    dect_end     port=            the end key: hang up, or refuse a ringing call
    dect_range   port= state=in|out   carry the handset out of range, or back
    dect_speak   port= pcm=<base64 16-bit 8 kHz>    into the handset's microphone
    dect_listen  port= ms=6000    what its earpiece played (base64), and its status
    dect_status  port=            paired, call state, ringing, display, paging

Documented for users in docs/control.md; `hal.sim.control` serves them.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from typing import Any

import numpy as np

from hal.dect.errors import DectError
from hal.sim.dect import SimDectBase, SimDectError

MAX_LISTEN_SECONDS = 15.0
DEFAULT_WINDOW_S = 60.0  # as long as the PAIR button opens it for
MAX_WINDOW_S = 600.0

Handler = Callable[[Any, dict[str, Any]], dict[str, Any]]


def _base(board: Any) -> SimDectBase:
    dect = board.dect
    if not isinstance(dect, SimDectBase):
        raise SimDectError("this board has no DECT base")
    return dect


def _port(request: dict[str, Any]) -> str:
    port = request.get("port")
    if not isinstance(port, str) or not port:
        raise SimDectError("which handset? give port=dect:N")
    return port


def _number(request: dict[str, Any], key: str, default: float, most: float) -> float:
    try:
        value = float(request.get(key, default))
    except (TypeError, ValueError):
        raise SimDectError(f"{key!r} must be a number, got {request.get(key)!r}") from None
    if not 0 < value <= most:
        raise SimDectError(f"{key!r} must be more than 0 and at most {most:g}")
    return value


def _guarded(handler: Handler) -> Handler:
    """The base's own refusals (a busy handset, no such slot) become the reply's error."""
    def run(board: Any, request: dict[str, Any]) -> dict[str, Any]:
        try:
            return handler(board, request)
        except DectError as exc:
            raise SimDectError(str(exc)) from exc
    return run


def _cmd_dect(board: Any, request: dict[str, Any]) -> dict[str, Any]:
    dect = _base(board)
    action = request.get("action", "status")
    reply: dict[str, Any] = {}
    if action == "open":
        dect.open_registration(_number(request, "seconds", DEFAULT_WINDOW_S, MAX_WINDOW_S))
    elif action == "close":
        dect.close_registration()
    elif action == "pair":
        reply["handset"] = dect.pair()
    elif action == "page":
        dect.page()
    elif action == "restart":
        dect.restart()
    elif action == "delete":
        dect.delete_handset(_port(request))
    elif action != "status":
        raise SimDectError(f"unknown action {action!r}; one of: status, open, close, pair, "
                           "page, restart, delete")
    return {**reply, **dect.base_status()}


def _cmd_talk(board: Any, request: dict[str, Any]) -> dict[str, Any]:
    _base(board).press_talk(_port(request))
    return {}


def _cmd_dial(board: Any, request: dict[str, Any]) -> dict[str, Any]:
    _base(board).dial(_port(request), str(request.get("keys", "")))
    return {}


def _cmd_end(board: Any, request: dict[str, Any]) -> dict[str, Any]:
    _base(board).press_end(_port(request))
    return {}


def _cmd_range(board: Any, request: dict[str, Any]) -> dict[str, Any]:
    state = request.get("state")
    if state not in ("in", "out"):
        raise SimDectError(f"state must be 'in' or 'out', got {state!r}")
    _base(board).walk_away(_port(request), in_range=state == "in")
    return {}


def _cmd_speak(board: Any, request: dict[str, Any]) -> dict[str, Any]:
    try:
        raw = base64.b64decode(str(request.get("pcm", "")), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise SimDectError(f"'pcm' must be base64: {exc}") from exc
    if len(raw) % 2:
        raise SimDectError("'pcm' must hold 16-bit samples (an even number of bytes)")
    samples = np.frombuffer(raw, dtype="<i2").astype(np.int16)
    queued = _base(board).speak(_port(request), samples)
    return {"ms": len(samples) * 1000.0 / 8000, "queued_ms": queued}


def _cmd_listen(board: Any, request: dict[str, Any]) -> dict[str, Any]:
    dect, port = _base(board), _port(request)
    seconds = _number(request, "ms", 6000.0, MAX_LISTEN_SECONDS * 1000) / 1000.0
    pcm = base64.b64encode(dect.heard(port, seconds).astype("<i2").tobytes()).decode("ascii")
    return {"pcm": pcm, "rate": 8000, **dect.status(port)}


def _cmd_status(board: Any, request: dict[str, Any]) -> dict[str, Any]:
    return _base(board).status(_port(request))


DECT_COMMANDS: dict[str, Handler] = {
    name: _guarded(handler) for name, handler in {
        "dect": _cmd_dect,
        "dect_talk": _cmd_talk,
        "dect_dial": _cmd_dial,
        "dect_end": _cmd_end,
        "dect_range": _cmd_range,
        "dect_speak": _cmd_speak,
        "dect_listen": _cmd_listen,
        "dect_status": _cmd_status,
    }.items()
}
