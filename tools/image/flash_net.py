"""Flash a running box over the network: its admin interface (firmware.service.updates).

The admin secret (`python -m tools.secrets --admin` on the box) comes from --secret-file,
$PBX_ADMIN_SECRET or a prompt; it is never sent, only used for each request's HMAC. The
box checks the image itself (a key it trusts, its board), installs it into its inactive
slot as trial and restarts into it; this tool then waits until the box runs it committed,
or reports the rollback and why.
"""

from __future__ import annotations

import getpass
import hashlib
import http.client
import json
import os
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bootslots.container import read_header
from bootslots.install import InstallError
from bootslots.manifest import Manifest
from firmware.service.admin import request_mac
from tools.image.progress import ProgressLine

CHUNK = 1 << 16
REQUEST_TIMEOUT_S = 60.0
COMMIT_WAIT_S = 90.0   # a box restarts and checks its health in a few seconds; a Pi is slower
POLL_S = 0.5


class AdminClient:
    def __init__(self, url: str, secret: str) -> None:
        parts = urlsplit(url)
        if parts.scheme != "http" or not parts.hostname:
            raise InstallError(f"{url}: use http://HOST:PORT (the box's --admin-http)")
        self.host, self.port = parts.hostname, parts.port or 80
        self.secret = secret

    def _connect(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection(self.host, self.port, timeout=REQUEST_TIMEOUT_S)

    def _answer(self, conn: http.client.HTTPConnection) -> tuple[int, dict[str, Any]]:
        response = conn.getresponse()
        try:
            body = json.loads(response.read() or b"{}")
        except ValueError:
            body = {"error": "the box's answer is not JSON"}
        conn.close()
        return response.status, body

    def nonce(self) -> str:
        conn = self._connect()
        conn.request("GET", "/v1/nonce")
        status, body = self._answer(conn)
        if status != 200:
            raise InstallError(f"the box refused a nonce: {status} {body.get('error', '')}")
        return str(body["nonce"])

    def authorization(self, method: str, path: str, body_sha256: str) -> str:
        nonce = self.nonce()
        return f"PBX-HMAC {nonce}:{request_mac(self.secret, method, path, nonce, body_sha256)}"

    def status(self) -> dict[str, Any]:
        auth = self.authorization("GET", "/v1/status", hashlib.sha256(b"").hexdigest())
        conn = self._connect()
        conn.request("GET", "/v1/status", headers={"Authorization": auth})
        status, body = self._answer(conn)
        if status != 200:
            raise InstallError(f"the box answered {status}: {body.get('error', '')}")
        return body

    def upload(self, image: Path, digest: str, restart: bool,
               progress: ProgressLine) -> dict[str, Any]:
        size = image.stat().st_size
        conn = self._connect()
        conn.putrequest("POST", "/v1/image" + ("?restart=1" if restart else ""))
        conn.putheader("Authorization", self.authorization("POST", "/v1/image", digest))
        conn.putheader("Content-Length", str(size))
        conn.putheader("Content-Type", "application/octet-stream")
        conn.putheader("X-Content-SHA256", digest)
        conn.endheaders()
        sent = 0
        try:
            with image.open("rb") as f:
                while chunk := f.read(CHUNK):
                    conn.send(chunk)
                    sent += len(chunk)
                    progress.show(sent, size)
        except ConnectionError:
            pass  # the box refused early (e.g. 401): its answer says why
        progress.done()
        status, body = self._answer(conn)
        if status != 200:
            raise InstallError(f"the box refused the image: {body.get('error', status)}")
        return body


def read_secret(secret_file: Path | None) -> str:
    if secret_file is not None:
        return secret_file.read_text().strip()
    if os.environ.get("PBX_ADMIN_SECRET"):
        return os.environ["PBX_ADMIN_SECRET"].strip()
    if sys.stdin.isatty():
        return getpass.getpass("the box's admin secret (python -m tools.secrets --admin): ")
    raise InstallError("no admin secret: give --secret-file or set PBX_ADMIN_SECRET")


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def wait_for_commit(client: AdminClient, slot: str, version: str) -> int:
    """0 once the box runs `slot` committed; 1 if it rolled back or never came back."""
    deadline = time.monotonic() + COMMIT_WAIT_S
    time.sleep(POLL_S)  # the box answers, then restarts: do not ask the old one
    while time.monotonic() < deadline:
        try:
            status = client.status()
        except (OSError, InstallError, http.client.HTTPException):
            time.sleep(POLL_S)  # restarting: not listening yet
            continue
        ours = status["slots"][slot]
        if status["running"] == slot and ours["status"] == "good":
            print(f"the box runs version {version} from slot {slot}: committed")
            return 0
        if ours["status"] == "bad":
            print(f"the box rolled back to slot {status['running']}: version {version} "
                  f"{ours['note']}", file=sys.stderr)
            return 1
        time.sleep(POLL_S)
    print(f"the box did not report version {version} committed within {COMMIT_WAIT_S:.0f} s",
          file=sys.stderr)
    return 1


def flash_net(image: Path, url: str, secret_file: Path | None, restart: bool) -> int:
    manifest = Manifest.parse(read_header(image).manifest)
    client = AdminClient(url, read_secret(secret_file))
    board = client.status()["board"]
    if board is not None and board != manifest.board.id:
        raise InstallError(f"{image.name}: refused: it is for the board {manifest.board.id!r} "
                           f"({manifest.board.name}); the box at {url} is a {board!r}")
    result = client.upload(image, sha256_of(image), restart,
                           ProgressLine(f"sending {image.name}"))
    print(f"{url}: slot {result['slot']} now holds version {result['version']} on trial"
          + ("; the box restarts to try it" if restart else "; it runs at the box's next start"))
    return wait_for_commit(client, result["slot"], result["version"]) if restart else 0
