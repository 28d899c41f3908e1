"""The FXO port on an Si3050 DAA: `hal.interfaces.Trunk`, as the virtual board's line is.

The poller calls `poll`; the DAA's readings go through the pure `LineWatch`, whose events
(RingStarted, RingStopped, LineReversal, LoopCurrentLost) reach the firmware's listener on
the loop. Seize and release write the DAA's off-hook bit. Audio: the port's PCM timeslot;
on-hook it carries what the on-hook line monitor passes (caller ID between the rings).
A fault takes the port out of service with one log line; the box runs on.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from hal.audio import Frame
from hal.events import TrunkEvent
from hal.rpi.chipport import ChipPort
from hal.rpi.country import Country
from hal.rpi.daa import Si3050
from hal.rpi.daa_watch import LineWatch
from hal.rpi.pcm import PcmPort

log = logging.getLogger(__name__)


class DaaTrunk(ChipPort):
    out_of_service = "the phone line is out of service"

    def __init__(
        self, name: str, daa: Si3050, pcm: PcmPort, loop: asyncio.AbstractEventLoop
    ) -> None:
        super().__init__(name)
        self.daa = daa
        self._pcm = pcm
        self._loop = loop
        self.watch = LineWatch(name)
        self._listener: Callable[[TrunkEvent], None] | None = None

    # -- Trunk -------------------------------------------------------------------------------

    @property
    def name(self) -> str:
        return self._name

    @property
    def line_present(self) -> bool:
        return self.fault is None and self._up and self.watch.line_present

    @property
    def off_hook(self) -> bool:
        return self.daa.seized

    def set_listener(self, listener: Callable[[TrunkEvent], None]) -> None:
        self._listener = listener

    def seize(self) -> None:
        if self._up:
            self._guarded(self.daa.seize)

    def release(self) -> None:
        if self._up:
            self._guarded(self.daa.release)

    def read_frame(self) -> Frame | None:
        return self._pcm.read_frame() if self._up else None

    def write_frame(self, frame: Frame) -> None:
        if self._up and self.daa.seized:
            self._pcm.write_frame(frame)

    # -- the driver side -------------------------------------------------------------------

    async def bring_up(self, country: Country, pcm_slot: int) -> None:
        await self.daa.bring_up(country, pcm_slot)
        self._up = True

    def status(self) -> dict[str, Any]:
        return {"port": self._name, "chip": self.daa.chip, "fault": self.fault,
                "seized": self.daa.seized, "line_present": self.line_present,
                "ringing": self.watch.ringing, "polarity": self.watch.polarity,
                "spi_frames": self.daa.transactions}

    def _enable_chip_interrupts(self) -> None:
        self.daa.enable_interrupts()

    def _clear_chip_interrupts(self) -> None:
        self.daa.clear_interrupts()

    def _poll(self) -> None:
        if self.health_check_due:
            self.daa.check_alive()
        was_present = self.watch.line_present
        for event in self.watch.sample(self.daa.reading(), self._loop.time()):
            if self._listener is not None:
                self._listener(event)
        if was_present != self.watch.line_present:
            log.warning("%s: the phone line is %s", self._name,
                        "back" if self.watch.line_present else "dead (no battery voltage)")
