"""A client for the virtual board's control interface (docs/control.md)."""

from __future__ import annotations

import asyncio
import itertools
import json
import os
from pathlib import Path
from typing import Any

CONTROL_SOCKET = "control.sock"
DEFAULT_STATE_DIR = "state"
MAX_REPLY_BYTES = 8 * 1024 * 1024


class PhoneError(RuntimeError):
    """The box refused a request or could not be reached; the message says why."""


class Unreachable(PhoneError):
    """No box answers at the control address."""


def control_address(state_dir: str | None, control: str | None) -> str:
    """`--control` as given, else the socket in the state dir (`--state-dir`, $PBX_STATE_DIR)."""
    if control:
        return control
    base = state_dir or os.environ.get("PBX_STATE_DIR") or DEFAULT_STATE_DIR
    return str(Path(base) / CONTROL_SOCKET)


class ControlClient:
    def __init__(self, address: str) -> None:
        self.address = address
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._ids = itertools.count(1)

    async def connect(self) -> ControlClient:
        """Connect to a unix socket path, or to `tcp:HOST:PORT` / `HOST:PORT`."""
        address = self.address.removeprefix("unix:")
        try:
            if address.startswith("tcp:") or (":" in address and "/" not in address):
                host, _, port = address.removeprefix("tcp:").rpartition(":")
                self._reader, self._writer = await asyncio.open_connection(
                    host, int(port), limit=MAX_REPLY_BYTES)
            else:
                self._reader, self._writer = await asyncio.open_unix_connection(
                    address, limit=MAX_REPLY_BYTES)
        except (OSError, ValueError) as exc:
            raise Unreachable(
                f"no box answers at {self.address} ({exc}); is it running, and is"
                " --state-dir (or --control) the one it was started with?"
            ) from exc
        return self

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    async def __aenter__(self) -> ControlClient:
        return await self.connect()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def request(self, cmd: str, **fields: Any) -> dict[str, Any]:
        if self._reader is None or self._writer is None:
            await self.connect()
        assert self._reader is not None and self._writer is not None
        request_id = next(self._ids)
        line = json.dumps({"cmd": cmd, "id": request_id, **fields}) + "\n"
        try:
            self._writer.write(line.encode())
            await self._writer.drain()
            reply_line = await self._reader.readline()
        except (OSError, ValueError) as exc:
            raise Unreachable(f"the box at {self.address} went away: {exc}") from exc
        if not reply_line:
            raise Unreachable(f"the box at {self.address} closed the connection")
        reply: dict[str, Any] = json.loads(reply_line)
        if not reply.get("ok"):
            raise PhoneError(str(reply.get("error", "the box refused the request")))
        return reply
