"""Restore a backup onto the same box or a new one (stopped: see tools.backup.running).

Every file is checked against the backup's index while it is unpacked into a new folder
beside the state directory; only when all of it is there does that folder take the state
directory's place (two renames; the old one is then deleted). The office config goes where
boot.py looks for it (DATA/office/office.toml), office.toml last. Nothing is merged: the
box's data becomes the backup's, secrets included, so phones registered before the backup
register again with no change.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from bootslots.atomic import fsync_dir, write_atomic
from tools.backup.archive import (
    OFFICE_PREFIX,
    STATE_PREFIX,
    BackupError,
    Index,
    iter_members,
    read_index,
)


@dataclass(frozen=True, slots=True)
class Restored:
    state_files: int
    office: Path | None
    created: str


def _unpack_state(archive: Path, index: Index, state: Path
                  ) -> tuple[Path, dict[str, bytes], int]:
    """The state files unpacked into a new folder beside `state`; the office files read."""
    fresh = Path(tempfile.mkdtemp(prefix=f".{state.name}.restore-", dir=state.parent))
    office: dict[str, bytes] = {}
    seen: set[str] = set()
    for name, f in iter_members(archive):
        data = f.read()
        expected = index.files.get(name)
        if expected is None or hashlib.sha256(data).hexdigest() != expected.sha256:
            shutil.rmtree(fresh, ignore_errors=True)
            raise BackupError(f"{archive}: {name} is damaged or not in the backup's index")
        seen.add(name)
        if name.startswith(STATE_PREFIX):
            write_atomic(fresh / name.removeprefix(STATE_PREFIX), data, 0o600)
        elif name.startswith(OFFICE_PREFIX):
            office[name.removeprefix(OFFICE_PREFIX)] = data
    if missing := sorted(set(index.files) - seen):
        shutil.rmtree(fresh, ignore_errors=True)
        raise BackupError(f"{archive}: the backup is cut short ({missing[0]} is missing)")
    return fresh, office, len(seen) - len(office)


def _replace_dir(fresh: Path, state: Path) -> None:
    old = None
    if state.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{state.name}.old-", dir=state.parent))
        os.replace(state, old / state.name)
    os.replace(fresh, state)
    fsync_dir(state.parent)
    if old is not None:
        shutil.rmtree(old)


def restore(archive: Path, state: Path, office_dest: Path) -> Restored:
    index = read_index(archive)
    state.parent.mkdir(parents=True, exist_ok=True)
    fresh, office, count = _unpack_state(archive, index, state)
    _replace_dir(fresh, state)
    placed = None
    if office:
        base = office_dest.parent
        for name in sorted(n for n in office if n != "office.toml"):
            write_atomic(base / name, office[name])
        write_atomic(office_dest, office["office.toml"])
        placed = office_dest
    return Restored(count, placed, index.created)
