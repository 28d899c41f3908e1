"""Control commands for the outside end of the virtual phone line (hal.sim.fxo): call the
office, answer its call, talk, listen, hang up. Part of the control interface
(`hal.sim.control`, docs/control.md); `port` defaults to the board's first FXO port."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from typing import Any

import numpy as np

from hal.sim.board import SimBoard
from hal.sim.fxo import SimFxoError, SimFxoLine

__all__ = ["FXO_COMMANDS"]

MAX_LISTEN_SECONDS = 15.0


def _port(board: SimBoard, request: dict[str, Any]) -> SimFxoLine:
    port = request.get("port") or next(iter(board.trunks), None)
    line = board.trunks.get(str(port))
    if line is None:
        have = ", ".join(board.trunks) or "none"
        raise SimFxoError(f"no phone line port {port!r}; this board has {have}")
    return line


def _pcm(request: dict[str, Any], key: str) -> np.ndarray | None:
    if request.get(key) in (None, ""):
        return None
    try:
        raw = base64.b64decode(str(request[key]), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise SimFxoError(f"{key!r} must be base64: {exc}") from exc
    if len(raw) % 2:
        raise SimFxoError(f"{key!r} must hold 16-bit samples (an even number of bytes)")
    return np.frombuffer(raw, dtype="<i2").astype(np.int16)


def _call(board: SimBoard, request: dict[str, Any]) -> dict[str, Any]:
    cadence = request.get("cadence_ms", [2000, 4000])
    if not isinstance(cadence, list) or not all(isinstance(x, int | float) for x in cadence):
        raise SimFxoError("'cadence_ms' must be a list of ms, e.g. [2000, 4000]")
    line = _port(board, request)
    line.call(_pcm(request, "callerid"), cadence, bool(request.get("before_ring", False)))
    return line.status()


def _answer(board: SimBoard, request: dict[str, Any]) -> dict[str, Any]:
    line = _port(board, request)
    line.answer()
    return line.status()


def _hangup(board: SimBoard, request: dict[str, Any]) -> dict[str, Any]:
    line = _port(board, request)
    line.hang_up(str(request.get("disconnect", "loop")))
    return line.status()


def _speak(board: SimBoard, request: dict[str, Any]) -> dict[str, Any]:
    samples = _pcm(request, "pcm")
    if samples is None:
        raise SimFxoError("'pcm' (base64 audio) is required")
    return {"ms": len(samples) * 1000.0 / 8000, "queued_ms": _port(board, request).speak(samples)}


def _listen(board: SimBoard, request: dict[str, Any]) -> dict[str, Any]:
    try:
        seconds = float(request.get("ms", 6000.0)) / 1000.0
    except (TypeError, ValueError):
        raise SimFxoError(f"'ms' must be a number, got {request.get('ms')!r}") from None
    if not 0 < seconds <= MAX_LISTEN_SECONDS:
        raise SimFxoError(f"'ms' must be in 1..{MAX_LISTEN_SECONDS * 1000:.0f}")
    line = _port(board, request)
    pcm = base64.b64encode(line.heard(seconds).astype("<i2").tobytes()).decode("ascii")
    return {"pcm": pcm, "rate": 8000, **line.status()}


def _status(board: SimBoard, request: dict[str, Any]) -> dict[str, Any]:
    return _port(board, request).status()


FXO_COMMANDS: dict[str, Callable[[SimBoard, dict[str, Any]], dict[str, Any]]] = {
    "fxo_call": _call,
    "fxo_answer": _answer,
    "fxo_hangup": _hangup,
    "fxo_speak": _speak,
    "fxo_listen": _listen,
    "fxo_status": _status,
}
