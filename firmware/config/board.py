"""The board config: what hardware the box has and how it is wired (board-configs/*.toml).

The schema checks each value; `_board_checks` checks what involves several: unique port
numbers and pins, the wiring keys a real (rpi) board needs and the virtual (sim) board must
not have, SPI chip selects and PCM slots, and the front panel.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    Field,
    PrivateAttr,
    StrictInt,
    StrictStr,
    ValidationInfo,
    model_validator,
)

from firmware.config.explain import example_of, table_name
from firmware.config.model import Model, Pin, PortNumber, run_checks, validate
from firmware.config.problems import ConfigError, Issue, reject
from firmware.config.reading import parse_toml, read_text
from firmware.config.tomlkeys import KeyPath, format_key, is_int, lookup, tables

__all__ = [
    "AudioConfig",
    "BoardConfig",
    "ButtonConfig",
    "DectConfig",
    "FxoPortConfig",
    "FxsPortConfig",
    "LedConfig",
    "load_board",
    "parse_board",
    "sorted_devices",
]


class _PortConfig(Model):
    port: PortNumber
    spi_bus: Annotated[StrictInt, Field(ge=0, le=6)] | None = None  # rpi: /dev/spidevB.C
    spi_cs: Annotated[StrictInt, Field(ge=0, le=3)] | None = None
    pcm_slot: Annotated[StrictInt, Field(ge=0, le=31)] | None = None  # rpi: PCM timeslot
    reset_pin: Pin | None = None
    interrupt_pin: Pin | None = None


class FxsPortConfig(_PortConfig):
    """An FXS port: an analog phone plugs in here."""

    chip: Literal["si3210", "si3215"] | None = None


class FxoPortConfig(_PortConfig):
    """An FXO port: the office's analog phone line (trunk) plugs in here."""

    chip: Literal["si3050"] | None = None


def _check_uart(value: str) -> str:
    if not re.fullmatch(r"/dev/\S+", value):
        reject(f"{value!r} is not a serial device path",
               'use the device file, e.g. uart = "/dev/serial0"')
    return value


class DectConfig(Model):
    slots: Annotated[StrictInt, Field(ge=1, le=8)]  # handset slots: dect:1 .. dect:<slots>
    uart: Annotated[StrictStr, AfterValidator(_check_uart)] | None = None  # rpi: serial port
    baud: Literal[9600, 19200, 38400, 57600, 115200, 230400, 460800, 921600] | None = None
    reset_pin: Pin | None = None


class ButtonConfig(Model):
    name: Literal["night", "pair", "reset"]
    pin: Pin | None = None


class LedConfig(Model):
    name: Literal["power", "trunk", "line", "mwi", "night", "dect"]
    pin: Pin | None = None
    # 'line' LEDs only: the FXS ports it shows (None: all of them)
    ports: Annotated[tuple[PortNumber, ...], Field(min_length=1)] | None = None


class AudioConfig(Model):
    device: Annotated[StrictStr, Field(min_length=1)]  # rpi: ALSA PCM device name


class BoardConfig(Model):
    """What hardware the box has and how it is wired (board-configs/*.toml)."""

    name: Annotated[StrictStr, Field(min_length=1, max_length=80)]
    backend: Literal["sim", "rpi"]
    fxs: tuple[FxsPortConfig, ...] = ()
    fxo: tuple[FxoPortConfig, ...] = ()
    dect: DectConfig | None = None
    buttons: tuple[ButtonConfig, ...] = Field(default=(), alias="button")
    leds: tuple[LedConfig, ...] = Field(default=(), alias="led")
    audio: AudioConfig | None = None

    _source: str = PrivateAttr(default="the board config")

    @property
    def source(self) -> str:
        """The file this board was read from (for error messages)."""
        return self._source

    def device_names(self) -> frozenset[str]:
        """'fxs:1', ..., 'fxo:1', 'dect:1'..'dect:N' (N = DECT handset slots)."""
        names = {f"fxs:{p.port}" for p in self.fxs} | {f"fxo:{p.port}" for p in self.fxo}
        slots = self.dect.slots if self.dect else 0
        return frozenset(names | {f"dect:{n}" for n in range(1, slots + 1)})

    @model_validator(mode="after")
    def _cross_checks(self, info: ValidationInfo) -> BoardConfig:
        run_checks(self, info, _board_checks)
        return self


def sorted_devices(names: Iterable[str]) -> list[str]:
    def order(name: str) -> tuple[int, int]:
        kind, _, num = name.partition(":")
        return (("fxs", "dect", "fxo").index(kind), int(num))

    return sorted(names, key=order)


# rpi wiring: keys each table must have, and pins the HAT's buses already use.
_RPI_PORT_KEYS = ("chip", "spi_bus", "spi_cs", "pcm_slot")
_RPI_OPTIONAL = ("reset_pin", "interrupt_pin")
_SHAREABLE_PIN_KEYS = ("reset_pin", "interrupt_pin")  # one reset/IRQ line for many chips
_ID_EEPROM_PINS = {0: "ID_SD (HAT EEPROM)", 1: "ID_SC (HAT EEPROM)"}
_SPI0_PINS = {7: "SPI0 CE1", 8: "SPI0 CE0", 9: "SPI0 MISO", 10: "SPI0 MOSI", 11: "SPI0 SCLK"}
_PCM_PINS = {18: "PCM CLK", 19: "PCM FS", 20: "PCM DIN", 21: "PCM DOUT"}
_UART0_PINS = {14: "UART TXD", 15: "UART RXD"}
_UART0_DEVICES = ("/dev/serial0", "/dev/ttyAMA0", "/dev/ttyS0")


def _board_tables(data: Mapping[str, Any]) -> Iterator[tuple[KeyPath, Mapping[str, Any]]]:
    for key in ("fxs", "fxo", "button", "led"):
        yield from tables(data, key)
    for key in ("dect", "audio"):
        if isinstance(data.get(key), Mapping):
            yield (key,), data[key]


def _board_checks(data: Mapping[str, Any]) -> list[Issue]:
    """Checks that involve more than one value of a board config."""
    issues = _unique_ports(data)
    backend = data.get("backend")
    if backend == "rpi":
        issues += _rpi_required(data) + _rpi_wiring(data)
    elif backend == "sim":
        issues += _sim_forbidden(data)
    issues += _unique_pins(data, reserved=_reserved_pins(data) if backend == "rpi" else {})
    return issues + _panel_checks(data)


def _unique_ports(data: Mapping[str, Any]) -> list[Issue]:
    issues = []
    for kind in ("fxs", "fxo"):
        seen: dict[int, KeyPath] = {}
        for path, table in tables(data, kind):
            port = table.get("port")
            if is_int(port) and port in seen:
                issues.append(Issue(
                    (*path, "port"), f"{kind} port {port} is listed twice",
                    f"give each [[{kind}]] its own port number (the other is "
                    f"{format_key(seen[port])})"))
            elif is_int(port):
                seen[port] = path
    return issues


def _rpi_required(data: Mapping[str, Any]) -> list[Issue]:
    needed: list[tuple[KeyPath, str, str]] = []
    for kind in ("fxs", "fxo"):
        needed += [(p, k, f"this {kind} port") for p, _ in tables(data, kind)
                   for k in _RPI_PORT_KEYS]
    needed += [(p, "pin", f"the {t.get('name', '?')} button") for p, t in tables(data, "button")]
    needed += [(p, "pin", f"the {t.get('name', '?')} LED") for p, t in tables(data, "led")]
    if isinstance(data.get("dect"), Mapping):
        needed += [(("dect",), k, "the DECT module") for k in ("uart", "baud")]
    issues = []
    for path, key, what in needed:
        table = lookup(data, path)
        if isinstance(table, Mapping) and key not in table:
            example = example_of(key, BoardConfig, (*path, key))
            if path[0] == "fxo" and key == "chip":
                example = 'chip = "si3050"'
            issues.append(Issue((*path, key), f'backend = "rpi" needs the {key} of {what}',
                                f"add {example} to {table_name(path)}"))
    if "audio" not in data:
        issues.append(Issue(("audio",), 'backend = "rpi" needs an [audio] table',
                            'add [audio] with device = "hw:CARD=...,DEV=0" (see aplay -L)'))
    return issues


def _sim_forbidden(data: Mapping[str, Any]) -> list[Issue]:
    hardware = {*_RPI_PORT_KEYS, *_RPI_OPTIONAL, "pin", "uart", "baud"}
    issues = []
    for path, table in _board_tables(data):
        if path == ("audio",):
            issues.append(Issue(path, "the virtual board has no [audio] device",
                                'remove [audio], or set backend = "rpi"'))
            continue
        for key in table:
            if key in hardware:
                issues.append(Issue(
                    (*path, key), f"{key} is wiring of real hardware; the virtual board has none",
                    'remove this line, or set backend = "rpi" for a real board'))
    return issues


def _reserved_pins(data: Mapping[str, Any]) -> dict[int, str]:
    reserved = dict(_ID_EEPROM_PINS)
    buses = {t.get("spi_bus") for k in ("fxs", "fxo") for _, t in tables(data, k)}
    if 0 in buses:
        reserved.update(_SPI0_PINS)
    if isinstance(data.get("audio"), Mapping):
        reserved.update(_PCM_PINS)
    dect = data.get("dect")
    if isinstance(dect, Mapping) and dect.get("uart") in _UART0_DEVICES:
        reserved.update(_UART0_PINS)
    return reserved


def _unique_pins(data: Mapping[str, Any], reserved: Mapping[int, str]) -> list[Issue]:
    issues = []
    seen: dict[int, KeyPath] = {}
    for path, table in _board_tables(data):
        for key in ("pin", *_RPI_OPTIONAL):
            pin = table.get(key)
            if not is_int(pin) or not 0 <= pin <= 27:
                continue
            where = (*path, key)
            if pin in reserved:
                issues.append(Issue(where, f"GPIO {pin} is {reserved[pin]}, already in use",
                                    "pick a free GPIO, e.g. 5, 6, 12, 13, 22-27"))
            elif pin in seen and not (key in _SHAREABLE_PIN_KEYS and seen[pin][-1] == key):
                issues.append(Issue(where, f"GPIO {pin} is already used by "
                                    f"{format_key(seen[pin])}",
                                    "give each button and LED its own GPIO pin"))
            else:
                seen.setdefault(pin, where)
    return issues


def _rpi_wiring(data: Mapping[str, Any]) -> list[Issue]:
    """Two chips on one SPI chip select, or two ports on one PCM timeslot, cannot work."""
    issues = []
    spi: dict[tuple[int, int], KeyPath] = {}
    slots: dict[int, KeyPath] = {}
    for kind in ("fxs", "fxo"):
        for path, table in tables(data, kind):
            bus, cs, slot = table.get("spi_bus"), table.get("spi_cs"), table.get("pcm_slot")
            if is_int(bus) and is_int(cs):
                if (bus, cs) in spi:
                    issues.append(Issue(
                        (*path, "spi_cs"), f"/dev/spidev{bus}.{cs} is already used by "
                        f"{format_key(spi[(bus, cs)])}", "give each chip its own chip select"))
                spi.setdefault((bus, cs), path)
            if is_int(slot):
                if slot in slots:
                    issues.append(Issue(
                        (*path, "pcm_slot"), f"PCM slot {slot} is already used by "
                        f"{format_key(slots[slot])}", "give each port its own pcm_slot"))
                slots.setdefault(slot, path)
    return issues


def _panel_checks(data: Mapping[str, Any]) -> list[Issue]:
    issues = []
    fxs = {t.get("port") for _, t in tables(data, "fxs")}
    for kind in ("button", "led"):
        seen: dict[str, KeyPath] = {}
        for path, table in tables(data, kind):
            name = table.get("name")
            if isinstance(name, str) and name in seen and name != "line":
                issues.append(Issue((*path, "name"), f"there are two {name!r} {kind}s",
                                    f"remove one (the other is {format_key(seen[name])})"))
            seen.setdefault(str(name), path)
            ports = table.get("ports")
            if kind == "led" and ports is not None and name != "line":
                issues.append(Issue((*path, "ports"), f"only a 'line' LED shows ports, "
                                    f"not the {name!r} LED", "remove ports from this LED"))
            elif kind == "led" and isinstance(ports, list | tuple):
                issues += [
                    Issue((*path, "ports", i), f"the board has no fxs port {p}",
                          f"use FXS ports of this board: {sorted(x for x in fxs if is_int(x))}")
                    for i, p in enumerate(ports) if is_int(p) and p not in fxs
                ]
    return issues


def parse_board(text: str, source: str) -> BoardConfig:
    """A board config from TOML text; `source` names it in problems. Raises ConfigError."""
    text = text.removeprefix("\ufeff")
    data = parse_toml(text, source)
    board = validate(BoardConfig, data, text, source, _board_checks(data), {})
    board._source = source
    return board


def load_board(path: Path) -> BoardConfig:
    """Read and validate a board config file. Raises ConfigError."""
    text, problems = read_text(path)
    if text is None:
        raise ConfigError(problems)
    return parse_board(text, str(path))
