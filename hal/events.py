"""What the hardware reports, as frozen events named for what happened.

Every event carries the port it happened on ("fxs:1", "fxo:1", "dect:2", a button name) and
`at`, the loop time at which it happened (not when it was noticed: a hang-up is known only
after the on-hook has lasted long enough, but it happened when the hook went down).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class OffHook:
    """The handset was lifted (debounced)."""

    port: str
    at: float


@dataclass(frozen=True, slots=True)
class OnHook:
    """The handset was put down: on-hook for longer than the line's longest flash."""

    port: str
    at: float


@dataclass(frozen=True, slots=True)
class HookFlash:
    """A short on-hook within the line's flash window (the R key of European phones)."""

    port: str
    at: float
    ms: float


@dataclass(frozen=True, slots=True)
class PulseDigit:
    """A rotary (decadic) digit: n dial pulses followed by an inter-digit gap."""

    port: str
    at: float
    digit: str


@dataclass(frozen=True, slots=True)
class ButtonPressed:
    """A front-panel button went down."""

    port: str
    at: float


@dataclass(frozen=True, slots=True)
class ButtonReleased:
    """A front-panel button came up after `held` seconds."""

    port: str
    at: float
    held: float


@dataclass(frozen=True, slots=True)
class RingStarted:
    """The phone line (FXO) rings: the exchange put ringing voltage on it."""

    port: str
    at: float


@dataclass(frozen=True, slots=True)
class RingStopped:
    """A ring of the cadence ended (the line may ring again a few seconds later)."""

    port: str
    at: float


@dataclass(frozen=True, slots=True)
class LineReversal:
    """The exchange reversed the line's polarity (ETSI: caller ID data follows)."""

    port: str
    at: float


@dataclass(frozen=True, slots=True)
class LoopCurrentLost:
    """The exchange dropped loop current on a seized line: the far end hung up."""

    port: str
    at: float


LineEvent = OffHook | OnHook | HookFlash | PulseDigit
TrunkEvent = RingStarted | RingStopped | LineReversal | LoopCurrentLost
ButtonEvent = ButtonPressed | ButtonReleased
