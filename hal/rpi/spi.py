"""One SPI chip select, spoken to one byte per chip-select frame.

Both chips of the line card frame every byte with its own chip select: the ProSLIC takes a
control byte then a data byte, the DAA a control byte, an address byte and a data byte, and
chip select must rise between bytes (the Si3210 and Si3050 data sheets; DAHDI's wctdm
bit-bangs its serial port the same way). So the unit of transfer here is one byte, and one
byte is one spidev transaction (one ioctl).
"""

from __future__ import annotations

from typing import Any, Protocol

SPI_MODE = 3  # clock idles high, data sampled on the rising edge (both chips)
SPI_SPEED_HZ = 2_000_000  # well inside both chips' limits; a register access takes ~10 us


class SpiError(OSError):
    """A transfer on the SPI bus failed (the device file vanished, the driver refused)."""


class SpiPort(Protocol):
    """One chip select: `exchange` shifts one byte out and returns the byte shifted in."""

    def exchange(self, byte: int) -> int: ...

    def close(self) -> None: ...


class SpidevPort:
    """`/dev/spidev<bus>.<cs>` through the spidev module (imported by the caller)."""

    def __init__(self, spidev: Any, bus: int, cs: int) -> None:
        self.path = f"/dev/spidev{bus}.{cs}"
        self._dev = spidev.SpiDev()
        try:
            self._dev.open(bus, cs)
        except OSError as exc:
            raise SpiError(f"cannot open {self.path}: {exc.strerror or exc}") from exc
        self._dev.mode = SPI_MODE
        self._dev.max_speed_hz = SPI_SPEED_HZ
        self._dev.bits_per_word = 8

    def exchange(self, byte: int) -> int:
        try:
            return int(self._dev.xfer2([byte])[0])
        except OSError as exc:
            raise SpiError(f"{self.path}: {exc.strerror or exc}") from exc

    def close(self) -> None:
        self._dev.close()
