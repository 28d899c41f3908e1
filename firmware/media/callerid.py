"""Caller ID and visual message waiting on an analog line: messages, FSK and the alert tone.

Theory of operation
-------------------
An analog phone learns who is calling from a short burst of 1200 bit/s FSK sent while it is
on hook: in the silence after the first ring in North America (Telcordia GR-30-CORE, Bell
202 tones: mark 1200 Hz, space 2200 Hz), before the first ring in most of Europe (ETSI EN
300 659-1, ITU-T V.23 tones: mark 1300 Hz, space 2100 Hz), where a line reversal and the
dual-tone alert signal (DT-AS, 2130 + 2750 Hz) wake the phone first; BT SIN 227 does the
same in the UK. Caller ID on call waiting (ETSI EN 300 659-2; GR-30-CORE's off-hook
transmission, whose alert is called CAS) is sent off hook after the same 2130 + 2750 Hz
alert, 88-110 ms long as spandsp's adsi.h summarises it.

On the wire (GR-30-CORE; EN 300 659-1 for the physical layer):

    channel seizure   300 bits of alternating 0/1 (30 async characters 0x55), so the
                      receiver's modem can find the carrier; omitted off hook
    mark signal       180 bits of 1 (80 for call waiting), so the UART idles before data
    message           type, length, `length` data bytes, checksum; each byte sent as async
                      serial: start bit 0 (space), 8 data bits LSB first, stop bit 1 (mark)
    checksum          two's complement of the sum of all previous bytes, modulo 256

Message layouts (GR-30-CORE; parameter codings as in ETSI EN 300 659-3):

    SDMF 0x04  caller ID: MMDDHHMM (8 ASCII digits) + number, or 'P'/'O' when absent
    SDMF 0x06  message waiting: 0x42 0x42 0x42 on, 0x6F 0x6F 0x6F off
    MDMF 0x80  caller ID: parameters (type, length, value): 0x01 date/time MMDDHHMM,
               0x02 number, 0x04 reason the number is absent, 0x07 name, 0x08 reason
               the name is absent ('P' private, 'O' out of area / unavailable)
    MDMF 0x82  message waiting: parameter 0x0B visual indicator, 0xFF on, 0x00 off

The FSK modem that carries these messages is in `firmware.media.fsk`.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from firmware.media.errors import MediaError

__all__ = [
    "MAX_NAME_CHARS",
    "MAX_NUMBER_CHARS",
    "CallerId",
    "CallerIdError",
    "MessageWaiting",
    "parse_message",
]


# GR-30-CORE limits the displayed name to 15 characters; numbers are 10 digits in NANP but
# up to 15 in E.164, so we send at most 15 and let a 10-digit display show what it can.
MAX_NUMBER_CHARS = 15
MAX_NAME_CHARS = 15

_SDMF_CALLER_ID = 0x04
_SDMF_MESSAGE_WAITING = 0x06
_MDMF_CALLER_ID = 0x80
_MDMF_MESSAGE_WAITING = 0x82

_P_DATE_TIME = 0x01
_P_NUMBER = 0x02
_P_NUMBER_ABSENT = 0x04
_P_NAME = 0x07
_P_NAME_ABSENT = 0x08
_P_VISUAL_INDICATOR = 0x0B

_REASONS = ("P", "O")  # private, out of area / unavailable
_NUMBER_CHARS = frozenset("0123456789*#+")
_SDMF_MWI_ON = b"\x42\x42\x42"
_SDMF_MWI_OFF = b"\x6f\x6f\x6f"


class CallerIdError(MediaError):
    """A caller ID or message-waiting message (or a field of one) is malformed."""


# ---------------------------------------------------------------------------------------------
# Messages


def _checksum(data: bytes) -> int:
    """Two's complement of the modulo-256 sum, so that all bytes plus it sum to zero."""
    return -sum(data) & 0xFF


def _frame(message_type: int, payload: bytes) -> bytes:
    if len(payload) > 255:
        raise CallerIdError(f"payload of {len(payload)} bytes exceeds the 255 a length byte holds")
    head = bytes((message_type, len(payload))) + payload
    return head + bytes((_checksum(head),))


def _unframe(message: bytes) -> tuple[int, bytes]:
    """Check the length byte and the checksum; return (type, payload)."""
    if len(message) < 3:
        raise CallerIdError(
            f"message too short: {len(message)} bytes (type, length and checksum need 3)"
        )
    need = message[1] + 3
    if len(message) < need:
        raise CallerIdError(
            f"message truncated: {len(message)} bytes, length byte {message[1]} needs {need}"
        )
    if len(message) > need:
        raise CallerIdError(
            f"message too long: {len(message)} bytes, length byte {message[1]} needs {need}"
        )
    expected = _checksum(message[:-1])
    if message[-1] != expected:
        raise CallerIdError(f"bad checksum 0x{message[-1]:02x}, expected 0x{expected:02x}")
    return message[0], bytes(message[2:-1])


def _mdmf_params(payload: bytes) -> dict[int, bytes]:
    """Split MDMF data into {parameter type: value}; unknown parameters are kept (and ignored
    by the caller), as GR-30-CORE tells receivers to skip what they do not know."""
    params: dict[int, bytes] = {}
    offset = 0
    while offset < len(payload):
        if offset + 2 > len(payload):
            raise CallerIdError(f"parameter at offset {offset} has no length byte")
        kind, size = payload[offset], payload[offset + 1]
        end = offset + 2 + size
        if end > len(payload):
            raise CallerIdError(
                f"parameter 0x{kind:02x} at offset {offset} runs past the end of the data"
            )
        if kind in params:
            raise CallerIdError(f"parameter 0x{kind:02x} appears twice")
        params[kind] = payload[offset + 2 : end]
        offset = end
    return params


def _to_ascii(text: str, limit: int) -> bytes:
    """Printable ASCII only (displays are ASCII): anything else becomes '?'; then truncate."""
    return "".join(c if " " <= c <= "~" else "?" for c in text[:limit]).encode("ascii")


def _from_ascii(raw: bytes) -> str:
    return "".join(chr(b) if 0x20 <= b <= 0x7E else "?" for b in raw)


def _encode_when(when: datetime.datetime) -> bytes:
    # The wall-clock fields are sent as they are: the caller converts to the office's zone.
    return f"{when.month:02d}{when.day:02d}{when.hour:02d}{when.minute:02d}".encode("ascii")


def _decode_when(raw: bytes, year: int) -> datetime.datetime:
    text = _from_ascii(raw)
    if len(raw) != 8 or not text.isdigit():
        raise CallerIdError(f"bad date/time {text!r}: need 8 digits MMDDHHMM")
    try:
        return datetime.datetime(
            year, int(text[0:2]), int(text[2:4]), int(text[4:6]), int(text[6:8])
        )
    except ValueError:
        raise CallerIdError(f"bad date/time {text!r}: not a date") from None


def _decode_reason(raw: bytes) -> str:
    reason = _from_ascii(raw)
    if reason not in _REASONS:
        raise CallerIdError(f"reason for absence must be 'P' or 'O', got {reason!r}")
    return reason


@dataclass(frozen=True, slots=True)
class CallerId:
    """What the phone displays. Absent fields are None (an empty string is read as None);
    a reason ('P' private, 'O' unavailable) says why one is absent.

    The wire carries neither a year nor seconds: `parse()` takes the year as an argument
    (time is an argument, never read from a clock) and always returns whole minutes.
    """

    number: str | None = None
    name: str | None = None
    when: datetime.datetime | None = None
    number_absent: str | None = None
    name_absent: str | None = None

    def __post_init__(self) -> None:
        # An empty number or name means "none": callers pass a party's fields straight in.
        if self.number == "":
            object.__setattr__(self, "number", None)
        if self.name == "":
            object.__setattr__(self, "name", None)
        if self.number is not None and not _NUMBER_CHARS.issuperset(self.number):
            raise CallerIdError(
                f"number may hold only digits, '*', '#' and '+', got {self.number!r}"
            )
        for field, value in (("number_absent", self.number_absent),
                             ("name_absent", self.name_absent)):
            if value is not None and value not in _REASONS:
                raise CallerIdError(f"{field} must be 'P' or 'O', got {value!r}")
        if self.number is not None and self.number_absent is not None:
            raise CallerIdError("number and number_absent are exclusive")
        if self.name is not None and self.name_absent is not None:
            raise CallerIdError("name and name_absent are exclusive")

    def to_mdmf(self) -> bytes:
        """MDMF 0x80 (GR-30-CORE; EN 300 659-3). Number and name are cut to 15 characters,
        the name to printable ASCII ('?' for anything else)."""
        params = bytearray()

        def add(kind: int, value: bytes) -> None:
            params.extend((kind, len(value)))
            params.extend(value)

        if self.when is not None:
            add(_P_DATE_TIME, _encode_when(self.when))
        if self.number is not None:
            add(_P_NUMBER, self.number[:MAX_NUMBER_CHARS].encode("ascii"))
        elif self.number_absent is not None:
            add(_P_NUMBER_ABSENT, self.number_absent.encode("ascii"))
        if self.name is not None:
            add(_P_NAME, _to_ascii(self.name, MAX_NAME_CHARS))
        elif self.name_absent is not None:
            add(_P_NAME_ABSENT, self.name_absent.encode("ascii"))
        return _frame(_MDMF_CALLER_ID, bytes(params))

    def to_sdmf(self) -> bytes:
        """SDMF 0x04 (GR-30-CORE): date/time then the number (cut to 15), or 'P'/'O'.

        SDMF has no name field, so the name is dropped; a missing number with no reason is
        sent as 'O' (unavailable). SDMF cannot omit the date, so `when` is required.
        """
        if self.when is None:
            raise CallerIdError("SDMF needs a date/time: set when, or send MDMF")
        if self.number is not None:
            tail = self.number[:MAX_NUMBER_CHARS]
        else:
            tail = self.number_absent or "O"
        return _frame(_SDMF_CALLER_ID, _encode_when(self.when) + tail.encode("ascii"))

    def __bytes__(self) -> bytes:
        return self.to_mdmf()

    @classmethod
    def parse(cls, message: bytes, *, year: int = 2000) -> CallerId:
        """Decode SDMF 0x04 or MDMF 0x80. `year` completes the date (the wire has none; the
        default is a leap year so 29 February parses). Raises CallerIdError."""
        kind, payload = _unframe(message)
        if kind == _SDMF_CALLER_ID:
            return cls._parse_sdmf(payload, year)
        if kind == _MDMF_CALLER_ID:
            return cls._parse_mdmf(payload, year)
        raise CallerIdError(f"not a caller ID message: type 0x{kind:02x}")

    @classmethod
    def _parse_sdmf(cls, payload: bytes, year: int) -> CallerId:
        if len(payload) < 8:
            raise CallerIdError(f"SDMF caller ID has {len(payload)} data bytes, need at least 8")
        when = _decode_when(payload[:8], year)
        tail = payload[8:]
        if tail in (b"P", b"O"):
            return cls(when=when, number_absent=tail.decode("ascii"))
        return cls(when=when, number=_from_ascii(tail) or None)

    @classmethod
    def _parse_mdmf(cls, payload: bytes, year: int) -> CallerId:
        params = _mdmf_params(payload)
        raw_when = params.get(_P_DATE_TIME)
        raw_number = params.get(_P_NUMBER)
        raw_name = params.get(_P_NAME)
        raw_number_absent = params.get(_P_NUMBER_ABSENT)
        raw_name_absent = params.get(_P_NAME_ABSENT)
        return cls(
            # An empty number or name parameter is read as "not sent".
            number=_from_ascii(raw_number) if raw_number else None,
            name=_from_ascii(raw_name) if raw_name else None,
            when=None if raw_when is None else _decode_when(raw_when, year),
            number_absent=None if raw_number_absent is None else _decode_reason(
                raw_number_absent
            ),
            name_absent=None if raw_name_absent is None else _decode_reason(raw_name_absent),
        )


@dataclass(frozen=True, slots=True)
class MessageWaiting:
    """Visual message-waiting indicator: the lamp or envelope on the phone."""

    active: bool

    def to_mdmf(self) -> bytes:
        """MDMF 0x82 with parameter 0x0B: 0xFF on, 0x00 off (GR-30-CORE; EN 300 659-3)."""
        flag = 0xFF if self.active else 0x00
        return _frame(_MDMF_MESSAGE_WAITING, bytes((_P_VISUAL_INDICATOR, 1, flag)))

    def to_sdmf(self) -> bytes:
        """SDMF 0x06: three bytes 0x42 on, 0x6F off (GR-30-CORE)."""
        return _frame(_SDMF_MESSAGE_WAITING, _SDMF_MWI_ON if self.active else _SDMF_MWI_OFF)

    def __bytes__(self) -> bytes:
        return self.to_mdmf()

    @classmethod
    def parse(cls, message: bytes) -> MessageWaiting:
        """Decode SDMF 0x06 or MDMF 0x82. Raises CallerIdError."""
        kind, payload = _unframe(message)
        if kind == _SDMF_MESSAGE_WAITING:
            if payload == _SDMF_MWI_ON:
                return cls(active=True)
            if payload == _SDMF_MWI_OFF:
                return cls(active=False)
            raise CallerIdError(
                f"SDMF message waiting must be 42 42 42 or 6f 6f 6f, got {payload.hex(' ')}"
            )
        if kind == _MDMF_MESSAGE_WAITING:
            indicator = _mdmf_params(payload).get(_P_VISUAL_INDICATOR)
            if indicator is None:
                raise CallerIdError("MDMF message waiting has no indicator parameter 0x0b")
            if len(indicator) != 1:
                raise CallerIdError(
                    f"indicator parameter 0x0b must be 1 byte, got {len(indicator)}"
                )
            # 0x00 is "off"; EN 300 659-3 lets other non-zero values also mean "on".
            return cls(active=indicator[0] != 0x00)
        raise CallerIdError(f"not a message-waiting message: type 0x{kind:02x}")


def parse_message(message: bytes, *, year: int = 2000) -> CallerId | MessageWaiting:
    """Decode any message this module knows, by its type byte. Raises CallerIdError."""
    if message and message[0] in (_SDMF_CALLER_ID, _MDMF_CALLER_ID):
        return CallerId.parse(message, year=year)
    if message and message[0] in (_SDMF_MESSAGE_WAITING, _MDMF_MESSAGE_WAITING):
        return MessageWaiting.parse(message)
    kind, _ = _unframe(message)  # a framing error is the better message, if there is one
    raise CallerIdError(f"unknown message type 0x{kind:02x}")
