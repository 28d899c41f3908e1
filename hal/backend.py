"""Build the backend a board config asks for; the firmware only sees the interfaces."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from hal.sim.board import SimBoard


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


def load(spec: BoardSpec, loop: asyncio.AbstractEventLoop) -> SimBoard:
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
    raise BackendUnavailable(
        f"board {spec.name!r} needs the {spec.backend!r} backend, which this firmware does not"
        " drive yet; run the virtual board with --board board-configs/sim.toml"
    )
