"""Board spec -> the Raspberry Pi board. The only module that imports hardware libraries,
and only when a Pi board is built: the virtual board never needs them.

A missing library is one clear message naming every missing piece and the extra to
install, not a traceback from deep inside a driver.
"""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import Mapping, Sequence
from types import ModuleType

from hal.interfaces import Panel
from hal.rpi.board import RpiBoard
from hal.rpi.country import country as country_settings
from hal.rpi.devices import Devices, HardwareDevices
from hal.rpi.panel import GpioPanel
from hal.rpi.wiring import PortWiring
from hal.sim.panel import SimPanel

RPI_EXTRA = "pip install '.[rpi]'"

# module -> what it is for
LIBRARIES = {
    "spidev": "the SLIC/DAA chips over SPI",
    "sounddevice": "the line card's PCM audio",
    "gpiozero": "reset and interrupt pins, the front panel",
}


class MissingLibrary(RuntimeError):
    """A hardware library the Pi backend needs is not installed (or cannot load)."""


def import_libraries(names: Sequence[str] = tuple(LIBRARIES)) -> dict[str, ModuleType]:
    found: dict[str, ModuleType] = {}
    missing: list[str] = []
    for name in names:
        try:
            found[name] = importlib.import_module(name)
        except ImportError:
            missing.append(f"{name} ({LIBRARIES[name]})")
        except OSError as exc:  # sounddevice without the PortAudio library
            raise MissingLibrary(
                f"{name} is installed but cannot load: {exc}; on Raspberry Pi OS: "
                "sudo apt install libportaudio2") from exc
    if missing:
        raise MissingLibrary(
            "the Raspberry Pi backend needs " + ", ".join(missing) + ", which "
            + ("is" if len(missing) == 1 else "are") + f" not installed; install the rpi "
            f"extra: {RPI_EXTRA}  (or run the virtual board: --board board-configs/sim.toml)")
    return found


def build_board(
    name: str,
    wiring: Sequence[PortWiring],
    audio_device: str,
    country: str,
    buttons: tuple[str, ...],
    leds: tuple[str, ...],
    loop: asyncio.AbstractEventLoop,
    devices: Devices | None = None,
    *,
    button_pins: Mapping[str, int] | None = None,
    led_pins: Mapping[str, int] | None = None,
    panel: Panel | None = None,
) -> RpiBoard:
    """The board; with `devices` (fakes) nothing is imported from the hardware libraries,
    and the front panel is `panel` (e.g. a GpioPanel on gpiozero's MockFactory), else a
    virtual one that only keeps the LEDs' patterns."""
    if devices is None:
        libs = import_libraries()
        devices = HardwareDevices(libs["spidev"], libs["sounddevice"], libs["gpiozero"],
                                  audio_device)
        if panel is None:
            panel = GpioPanel(libs["gpiozero"], _pins(buttons, button_pins, "button"),
                              _pins(leds, led_pins, "LED"), loop)
    if panel is None:
        panel = SimPanel(buttons, leds, loop)
    return RpiBoard(name, wiring, devices, country_settings(country), panel, loop)


def _pins(names: tuple[str, ...], pins: Mapping[str, int] | None, what: str
          ) -> dict[str, int]:
    """Every name's pin (the board config requires them on a real board)."""
    pins = pins or {}
    if missing := [name for name in names if name not in pins]:
        raise ValueError(f"no GPIO pin for the {what} {', '.join(missing)}")
    return {name: pins[name] for name in names}
