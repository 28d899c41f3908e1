"""A backup of a box's data, consistent even while the box runs: the SQLite store is copied
with SQLite's online backup API (a snapshot of one moment, WAL included), and every other
state file is written atomically by the box, so each is read whole, old or new.

Not saved: the control socket, SQLite's -wal/-shm files (in the snapshot already), and
temporary files (names starting with a dot).
"""

from __future__ import annotations

import datetime
import logging
import os
import sqlite3
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path

from bootslots.manifest import FileEntry, file_entry
from firmware.store import STORE_FILE
from tools.backup.archive import STATE_PREFIX, BackupError, Index, write_archive
from tools.image.contents import ContentsError, office_files

log = logging.getLogger(__name__)

SKIPPED = (f"{STORE_FILE}-wal", f"{STORE_FILE}-shm", f"{STORE_FILE}-journal")


@dataclass(frozen=True, slots=True)
class Saved:
    path: Path
    files: int
    size: int
    office: bool


def snapshot_store(store: Path, dest: Path) -> None:
    source = sqlite3.connect(store)
    try:
        target = sqlite3.connect(dest)
        try:
            source.backup(target)
        finally:
            target.close()
    finally:
        source.close()


def state_files(state: Path, snapshot_dir: Path) -> list[tuple[str, Path]]:
    files: list[tuple[str, Path]] = []
    for folder, dirs, names in os.walk(state):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(names):
            path = Path(folder) / name
            rel = path.relative_to(state).as_posix()
            if name.startswith(".") or rel in SKIPPED or not stat.S_ISREG(path.lstat().st_mode):
                continue
            if rel == STORE_FILE:
                snapshot_store(path, snapshot_dir / STORE_FILE)
                path = snapshot_dir / STORE_FILE
            files.append((STATE_PREFIX + rel, path))
    return files


def save(state: Path, office: Path | None, out: Path) -> Saved:
    if not state.is_dir():
        raise BackupError(f"{state} is not a state directory")
    with tempfile.TemporaryDirectory(prefix="pbx-backup-") as tmp:
        files = state_files(state, Path(tmp))
        office_name = None
        if office is not None and office.exists():
            try:
                taken = office_files(office)
            except ContentsError as exc:
                raise BackupError(str(exc)) from None
            files += taken
            office_name = taken[0][0]  # office/office.toml, whatever the file was called
        entries: dict[str, FileEntry] = {name: file_entry(path) for name, path in files}
        created = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
        index = Index(created, entries, office_name)
        partial = out.with_name(f".{out.name}.tmp")
        with partial.open("wb") as f:
            write_archive(f, index, files)
        os.replace(partial, out)
    return Saved(out, len(files), out.stat().st_size, office_name is not None)
