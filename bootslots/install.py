"""An image into the inactive slot of a data partition, so that a power cut after any
single write still leaves a box that boots its old firmware (or, after the last write, the
new one on trial):

1. Check the image before writing anything: a trusted key signed its manifest, and it is
   for this box's board.
2. Mark the target slot "installing" (one atomic write of the slot state): boot.py will not
   run it from now on, whatever is in it.
3. Empty the slot and write every file, each checked against the manifest; then sync.
4. Read the whole slot back and verify it as boot.py will.
5. On a new data partition: stage one (boot.py and bootslots/, boot.py last) and the
   systemd unit. If the image carries an office config: its files, then office.toml last.
6. Mark the slot "trial" and primary (one atomic write): the next start tries it once.

The target is the slot not holding the firmware to keep (the good one, the primary first).
`progress` is called after every write; a test raises from it to cut the power there.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from bootslots import state as slot_state
from bootslots.atomic import write_atomic
from bootslots.container import ImageFormatError, iter_files, read_header
from bootslots.layout import OFFICE_DIR, STAGE_ONE, UNIT_FILE, DataPartition, other_slot
from bootslots.manifest import MANIFEST, SIGNATURE, Manifest, ManifestError
from bootslots.state import BoxSlots, Event, Status
from bootslots.verify import SlotError, Verified, files_on_disk, signed_manifest, verify_slot

CHUNK = 1 << 18
UNIT_IN_IMAGE = f"packaging/{UNIT_FILE}"


class InstallError(Exception):
    """The image was not installed; the message says why (and nothing that runs changed)."""


@dataclass(frozen=True, slots=True)
class Step:
    what: str     # "state", "clear", "file", "read-back", "stage-one", "office"
    name: str
    done: int     # bytes of the image's files written so far
    total: int


Progress = Callable[[Step], None]


@dataclass(frozen=True, slots=True)
class Installed:
    slot: str
    manifest: Manifest
    key_id: str


def check_image(image: Path, keys: list[Ed25519PublicKey], board: str | None) -> Verified:
    """The image's verified manifest, if it may go on a box of `board` (None: any)."""
    try:
        header = read_header(image)
        verified = signed_manifest(header.manifest, header.signature, keys)
    except (ImageFormatError, SlotError) as exc:
        raise InstallError(f"{image.name}: refused: {exc}") from None
    target = verified.manifest.board
    if board is not None and target.id != board:
        raise InstallError(f"{image.name}: refused: it is for the board {target.id!r} "
                           f"({target.name}); this box is a {board!r}")
    return verified


def target_slot(state: BoxSlots) -> str:
    """The slot an update goes into: never the one holding the firmware to keep."""
    order = [state.primary, other_slot(state.primary)] if state.primary else ["A", "B"]
    for wanted in (Status.GOOD, Status.TRIAL):
        for name in order:
            if state[name].status is wanted:
                return other_slot(name)
    return order[0]


class _Writer:
    def __init__(self, total: int, progress: Progress | None) -> None:
        self.done, self.total, self.progress = 0, total, progress

    def step(self, what: str, name: str, size: int = 0) -> None:
        self.done += size
        if self.progress is not None:
            self.progress(Step(what, name, self.done, self.total))

    def save(self, data: DataPartition, state: BoxSlots) -> None:
        slot_state.save(data.state_file, state)
        self.step("state", data.state_file.name)

    def copy(self, src: IO[bytes], dest: Path, name: str) -> str:
        """Copy `src` to `dest` in chunks; its SHA-256. Made durable by _write_slot's sync."""
        dest.parent.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256()
        with dest.open("wb") as f:
            while chunk := src.read(CHUNK):
                f.write(chunk)
                digest.update(chunk)
                self.step("file", name, len(chunk))
        return digest.hexdigest()


def _write_slot(image: Path, slot: Path, manifest: Manifest, writer: _Writer) -> None:
    header = read_header(image)
    write_atomic(slot / MANIFEST, header.manifest)
    write_atomic(slot / SIGNATURE, header.signature)
    written: set[str] = set()
    for name, size, src in iter_files(image):
        expected = manifest.files.get(name)
        if expected is None or name in written or size != expected.size:
            raise InstallError(f"{image.name}: refused: {name} is not as its manifest says")
        if writer.copy(src, slot / name, name) != expected.sha256:
            raise InstallError(f"{image.name}: refused: {name} does not match its SHA-256")
        written.add(name)
    # One sync for the whole slot rather than an fsync per file (hundreds of journal
    # commits on an SD card): the files must be on the medium before the state says trial.
    os.sync()
    if missing := sorted(set(manifest.files) - written):
        raise InstallError(f"{image.name}: refused: the image lacks {missing[0]}")


def _install_stage_one(data: DataPartition, slot: Path, writer: _Writer) -> None:
    """boot.py, bootslots/ and the unit onto a new data partition; boot.py last, so a
    partition with boot.py has all of stage one."""
    if data.stage_one.exists():
        return
    names = sorted(n for n in files_on_disk(slot) if n.startswith(f"{STAGE_ONE[1]}/"))
    for name in [*names, UNIT_IN_IMAGE, STAGE_ONE[0]]:
        if (slot / name).exists():
            dest = data.root / (UNIT_FILE if name == UNIT_IN_IMAGE else name)
            write_atomic(dest, (slot / name).read_bytes())
            writer.step("stage-one", name)


def _install_office(data: DataPartition, slot: Path, manifest: Manifest,
                    writer: _Writer) -> None:
    """The image's office config and its files; office.toml last."""
    if manifest.office is None:
        return
    prefix = f"{OFFICE_DIR}/"
    names = sorted(n for n in manifest.files if n.startswith(prefix) and n != manifest.office)
    for name in [*names, manifest.office]:
        write_atomic(data.root / name, (slot / name).read_bytes())
        writer.step("office", name)


def install(data: DataPartition, image: Path, keys: list[Ed25519PublicKey],
            progress: Progress | None = None) -> Installed:
    state = slot_state.load(data.state_file)
    verified = check_image(image, keys, state.board)
    manifest = verified.manifest
    target = target_slot(state)
    slot = data.slot(target)
    writer = _Writer(manifest.total_size, progress)
    writer.save(data, state.apply(target, Event.INSTALL_BEGUN))
    shutil.rmtree(slot, ignore_errors=True)
    writer.step("clear", target)
    try:
        _write_slot(image, slot, manifest, writer)
        verify_slot(slot, keys)
    except (ImageFormatError, ManifestError, SlotError) as exc:
        raise InstallError(f"{image.name}: refused: {exc}") from None
    writer.step("read-back", target)
    _install_stage_one(data, slot, writer)
    _install_office(data, slot, manifest, writer)
    state = slot_state.load(data.state_file)
    writer.save(data, state.apply(target, Event.INSTALLED, version=manifest.version)
                .with_board(manifest.board.id))
    return Installed(target, manifest, verified.key_id)
