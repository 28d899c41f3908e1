"""The image file: an uncompressed POSIX tar, made so the same inputs give the same bytes.

    manifest.json        first: the signed manifest (bootslots.manifest)
    manifest.sig         second: its Ed25519 signature, 64 raw bytes
    <every file>         in path order, exactly the files the manifest lists

Every member is a regular file with mode 0644, owner 0:0 with no names, and mtime 0;
there are no directory entries and no compression (gzip would stamp a time, and the prompt
WAVs hardly compress). `tar tvf box.img` lists an image; the same tree unpacked is a slot.
"""

from __future__ import annotations

import io
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, BinaryIO

from bootslots.manifest import MANIFEST, SIGNATURE, check_path

MODE = 0o644


class ImageFormatError(ValueError):
    """The file is not an image (or is cut short); the message says what is wrong."""


@dataclass(frozen=True, slots=True)
class Header:
    manifest: bytes
    signature: bytes


def _info(name: str, size: int) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = size, MODE, 0
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    info.type = tarfile.REGTYPE
    return info


def write_image(out: BinaryIO, header: Header, files: list[tuple[str, Path]]) -> None:
    """The image to `out`: the header, then `files` (path in the image, source) sorted."""
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tar:
        tar.addfile(_info(MANIFEST, len(header.manifest)), io.BytesIO(header.manifest))
        tar.addfile(_info(SIGNATURE, len(header.signature)), io.BytesIO(header.signature))
        for name, source in sorted(files):
            with source.open("rb") as f:
                tar.addfile(_info(name, source.stat().st_size), f)


def _open(path: Path) -> tarfile.TarFile:
    try:
        return tarfile.open(path, mode="r:")
    except (tarfile.TarError, OSError) as exc:
        raise ImageFormatError(f"{path}: not an image ({exc})") from None


def _member_bytes(tar: tarfile.TarFile, member: tarfile.TarInfo | None, name: str,
                  limit: int) -> bytes:
    if member is None or member.name != name or not member.isfile() or member.size > limit:
        raise ImageFormatError(f"{tar.name}: not an image ({name} is not where it belongs)")
    f = tar.extractfile(member)
    assert f is not None
    return f.read()


def read_header(path: Path) -> Header:
    """The manifest and signature at the start of the image at `path`."""
    with _open(path) as tar:
        manifest = _member_bytes(tar, tar.next(), MANIFEST, 16 << 20)
        signature = _member_bytes(tar, tar.next(), SIGNATURE, 1024)
    return Header(manifest, signature)


def iter_files(path: Path) -> Iterator[tuple[str, int, IO[bytes]]]:
    """(path, size, readable) for every file after the header, in the image's order."""
    with _open(path) as tar:
        tar.next(), tar.next()
        try:
            while (member := tar.next()) is not None:
                if not member.isfile():
                    raise ImageFormatError(f"{path}: {member.name!r} is not a regular file")
                name = check_path(member.name)
                f = tar.extractfile(member)
                assert f is not None
                yield name, member.size, f
        except tarfile.TarError as exc:
            raise ImageFormatError(f"{path}: the image is damaged ({exc})") from None
