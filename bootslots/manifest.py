"""An image's manifest: what it is (version, board) and every file in it (SHA-256, size).

It is canonical JSON (sorted keys, fixed indentation), so the same tree always gives the
same bytes, and those bytes are what the Ed25519 signature covers (`manifest.sig` beside
it). A manifest names files only by safe relative paths: nothing absolute, no `..`, so an
image can never write or point outside its slot.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

FORMAT = 1
MANIFEST = "manifest.json"
SIGNATURE = "manifest.sig"
ENTRY = "main.py"  # what boot.py runs from a slot
CHUNK = 1 << 16


class ManifestError(ValueError):
    """The manifest is not one this stage one can trust; the message says why."""


@dataclass(frozen=True, slots=True)
class FileEntry:
    sha256: str
    size: int


@dataclass(frozen=True, slots=True)
class Board:
    id: str        # the board config's file name without .toml: "sim", "rpi4-2fxs1fxo"
    name: str      # its `name`, for people
    config: str    # its path inside the image


@dataclass(frozen=True, slots=True)
class Manifest:
    version: str
    board: Board
    files: dict[str, FileEntry]
    office: str | None = None  # the office config inside the image, if it carries one
    entry: str = ENTRY

    def to_bytes(self) -> bytes:
        body = {
            "format": FORMAT,
            "version": self.version,
            "board": {"id": self.board.id, "name": self.board.name, "config": self.board.config},
            "office": self.office,
            "entry": self.entry,
            "files": {path: {"sha256": f.sha256, "size": f.size}
                      for path, f in sorted(self.files.items())},
        }
        return (json.dumps(body, sort_keys=True, indent=1, ensure_ascii=True) + "\n").encode()

    @property
    def total_size(self) -> int:
        return sum(f.size for f in self.files.values())

    @classmethod
    def parse(cls, data: bytes) -> Manifest:
        try:
            body = json.loads(data)
            if not isinstance(body, dict):
                raise ManifestError("the manifest is not a JSON object")
            if body.get("format") != FORMAT:
                raise ManifestError(f"manifest format {body.get('format')!r}; this stage one "
                                    f"reads format {FORMAT}")
            board = body["board"]
            files = {check_path(str(path)): FileEntry(_hex(entry["sha256"]), _size(entry["size"]))
                     for path, entry in body["files"].items()}
            manifest = cls(
                version=str(body["version"]),
                board=Board(str(board["id"]), str(board["name"]), check_path(board["config"])),
                files=files,
                office=None if body.get("office") is None else check_path(body["office"]),
                entry=check_path(body.get("entry", ENTRY)),
            )
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            if isinstance(exc, ManifestError):
                raise
            raise ManifestError(f"the manifest is malformed: {exc!r}") from None
        for needed in (manifest.entry, manifest.board.config, manifest.office):
            if needed is not None and needed not in files:
                raise ManifestError(f"the manifest names {needed} but does not list it")
        return manifest


def check_path(path: str) -> str:
    """`path` if it is a safe relative path inside an image, else ManifestError."""
    pure = PurePosixPath(path)
    if (not path or "\\" in path or pure.is_absolute() or str(pure) != path
            or any(part in ("", ".", "..") for part in pure.parts)
            or not path.isprintable() or path in (MANIFEST, SIGNATURE)):
        raise ManifestError(f"unsafe path in the manifest: {path!r}")
    return path


def _hex(value: object) -> str:
    text = str(value)
    if len(text) != 64 or any(c not in "0123456789abcdef" for c in text):
        raise ManifestError(f"not a SHA-256 digest: {text!r}")
    return text


def _size(value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ManifestError(f"not a file size: {value!r}")
    return value


def file_entry(path: Path) -> FileEntry:
    """SHA-256 and size of a file, read in chunks."""
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return FileEntry(digest.hexdigest(), size)


def bytes_entry(data: bytes) -> FileEntry:
    return FileEntry(hashlib.sha256(data).hexdigest(), len(data))
