"""The virtual board: every port of a board config, scriptable and observable.

It is a first-class product (DESIGN.md): someone without hardware runs the box on it and
drives the virtual phones through the control interface (`hal.sim.control`).
"""

from __future__ import annotations

import asyncio
from typing import Any

from hal.sim.dect import SimDectBase
from hal.sim.fxo import SimFxoLine
from hal.sim.line import SimAnalogLine
from hal.sim.panel import SimPanel


class SimBoard:
    def __init__(
        self,
        name: str,
        *,
        fxs: tuple[int, ...],
        fxo: tuple[int, ...],
        dect_slots: int | None,
        buttons: tuple[str, ...],
        leds: tuple[str, ...],
        loop: asyncio.AbstractEventLoop,
    ) -> None:
        self._name = name
        self._lines = {f"fxs:{n}": SimAnalogLine(f"fxs:{n}", loop) for n in fxs}
        self._trunks = {f"fxo:{n}": SimFxoLine(f"fxo:{n}", loop) for n in fxo}
        self._dect = SimDectBase(dect_slots, loop) if dect_slots else None
        self._panel = SimPanel(buttons, leds, loop)
        self._published: dict[str, Any] = {}

    @property
    def name(self) -> str:
        return self._name

    @property
    def lines(self) -> dict[str, SimAnalogLine]:
        return self._lines

    @property
    def trunks(self) -> dict[str, SimFxoLine]:
        return self._trunks

    @property
    def dect(self) -> SimDectBase | None:
        return self._dect

    @property
    def panel(self) -> SimPanel:
        return self._panel

    @property
    def published(self) -> dict[str, Any]:
        return self._published

    def publish(self, info: dict[str, Any]) -> None:
        """Facts the firmware lets the control interface tell (which extension is on which
        port, the country): the virtual phone tool needs them to speak a person's language."""
        self._published = dict(info)

    def ports(self) -> dict[str, list[str]]:
        return {
            "fxs": list(self._lines),
            "fxo": list(self._trunks),
            "dect": [f"dect:{n}" for n in range(1, self._dect.slots + 1)] if self._dect else [],
            "buttons": list(self._panel.buttons),
            "leds": list(self._panel.leds),
        }

    async def start(self) -> None:
        """Nothing to bring up: virtual ports are ready at once."""

    async def stop(self) -> None:
        """Nothing to release."""
