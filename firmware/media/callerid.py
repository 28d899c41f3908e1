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

Modulator: the bit stream (seizure, marks, characters, a few trailing marks so the last stop
bit is not cut short; spandsp notes the checksum "should be followed by a minimum of two stop
bits") drives one phase-continuous oscillator. A bit lasts exactly 8000/1200 = 6.67 samples:
sample n belongs to bit floor(n * 1200 / 8000) and its phase is integrated from the exact
start time of that bit, so bit edges fall between samples and no rounding error builds up.

Demodulator: two quadrature correlators, one per tone, each the magnitude of the last
8000 / (space - mark) samples (8 for Bell 202, 10 for V.23: each tone sits on the other
correlator's null) of audio mixed down by that tone. d = (|mark|^2 - |space|^2) / (sum) is
a level-independent soft bit in [-1, 1]; the sum doubles as carrier detect. A UART-style
sampler then runs as a small state machine (table `_TRANSITIONS`):

    HUNT     look for a run of strong mark (the mark signal), ignoring seizure and noise
    ARMED    wait for the first start bit (mark -> space edge); locate the edge to a
             fraction of a sample, then sample the 10 bits of the character mid-bit
    MESSAGE  each stop bit re-arms for the next start bit; once type + length + data +
             checksum are in, a message whose checksum is good is returned

Lost carrier, a framing error (stop bit not mark) or too long a pause between characters
sends it back to HUNT, so garbage costs nothing but the garbage. Everything is vectorised
with numpy; the only Python loop runs once per character, not per sample.
"""

from __future__ import annotations

import datetime
import enum
import logging
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from firmware.media.frames import FULL_SCALE_DBM0, SAMPLE_RATE, amplitude

__all__ = [
    "CARRIER_DETECT_DBM0",
    "MAX_NAME_CHARS",
    "MAX_NUMBER_CHARS",
    "TRAILING_MARK_BITS",
    "CallerId",
    "CallerIdError",
    "FskDemodulator",
    "FskStandard",
    "MessageWaiting",
    "etsi_alert_signal",
    "fsk_demodulate",
    "fsk_modulate",
    "parse_message",
]

_log = logging.getLogger(__name__)

Samples = npt.NDArray[np.int16]

# GR-30-CORE limits the displayed name to 15 characters; numbers are 10 digits in NANP but
# up to 15 in E.164, so we send at most 15 and let a 10-digit display show what it can.
MAX_NUMBER_CHARS = 15
MAX_NAME_CHARS = 15
# Marks after the checksum so the last stop bit survives a receiver's filters (>= 2 needed).
TRAILING_MARK_BITS = 10
# Below this the demodulator treats the line as carrying no FSK. Our own figure: 10 dB under
# the quietest level we test (-30 dBm0) and well above idle-channel noise.
CARRIER_DETECT_DBM0 = -40.0

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


class CallerIdError(ValueError):
    """A caller ID or message-waiting message (or a field of one) is malformed."""


class FskStandard(enum.Enum):
    """The FSK modem: (mark Hz, space Hz, bit/s)."""

    BELL202 = (1200, 2200, 1200)  # GR-30-CORE (North America)
    V23 = (1300, 2100, 1200)  # ETSI EN 300 659-1, BT SIN 227 (Europe)

    @property
    def mark_hz(self) -> int:
        return self.value[0]

    @property
    def space_hz(self) -> int:
        return self.value[1]

    @property
    def baud(self) -> int:
        return self.value[2]


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


# ---------------------------------------------------------------------------------------------
# Modulation


def _check_level(level_dbm0: float, tones: int) -> float:
    peak = tones * amplitude(level_dbm0)
    if peak > 32767.0:
        raise ValueError(
            f"level {level_dbm0} dBm0 per tone would clip: {tones} tone(s) must stay under "
            f"{FULL_SCALE_DBM0 - 20.0 * np.log10(tones):.2f} dBm0"
        )
    return amplitude(level_dbm0)


def _character_bits(message: bytes) -> npt.NDArray[np.int64]:
    """Async serial framing of every byte: start 0, data LSB first, stop 1."""
    data = np.frombuffer(bytes(message), dtype=np.uint8).astype(np.int64)
    bits = (data[:, None] >> np.arange(8)) & 1
    start = np.zeros((len(data), 1), dtype=np.int64)
    stop = np.ones((len(data), 1), dtype=np.int64)
    return np.concatenate((start, bits, stop), axis=1).ravel()


def _synthesize(bits: npt.NDArray[np.int64], standard: FskStandard, peak: float) -> Samples:
    """Phase-continuous FSK with exact bit timing, in integer arithmetic where it matters."""
    fs, baud = SAMPLE_RATE, standard.baud
    total = -(-len(bits) * fs // baud)  # ceil: the last bit is never cut short
    n = np.arange(total, dtype=np.int64)
    bit = n * baud // fs  # the bit sample n falls in
    freq = np.where(bits.astype(bool), standard.mark_hz, standard.space_hz).astype(np.int64)
    # Cycles completed by the start of each bit, times `baud` (an integer), modulo one cycle.
    start_cycles = (np.cumsum(freq) - freq) % baud
    into_bit = n * baud - bit * fs  # time into the bit, in units of 1/(fs*baud) s
    cycles = start_cycles[bit] / baud + freq[bit] * into_bit / (fs * baud)
    return np.rint(peak * np.sin(2.0 * np.pi * cycles)).astype(np.int16)


def fsk_modulate(
    message: bytes,
    standard: FskStandard,
    *,
    seizure_bits: int = 300,
    mark_bits: int = 180,
    level_dbm0: float = -13.5,
) -> Samples:
    """The FSK burst for `message`: seizure, marks, the bytes, then TRAILING_MARK_BITS marks.

    Defaults follow GR-30-CORE / EN 300 659-1 on hook (300 seizure bits, 180 marks) at a
    nominal -13.5 dBm0; for caller ID on call waiting pass seizure_bits=0, mark_bits=80.
    The result lasts exactly ceil(bits * 8000 / 1200) samples.
    """
    if seizure_bits < 0 or mark_bits < 0:
        raise ValueError(f"bit counts must be >= 0, got {seizure_bits} and {mark_bits}")
    peak = _check_level(level_dbm0, 1)
    bits = np.concatenate(
        (
            np.arange(seizure_bits, dtype=np.int64) % 2,  # 0101..., i.e. 0x55 characters
            np.ones(mark_bits, dtype=np.int64),
            _character_bits(message),
            np.ones(TRAILING_MARK_BITS, dtype=np.int64),
        )
    )
    return _synthesize(bits, standard, peak)


def etsi_alert_signal(ms: int = 100, level_dbm0: float = -20.0) -> Samples:
    """The dual-tone alert signal 2130 + 2750 Hz (ETSI EN 300 659-1 DT-AS; GR-30-CORE's CAS
    for caller ID on call waiting). `level_dbm0` is per tone."""
    if ms < 0:
        raise ValueError(f"duration must be >= 0 ms, got {ms}")
    peak = _check_level(level_dbm0, 2)
    t = np.arange(ms * SAMPLE_RATE // 1000) / SAMPLE_RATE
    tones = np.sin(2.0 * np.pi * 2130.0 * t) + np.sin(2.0 * np.pi * 2750.0 * t)
    return np.rint(peak * tones).astype(np.int16)


# ---------------------------------------------------------------------------------------------
# Demodulation

# A run of this many bits of strong mark arms the UART: the mark signal is 180 (80) bits, the
# seizure never holds mark for more than one bit, and noise seldom holds it for 16.
_ARM_BITS = 16
_ARM_THRESHOLD = 0.5
# Our tolerance for idle marks between characters of one message before giving up on it.
_MAX_GAP_BITS = 40


class _State(enum.Enum):
    HUNT = "hunt"
    ARMED = "armed"
    MESSAGE = "message"


class _Event(enum.Enum):
    MARK_RUN = "mark run"
    CHARACTER = "character"
    COMPLETE = "complete"
    LOST = "lost"  # carrier lost, framing error, or too long a gap between characters


_TRANSITIONS: dict[_State, dict[_Event, _State]] = {
    _State.HUNT: {_Event.MARK_RUN: _State.ARMED},
    _State.ARMED: {_Event.CHARACTER: _State.MESSAGE, _Event.LOST: _State.HUNT},
    _State.MESSAGE: {
        _Event.CHARACTER: _State.MESSAGE,
        _Event.COMPLETE: _State.HUNT,
        _Event.LOST: _State.HUNT,
    },
}


class FskDemodulator:
    """Streaming: feed frames; returns complete messages whose checksum verified.

    Messages come back whole (type, length, data, checksum) for `parse_message()`.
    """

    def __init__(self, standard: FskStandard) -> None:
        self._standard = standard
        self._spb = SAMPLE_RATE / standard.baud
        self._w_mark = 2.0 * np.pi * standard.mark_hz / SAMPLE_RATE
        self._w_space = 2.0 * np.pi * standard.space_hz / SAMPLE_RATE
        # Correlator length SAMPLE_RATE / (space - mark), 8 samples for Bell 202 and 10 for
        # V.23, puts each tone on the null of the other tone's correlator. That is longer
        # than a bit (6.67 samples) and smears neighbours a little, but at 7-9 dB S/N it
        # decoded far more messages than a one-bit window, which leaves V.23's close tones
        # only 8 dB apart.
        self._window = round(SAMPLE_RATE / (standard.space_hz - standard.mark_hz))
        # A sine of peak A gives a correlator magnitude of window * A / 2.
        self._carrier_power = (self._window * amplitude(CARRIER_DETECT_DBM0) / 2.0) ** 2
        self._arm_samples = round(_ARM_BITS * self._spb)
        self._gap_samples = round(_MAX_GAP_BITS * self._spb)
        self._offsets = (np.arange(10) + 0.5) * self._spb  # mid-bit of start, data, stop
        self._weights = 1 << np.arange(8)
        self.reset()

    def reset(self) -> None:
        """Forget all audio and any half-received message."""
        self._tail = np.zeros(0)  # the last window - 1 raw samples
        self._soft = np.zeros(0)  # soft bits d, indexed from self._base
        self._carrier = np.zeros(0, dtype=bool)
        self._base = 0
        self._pos = 0  # the next soft bit to look at
        self._state = _State.HUNT
        self._run = 0  # mark run carried over from the previous feed (HUNT)
        self._gap_start = 0  # mid-stop-bit of the last character (MESSAGE)
        self._bytes = bytearray()

    def feed(self, samples: npt.ArrayLike) -> list[bytes]:
        """Take any number of samples; return the messages completed by them."""
        x = np.asarray(samples)
        if x.ndim != 1:
            raise ValueError(f"samples must be one-dimensional, got shape {x.shape}")
        soft, carrier = self._discriminate(x.astype(np.float64))
        self._soft = np.concatenate((self._soft, soft))
        self._carrier = np.concatenate((self._carrier, carrier))
        messages: list[bytes] = []
        # Each step moves the read position on or changes state; False means "need audio".
        while True:
            if self._state is _State.HUNT:
                progressed = self._hunt()
            else:
                progressed = self._next_character(messages)
            if not progressed:
                break
        # Keep one soft bit before the read position: the start-edge interpolation needs it.
        drop = max(0, self._pos - 1 - self._base)
        self._soft = self._soft[drop:]
        self._carrier = self._carrier[drop:]
        self._base += drop
        return messages

    def _go(self, event: _Event) -> None:
        self._state = _TRANSITIONS[self._state][event]
        if self._state is _State.HUNT:
            self._run = 0
            self._bytes.clear()

    def _discriminate(
        self, x: npt.NDArray[np.float64]
    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.bool_]]:
        """Soft bits and carrier detect, one per new sample once a window's worth is in."""
        buf = np.concatenate((self._tail, x))
        self._tail = buf[max(0, len(buf) - (self._window - 1)) :]
        if len(buf) < self._window:
            return np.zeros(0), np.zeros(0, dtype=bool)
        # Magnitudes do not care where the oscillators' phase starts, so each call may
        # restart them at zero as long as the whole window shares one reference.
        n = np.arange(len(buf))
        kernel = np.ones(self._window)
        mark = np.convolve(buf * np.exp(-1j * self._w_mark * n), kernel, mode="valid")
        space = np.convolve(buf * np.exp(-1j * self._w_space * n), kernel, mode="valid")
        p_mark = mark.real**2 + mark.imag**2
        p_space = space.real**2 + space.imag**2
        total = p_mark + p_space
        soft = (p_mark - p_space) / np.maximum(total, 1e-9)
        return soft, total >= self._carrier_power

    def _hunt(self) -> bool:
        """HUNT: find _ARM_BITS of strong mark with carrier. False when out of samples."""
        start = self._pos - self._base
        good = (self._soft[start:] > _ARM_THRESHOLD) & self._carrier[start:]
        if good.size == 0:
            return False
        idx = np.arange(good.size)
        # Length of the mark run ending at each sample, continuing the previous feed's run.
        last_bad = np.maximum.accumulate(np.where(good, -1 - self._run, idx))
        run = idx - last_bad
        hits = np.flatnonzero(run >= self._arm_samples)
        if hits.size == 0:
            self._run = int(run[-1])
            self._pos += good.size
            return False
        self._pos += int(hits[0]) + 1
        self._go(_Event.MARK_RUN)
        return True

    def _next_character(self, messages: list[bytes]) -> bool:
        """ARMED/MESSAGE: find the next start bit and read its character."""
        end = self._base + len(self._soft)
        start = self._pos - self._base
        stops = np.flatnonzero((self._soft[start:] < 0.0) | ~self._carrier[start:])
        deadline = self._gap_start + self._gap_samples
        in_message = self._state is _State.MESSAGE
        if stops.size == 0 or (in_message and self._pos + int(stops[0]) > deadline):
            if in_message and end > deadline:
                return self._lose(deadline, "no start bit after the last character")
            self._pos = max(self._pos, end)
            return False
        edge = self._pos + int(stops[0])
        if not self._carrier[edge - self._base]:
            return self._lose(edge + 1, "carrier lost")
        centres = np.rint(self._crossing(edge) + self._offsets).astype(np.int64)
        if centres[-1] >= end:
            self._pos = edge  # come back when the whole character is in
            return False
        soft = self._soft[centres - self._base]
        if not self._carrier[centres - self._base].all():
            return self._lose(edge + 1, "carrier lost")
        if soft[0] >= 0.0:
            self._pos = edge + 1  # a glitch, not a start bit: keep looking
            return True
        if soft[9] <= 0.0:
            return self._lose(edge + 1, "framing error")
        self._pos = self._gap_start = int(centres[9])
        self._bytes.append(int(np.dot(soft[1:9] > 0.0, self._weights)))
        self._go(_Event.CHARACTER)
        self._complete(messages)
        return True

    def _crossing(self, edge: int) -> float:
        """Where, to a fraction of a sample, the soft bit crossed zero before `edge`."""
        i = edge - self._base
        if i == 0 or self._soft[i - 1] <= 0.0:  # no mark sample before it to interpolate from
            return float(edge)
        before, after = self._soft[i - 1], self._soft[i]
        return edge - 1 + float(before / (before - after))

    def _complete(self, messages: list[bytes]) -> None:
        got = self._bytes
        if len(got) < 2 or len(got) < got[1] + 3:
            return
        if sum(got) & 0xFF == 0:
            messages.append(bytes(got))
        else:
            _log.debug("caller ID message discarded: bad checksum (%s)", got.hex(" "))
        self._go(_Event.COMPLETE)

    def _lose(self, resume: int, why: str) -> bool:
        if self._bytes:
            _log.debug("caller ID message abandoned after %d bytes: %s", len(self._bytes), why)
        self._pos = resume
        self._go(_Event.LOST)
        return True


def fsk_demodulate(samples: npt.ArrayLike, standard: FskStandard) -> list[bytes]:
    """Every message with a good checksum found in a whole buffer of audio."""
    return FskDemodulator(standard).feed(samples)
