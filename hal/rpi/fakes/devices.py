"""The board's devices made of fakes: register-level chips on their chip selects, the
loopback PCM, reset and interrupt lines that act on the fake chips."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Literal

from hal.rpi.fakes.daa import FakeDaa
from hal.rpi.fakes.proslic import FakeProSlic
from hal.rpi.pcm import PcmHighway
from hal.rpi.pcm_loopback import LoopbackPcm
from hal.rpi.spi import SpiError
from hal.rpi.wiring import PortWiring

FakeChip = FakeProSlic | FakeDaa


class FakeResetLine:
    def __init__(self, devices: FakeDevices) -> None:
        self._devices = devices
        self._asserted = False

    def set(self, asserted: bool) -> None:
        if self._asserted and not asserted:
            for chip in self._devices.chips.values():
                chip.reset()
        self._asserted = asserted

    def close(self) -> None:
        """Nothing to release."""


class FakeInterruptLine:
    def __init__(self, devices: FakeDevices, pin: int) -> None:
        self._devices, self._pin = devices, pin

    def close(self) -> None:
        self._devices.interrupts.pop(self._pin, None)


class FakeDevices:
    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        chips: dict[tuple[int, int], FakeChip],
        pcm_clock: Literal["loop", "thread"] = "loop",
    ) -> None:
        self._loop = loop
        self.chips = chips  # by (spi bus, chip select); a missing one cannot be opened
        self._pcm_clock: Literal["loop", "thread"] = pcm_clock
        self.loopback: LoopbackPcm | None = None
        self.interrupts: dict[int, Callable[[], None]] = {}

    @classmethod
    def for_wiring(cls, loop: asyncio.AbstractEventLoop, wiring: Sequence[PortWiring],
                   pcm_clock: Literal["loop", "thread"] = "loop") -> FakeDevices:
        """A healthy fake chip of the configured kind on every chip select."""
        chips: dict[tuple[int, int], FakeChip] = {}
        for w in wiring:
            key = (w.spi_bus, w.spi_cs)
            chips[key] = FakeDaa(loop.time) if w.kind == "fxo" else FakeProSlic(loop.time, w.chip)
        return cls(loop, chips, pcm_clock)

    def chip(self, w: PortWiring) -> FakeChip:
        return self.chips[(w.spi_bus, w.spi_cs)]

    def spi(self, bus: int, cs: int) -> FakeChip:
        chip = self.chips.get((bus, cs))
        if chip is None:
            raise SpiError(f"cannot open /dev/spidev{bus}.{cs}: No such file or directory")
        return chip

    def pcm(self, highway: PcmHighway) -> LoopbackPcm:
        self.loopback = LoopbackPcm(highway, self._pcm_clock)
        return self.loopback

    def reset_line(self, pin: int) -> FakeResetLine:
        return FakeResetLine(self)

    def interrupt_line(self, pin: int, on_edge: Callable[[], None]) -> FakeInterruptLine:
        self.interrupts[pin] = on_edge
        return FakeInterruptLine(self, pin)
