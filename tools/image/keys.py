"""Make an image key pair: the private key signs images (keep it off the boxes), the public
key is what a box trusts (`flash --trust`)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bootslots.signing import key_id, private_pem, public_pem

PRIVATE_NAME = "image-key.pem"
PUBLIC_NAME = "image-key.pub"


class KeyExists(Exception):
    """There is a key already; overwriting it would orphan every box that trusts it."""


@dataclass(frozen=True, slots=True)
class KeyPair:
    private: Path
    public: Path
    key_id: str


def keygen(out: Path) -> KeyPair:
    private, public = out / PRIVATE_NAME, out / PUBLIC_NAME
    for path in (private, public):
        if path.exists():
            raise KeyExists(f"{path} exists: boxes may trust it; move it away to make a new key")
    out.mkdir(parents=True, exist_ok=True)
    key = Ed25519PrivateKey.generate()
    # O_EXCL and mode 0600 from the start: the private key is never readable by others.
    fd = os.open(private, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(private_pem(key))
    public.write_bytes(public_pem(key.public_key()))
    return KeyPair(private, public, key_id(key.public_key()))
