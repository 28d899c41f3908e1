"""Flash to a directory: a mounted SD card's data partition, or a plain directory laid out
as one (docs/install.md, "The data partition"). The image goes into the inactive slot as
"trial" (bootslots.install); `--trust` keys are added to the ones the box trusts first."""

from __future__ import annotations

from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from bootslots import state as slot_state
from bootslots.atomic import write_atomic
from bootslots.install import Installed, InstallError, Progress, check_image, install
from bootslots.layout import DataPartition
from bootslots.signing import key_id, load_public, public_pem, trusted_keys


def trusted_with(data: DataPartition, extra: list[Path]) -> list[Ed25519PublicKey]:
    keys = trusted_keys(data.keys) + [load_public(path) for path in extra]
    if not keys:
        raise InstallError(f"{data.root} trusts no image key yet: add --trust image-key.pub "
                           "(the public key `python -m tools.image keygen` made)")
    return keys


def flash_dir(image: Path, dest: Path, trust: list[Path],
              progress: Progress | None = None) -> Installed:
    data = DataPartition(dest)
    keys = trusted_with(data, trust)
    check_image(image, keys, slot_state.load(data.state_file).board)
    known = {key_id(k) for k in trusted_keys(data.keys)}
    for path in trust:
        key = load_public(path)
        if key_id(key) not in known:
            write_atomic(data.keys / f"{key_id(key)}.pub", public_pem(key))
    return install(data, image, keys, progress)
