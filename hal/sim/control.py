"""The virtual board's control interface: one JSON object per line over a local socket.

A person (through `tools/phone`) and the integration tests drive the virtual phones with it.
Requests are `{"cmd": ..., "id": optional, ...}`; every request gets exactly one reply line,
`{"ok": true, "id": ..., ...}` or `{"ok": false, "id": ..., "error": "what went wrong"}`.
A plain-text form is accepted for typing by hand: `hook port=fxs:1 state=off`.
Garbage costs one error reply; the connection and the box go on. The protocol is documented
for users in docs/control.md.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from hal.sim.board import SimBoard
from hal.sim.dect import SimDectError
from hal.sim.dect_control import DECT_COMMANDS
from hal.sim.fxo import SimFxoError
from hal.sim.fxo_control import FXO_COMMANDS
from hal.sim.line import SimAnalogLine, SimLineError
from hal.sim.panel import SimPanelError

log = logging.getLogger(__name__)

MAX_REQUEST_BYTES = 4 * 1024 * 1024  # room for ~2 minutes of base64 audio
MAX_LISTEN_SECONDS = 15.0  # what the earpiece keeps (hal.sim.line)


class ControlError(ValueError):
    """A request that cannot be carried out; its message goes back to the client."""


Handler = Callable[[SimBoard, dict[str, Any]], dict[str, Any]]


class ControlServer:
    def __init__(self, board: SimBoard) -> None:
        self._board = board
        self._servers: list[asyncio.AbstractServer] = []
        self._clients: set[asyncio.Task[None]] = set()

    async def start_unix(self, path: Path) -> None:
        _remove_stale_socket(path)
        server = await asyncio.start_unix_server(self._serve, path, limit=MAX_REQUEST_BYTES)
        os.chmod(path, 0o600)  # only the box's own user drives its phones
        self._servers.append(server)

    async def start_tcp(self, host: str, port: int) -> int:
        server = await asyncio.start_server(self._serve, host, port, limit=MAX_REQUEST_BYTES)
        self._servers.append(server)
        return int(server.sockets[0].getsockname()[1])

    async def stop(self) -> None:
        for server in self._servers:
            server.close()
        for task in list(self._clients):
            task.cancel()
        for server in self._servers:
            await server.wait_closed()
        self._servers.clear()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._clients.add(task)
        try:
            while True:
                try:
                    line = await reader.readline()
                except ValueError:  # longer than the limit: the rest of the line is lost
                    writer.write(_encode(_error(None, "request longer than 4 MiB")))
                    break
                if not line:
                    break
                if line.strip():
                    writer.write(_encode(self.handle_line(line)))
                    await writer.drain()
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            self._clients.discard(task)
            writer.close()

    def handle_line(self, line: bytes) -> dict[str, Any]:
        try:
            request = _decode(line)
        except ControlError as exc:
            return _error(None, str(exc))
        request_id = request.get("id")
        handler = COMMANDS.get(str(request.get("cmd")))
        if handler is None:
            return _error(request_id, f"unknown cmd {request.get('cmd')!r}; known: "
                          + ", ".join(sorted(COMMANDS)))
        try:
            reply = handler(self._board, request)
        except (ControlError, SimLineError, SimPanelError, SimFxoError, SimDectError) as exc:
            return _error(request_id, str(exc))
        return {"ok": True, "id": request_id, **reply}


def _remove_stale_socket(path: Path) -> None:
    if path.is_socket():
        path.unlink()  # left over from a box that did not stop cleanly


def _decode(line: bytes) -> dict[str, Any]:
    try:
        text = line.decode("utf-8").strip()
    except UnicodeDecodeError as exc:
        raise ControlError("request is not UTF-8") from exc
    if text.startswith("{"):
        try:
            request = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ControlError(f"bad JSON: {exc}") from exc
        if not isinstance(request, dict):
            raise ControlError("a request is a JSON object")
        return request
    # Plain text, for a person with a socket tool: `cmd key=value ...`.
    words = text.split()
    request: dict[str, Any] = {"cmd": words[0]}
    for word in words[1:]:
        key, sep, value = word.partition("=")
        if not sep:
            raise ControlError(f"expected key=value, got {word!r}")
        request[key] = value
    return request


def _encode(reply: dict[str, Any]) -> bytes:
    return json.dumps(reply, separators=(",", ":")).encode() + b"\n"


def _error(request_id: Any, message: str) -> dict[str, Any]:
    return {"ok": False, "id": request_id, "error": message}


def _line(board: SimBoard, request: dict[str, Any]) -> SimAnalogLine:
    port = request.get("port")
    line = board.lines.get(str(port))
    if line is None:
        raise ControlError(f"no analog port {port!r}; this board has {', '.join(board.lines)}")
    return line


def _number(request: dict[str, Any], key: str, default: float | None = None) -> float:
    value = request.get(key, default)
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ControlError(f"{key!r} must be a number, got {value!r}") from None


def _hook_level(value: Any) -> bool:
    if value in ("off", "offhook", True):
        return True
    if value in ("on", "onhook", False):
        return False
    raise ControlError(f"hook state must be 'off' or 'on', got {value!r}")


def _pcm(request: dict[str, Any]) -> np.ndarray:
    try:
        raw = base64.b64decode(str(request.get("pcm", "")), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ControlError(f"'pcm' must be base64: {exc}") from exc
    if len(raw) % 2:
        raise ControlError("'pcm' must hold 16-bit samples (an even number of bytes)")
    return np.frombuffer(raw, dtype="<i2").astype(np.int16)


def _b64(samples: np.ndarray) -> str:
    return base64.b64encode(samples.astype("<i2").tobytes()).decode("ascii")


def _cmd_info(board: SimBoard, request: dict[str, Any]) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    return {"board": board.name, "ports": board.ports(), "published": board.published,
            "now": loop.time()}


def _cmd_hook(board: SimBoard, request: dict[str, Any]) -> dict[str, Any]:
    _line(board, request).set_hook(_hook_level(request.get("state")))
    return {}


def _cmd_hook_pattern(board: SimBoard, request: dict[str, Any]) -> dict[str, Any]:
    line = _line(board, request)
    steps = request.get("steps")
    if not isinstance(steps, list) or not steps:
        raise ControlError("'steps' must be a non-empty list of [\"on\"|\"off\", ms]")
    parsed: list[tuple[bool, float]] = []
    for step in steps:
        if not (isinstance(step, list) and len(step) == 2):
            raise ControlError(f"each step is [\"on\"|\"off\", ms], got {step!r}")
        parsed.append((_hook_level(step[0]), _number({"ms": step[1]}, "ms")))
    return {"ms": line.hook_pattern(parsed)}


def _cmd_flash(board: SimBoard, request: dict[str, Any]) -> dict[str, Any]:
    line = _line(board, request)
    ms = _number(request, "ms", line.timing.typical_flash_ms)
    return {"ms": line.hook_pattern([(False, ms), (True, 0.0)])}


def _cmd_speak(board: SimBoard, request: dict[str, Any]) -> dict[str, Any]:
    line = _line(board, request)
    samples = _pcm(request)
    queued = line.speak(samples)
    return {"ms": len(samples) * 1000.0 / 8000, "queued_ms": queued}


def _cmd_listen(board: SimBoard, request: dict[str, Any]) -> dict[str, Any]:
    line = _line(board, request)
    seconds = _number(request, "ms", 6000.0) / 1000.0
    if not 0 < seconds <= MAX_LISTEN_SECONDS:
        raise ControlError(f"'ms' must be in 1..{MAX_LISTEN_SECONDS * 1000:.0f}")
    return {"pcm": _b64(line.heard(seconds)), "rate": 8000, **line.status()}


def _cmd_status(board: SimBoard, request: dict[str, Any]) -> dict[str, Any]:
    return _line(board, request).status()


def _cmd_onhook_audio(board: SimBoard, request: dict[str, Any]) -> dict[str, Any]:
    return {"pcm": _b64(_line(board, request).heard_on_hook()), "rate": 8000}


def _on_off(value: Any) -> bool:
    if value in ("on", True):
        return True
    if value in ("off", False):
        return False
    raise ControlError(f"state must be 'on' or 'off', got {value!r}")


def _cmd_cidcw(board: SimBoard, request: dict[str, Any]) -> dict[str, Any]:
    line = _line(board, request)
    if "state" in request:
        line.cidcw.enabled = _on_off(request["state"])
    return {"cidcw": line.cidcw.status()}


def _cmd_cidcw_audio(board: SimBoard, request: dict[str, Any]) -> dict[str, Any]:
    return {"pcm": _b64(_line(board, request).cidcw.data()), "rate": 8000}


def _cmd_press(board: SimBoard, request: dict[str, Any]) -> dict[str, Any]:
    board.panel.press(str(request.get("button")), _number(request, "ms", 200.0))
    return {}


def _cmd_leds(board: SimBoard, request: dict[str, Any]) -> dict[str, Any]:
    return {"leds": board.panel.led_states()}


COMMANDS: dict[str, Handler] = {
    "info": _cmd_info,
    "hook": _cmd_hook,
    "hook_pattern": _cmd_hook_pattern,
    "flash": _cmd_flash,
    "speak": _cmd_speak,
    "listen": _cmd_listen,
    "status": _cmd_status,
    "onhook_audio": _cmd_onhook_audio,
    "cidcw": _cmd_cidcw,
    "cidcw_audio": _cmd_cidcw_audio,
    "press": _cmd_press,
    "leds": _cmd_leds,
}
COMMANDS.update(FXO_COMMANDS)  # the outside end of the phone line
COMMANDS.update(DECT_COMMANDS)  # the DECT base and its handsets
