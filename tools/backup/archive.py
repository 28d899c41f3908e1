"""The backup archive: a tar whose first member, backup.json, lists every other member with
its SHA-256 and size, so a restore checks each file before anything is replaced.

    backup.json                    {"format": 1, "created": ..., "files": {...}, "office": ...}
    state/...                      the state directory: secrets, settings, the store, voicemail
    office/office.toml, office/... the office config and the files it names, if it had one
"""

from __future__ import annotations

import io
import json
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from bootslots.manifest import FileEntry, ManifestError, check_path

FORMAT = 1
INDEX = "backup.json"
STATE_PREFIX = "state/"
OFFICE_PREFIX = "office/"


class BackupError(Exception):
    """The backup cannot be made or restored; the message says why."""


@dataclass(frozen=True, slots=True)
class Index:
    created: str
    files: dict[str, FileEntry]
    office: str | None

    def to_bytes(self) -> bytes:
        body = {"format": FORMAT, "created": self.created, "office": self.office,
                "files": {name: {"sha256": f.sha256, "size": f.size}
                          for name, f in sorted(self.files.items())}}
        return (json.dumps(body, indent=1, sort_keys=True) + "\n").encode()

    @classmethod
    def parse(cls, data: bytes) -> Index:
        try:
            body = json.loads(data)
            if body["format"] != FORMAT:
                raise BackupError(f"backup format {body['format']!r}; this tool reads {FORMAT}")
            files = {check_path(name): FileEntry(str(f["sha256"]), int(f["size"]))
                     for name, f in body["files"].items()}
            return cls(str(body["created"]), files, body.get("office"))
        except (ValueError, KeyError, TypeError, ManifestError) as exc:
            if isinstance(exc, BackupError):
                raise
            raise BackupError(f"not a backup: its index is unreadable ({exc})") from None


def _info(name: str, size: int) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size, info.mode = size, 0o600
    return info


def write_archive(out: IO[bytes], index: Index, files: list[tuple[str, Path]]) -> None:
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tar:
        data = index.to_bytes()
        tar.addfile(_info(INDEX, len(data)), io.BytesIO(data))
        for name, source in sorted(files):
            with source.open("rb") as f:
                tar.addfile(_info(name, source.stat().st_size), f)


def read_index(path: Path) -> Index:
    try:
        with tarfile.open(path, mode="r:") as tar:
            member = tar.next()
            if member is None or member.name != INDEX or not member.isfile():
                raise BackupError(f"{path}: not a backup (no {INDEX} first)")
            f = tar.extractfile(member)
            assert f is not None
            return Index.parse(f.read())
    except (tarfile.TarError, OSError) as exc:
        raise BackupError(f"{path}: not a backup ({exc})") from None


def iter_members(path: Path) -> Iterator[tuple[str, IO[bytes]]]:
    with tarfile.open(path, mode="r:") as tar:
        tar.next()
        while (member := tar.next()) is not None:
            if not member.isfile():
                raise BackupError(f"{path}: {member.name!r} is not a regular file")
            f = tar.extractfile(member)
            assert f is not None
            yield check_path(member.name), f
