"""The Raspberry Pi board: the line card's ports, brought up side by side, each able to fail
on its own.

Start-up: pulse every reset line once, bring every chip up at the same time (a chip's waits
are awaits: five chips take as long as the slowest), start the PCM stream, then the poller.
A port whose chip does not answer or fails bring-up is out of service with a logged reason
(`faults`); the other ports, the engine and SIP run on. A sound card that will not open is a
fault too ("audio"): signalling still works, calls are silent.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Any

from hal.interfaces import DectBase, Panel
from hal.rpi.chip import ChipFault
from hal.rpi.country import Country
from hal.rpi.daa import Si3050
from hal.rpi.devices import Devices, InterruptLine, PinError, ResetLine
from hal.rpi.line import ProSlicLine
from hal.rpi.pcm import PcmError, PcmHighway
from hal.rpi.poller import POLL_INTERVAL_S, Poller
from hal.rpi.proslic import ProSlic, SlicChip
from hal.rpi.spi import SpiError, SpiPort
from hal.rpi.trunk import DaaTrunk
from hal.rpi.wiring import PortWiring

log = logging.getLogger(__name__)

RESET_HOLD_S = 0.1
RESET_SETTLE_S = 0.1


class UnopenedSpi:
    """Stands in for a chip select that could not be opened: every transfer fails, so the
    port's bring-up fails with the reason."""

    def __init__(self, reason: str) -> None:
        self._reason = reason

    def exchange(self, byte: int) -> int:
        raise SpiError(self._reason)

    def close(self) -> None:
        """Nothing was opened."""


class RpiBoard:
    def __init__(
        self,
        name: str,
        wiring: Sequence[PortWiring],
        devices: Devices,
        country: Country,
        panel: Panel,
        loop: asyncio.AbstractEventLoop,
        poll_interval_s: float = POLL_INTERVAL_S,
    ) -> None:
        self._name = name
        self._wiring = tuple(wiring)
        self._devices = devices
        self._country = country
        self._panel = panel
        self._loop = loop
        self.highway = PcmHighway(loop, [w.pcm_slot for w in self._wiring])
        self.pcm = devices.pcm(self.highway)
        self._spi: list[SpiPort] = []
        self._lines: dict[str, ProSlicLine] = {}
        self._trunks: dict[str, DaaTrunk] = {}
        for w in self._wiring:
            spi = self._open_spi(w)
            pcm = self.highway.port(w.pcm_slot)
            if w.kind == "fxs":
                chip: SlicChip = "si3210" if w.chip == "si3210" else "si3215"
                self._lines[w.name] = ProSlicLine(w.name, ProSlic(spi, chip), pcm, loop)
            else:
                self._trunks[w.name] = DaaTrunk(w.name, Si3050(spi), pcm, loop)
        self.poller = Poller(loop, [*self._lines.values(), *self._trunks.values()],
                             poll_interval_s)
        self._interrupts: list[InterruptLine] = []
        self._resets: list[ResetLine] = []  # held released while the box runs
        self._audio_fault: str | None = None
        self._published: dict[str, Any] = {}

    # -- Board -------------------------------------------------------------------------------

    @property
    def name(self) -> str:
        return self._name

    @property
    def lines(self) -> dict[str, ProSlicLine]:
        return self._lines

    @property
    def trunks(self) -> dict[str, DaaTrunk]:
        return self._trunks

    @property
    def dect(self) -> DectBase | None:
        return None  # the DECT module is its own backend (hal/dect)

    @property
    def panel(self) -> Panel:
        return self._panel

    @property
    def wiring(self) -> tuple[PortWiring, ...]:
        return self._wiring

    @property
    def faults(self) -> dict[str, str]:
        """Ports out of service (and "audio"), with why: what the front panel shows."""
        found = {name: p.fault for name, p in self._ports().items() if p.fault is not None}
        if self._audio_fault is not None:
            found["audio"] = self._audio_fault
        return found

    def ports(self) -> dict[str, list[str]]:
        return {"fxs": list(self._lines), "fxo": list(self._trunks), "dect": [],
                "buttons": list(self._panel.buttons), "leds": list(self._panel.leds)}

    @property
    def published(self) -> dict[str, Any]:
        return self._published

    def publish(self, info: dict[str, Any]) -> None:
        self._published = dict(info)

    async def start(self) -> None:
        await self._reset_chips()
        ports = self._ports()
        results = await asyncio.gather(
            *(ports[w.name].bring_up(self._country, w.pcm_slot) for w in self._wiring),
            return_exceptions=True)
        for w, result in zip(self._wiring, results, strict=True):
            if isinstance(result, ChipFault):
                ports[w.name].fail(f"{w.chip} on /dev/spidev{w.spi_bus}.{w.spi_cs}: {result}")
            elif isinstance(result, BaseException):
                raise result  # a bug, not a chip: let the supervisor see it
        self._start_audio()
        self.poller.start()
        self._watch_interrupts()
        up = [name for name, port in ports.items() if port.fault is None]
        log.info("line card: %s up%s", ", ".join(up) or "no port",
                 f"; faults: {self.faults}" if self.faults else "")

    async def stop(self) -> None:
        self.poller.stop()
        for line in (*self._interrupts, *self._resets):
            line.close()
        self._interrupts.clear()
        self._resets.clear()
        if self._audio_fault is None:
            self.pcm.stop()
        for spi in self._spi:
            spi.close()
        self._panel.close()

    def status(self) -> dict[str, Any]:
        return {"board": self._name, "ports": {n: p.status() for n, p in self._ports().items()},
                "faults": self.faults, "pcm": self.highway.counters.snapshot(),
                "polls": self.poller.polls}

    # -- bring-up helpers ------------------------------------------------------------------

    def _ports(self) -> dict[str, ProSlicLine | DaaTrunk]:
        return {**self._lines, **self._trunks}

    def _open_spi(self, w: PortWiring) -> SpiPort:
        try:
            spi = self._devices.spi(w.spi_bus, w.spi_cs)
        except SpiError as exc:
            return UnopenedSpi(f"{exc} (is the HAT's SPI overlay enabled?)")
        self._spi.append(spi)
        return spi

    async def _reset_chips(self) -> None:
        pins = sorted({w.reset_pin for w in self._wiring if w.reset_pin is not None})
        lines = self._resets
        for pin in pins:
            try:
                lines.append(self._devices.reset_line(pin))
            except PinError as exc:
                log.error("reset line: %s; the chips on it start without a reset", exc)
        if not lines:
            return
        for line in lines:
            line.set(True)
        await asyncio.sleep(RESET_HOLD_S)
        for line in lines:
            line.set(False)
        await asyncio.sleep(RESET_SETTLE_S)

    def _start_audio(self) -> None:
        try:
            self.pcm.start()
        except PcmError as exc:
            self._audio_fault = str(exc)
            log.error("audio: fault: %s; calls on the line card will be silent", exc)

    def _watch_interrupts(self) -> None:
        pins = sorted({w.interrupt_pin for w in self._wiring if w.interrupt_pin is not None})
        if not pins:
            return
        for port in self._ports().values():
            port.enable_interrupts()
        for pin in pins:
            try:
                self._interrupts.append(
                    self._devices.interrupt_line(pin, self.poller.interrupted))
            except PinError as exc:
                log.warning("interrupt line: %s; polling alone watches the chips", exc)
