"""What each LED shows, as pure functions of the box's state (docs/panel.md).

    LED     pattern         when
    POWER   flutter         booting, or restarting (a factory reset)
            warning         RESET held 3 s or more: let go before 10 s to keep everything
            fast flash      a fault: a chip or a pin that does not work, the DECT module
            on              running
    TRUNK   on              every trunk up: SIP trunks registered, phone lines present
            slow flash      some of them
            off             none (or the office has none)
    LINE    fast flash      a phone it shows rings
            on              a phone it shows is off-hook (in a call, dialling, ...)
    MWI     slow flash      a mailbox holds new messages
    NIGHT   on              night mode (by the hours or by hand)
    DECT    slow flash      the pairing window is open
            on              the DECT base is up

An LED not in this table (or whose state is unknown yet, while booting) is off.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from firmware.panel.layout import PanelLayout, PanelLed
from hal.interfaces import LedPattern

__all__ = ["BoxState", "Life", "LineActivity", "led_patterns"]

P = LedPattern


class Life(enum.Enum):
    """Where the box is in its life, as the POWER LED tells it."""

    BOOTING = "booting"
    RUNNING = "running"
    RESET_WARNING = "reset-warning"  # RESET held long enough to warn
    RESTARTING = "restarting"  # stopping, or restarting for a factory reset


class LineActivity(enum.Enum):
    IDLE = "idle"
    IN_USE = "in-use"
    RINGING = "ringing"


@dataclass(frozen=True, slots=True)
class BoxState:
    """What the LEDs show, as read from the running box (`firmware.panel.reading`)."""

    faults: tuple[str, ...] = ()
    trunks_up: tuple[bool, ...] = ()  # one per SIP trunk and phone line
    lines: Mapping[str, LineActivity] = field(default_factory=dict)  # "fxs:1" -> ...
    messages_waiting: bool = False
    night: bool = False
    dect_ready: bool = False
    pairing: bool = False


def power(life: Life, faults: tuple[str, ...]) -> LedPattern:
    if life is Life.RESET_WARNING:
        return P.WARNING
    if life in (Life.BOOTING, Life.RESTARTING):
        return P.FLUTTER
    return P.FAST_FLASH if faults else P.ON


def trunk(up: tuple[bool, ...]) -> LedPattern:
    if up and all(up):
        return P.ON
    return P.SLOW_FLASH if any(up) else P.OFF


def line(activities: Iterable[LineActivity]) -> LedPattern:
    """One LED for one or more ports: a ringing phone wants the attention first."""
    seen = set(activities)
    if LineActivity.RINGING in seen:
        return P.FAST_FLASH
    return P.ON if LineActivity.IN_USE in seen else P.OFF


def dect(ready: bool, pairing: bool) -> LedPattern:
    if pairing:
        return P.SLOW_FLASH
    return P.ON if ready else P.OFF


def pattern_of(led: PanelLed, life: Life, state: BoxState) -> LedPattern:
    match led.shows:
        case "power":
            return power(life, state.faults)
        case "trunk":
            return trunk(state.trunks_up)
        case "line":
            return line(state.lines.get(p, LineActivity.IDLE) for p in led.ports)
        case "mwi":
            return P.SLOW_FLASH if state.messages_waiting else P.OFF
        case "night":
            return P.ON if state.night else P.OFF
        case "dect":
            return dect(state.dect_ready, state.pairing)
    return P.OFF


def led_patterns(layout: PanelLayout, life: Life, state: BoxState) -> dict[str, LedPattern]:
    return {led.name: pattern_of(led, life, state) for led in layout.leds}
