"""Which files go into an image: the firmware tree, one board config, the systemd unit, and
optionally the office config with the files it names.

    boot.py, main.py, bootslots/, firmware/, hal/   the code (firmware/ holds the prompt set,
                                                    firmware/media/sounds, and the built-in
                                                    hold music, which is synthesised)
    board-configs/<board>.toml                      the board it is for, and only that one
    packaging/pbx-box.service                       the unit a box runs under
    office/office.toml, office/...                  the office, and its hold music / prompts

Never: tests, tools, caches (__pycache__, *.pyc), dotfiles, editor leftovers, .venv.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from bootslots.layout import OFFICE_DIR, OFFICE_FILE, UNIT_FILE

CODE = ("boot.py", "main.py")
TREES = ("bootslots", "firmware", "hal")
UNIT = f"packaging/{UNIT_FILE}"
SKIPPED_DIRS = {"__pycache__", ".mypy_cache", ".pytest_cache", ".ruff_cache"}
SKIPPED_SUFFIXES = (".pyc", ".pyo", "~", ".swp", ".orig", ".rej", ".tmp")


class ContentsError(Exception):
    """The image cannot be made from these inputs; the message says which and why."""


def _wanted(path: Path) -> bool:
    return not path.name.startswith(".") and not path.name.endswith(SKIPPED_SUFFIXES)


def tree_files(root: Path, prefix: str) -> list[tuple[str, Path]]:
    found = []
    for path in sorted((root / prefix).rglob("*")):
        rel = path.relative_to(root)
        if (path.is_file() and _wanted(path)
                and not any(p in SKIPPED_DIRS or p.startswith(".") for p in rel.parts[:-1])):
            found.append((rel.as_posix(), path))
    return found


def code_files(source: Path) -> list[tuple[str, Path]]:
    files = [(name, source / name) for name in (*CODE, UNIT)]
    for _, path in files:
        if not path.is_file():
            raise ContentsError(f"{path} is missing: is {source} the project's source tree?")
    for tree in TREES:
        files += tree_files(source, tree)
    return files


def office_files(office: Path) -> list[tuple[str, Path]]:
    """The office config as office/office.toml, and the files its [features] name, which
    must lie beside it (relative paths: the box reads them from beside its copy)."""
    with office.open("rb") as f:
        features = tomllib.load(f).get("features", {})
    base = office.parent.resolve()
    files = [(f"{OFFICE_DIR}/{OFFICE_FILE}", office)]
    for key in ("hold_music", "prompts_dir"):
        value = features.get(key)
        if value is None:
            continue
        path = (base / value).resolve()
        if Path(value).is_absolute() or not path.is_relative_to(base):
            raise ContentsError(f"{office}: [features] {key} = {value!r} is outside the "
                                "config's folder; copy it beside office.toml and name it by a "
                                "relative path, so the image can carry it")
        if path.is_dir():
            files += [(f"{OFFICE_DIR}/{path.relative_to(base).as_posix()}/{p.name}", p)
                      for p in sorted(path.iterdir()) if p.is_file() and _wanted(p)]
        else:
            files.append((f"{OFFICE_DIR}/{path.relative_to(base).as_posix()}", path))
    return files


def image_files(source: Path, board: Path, office: Path | None) -> list[tuple[str, Path]]:
    files = [*code_files(source), (f"board-configs/{board.stem}.toml", board)]
    if office is not None:
        files += office_files(office)
    names = [name for name, _ in files]
    if len(names) != len(set(names)):
        raise ContentsError("two files would have the same name in the image")
    return sorted(files)
