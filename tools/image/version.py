"""The version an image is stamped with: the project's version from pyproject.toml, plus
where it was built from in git (`0.1.0+e0e386f`, `0.1.0+v0.2-3-gabc1234.dirty`), so a box
can say exactly what it runs. Outside a git checkout: the project version alone."""

from __future__ import annotations

import subprocess
import tomllib
from pathlib import Path


def project_version(source: Path) -> str:
    try:
        with (source / "pyproject.toml").open("rb") as f:
            return str(tomllib.load(f)["project"]["version"])
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        return "0"


def git_describe(source: Path) -> str | None:
    try:
        done = subprocess.run(["git", "describe", "--tags", "--always", "--dirty"], cwd=source,
                              capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if done.returncode != 0:
        return None
    return done.stdout.strip() or None


def image_version(source: Path) -> str:
    version = project_version(source)
    described = git_describe(source)
    return f"{version}+{described.replace('-', '.')}" if described else version
