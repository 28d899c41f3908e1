"""Images and data partitions for the installer's tests: source trees to build from (a
snapshot of this checkout, or a tiny tree for tests that write an image many times), keys,
and a box started from a data partition as systemd would start it."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

from bootslots.layout import DataPartition
from tests.integration.harness import office_toml
from tests.livebox import LiveBox
from tools.image.build import Built, build

ROOT = Path(__file__).resolve().parents[2]
SOURCE_PARTS = ("boot.py", "main.py", "pyproject.toml", "bootslots", "firmware", "hal",
                "board-configs", "packaging")
IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", ".*")
STOP_LIMIT_S = 30.0


def snapshot_source(dest: Path) -> Path:
    """A copy of the firmware sources: other work in this checkout cannot change it
    between two builds."""
    dest.mkdir(parents=True)
    for part in SOURCE_PARTS:
        src = ROOT / part
        if src.is_dir():
            shutil.copytree(src, dest / part, ignore=IGNORE)
        else:
            shutil.copy2(src, dest / part)
    return dest


def tiny_source(dest: Path) -> Path:
    """Stage one and a stand-in main.py: an image of a few files, for tests that write
    one many times over (every step of an update cut short)."""
    dest.mkdir(parents=True)
    shutil.copy2(ROOT / "boot.py", dest / "boot.py")
    shutil.copytree(ROOT / "bootslots", dest / "bootslots", ignore=IGNORE)
    shutil.copytree(ROOT / "packaging", dest / "packaging", ignore=IGNORE)
    (dest / "main.py").write_text("print('tiny firmware')\n")
    (dest / "firmware").mkdir()
    (dest / "firmware" / "__init__.py").write_text('"""tiny"""\n')
    (dest / "firmware" / "sound.wav").write_bytes(bytes(range(256)) * 40)
    return dest


def office_file(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "office.toml"
    path.write_text(office_toml("us"))
    return path


def build_image(source: Path, key: Path, out: Path, version: str, office: Path | None = None,
                board: str = "sim") -> Built:
    configs = source / "board-configs"
    if not configs.is_dir():  # the tiny tree has none of its own
        configs = ROOT / "board-configs"
    return build(source, configs / f"{board}.toml", key, out, office, version)


def short_dir() -> Path:
    """A temporary directory with a short path: the box's control socket lives in it, and
    Unix socket paths are limited to about 100 bytes."""
    return Path(tempfile.mkdtemp(prefix="pbx-data-"))


@contextlib.contextmanager
def box_from(data: DataPartition, *extra: str) -> Iterator[LiveBox]:
    """The box started as its systemd unit does: stage one from the data partition."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PBX_", "NOTIFY_", "WATCHDOG_"))}
    proc = subprocess.Popen(
        [sys.executable, str(data.stage_one), "--data", str(data.root), *extra],
        cwd=data.root, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True,
        env={**env, "PYTHONUNBUFFERED": "1"},
    )
    box = LiveBox(proc, data.state_dir)
    try:
        yield box
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=STOP_LIMIT_S)
