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
from hal.dect.events import DectEvent
from hal.events import ButtonEvent, LineEvent, TrunkEvent
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

    def set_message_waiting(self, on: bool) -> None:
        """The phone's message-waiting lamp (a line card flashes a neon lamp with high
        voltage; a phone with a display is told by VMWI data, which the firmware sends)."""
        ...

    def read_frame(self) -> Frame | None:
        """The next 20 ms captured from the phone, or None when there is nothing (silence)."""
        ...

    def write_frame(self, frame: Frame) -> None:
        """Play 20 ms to the phone."""
        ...


class Trunk(Protocol):
    """One FXO port: the office's analog phone line. The exchange rings it (ring detect,
    caller ID as on-hook audio between the rings), the box seizes it to answer or to dial
    (DTMF is audio the firmware writes), and the far end's hang-up shows as a loop current
    drop (or only as busy tone in the audio, on lines that do not drop it)."""

    @property
    def name(self) -> str: ...  # "fxo:1"

    @property
    def line_present(self) -> bool: ...

    @property
    def off_hook(self) -> bool: ...  # seized by the box

    def set_listener(self, listener: Callable[[TrunkEvent], None]) -> None: ...

    def seize(self) -> None:
        """Go off-hook: answer the ringing line, or take it to dial."""
        ...

    def release(self) -> None:
        """Go on-hook: hang up."""
        ...

    def read_frame(self) -> Frame | None:
        """The next 20 ms from the line (on-hook: caller ID data), None when quiet."""
        ...

    def write_frame(self, frame: Frame) -> None:
        """Send 20 ms down the line (ignored on-hook)."""
        ...


class DectBase(Protocol):
    """A DECT base station with handset slots "dect:1" .. "dect:<slots>".

    Handsets pair while the registration window is open; the base keeps them (the firmware
    learns them at start-up). What happens on the handsets (`hal.dect.events`: calling,
    keys, answered, released, registered ...) reaches the firmware through one listener
    for the whole base, always on the loop and never from inside one of these calls.
    Asking for something the base cannot do (ring a busy or unpaired handset, answer one
    that is not calling) raises `hal.dect.errors.DectRequestError`; something that fails
    on the air fails with an event (a ring to a handset out of range ends in
    HandsetReleased, out-of-range). Voice is 20 ms frames per handset while it talks.
    """

    @property
    def slots(self) -> int: ...

    def subscribed(self) -> list[str]: ...  # "dect:1", ... (the paired handsets)

    @property
    def registration_open(self) -> bool: ...

    def set_listener(self, listener: Callable[[DectEvent], None]) -> None: ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    def open_registration(self, seconds: float) -> None:
        """Accept new handsets for `seconds` (RegistrationOpened, later Closed)."""
        ...

    def close_registration(self) -> None: ...

    def delete_handset(self, handset: str) -> None:
        """Unpair a handset (HandsetRemoved follows)."""
        ...

    def page(self) -> None:
        """Make every handset beep, to find it."""
        ...

    def ring(self, handset: str, number: str | None, name: str | None) -> None:
        """Ring `handset`, showing the caller (HandsetAnswered or HandsetReleased follows)."""
        ...

    def answer(self, handset: str) -> None:
        """Connect the call `handset` is placing (after HandsetCalling): voice flows."""
        ...

    def release(self, handset: str) -> None:
        """End the handset's call, whatever its stage; nothing if it has none."""
        ...

    def read_frame(self, handset: str) -> Frame | None:
        """The next 20 ms the handset's microphone sent, or None (not talking, silence)."""
        ...

    def write_frame(self, handset: str, frame: Frame) -> None:
        """Play 20 ms in the handset's earpiece (dropped unless it is talking)."""
        ...


class Panel(Protocol):
    """The front panel: named buttons and named LEDs.

    A button tells when it goes down (ButtonPressed) and comes up (ButtonReleased, with how
    long it was held), on the loop; what a long hold means is the firmware's business. An
    LED shows a pattern until told otherwise: the backend keeps its time (blinking needs
    nothing from the firmware). Unknown names raise ValueError.
    """

    @property
    def buttons(self) -> tuple[str, ...]: ...

    @property
    def leds(self) -> tuple[str, ...]: ...

    def set_led(self, name: str, pattern: LedPattern) -> None: ...

    def led_states(self) -> dict[str, str]:
        """What each LED shows now: name -> a LedPattern value ("on", "slow-flash" ...)."""
        ...

    def set_listener(self, listener: Callable[[ButtonEvent], None]) -> None: ...

    def close(self) -> None:
        """Let go of the pins; the LEDs go dark."""
        ...


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
