"""The small interfaces the firmware is written against; every backend implements them.

Backends: `hal.sim` (the virtual board), later Raspberry Pi line cards and a DECT module.
Events reach the firmware through one listener callback per port, always called on the
event loop (a backend with a driver thread hands them over with `call_soon_threadsafe`).
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from typing import Protocol

from hal.audio import Frame
from hal.events import ButtonEvent, LineEvent
from hal.hook import HookTiming


class Linefeed(enum.Enum):
    """What an FXS port drives onto the line (the SLIC's linefeed states)."""

    OPEN = "open"  # no battery: the phone sees the far end drop (disconnect supervision)
    ACTIVE = "active"  # normal battery, talking or dial tone
    ON_HOOK_TX = "on-hook-tx"  # battery with audio to an on-hook phone (caller ID, VMWI)
    RINGING = "ringing"  # ringing voltage
    REVERSE_ACTIVE = "reverse-active"  # reversed polarity (ETSI/BT caller-ID signal, call answered)
    REVERSE_ON_HOOK_TX = "reverse-on-hook-tx"


class LedPattern(enum.Enum):
    OFF = "off"
    ON = "on"
    SLOW_FLASH = "slow-flash"  # 0.5 Hz
    FAST_FLASH = "fast-flash"  # 4 Hz
    FLUTTER = "flutter"  # booting
    WARNING = "warning"  # distinct pattern (e.g. factory reset about to happen)


class AnalogLine(Protocol):
    """One FXS port: an analog phone plugs in here."""

    @property
    def name(self) -> str: ...  # "fxs:1"

    @property
    def off_hook(self) -> bool: ...

    @property
    def linefeed(self) -> Linefeed: ...

    def set_listener(self, listener: Callable[[LineEvent], None]) -> None: ...

    def configure(self, timing: HookTiming) -> None: ...

    def set_linefeed(self, state: Linefeed) -> None: ...

    def read_frame(self) -> Frame | None:
        """The next 20 ms captured from the phone, or None when there is nothing (silence)."""
        ...

    def write_frame(self, frame: Frame) -> None:
        """Play 20 ms to the phone."""
        ...


class Trunk(Protocol):
    """One FXO port: the office's analog phone line (behaviour comes with the trunk issue)."""

    @property
    def name(self) -> str: ...  # "fxo:1"

    @property
    def line_present(self) -> bool: ...


class DectBase(Protocol):
    """A DECT base station with handset slots (behaviour comes with the DECT issue)."""

    @property
    def slots(self) -> int: ...

    def subscribed(self) -> list[str]: ...  # "dect:1", ...


class Panel(Protocol):
    """The front panel: named buttons and named LEDs."""

    @property
    def buttons(self) -> tuple[str, ...]: ...

    @property
    def leds(self) -> tuple[str, ...]: ...

    def set_led(self, name: str, pattern: LedPattern) -> None: ...

    def set_listener(self, listener: Callable[[ButtonEvent], None]) -> None: ...


class Board(Protocol):
    """Everything a backend built from a board config hands to the firmware."""

    @property
    def name(self) -> str: ...

    @property
    def lines(self) -> dict[str, AnalogLine]: ...

    @property
    def trunks(self) -> dict[str, Trunk]: ...

    @property
    def dect(self) -> DectBase | None: ...

    @property
    def panel(self) -> Panel: ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...
