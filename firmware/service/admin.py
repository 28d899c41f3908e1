"""The box's admin secret: what an installer needs to update a running box over the network.

There is no default password (DESIGN.md, "Reliability rules"): the box makes a random
secret at first boot, keeps it in STATE_DIR/admin-secret (mode 0600), and never logs it;
`python -m tools.secrets --admin` shows it. A factory reset deletes it: a new one is made.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from pathlib import Path

from firmware.statefiles import write_atomic

log = logging.getLogger(__name__)

ADMIN_SECRET_FILE = "admin-secret"
SECRET_BYTES = 24  # 32 characters of base64: an HMAC key nobody guesses


def load_admin_secret(state_dir: Path) -> str | None:
    try:
        secret = (state_dir / ADMIN_SECRET_FILE).read_text().strip()
    except FileNotFoundError:
        return None
    return secret or None


def admin_secret(state_dir: Path) -> str:
    """The box's admin secret, made now if it has none."""
    secret = load_admin_secret(state_dir)
    if secret is None:
        secret = secrets.token_urlsafe(SECRET_BYTES)
        write_atomic(state_dir / ADMIN_SECRET_FILE, (secret + "\n").encode())
        log.info("generated the admin secret (show it with `python -m tools.secrets --admin`)")
    return secret


def request_mac(secret: str, method: str, path: str, nonce: str, body_sha256: str) -> str:
    """What proves a request comes from someone with the admin secret, without sending it:
    HMAC-SHA256 over the method, the path, a nonce the box issued once, and the body's
    SHA-256 (so a captured request cannot be replayed or given another body)."""
    message = f"{method} {path}\n{nonce}\n{body_sha256}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()
