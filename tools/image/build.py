"""Build an image: collect the files, hash each into the manifest, sign the manifest, write
the reproducible tar (bootslots.container). The board and office configs are validated
first, as the box would, so a broken one is refused here rather than on site."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from bootslots.container import Header, write_image
from bootslots.layout import OFFICE_DIR, OFFICE_FILE
from bootslots.manifest import Board, Manifest, file_entry
from bootslots.signing import key_id, load_private, sign
from firmware.config import load_board, load_office
from tools.image.contents import image_files
from tools.image.version import image_version


@dataclass(frozen=True, slots=True)
class Built:
    path: Path
    manifest: Manifest
    key_id: str
    size: int


def build(source: Path, board: Path, key: Path, out: Path, office: Path | None = None,
          version: str | None = None) -> Built:
    """Raises ConfigError (a bad config), ContentsError, SigningError, OSError."""
    board_config = load_board(board)
    if office is not None:
        load_office(office, board_config)
    private = load_private(key)
    files = image_files(source, board, office)
    manifest = Manifest(
        version=version or image_version(source),
        board=Board(board.stem, board_config.name, f"board-configs/{board.stem}.toml"),
        files={name: file_entry(path) for name, path in files},
        office=f"{OFFICE_DIR}/{OFFICE_FILE}" if office is not None else None,
    )
    data = manifest.to_bytes()
    tmp = out.with_name(f".{out.name}.tmp")
    with tmp.open("wb") as f:
        write_image(f, Header(data, sign(data, private)), files)
    os.replace(tmp, out)
    return Built(out, manifest, key_id(private.public_key()), out.stat().st_size)
