"""How the applications (firmware/apps: menus, ring groups, queues, voicemail, business
hours) plug into the engine without the engine importing them (DESIGN.md: apps -> engine).

The box builds the applications once and hands them to the engine. On every config load
each one reads its part of the office config and adds its numbers and feature codes to
the new dial plan (`configure`); the engine asks it for the destination a "kind:name"
names (`destination`). `start` runs once the engine is up (resume stored callbacks, send
message-waiting state); `stop` before the box shuts down.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from firmware.config import OfficeConfig
    from firmware.engine.dialplan import Destination, DialPlan
    from firmware.engine.pbx import Engine


class App(Protocol):
    kind: str  # the prefix of its destinations: "menu" for "menu:main"

    def configure(self, engine: Engine, office: OfficeConfig, dialplan: DialPlan) -> None:
        """Take `office` (and add this application's numbers and codes to `dialplan`)."""

    def destination(self, name: str) -> Destination | None:
        """Where "kind:name" leads, or None if this application has no such `name`."""

    def start(self, engine: Engine) -> None:
        """The engine runs: start background work (spawned on the engine's supervisor)."""

    async def stop(self) -> None:
        """The box shuts down: let go of files and tasks."""
