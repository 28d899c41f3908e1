"""RTP data packets (RFC 3550 §5): parse, build, peek, and a sender whose counters wrap.

Wire format (RFC 3550 §5.1), network byte order::

     0                   1                   2                   3
     0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
    |V=2|P|X|  CC   |M|     PT      |       sequence number         |
    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
    |                           timestamp                           |
    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
    |           synchronization source (SSRC) identifier            |
    +=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
    |            contributing source (CSRC) identifiers             |
    |                    (CC of them, 0 to 15)                      |
    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
    |   extension profile (if X)    |  extension length in words    |
    |                 extension data (4 * length bytes)             |
    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
    |                 payload ...   | padding (if P) ...| pad count |
    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+

- Padding (§5.1, P bit): the last octet counts the padding octets *including itself*, so a
  count of zero, or one larger than what follows the header, is malformed.
- Header extension (§5.3.1, X bit): a 16-bit profile-defined value and a length in 32-bit
  words not counting its own 4-byte header. We keep it opaque as `(profile, data)`; the
  RFC 8285 one- and two-byte element forms (profiles 0xBEDE, 0x100x) live inside `data`.
- CSRCs (§5.1) are listed by mixers; a box bridging two legs relays them untouched.

Parsing checks every length before unpacking and raises `RtpError` with an exact message;
no other exception escapes `RtpPacket.parse` or `peek_header`, whatever the bytes.

The relay fast path (DESIGN.md, "Performance budget": at most 10 µs of CPU per relayed
packet, no per-packet objects) must not build an `RtpPacket`: `peek_header` reads the four
fields a relay needs with one precompiled `struct.unpack_from` and returns a tuple.

Sending: `RtpSender` holds one stream's SSRC, payload type, and next sequence number and
timestamp. RFC 3550 §5.1 asks for random initial values (so a known-plaintext attack on
SRTP gets no help and a restarted sender is told apart); they are constructor arguments so
tests are deterministic, and `RtpSender.with_random_start` draws them from an `rng` the
caller passes (`random.SystemRandom()` in the box). Both counters move only through
`firmware.media.seq` (STYLE.md principle 8), so they wrap at 65535 and 2^32 - 1.
"""

from __future__ import annotations

import random
import struct
from dataclasses import dataclass
from typing import Final

from firmware.media.errors import MediaError
from firmware.media.seq import seq_add, ts_add

__all__ = [
    "HEADER_SIZE",
    "RTP_VERSION",
    "RtpError",
    "RtpPacket",
    "RtpSender",
    "peek_header",
]

RTP_VERSION: Final = 2
HEADER_SIZE: Final = 12
MAX_CSRC: Final = 15  # the CC field is 4 bits

_HEADER: Final = struct.Struct("!BBHII")  # V/P/X/CC, M/PT, sequence, timestamp, SSRC
_EXTENSION: Final = struct.Struct("!HH")  # profile, length in 32-bit words

Buffer = bytes | bytearray | memoryview


class RtpError(MediaError):
    """An RTP packet is malformed, or a field given to build one is out of range."""


def peek_header(data: Buffer) -> tuple[int, int, int, int]:
    """`(payload_type, sequence, timestamp, ssrc)` of an RTP packet, without parsing the rest.

    The relay's per-packet read: checks only the length and the version, allocates nothing
    but the result tuple. Raises `RtpError` on fewer than 12 bytes or a version other than 2.
    """
    if len(data) < HEADER_SIZE:
        raise RtpError(f"RTP packet of {len(data)} bytes is shorter than the 12-byte header")
    b0, b1, sequence, timestamp, ssrc = _HEADER.unpack_from(data)
    if b0 >> 6 != RTP_VERSION:
        raise RtpError(f"RTP version {b0 >> 6}, expected 2")
    return b1 & 0x7F, sequence, timestamp, ssrc


@dataclass(frozen=True, slots=True)
class RtpPacket:
    """One RTP data packet. `padding` is the number of padding octets (0 = no P bit)."""

    payload_type: int
    sequence: int
    timestamp: int
    ssrc: int
    marker: bool = False
    payload: bytes = b""
    csrc: tuple[int, ...] = ()
    extension: tuple[int, bytes] | None = None
    padding: int = 0

    def __post_init__(self) -> None:
        if not 0 <= self.payload_type <= 0x7F:
            raise RtpError(f"RTP payload type {self.payload_type} is outside 0..127")
        if not 0 <= self.sequence <= 0xFFFF:
            raise RtpError(f"RTP sequence number {self.sequence} is outside 0..65535")
        if not 0 <= self.timestamp <= 0xFFFFFFFF:
            raise RtpError(f"RTP timestamp {self.timestamp} is outside 0..2^32-1")
        if not 0 <= self.ssrc <= 0xFFFFFFFF:
            raise RtpError(f"RTP SSRC {self.ssrc} is outside 0..2^32-1")
        if self.csrc:
            self._check_csrc()
        if self.extension is not None:
            self._check_extension()
        if not 0 <= self.padding <= 0xFF:
            raise RtpError(f"RTP padding of {self.padding} bytes is outside 0..255")

    def _check_csrc(self) -> None:
        if len(self.csrc) > MAX_CSRC:
            raise RtpError(f"RTP packet with {len(self.csrc)} CSRCs, at most 15 fit")
        for source in self.csrc:
            if not 0 <= source <= 0xFFFFFFFF:
                raise RtpError(f"RTP CSRC {source} is outside 0..2^32-1")

    def _check_extension(self) -> None:
        assert self.extension is not None
        profile, data = self.extension
        if not 0 <= profile <= 0xFFFF:
            raise RtpError(f"RTP extension profile {profile} is outside 0..65535")
        if len(data) % 4 or len(data) > 4 * 0xFFFF:
            raise RtpError(
                f"RTP extension data of {len(data)} bytes is not a whole number of "
                "32-bit words up to 65535"
            )

    @classmethod
    def parse(cls, data: Buffer) -> RtpPacket:
        """Parse one RTP packet (RFC 3550 §5.1); raises `RtpError` if it is malformed."""
        size = len(data)
        if size < HEADER_SIZE:
            raise RtpError(f"RTP packet of {size} bytes is shorter than the 12-byte header")
        b0, b1, sequence, timestamp, ssrc = _HEADER.unpack_from(data)
        if b0 >> 6 != RTP_VERSION:
            raise RtpError(f"RTP version {b0 >> 6}, expected 2")
        count = b0 & 0x0F
        offset = HEADER_SIZE + 4 * count
        if offset > size:
            raise RtpError(f"RTP CSRC count {count} needs {offset} bytes, packet has {size}")
        csrc: tuple[int, ...] = struct.unpack_from(f"!{count}I", data, HEADER_SIZE) if count else ()
        extension = None
        if b0 & 0x10:
            if offset + 4 > size:
                raise RtpError(f"RTP extension header needs {offset + 4} bytes, packet has {size}")
            profile, words = _EXTENSION.unpack_from(data, offset)
            end = offset + 4 + 4 * words
            if end > size:
                raise RtpError(
                    f"RTP extension of {words} words needs {end} bytes, packet has {size}"
                )
            extension = (profile, bytes(data[offset + 4 : end]))
            offset = end
        padding = 0
        end = size
        if b0 & 0x20:
            padding = data[-1]
            if padding == 0:
                raise RtpError("RTP padding count is zero")
            if padding > size - offset:
                raise RtpError(
                    f"RTP padding of {padding} bytes is longer than the {size - offset} bytes "
                    "after the header"
                )
            end = size - padding
        return cls(
            b1 & 0x7F,
            sequence,
            timestamp,
            ssrc,
            bool(b1 & 0x80),
            bytes(data[offset:end]),
            csrc,
            extension,
            padding,
        )

    def __bytes__(self) -> bytes:
        b0 = 0x80 | len(self.csrc)
        if self.padding:
            b0 |= 0x20
        if self.extension is not None:
            b0 |= 0x10
        b1 = self.payload_type | (0x80 if self.marker else 0)
        parts = [_HEADER.pack(b0, b1, self.sequence, self.timestamp, self.ssrc)]
        if self.csrc:
            parts.append(struct.pack(f"!{len(self.csrc)}I", *self.csrc))
        if self.extension is not None:
            profile, data = self.extension
            parts.append(_EXTENSION.pack(profile, len(data) // 4))
            parts.append(data)
        parts.append(self.payload)
        if self.padding:
            parts.append(bytes(self.padding - 1) + bytes((self.padding,)))
        return b"".join(parts)


class RtpSender:
    """One outgoing RTP stream: builds packets and advances sequence and timestamp.

    `packet(payload, samples)` stamps the packet with the current timestamp (the sampling
    instant of its first sample, RFC 3550 §5.1) and then moves the timestamp on by
    `samples`; every packet takes the next sequence number. `packet_at` sends with an
    explicit timestamp and payload type (RFC 4733 events share the audio stream's SSRC
    and sequence space but carry the event's start timestamp); `skip` moves the timestamp
    on for time in which nothing was sent (silence, or the audio an event replaced).
    """

    __slots__ = ("_payload_type", "_sequence", "_ssrc", "_timestamp", "octets", "packets")

    def __init__(
        self, ssrc: int, payload_type: int, initial_sequence: int, initial_timestamp: int
    ) -> None:
        if not 0 <= ssrc <= 0xFFFFFFFF:
            raise RtpError(f"RTP SSRC {ssrc} is outside 0..2^32-1")
        if not 0 <= payload_type <= 0x7F:
            raise RtpError(f"RTP payload type {payload_type} is outside 0..127")
        if not 0 <= initial_sequence <= 0xFFFF:
            raise RtpError(f"RTP sequence number {initial_sequence} is outside 0..65535")
        if not 0 <= initial_timestamp <= 0xFFFFFFFF:
            raise RtpError(f"RTP timestamp {initial_timestamp} is outside 0..2^32-1")
        self._ssrc = ssrc
        self._payload_type = payload_type
        self._sequence = initial_sequence
        self._timestamp = initial_timestamp
        # Running totals for a sender report (RFC 3550 §6.4.1); the report masks them to
        # the 32 bits of its fields, so they are totals here, not wire counters.
        self.packets = 0
        self.octets = 0

    @classmethod
    def with_random_start(
        cls, payload_type: int, rng: random.Random, ssrc: int | None = None
    ) -> RtpSender:
        """A sender with random SSRC (unless given), initial sequence and timestamp (§5.1)."""
        return cls(
            rng.getrandbits(32) if ssrc is None else ssrc,
            payload_type,
            rng.getrandbits(16),
            rng.getrandbits(32),
        )

    @property
    def ssrc(self) -> int:
        return self._ssrc

    @property
    def payload_type(self) -> int:
        return self._payload_type

    @property
    def sequence(self) -> int:
        """The sequence number the next packet will carry."""
        return self._sequence

    @property
    def timestamp(self) -> int:
        """The timestamp the next `packet()` will carry."""
        return self._timestamp

    def packet(self, payload: bytes, samples: int, marker: bool = False) -> bytes:
        """Build the next packet of the stream and advance sequence and timestamp."""
        data = self._build(self._payload_type, marker, self._timestamp, payload)
        self._timestamp = ts_add(self._timestamp, samples)
        return data

    def packet_at(
        self,
        payload: bytes,
        timestamp: int,
        marker: bool = False,
        payload_type: int | None = None,
    ) -> bytes:
        """Build the next packet with an explicit timestamp (and payload type); only the
        sequence number advances."""
        pt = self._payload_type if payload_type is None else payload_type
        if not 0 <= pt <= 0x7F:
            raise RtpError(f"RTP payload type {pt} is outside 0..127")
        return self._build(pt, marker, ts_add(timestamp, 0), payload)

    def skip(self, samples: int) -> None:
        """Advance the timestamp by `samples` without sending (RFC 3550 §5.1: the clock runs
        on through silence)."""
        self._timestamp = ts_add(self._timestamp, samples)

    def _build(self, payload_type: int, marker: bool, timestamp: int, payload: bytes) -> bytes:
        b1 = (payload_type | 0x80) if marker else payload_type
        data = _HEADER.pack(0x80, b1, self._sequence, timestamp, self._ssrc) + payload
        self._sequence = seq_add(self._sequence, 1)
        self.packets += 1
        self.octets += len(payload)
        return data
