"""The office's applications: where calls go besides a person (DESIGN.md, "Destination /
application"). Each is an `App` (firmware.engine.apps): it reads its part of the office
config on every load, adds its numbers and codes to the dial plan, and runs a coroutine
per caller, cancelled when the caller hangs up.

    voice       prompts, keys and music: how every application talks with a caller
"""

from __future__ import annotations

from pathlib import Path

from firmware.engine.apps import App
from firmware.store import Store

__all__ = ["build_apps"]


def build_apps(state_dir: Path, store: Store) -> list[App]:
    """Every application, built once for the life of the box."""
    apps: list[App] = []
    return apps
