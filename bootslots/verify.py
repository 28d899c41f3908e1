"""Is a slot exactly what its signed manifest says? Checked by boot.py before it runs
anything from the slot, and by the installer reading back what it wrote.

The manifest's signature must come from a trusted key; every file it lists must be there
with its size and SHA-256; and no other file may be (a stray module could be imported).
Python's bytecode caches (`__pycache__`) are not part of an image: they are ignored here,
and thrown away whenever a slot is installed.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from bootslots.manifest import MANIFEST, SIGNATURE, Manifest, ManifestError, file_entry
from bootslots.signing import SigningError, verify

IGNORED_DIRS = ("__pycache__",)


class SlotError(ValueError):
    """The slot must not run; the message says what is wrong with it."""


@dataclass(frozen=True, slots=True)
class Verified:
    manifest: Manifest
    key_id: str


def signed_manifest(manifest: bytes, signature: bytes,
                    keys: list[Ed25519PublicKey]) -> Verified:
    """The manifest, once a trusted key's signature over its bytes checks out."""
    try:
        signer = verify(manifest, signature, keys)
        return Verified(Manifest.parse(manifest), signer)
    except (SigningError, ManifestError) as exc:
        raise SlotError(str(exc)) from None


def files_on_disk(root: Path) -> set[str]:
    found: set[str] = set()
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d not in IGNORED_DIRS]
        rel = Path(folder).relative_to(root)
        found.update((rel / name).as_posix() for name in files)
    found.discard(MANIFEST)
    found.discard(SIGNATURE)
    return found


def verify_slot(slot: Path, keys: list[Ed25519PublicKey]) -> Verified:
    """The slot's verified manifest; SlotError naming the first problem found."""
    try:
        manifest = (slot / MANIFEST).read_bytes()
        signature = (slot / SIGNATURE).read_bytes()
    except OSError as exc:
        raise SlotError(f"slot {slot.name} has no readable manifest ({exc.strerror})") from None
    verified = signed_manifest(manifest, signature, keys)
    listed = verified.manifest.files
    on_disk = files_on_disk(slot)
    if missing := sorted(set(listed) - on_disk):
        raise SlotError(f"slot {slot.name} lacks {missing[0]}"
                        + (f" and {len(missing) - 1} more files" if len(missing) > 1 else ""))
    if extra := sorted(on_disk - set(listed)):
        raise SlotError(f"slot {slot.name} has a file its manifest does not list: {extra[0]}")
    for name, expected in sorted(listed.items()):
        path = slot / name
        if path.is_symlink() or path.stat().st_size != expected.size:
            raise SlotError(f"slot {slot.name}: {name} is not the size the manifest says")
        if file_entry(path) != expected:
            raise SlotError(f"slot {slot.name}: {name} does not match its SHA-256")
    return verified
