"""The front panel a board config describes: its LEDs (what each shows, its pin) and its
buttons, under the names the HAL panel knows them by.

Every `[[led]]` is one LED named for what it shows ("power", "trunk", "mwi", ...), except
LINE LEDs, which show analog ports (`ports`, default every FXS port of the board):

- a LINE LED on a pin (a real board) is one LED for its ports: "line" when it shows every
  port, else "line:1+2";
- the virtual board has no pins and draws a LED per port: "line:1", "line:2", ...
"""

from __future__ import annotations

from dataclasses import dataclass

from firmware.config import BoardConfig, LedConfig

__all__ = ["PanelButton", "PanelLayout", "PanelLed", "panel_layout"]


@dataclass(frozen=True, slots=True)
class PanelLed:
    name: str  # as the HAL panel knows it: "power", "line:2"
    shows: str  # what it shows: the [[led]] name ("power", "line", ...)
    ports: tuple[str, ...] = ()  # LINE LEDs: the analog ports, "fxs:1" ...
    pin: int | None = None


@dataclass(frozen=True, slots=True)
class PanelButton:
    name: str  # "night", "pair", "reset"
    pin: int | None = None


@dataclass(frozen=True, slots=True)
class PanelLayout:
    leds: tuple[PanelLed, ...]
    buttons: tuple[PanelButton, ...]

    @property
    def led_names(self) -> tuple[str, ...]:
        return tuple(led.name for led in self.leds)

    @property
    def button_names(self) -> tuple[str, ...]:
        return tuple(button.name for button in self.buttons)

    def led_pins(self) -> tuple[tuple[str, int], ...]:
        return tuple((led.name, led.pin) for led in self.leds if led.pin is not None)

    def button_pins(self) -> tuple[tuple[str, int], ...]:
        return tuple((b.name, b.pin) for b in self.buttons if b.pin is not None)


def panel_layout(board: BoardConfig) -> PanelLayout:
    every_port = tuple(sorted(p.port for p in board.fxs))
    leds: list[PanelLed] = []
    for config in board.leds:
        leds += _leds_of(config, every_port)
    return PanelLayout(_unique(leds),
                       tuple(PanelButton(b.name, b.pin) for b in board.buttons))


def _leds_of(config: LedConfig, every_port: tuple[int, ...]) -> list[PanelLed]:
    if config.name != "line":
        return [PanelLed(config.name, config.name, pin=config.pin)]
    ports = tuple(sorted(set(config.ports or every_port)))
    if config.pin is None:  # drawn, not wired: one per port
        return [PanelLed(f"line:{p}", "line", (f"fxs:{p}",)) for p in ports]
    name = "line" if ports == every_port else "line:" + "+".join(map(str, ports))
    return [PanelLed(name, "line", tuple(f"fxs:{p}" for p in ports), config.pin)]


def _unique(leds: list[PanelLed]) -> tuple[PanelLed, ...]:
    """Two LINE LEDs showing the same ports would share a name: number the later ones."""
    seen: set[str] = set()
    out = []
    for led in leds:
        name, n = led.name, 1
        while name in seen:
            n += 1
            name = f"{led.name}#{n}"
        seen.add(name)
        out.append(PanelLed(name, led.shows, led.ports, led.pin))
    return tuple(out)
