"""What the front panel's buttons do to the box (when they do it: `firmware.panel.front`).

    NIGHT       night mode on or off by hand: the very toggle `*28` makes
    PAIR        short press: every DECT handset beeps (to find it); held 3 s: the base
                takes new handsets for 60 s
    RESET       held 10 s: factory reset, keeping voicemail, then restart

None of them blocks the loop: night mode's file and the reset request are written by a
worker thread; the DECT base only queues a request to its module.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from firmware.apps.timecond import ScheduleApp
from firmware.logs import call_event
from firmware.service.reset import request_reset
from hal.dect.errors import DectError

if TYPE_CHECKING:
    from firmware.engine.pbx import Engine
    from hal.interfaces import DectBase

__all__ = ["PAIRING_WINDOW_S", "ButtonActions"]

log = logging.getLogger(__name__)

PAIRING_WINDOW_S = 60.0


class ButtonActions:
    def __init__(self, engine: Engine, dect: DectBase | None, state_dir: Path,
                 restart: Callable[[], None]) -> None:
        self.engine = engine
        self.dect = dect
        self.state_dir = state_dir
        self.restart = restart  # the box's way down and up again (main.py)

    async def toggle_night(self) -> None:
        schedule = self.engine.apps.get("schedule")
        if not isinstance(schedule, ScheduleApp):
            log.warning("NIGHT pressed, but the box runs no business-hours application")
            return
        night = await schedule.toggle()
        call_event("night-mode", by="panel", night=night)

    def page_handsets(self) -> None:
        if self.dect is None:
            log.info("PAIR pressed, but this board has no DECT base")
            return
        try:
            self.dect.page()
        except DectError as exc:
            log.warning("could not page the DECT handsets: %s", exc)
            return
        call_event("dect-page", by="panel")

    def open_pairing(self) -> None:
        if self.dect is None:
            log.info("PAIR held, but this board has no DECT base")
            return
        try:
            self.dect.open_registration(PAIRING_WINDOW_S)
        except DectError as exc:
            log.warning("could not open the DECT pairing window: %s", exc)

    async def factory_reset(self) -> bool:
        """Ask for the reset (carried out once the box is down) and restart. False: it
        could not be asked for, and nothing happens."""
        try:
            await asyncio.to_thread(request_reset, self.state_dir, True)
        except OSError as exc:
            log.error("factory reset not recorded (%s): nothing was reset", exc)
            return False
        log.warning("factory reset asked for on the front panel (voicemail is kept): "
                    "restarting")
        self.restart()
        return True
