"""The information elements the host sends and reads, typed (layouts: `hal.dect.cmbs`).

Each IE is `type (u16) | length (u16) | value`. Builders return `Ie`s to concatenate into a
frame's parameters; readers take the parameters of a received frame (`Ies`) and raise
IeError for an IE that is missing or too short, never anything else.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from hal.dect.cmbs import (
    ADDRESS_INTERNAL,
    PRESENTATION_ALLOWED,
    CallInfoType,
    HandsetState,
    IeType,
    MediaType,
    ReleaseCode,
    Response,
)
from hal.dect.errors import IeError

_HEADER = struct.Struct("<HH")
MAX_ADDRESS = 32  # CMBS_CALLER_NUM_MAX_LEN
MAX_NAME = 30  # CMBS_CALLER_NAME_MAX_LEN: a handset display line


@dataclass(frozen=True, slots=True)
class Ie:
    type: int
    value: bytes = b""

    def __bytes__(self) -> bytes:
        return _HEADER.pack(self.type, len(self.value)) + self.value


def params(*ies: Ie) -> bytes:
    return b"".join(bytes(ie) for ie in ies)


class Ies:
    """The IEs of a received frame, by type (the codec has checked that they fit)."""

    def __init__(self, data: bytes) -> None:
        self._ies: list[tuple[int, bytes]] = []
        at = 0
        while at + 4 <= len(data):
            ie_type, length = _HEADER.unpack_from(data, at)
            self._ies.append((ie_type, data[at + 4:at + 4 + length]))
            at += 4 + length

    def get(self, ie_type: IeType) -> bytes:
        for found, value in self._ies:
            if found == ie_type:
                return value
        raise IeError(f"no {ie_type.name} IE")

    def has(self, ie_type: IeType) -> bool:
        return any(found == ie_type for found, _ in self._ies)

    def all(self, ie_type: IeType) -> list[bytes]:
        return [value for found, value in self._ies if found == ie_type]


def _unpack(fmt: str, value: bytes, what: str) -> tuple[int, ...]:
    size = struct.calcsize(fmt)
    if len(value) < size:
        raise IeError(f"{what} IE has {len(value)} bytes, needs {size}")
    return struct.unpack_from(fmt, value)


def _counted(value: bytes, at: int, length: int, what: str) -> bytes:
    if at + length > len(value):
        raise IeError(f"{what} IE says {length} bytes follow, only {len(value) - at} do")
    return value[at:at + length]


def _text(value: bytes) -> str:
    return value.decode("utf-8", errors="replace")


# -- builders ------------------------------------------------------------------------

def call_instance(instance: int) -> Ie:
    return Ie(IeType.CALLINSTANCE, struct.pack("<I", instance))


def _party(ie_type: IeType, address: str) -> Ie:
    raw = address.encode("ascii", errors="replace")[:MAX_ADDRESS]
    return Ie(ie_type, bytes((ADDRESS_INTERNAL, PRESENTATION_ALLOWED, len(raw))) + raw)


def caller_party(address: str) -> Ie:
    return _party(IeType.CALLERPARTY, address)


def called_party(address: str) -> Ie:
    return _party(IeType.CALLEDPARTY, address)


def caller_name(name: str) -> Ie:
    raw = name.encode("utf-8")[:MAX_NAME]
    return Ie(IeType.CALLERNAME, bytes((len(raw),)) + raw)


def call_progress(progress: int) -> Ie:
    return Ie(IeType.CALLPROGRESS, bytes((progress,)))


def keypad(keys: str) -> Ie:
    raw = keys.encode("ascii")
    return Ie(IeType.CALLINFO, bytes((CallInfoType.DIGIT, len(raw))) + raw)


def release_reason(code: ReleaseCode) -> Ie:
    return Ie(IeType.CALLRELEASE_REASON, struct.pack("<BI", code, 0))


def media_channel(instance: int, timeslot: int) -> Ie:
    return Ie(IeType.MEDIACHANNEL, struct.pack("<IIB", instance, timeslot, MediaType.AUDIO_PCM))


def response(ok: bool) -> Ie:
    return Ie(IeType.RESPONSE, bytes((Response.OK if ok else Response.ERROR,)))


def integer(value: int) -> Ie:
    return Ie(IeType.INTEGER_VALUE, struct.pack("<I", value))


def handsets(mask: int) -> Ie:
    return Ie(IeType.HANDSETS, struct.pack("<H", mask))


def handset_info(handset: int, state: HandsetState) -> Ie:
    # u8 handset, u8 state, u8 type, u32 model, 5 octets IPEI, 2 octets EMC
    return Ie(IeType.HANDSETINFO, struct.pack("<BBBI", handset, state, 0, 0) + bytes(7))


def subscribed_handset(handset: int, name: str) -> Ie:
    raw = name.encode("utf-8")
    return Ie(IeType.SUBSCRIBED_HS_LIST, struct.pack("<HH", handset, len(raw)) + raw)


def reg_close_reason(reason: int) -> Ie:
    return Ie(IeType.REG_CLOSE_REASON, bytes((reason,)))


def capabilities(mask: int) -> bytes:
    """The payload of the CAPABILITIES command: a u32 bit mask (no IE around it)."""
    return struct.pack("<I", mask)


# -- readers -------------------------------------------------------------------------

def read_call_instance(ies: Ies) -> int:
    return _unpack("<I", ies.get(IeType.CALLINSTANCE), "CALLINSTANCE")[0]


def read_party(ies: Ies, ie_type: IeType) -> str:
    value = ies.get(ie_type)
    _props, _presentation, length = _unpack("<BBB", value, ie_type.name)
    return _text(_counted(value, 3, length, ie_type.name))


def read_name(ies: Ies) -> str:
    value = ies.get(IeType.CALLERNAME)
    (length,) = _unpack("<B", value, "CALLERNAME")
    return _text(_counted(value, 1, length, "CALLERNAME"))


def read_progress(ies: Ies) -> int:
    return _unpack("<B", ies.get(IeType.CALLPROGRESS), "CALLPROGRESS")[0]


def read_keys(ies: Ies) -> str:
    """Keypad keys of a CALLINFO IE ('' if it carries something else, e.g. display)."""
    value = ies.get(IeType.CALLINFO)
    kind, length = _unpack("<BB", value, "CALLINFO")
    keys = _text(_counted(value, 2, length, "CALLINFO"))
    return keys if kind == CallInfoType.DIGIT else ""


def read_release_reason(ies: Ies) -> int:
    if not ies.has(IeType.CALLRELEASE_REASON):
        return ReleaseCode.NORMAL
    return _unpack("<B", ies.get(IeType.CALLRELEASE_REASON), "CALLRELEASE_REASON")[0]


def read_media_channel(ies: Ies) -> tuple[int, int]:
    """(call instance, PCM timeslot)."""
    instance, timeslot, _kind = _unpack("<IIB", ies.get(IeType.MEDIACHANNEL), "MEDIACHANNEL")
    return instance, timeslot


def read_ok(ies: Ies) -> bool:
    return _unpack("<B", ies.get(IeType.RESPONSE), "RESPONSE")[0] == Response.OK


def read_integer(ies: Ies) -> int:
    return _unpack("<I", ies.get(IeType.INTEGER_VALUE), "INTEGER_VALUE")[0]


def read_handsets(ies: Ies) -> int:
    return _unpack("<H", ies.get(IeType.HANDSETS), "HANDSETS")[0]


def read_handset_info(ies: Ies) -> tuple[int, bool]:
    """(handset number, registered?)."""
    handset, state = _unpack("<BB", ies.get(IeType.HANDSETINFO), "HANDSETINFO")
    return handset, state == HandsetState.REGISTERED


def read_subscribed(ies: Ies) -> dict[int, str]:
    """Handset number -> name, from every SUBSCRIBED_HS_LIST IE."""
    found: dict[int, str] = {}
    for value in ies.all(IeType.SUBSCRIBED_HS_LIST):
        handset, length = _unpack("<HH", value, "SUBSCRIBED_HS_LIST")
        found[handset] = _text(_counted(value, 4, length, "SUBSCRIBED_HS_LIST"))
    return found


def read_reg_close_reason(ies: Ies) -> int | None:
    if not ies.has(IeType.REG_CLOSE_REASON):
        return None
    return _unpack("<B", ies.get(IeType.REG_CLOSE_REASON), "REG_CLOSE_REASON")[0]
