"""How one line-card port is wired to the Pi, from the board config (board-configs/*.toml)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True, slots=True)
class PortWiring:
    kind: Literal["fxs", "fxo"]
    port: int
    chip: str  # "si3210", "si3215" (fxs) or "si3050" (fxo)
    spi_bus: int  # /dev/spidev<spi_bus>.<spi_cs>
    spi_cs: int
    pcm_slot: int  # the port's PCM timeslot: its channel of the sound card
    reset_pin: int | None = None  # BCM GPIO, active low, may be shared by several chips
    interrupt_pin: int | None = None  # BCM GPIO, open drain, active low, may be shared

    @property
    def name(self) -> str:
        return f"{self.kind}:{self.port}"
