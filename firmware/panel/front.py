"""The front panel on the loop: drives the HAL's LEDs from the box's state and turns button
presses into actions.

LEDs: the panel reads the whole box (`reading.read_box`) whenever something may have
changed (`poke`: from the taps on the analog lines and the DECT base, the box's publish
hook, message waiting, its own buttons), at most once per loop iteration, and sets only
the LEDs whose pattern changed. Where the hardware changes without telling (faults, line
voltage, on real boards) it also looks every POLL_S. The engine never calls the panel.

Buttons: presses and releases from the HAL go to the hold tracker (`holds`), whose one
deadline is one `call_at`; the gestures it tells become actions (`actions`):

    gesture                         action
    NIGHT released                  night mode on/off (*28)
    PAIR released before 3 s        page the DECT handsets
    PAIR held 3 s                   open the DECT pairing window (60 s)
    RESET held 3 s                  POWER shows the warning
    RESET held 10 s                 factory reset, then restart (POWER flutters)
    RESET released before 10 s      the warning goes; nothing else happens

Until the box is up (`attach`) the buttons do nothing and only POWER shows (flutter).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

from firmware.panel.actions import ButtonActions
from firmware.panel.holds import Gesture, HeldFor, HoldTracker, Released
from firmware.panel.layout import PanelLayout
from firmware.panel.patterns import BoxState, Life, led_patterns
from firmware.panel.reading import Sources, read_box
from hal.events import ButtonEvent, ButtonPressed
from hal.interfaces import LedPattern, Panel

__all__ = ["HOLD_MARKS", "PAIR_HOLD_S", "POLL_S", "RESET_HOLD_S", "RESET_WARN_S",
           "FrontPanel"]

log = logging.getLogger(__name__)

PAIR_HOLD_S = 3.0
RESET_WARN_S = 3.0
RESET_HOLD_S = 10.0
HOLD_MARKS = {"pair": (PAIR_HOLD_S,), "reset": (RESET_WARN_S, RESET_HOLD_S)}
POLL_S = 1.0  # real boards only: faults and line voltage change without an event


class FrontPanel:
    def __init__(self, hal: Panel, layout: PanelLayout, loop: asyncio.AbstractEventLoop
                 ) -> None:
        self._hal = hal
        self._layout = layout
        self._loop = loop
        self.life = Life.BOOTING
        self._sources: Sources | None = None
        self._actions: ButtonActions | None = None
        self._holds = HoldTracker(HOLD_MARKS)
        self._hold_timer: asyncio.TimerHandle | None = None
        self._hold_due = 0.0
        self._soon: asyncio.Handle | None = None
        self._poll: asyncio.TimerHandle | None = None
        self._shown: dict[str, LedPattern] = {}
        hal.set_listener(self._on_button)
        self.refresh()

    # -- the box's life -----------------------------------------------------------------

    def attach(self, sources: Sources, actions: ButtonActions) -> None:
        """The box is built: read it from now on, and let the buttons act."""
        self._sources, self._actions = sources, actions
        sources.engine.mwi.listen(lambda _mailbox, _counts: self.poke())
        if sources.changes_unannounced:
            self._poll = self._loop.call_later(POLL_S, self._polled)
        self.poke()

    def ready(self) -> None:
        self.life = Life.RUNNING
        self.refresh()

    def stop(self) -> None:
        """The box goes down: POWER flutters until it is up again (or the power is off)."""
        for handle in (self._hold_timer, self._soon, self._poll):
            if handle is not None:
                handle.cancel()
        self._hold_timer = self._soon = self._poll = None
        self._sources = self._actions = None
        self.life = Life.RESTARTING
        self.refresh()

    # -- LEDs ---------------------------------------------------------------------------

    def poke(self) -> None:
        """Something may have changed: look again once the loop is done with it."""
        if self._soon is None:
            self._soon = self._loop.call_soon(self._poked)

    def _poked(self) -> None:
        self._soon = None
        self.refresh()

    def _polled(self) -> None:
        self._poll = self._loop.call_later(POLL_S, self._polled)
        self.refresh()

    def refresh(self) -> None:
        state = read_box(self._sources) if self._sources is not None else BoxState()
        for name, pattern in led_patterns(self._layout, self.life, state).items():
            if self._shown.get(name) is not pattern:
                self._hal.set_led(name, pattern)
                self._shown[name] = pattern

    # -- buttons ------------------------------------------------------------------------

    def _on_button(self, event: ButtonEvent) -> None:
        if self._actions is None:
            log.info("%s button ignored: the box is not up", event.port)
            return
        if isinstance(event, ButtonPressed):
            told = self._holds.press(event.port, event.at)
        else:
            told = self._holds.release(event.port, event.at)
        self._act(told)

    def _on_hold_timer(self) -> None:
        self._hold_timer = None
        self._act(self._holds.on_timer(max(self._loop.time(), self._hold_due)))

    def _act(self, gestures: list[Gesture]) -> None:
        for gesture in gestures:
            self._do(gesture)
        self._arm_hold_timer()
        self.refresh()

    def _do(self, gesture: Gesture) -> None:
        actions = self._actions
        if actions is None:
            return
        match gesture:
            case Released("night"):
                self._spawn("night button", actions.toggle_night())
            case Released("pair", _, 0):
                actions.page_handsets()
            case HeldFor("pair", _):
                actions.open_pairing()
            case HeldFor("reset", seconds) if seconds == RESET_WARN_S:
                self.life = Life.RESET_WARNING
            case HeldFor("reset", seconds) if seconds == RESET_HOLD_S:
                self.life = Life.RESTARTING
                self._spawn("factory reset", self._factory_reset(actions))
            case Released("reset") if self.life is Life.RESET_WARNING:
                log.info("RESET let go after %.1f s: nothing was reset", gesture.held)
                self.life = Life.RUNNING

    async def _factory_reset(self, actions: ButtonActions) -> None:
        if not await actions.factory_reset():
            self.life = Life.RUNNING
            self.refresh()

    def _spawn(self, name: str, work: Coroutine[Any, Any, None]) -> None:
        assert self._sources is not None
        self._sources.engine.supervisor.spawn(name, self._then_refresh(work))

    async def _then_refresh(self, work: Coroutine[Any, Any, None]) -> None:
        try:
            await work
        finally:
            self.poke()

    def _arm_hold_timer(self) -> None:
        due = self._holds.next_deadline()
        if self._hold_timer is not None:
            if due == self._hold_due:
                return
            self._hold_timer.cancel()
            self._hold_timer = None
        if due is not None:
            self._hold_due = due
            self._hold_timer = self._loop.call_at(due, self._on_hold_timer)
