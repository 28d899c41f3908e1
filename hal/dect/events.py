"""What a DECT base reports, as frozen events named for what happened.

Every backend (the virtual board's base, the UART module) reports the same events through
the one listener of `hal.interfaces.DectBase`. `port` is the handset ("dect:2"), or
"dect" for the base itself; `at` is the loop time it happened.

A call a handset makes: `HandsetCalling` (with the digits it block-dialled, or none),
then `HandsetKeys` as keys are pressed, until `HandsetReleased`. A call to a handset
(`DectBase.ring`): `HandsetAnswered`, or `HandsetReleased` (rejected, out of range).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class ReleaseReason(enum.Enum):
    """Why a handset's call ended on the handset's side."""

    NORMAL = "normal"  # the person hung up
    REJECTED = "rejected"  # the person refused the call ringing in
    OUT_OF_RANGE = "out-of-range"  # paging found no handset, or the radio link broke
    MODULE_RESET = "module-reset"  # the base restarted: every call on it is gone
    REMOVED = "removed"  # the handset was deleted from the base


@dataclass(frozen=True, slots=True)
class HandsetRegistered:
    """A handset is subscribed to the base (paired just now, or learned at start-up)."""

    port: str
    at: float


@dataclass(frozen=True, slots=True)
class HandsetRemoved:
    """A handset's subscription was deleted."""

    port: str
    at: float


@dataclass(frozen=True, slots=True)
class HandsetCalling:
    """The person pressed talk to call: with the number typed first (block dialling),
    or with `digits` empty (the keys follow as HandsetKeys)."""

    port: str
    at: float
    digits: str


@dataclass(frozen=True, slots=True)
class HandsetKeys:
    """Keypad keys pressed on a handset in a call or while it dials."""

    port: str
    at: float
    keys: str


@dataclass(frozen=True, slots=True)
class HandsetAnswered:
    """The person answered the call ringing on the handset."""

    port: str
    at: float


@dataclass(frozen=True, slots=True)
class HandsetReleased:
    """The handset's call ended on its side (hung up, refused, lost, the base restarted)."""

    port: str
    at: float
    reason: ReleaseReason


@dataclass(frozen=True, slots=True)
class RegistrationOpened:
    """The base accepts new handsets for `seconds` (the pairing window is open)."""

    port: str
    at: float
    seconds: float


@dataclass(frozen=True, slots=True)
class RegistrationClosed:
    """The pairing window closed: 'timeout', 'closed' (asked to), 'registered' (a handset
    paired), 'module-reset', or 'refused' (the module would not open it)."""

    port: str
    at: float
    reason: str


DectEvent = (HandsetRegistered | HandsetRemoved | HandsetCalling | HandsetKeys
             | HandsetAnswered | HandsetReleased | RegistrationOpened | RegistrationClosed)

BASE_PORT = "dect"


def handset_port(number: int) -> str:
    return f"dect:{number}"


def handset_number(port: str) -> int | None:
    """1 for "dect:1"; None for anything else."""
    kind, _, num = port.partition(":")
    return int(num) if kind == "dect" and num.isdigit() and int(num) > 0 else None
