"""Auto-attendant menus ([[menu]]) as an application: "menu:NAME" destinations, the menus'
numbers in the dial plan, and the code that records a menu's greeting from a phone
(`[features] record_greeting` + the menu's number, *77500 by default for menu 500).

The session with a caller is `firmware.apps.ivr`; recording is `firmware.apps.greeting`.
"""

from __future__ import annotations

import functools
import logging
from typing import TYPE_CHECKING

from firmware.apps.greeting import record_greeting
from firmware.apps.ivr import run_menu

if TYPE_CHECKING:
    from firmware.config import MenuConfig, OfficeConfig
    from firmware.engine.dialplan import Destination, DialPlan
    from firmware.engine.pbx import Engine

__all__ = ["MenuApp"]

log = logging.getLogger(__name__)


class MenuApp:
    kind = "menu"

    def __init__(self) -> None:
        self._engine: Engine | None = None
        self._menus: dict[str, MenuConfig] = {}

    def configure(self, engine: Engine, office: OfficeConfig, dialplan: DialPlan) -> None:
        self._engine = engine
        self._menus = {menu.name: menu for menu in office.menus}
        numbered = {menu.number: menu for menu in office.menus if menu.number is not None}
        for number, menu in numbered.items():
            dialplan.add(number, functools.partial(run_menu, engine, menu))
        if numbered:
            dialplan.add_code(office.features.record_greeting,
                              lambda number: functools.partial(record_greeting, engine,
                                                               numbered.get(number)))
        for menu in office.menus:
            missing = engine.prompts.missing([*menu.greeting, *menu.timeout_prompt,
                                              *menu.invalid_prompt])
            if missing and menu.recording not in engine.prompts:
                log.warning("menu %s: no prompt %s (callers hear beeps instead); see "
                            "docs/prompts.md", menu.name, ", ".join(missing))

    def destination(self, name: str) -> Destination | None:
        menu = self._menus.get(name)
        if menu is None or self._engine is None:
            return None
        return functools.partial(run_menu, self._engine, menu)

    def start(self, engine: Engine) -> None:
        """Nothing runs between calls."""

    async def stop(self) -> None:
        """Nothing to let go of."""
