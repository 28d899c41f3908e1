"""The admin interface: a running box takes a new image over the network (HTTP), checks
it as the installer would (signed by a key the box trusts, for this board), installs it
into the inactive slot as "trial" and, if asked, restarts through stage one to try it.

    GET  /v1/nonce               {"nonce": ...}: single use, NONCE_TTL_S
    GET  /v1/status              the slots: which runs, which is good, on trial, bad
    POST /v1/image[?restart=1]   the image as the body; X-Content-SHA256: its SHA-256

Every request but /v1/nonce carries `Authorization: PBX-HMAC NONCE:MAC`, MAC from
firmware.service.admin.request_mac: the secret never crosses the network. An upload is
refused before its body is read unless the MAC checks out. Failed attempts are limited per
source address as SIP logins are (firmware.engine.guard). Only loopback or a trusted LAN
should reach it: it is plain HTTP, so the image is public (it is signed, not secret).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bootslots import state as slot_state
from bootslots.install import InstallError, install
from bootslots.signing import SigningError, trusted_keys
from firmware.engine.guard import Guard
from firmware.service.admin import request_mac
from firmware.service.http import HttpError, Request, read_request, respond
from firmware.service.slot import STATE_LOCK, RunningSlot

log = logging.getLogger(__name__)

NONCE_TTL_S = 120.0
MAX_NONCES = 64
MAX_IMAGE = 512 * 1024 * 1024
HEAD_TIMEOUT_S = 10.0
BODY_TIMEOUT_S = 300.0  # a few MB over a slow link; a stalled upload is dropped
CHUNK = 1 << 16
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()


def slots_status(slot: RunningSlot) -> dict[str, Any]:
    state = slot_state.load(slot.data.state_file)
    return {
        "board": state.board,
        "running": slot.name,
        "primary": state.primary,
        "slots": {name: {"status": s.status.value, "version": s.version, "tries": s.tries,
                         "note": s.note} for name, s in state.slots.items()},
    }


class UpdateServer:
    def __init__(self, slot: RunningSlot, secret: str, restart: Callable[[], None]) -> None:
        self.slot = slot
        self._secret = secret
        self._restart = restart
        self._nonces: dict[str, float] = {}
        self._guard = Guard()
        self._installing = False
        self._server: asyncio.Server | None = None

    async def start(self, host: str, port: int) -> int:
        self._server = await asyncio.start_server(self._serve, host, port, limit=16 * 1024)
        bound = self._server.sockets[0].getsockname()[1]
        log.info("admin interface (image updates) on http %s:%d", host, bound)
        return int(bound)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        source = str(writer.get_extra_info("peername", ("?",))[0])
        restart = False
        try:
            request = await asyncio.wait_for(read_request(reader), HEAD_TIMEOUT_S)
            status, body, restart = await self._route(request, reader, source)
        except HttpError as exc:
            status, body = exc.status, {"error": str(exc)}
        except (TimeoutError, ConnectionError, asyncio.IncompleteReadError):
            writer.close()
            return
        try:
            await respond(writer, status, body)
            writer.close()
            await writer.wait_closed()
        except ConnectionError:
            pass
        if restart:
            self._restart()

    async def _route(self, request: Request, reader: asyncio.StreamReader,
                     source: str) -> tuple[int, dict[str, Any], bool]:
        if request.path == "/v1/nonce" and request.method == "GET":
            return 200, {"nonce": self._new_nonce()}, False
        if request.path == "/v1/status" and request.method == "GET":
            self._authorize(request, EMPTY_SHA256, source)
            return 200, slots_status(self.slot), False
        if request.path == "/v1/image" and request.method == "POST":
            declared = request.headers.get("x-content-sha256", "")
            self._authorize(request, declared, source)
            result = await self._receive_and_install(request, reader, declared)
            restart = request.query.get("restart") == ["1"]
            return 200, {**result, "restarting": restart}, restart
        if request.path in ("/v1/nonce", "/v1/status", "/v1/image"):
            raise HttpError(405, f"{request.method} is not allowed on {request.path}")
        raise HttpError(404, f"no {request.path} here")

    def _new_nonce(self) -> str:
        now = asyncio.get_running_loop().time()
        self._nonces = {n: t for n, t in self._nonces.items() if t > now}
        while len(self._nonces) >= MAX_NONCES:
            self._nonces.pop(next(iter(self._nonces)))
        nonce = secrets.token_hex(16)
        self._nonces[nonce] = now + NONCE_TTL_S
        return nonce

    def _authorize(self, request: Request, body_sha256: str, source: str) -> None:
        now = asyncio.get_running_loop().time()
        if self._guard.banned(source, now):
            raise HttpError(401, "not authorized")
        scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
        nonce, _, mac = credentials.partition(":")
        fresh = self._nonces.pop(nonce, 0.0) > now
        expected = request_mac(self._secret, request.method, request.path, nonce, body_sha256)
        if scheme != "PBX-HMAC" or not fresh or not hmac.compare_digest(mac, expected):
            self._guard.failed(source, now)
            log.warning("admin interface: a request from %s was not authorized", source)
            raise HttpError(401, "not authorized")

    async def _receive_and_install(self, request: Request, reader: asyncio.StreamReader,
                                   declared: str) -> dict[str, Any]:
        length = request.content_length
        if not 0 < length <= MAX_IMAGE:
            raise HttpError(413, f"an image is 1 byte to {MAX_IMAGE} bytes")
        if self._installing:
            raise HttpError(409, "an update is being installed already")
        self._installing = True
        incoming = self.slot.data.incoming
        path = incoming / "upload.img"
        try:
            incoming.mkdir(parents=True, exist_ok=True)
            digest = await asyncio.wait_for(self._receive(reader, path, length), BODY_TIMEOUT_S)
            if digest != declared:
                raise HttpError(400, "the image received does not match X-Content-SHA256")
            return await asyncio.to_thread(self._install, path)
        finally:
            self._installing = False
            path.unlink(missing_ok=True)

    @staticmethod
    async def _receive(reader: asyncio.StreamReader, path: Path, length: int) -> str:
        digest = hashlib.sha256()
        with path.open("wb") as f:
            left = length
            while left:
                chunk = await reader.read(min(CHUNK, left))
                if not chunk:
                    raise HttpError(400, "the upload stopped short")
                digest.update(chunk)
                left -= len(chunk)
                await asyncio.to_thread(f.write, chunk)  # an SD card may stall: not the loop
        return digest.hexdigest()

    def _install(self, path: Path) -> dict[str, Any]:
        """In a worker thread: the installer's writes and fsyncs stay off the loop."""
        try:
            keys = trusted_keys(self.slot.data.keys)
            with STATE_LOCK:
                installed = install(self.slot.data, path, keys)
        except (InstallError, SigningError) as exc:
            log.error("image upload refused: %s", exc)
            raise HttpError(422, str(exc)) from None
        log.info("image version %s installed into slot %s on trial",
                 installed.manifest.version, installed.slot)
        return {"slot": installed.slot, "version": installed.manifest.version,
                "board": installed.manifest.board.id, "key": installed.key_id,
                "status": "trial"}
