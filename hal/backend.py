"""Build the backend a board config asks for; the firmware only sees the interfaces."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING

from hal.rpi.wiring import PortWiring
from hal.sim.board import SimBoard

if TYPE_CHECKING:
    from hal.dect.backend import UartDectBase
    from hal.rpi.board import RpiBoard


class BackendUnavailable(RuntimeError):
    """The board config names a backend this build cannot drive (yet, or without extras)."""


@dataclass(frozen=True, slots=True)
class BoardSpec:
    """What the HAL needs from a validated board config."""

    name: str
    backend: str
    fxs: tuple[int, ...]
    fxo: tuple[int, ...]
    dect_slots: int | None
    buttons: tuple[str, ...]
    leds: tuple[str, ...]
    # Real boards only: how each line-card port is wired, the sound card, and the office's
    # country (ringing and line impedance are set in the chips).
    wiring: tuple[PortWiring, ...] = ()
    audio_device: str | None = None
    country: str = "us"
    dect_uart: str | None = None  # a DECT module on a serial port ([dect] uart, baud)
    dect_baud: int | None = None
    button_pins: tuple[tuple[str, int], ...] = ()  # real boards: the front panel's GPIOs
    led_pins: tuple[tuple[str, int], ...] = ()


def load(spec: BoardSpec, loop: asyncio.AbstractEventLoop) -> SimBoard | RpiBoard:
    if spec.backend == "sim":
        return SimBoard(
            spec.name,
            fxs=spec.fxs,
            fxo=spec.fxo,
            dect_slots=spec.dect_slots,
            buttons=spec.buttons,
            leds=spec.leds,
            loop=loop,
        )
    if spec.backend == "rpi":
        return _load_rpi(spec, loop)
    raise BackendUnavailable(
        f"board {spec.name!r} needs the {spec.backend!r} backend, which this firmware does not"
        " drive yet; run the virtual board with --board board-configs/sim.toml"
    )


def _load_rpi(spec: BoardSpec, loop: asyncio.AbstractEventLoop) -> RpiBoard:
    # Imported here: the Pi backend loads spidev, sounddevice and gpiozero when it builds.
    from hal.rpi.assembly import MissingLibrary, build_board

    try:
        return build_board(spec.name, spec.wiring, spec.audio_device or "default",
                           spec.country, spec.buttons, spec.leds, loop,
                           button_pins=dict(spec.button_pins), led_pins=dict(spec.led_pins))
    except MissingLibrary as exc:
        raise BackendUnavailable(f"board {spec.name!r}: {exc}") from exc


def load_dect(spec: BoardSpec, loop: asyncio.AbstractEventLoop) -> UartDectBase | None:
    """The DECT module on the serial port the board config names, if it names one (the
    virtual board's base comes with the SimBoard). pyserial is imported when it opens."""
    if spec.dect_uart is None or spec.dect_slots is None:
        return None
    from hal.dect.backend import UartDectBase

    return UartDectBase(spec.dect_uart, spec.dect_baud or 115200, spec.dect_slots, loop)
