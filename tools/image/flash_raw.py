"""Flash to a raw file system image: a file holding an ext4 data partition, for `dd`, a
card writer's tool, or a loop mount. Made with e2fsprogs (`mke2fs -d`, no root needed).

A new file gets a fresh data partition; an existing one is read out (`debugfs rdump`),
updated exactly as a directory is (tools.image.flash_dir), and written anew beside it,
read back and renamed over it: the old file stays whole until the new one is verified.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from bootslots.install import Installed, InstallError, Progress
from bootslots.signing import trusted_keys
from bootslots.verify import SlotError, verify_slot
from tools.image.flash_dir import flash_dir

LABEL = "pbx-data"
NEW_SIZE = "512M"  # two slots of a few MB, and room for years of voicemail
UNITS = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
TOOL_LIMIT_S = 300.0


def parse_size(text: str) -> int:
    unit = UNITS.get(text[-1:].upper(), 1)
    number = text[:-1] if text[-1:].upper() in UNITS else text
    if not number.isdigit() or int(number) == 0:
        raise InstallError(f"--size {text!r}: use e.g. 512M or 2G")
    return int(number) * unit


def _run(*command: str) -> None:
    done = subprocess.run(command, capture_output=True, text=True, timeout=TOOL_LIMIT_S,
                          check=False)
    if done.returncode != 0 or "rdump: " in done.stderr:
        raise InstallError(f"{command[0]} failed: {(done.stderr or done.stdout).strip()}")


def _need_tools() -> None:
    if not (shutil.which("mke2fs") and shutil.which("debugfs")):
        raise InstallError("raw images need e2fsprogs (mke2fs, debugfs): sudo apt install "
                           "e2fsprogs; or flash to a directory")


def read_out(raw: Path, path: str, into: Path) -> None:
    into.mkdir(parents=True, exist_ok=True)
    _run("debugfs", "-R", f"rdump {path} {into}", str(raw))


def flash_raw(image: Path, dest: Path, trust: list[Path], size: str | None = None,
              progress: Progress | None = None) -> Installed:
    _need_tools()
    with tempfile.TemporaryDirectory(prefix="pbx-raw-") as tmp:
        staging = Path(tmp) / "data"
        staging.mkdir()
        if dest.exists() and dest.stat().st_size > 0:
            read_out(dest, "/", staging)
            shutil.rmtree(staging / "lost+found", ignore_errors=True)
        installed = flash_dir(image, staging, trust, progress)
        new = dest.with_name(f".{dest.name}.new")
        with new.open("wb") as f:
            old = dest.stat().st_size if dest.exists() else 0
            f.truncate(max(parse_size(size or NEW_SIZE) if size or not old else 0, old))
        _run("mke2fs", "-q", "-t", "ext4", "-L", LABEL, "-d", str(staging),
             "-E", "root_owner=0:0", "-F", str(new))
        back = Path(tmp) / "read-back"
        read_out(new, f"/slots/{installed.slot}", back)
        try:
            verify_slot(back / installed.slot, trusted_keys(staging / "keys"))
        except SlotError as exc:
            new.unlink()
            raise InstallError(f"{dest}: reading back the new file system failed: {exc}") from None
        os.replace(new, dest)
    return installed
