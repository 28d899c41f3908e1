"""Ed25519 image keys: the installer signs manifests with the private key; a box trusts the
public keys in DATA/keys/*.pub and runs nothing whose manifest none of them signed.

Keys are PEM files (PKCS#8 private, SubjectPublicKeyInfo public), readable by OpenSSL.
A key's id is the start of the SHA-256 of its raw public bytes, to name it in messages.
Ed25519 signatures are deterministic: signing the same manifest twice gives the same bytes,
which keeps image builds reproducible.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

SIGNATURE_BYTES = 64


class SigningError(ValueError):
    """A key cannot be read or a signature is not from a trusted key."""


def key_id(key: Ed25519PublicKey) -> str:
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def public_pem(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.PEM,
                            serialization.PublicFormat.SubjectPublicKeyInfo)


def private_pem(key: Ed25519PrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def load_public(path: Path) -> Ed25519PublicKey:
    try:
        key = serialization.load_pem_public_key(path.read_bytes())
    except (OSError, ValueError) as exc:
        raise SigningError(f"{path}: not a public key ({exc})") from None
    if not isinstance(key, Ed25519PublicKey):
        raise SigningError(f"{path}: not an Ed25519 public key")
    return key


def load_private(path: Path) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as exc:
        raise SigningError(f"{path}: not an unencrypted private key ({exc})") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise SigningError(f"{path}: not an Ed25519 private key")
    return key


def trusted_keys(keys_dir: Path) -> list[Ed25519PublicKey]:
    """Every *.pub in `keys_dir`, in name order (none if it does not exist)."""
    if not keys_dir.is_dir():
        return []
    return [load_public(path) for path in sorted(keys_dir.glob("*.pub"))]


def sign(manifest: bytes, key: Ed25519PrivateKey) -> bytes:
    return key.sign(manifest)


def verify(manifest: bytes, signature: bytes, keys: list[Ed25519PublicKey]) -> str:
    """The id of the trusted key that signed `manifest`; SigningError if none did."""
    if not keys:
        raise SigningError("no trusted image key: nothing can be verified")
    if len(signature) == SIGNATURE_BYTES:
        for key in keys:
            try:
                key.verify(signature, manifest)
            except InvalidSignature:
                continue
            return key_id(key)
    ids = ", ".join(key_id(k) for k in keys)
    raise SigningError(f"the manifest's signature is not from a trusted key (trusted: {ids})")
