"""What the board opens on the Pi: SPI chip selects, the sound card, reset and interrupt pins.

`Devices` is the seam between the drivers and the hardware libraries: `HardwareDevices`
uses spidev, sounddevice and gpiozero (handed in already imported by `assembly.py`), and
`hal.rpi.fakes.devices.FakeDevices` gives the register-level fakes and the loopback PCM.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from hal.rpi.pcm import PcmHighway, PcmStream
from hal.rpi.pcm_sounddevice import SounddevicePcm
from hal.rpi.spi import SpidevPort, SpiPort


class PinError(OSError):
    """A GPIO pin cannot be used (not a Pi, pin busy, no pin library)."""


class ResetLine(Protocol):
    def set(self, asserted: bool) -> None: ...

    def close(self) -> None: ...


class InterruptLine(Protocol):
    def close(self) -> None: ...


class Devices(Protocol):
    def spi(self, bus: int, cs: int) -> SpiPort:
        """Raises SpiError when the chip select cannot be opened."""
        ...

    def pcm(self, highway: PcmHighway) -> PcmStream: ...

    def reset_line(self, pin: int) -> ResetLine:
        """Raises PinError."""
        ...

    def interrupt_line(self, pin: int, on_edge: Callable[[], None]) -> InterruptLine:
        """`on_edge` is called on the library's thread when the line goes active (low).
        Raises PinError."""
        ...


class GpioReset:
    """An active-low reset line: gpiozero drives the pin low while asserted."""

    def __init__(self, gpiozero: Any, pin: int) -> None:
        try:
            self._out = gpiozero.DigitalOutputDevice(pin, active_high=False,
                                                     initial_value=False)
        except gpiozero.GPIOZeroError as exc:
            raise PinError(f"GPIO {pin}: {exc}") from exc

    def set(self, asserted: bool) -> None:
        if asserted:
            self._out.on()
        else:
            self._out.off()

    def close(self) -> None:
        self._out.close()


class GpioInterrupt:
    """An open-drain, active-low interrupt line with the Pi's pull-up."""

    def __init__(self, gpiozero: Any, pin: int, on_edge: Callable[[], None]) -> None:
        try:
            self._in = gpiozero.DigitalInputDevice(pin, pull_up=True)
        except gpiozero.GPIOZeroError as exc:
            raise PinError(f"GPIO {pin}: {exc}") from exc
        self._in.when_activated = on_edge

    def close(self) -> None:
        self._in.close()


class HardwareDevices:
    def __init__(self, spidev: Any, sounddevice: Any, gpiozero: Any, audio_device: str) -> None:
        self._spidev = spidev
        self._sd = sounddevice
        self._gpiozero = gpiozero
        self._audio_device = audio_device

    def spi(self, bus: int, cs: int) -> SpiPort:
        return SpidevPort(self._spidev, bus, cs)

    def pcm(self, highway: PcmHighway) -> PcmStream:
        return SounddevicePcm(self._sd, highway, self._audio_device)

    def reset_line(self, pin: int) -> ResetLine:
        return GpioReset(self._gpiozero, pin)

    def interrupt_line(self, pin: int, on_edge: Callable[[], None]) -> InterruptLine:
        return GpioInterrupt(self._gpiozero, pin, on_edge)
