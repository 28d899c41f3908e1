"""Minimal RTCP (RFC 3550 §6): SR, RR, SDES and BYE, and the receiver statistics behind them.

What the box uses RTCP for
    Loss and jitter of every leg, in logs and benchmarks; a receiver report back to each
    peer, so its own statistics are right; BYE to notice a peer that left. No feedback
    messages (RFC 4585), no XR (RFC 3611): those arrive as unknown packet types and are
    skipped without error.

Compound packets (§6.1)
    One datagram carries several RTCP packets back to back, each with the common header::

         0                   1                   2                   3
         0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
        +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
        |V=2|P|  count  |  packet type  |  length (32-bit words - 1)    |
        +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+

    `parse_compound` walks them, checking each length before it reads, and returns the
    SR/RR/SDES/BYE it finds; a packet of another type is skipped by its length (§6.1 asks
    receivers to ignore what they do not know). Padding (P bit, last octet = count) is
    honoured on any packet, though §6.4.1 allows it only on the last one; bytes after an
    SR's or RR's report blocks (profile-specific extensions, §6.4.1) are ignored. We do
    not insist, as the A.2 validity check does, that the first packet be an SR or RR: a
    peer's lone BYE still counts. Every malformed input raises `RtcpError` with an exact
    message.

    Building: each packet type is a frozen dataclass whose `bytes()` is the wire form; a
    compound packet is their concatenation, e.g. the box's report on a leg is
    `bytes(ReceiverReport(own_ssrc, (stats.report_block(peer_ssrc, now),)))
    + bytes(SourceDescription.cname(own_ssrc, cname))` (§6.1: every compound packet
    carries a CNAME).

Report blocks (§6.4.1), 24 bytes each: SSRC of the source reported on; fraction lost (8
    bits, a fixed-point fraction of 256) and cumulative number lost (signed 24 bits);
    extended highest sequence number (16 bits of cycles over 16 bits of sequence);
    interarrival jitter (timestamp units); LSR (middle 32 bits of the NTP timestamp of the
    last SR from that source) and DLSR (delay since that SR, in units of 1/65536 s).

ReceptionStats: theory of operation
    - RFC 3550 A.1, the sequence number bookkeeping: a packet up to MAX_DROPOUT (3000)
      ahead of the highest sequence number is in order (a smaller value means the 16-bit
      number wrapped, so one more cycle of 65536 is counted); one up to MAX_MISORDER (100)
      behind is a duplicate or reordered and changes nothing but the count received; any
      other is a jump, believed only when the next packet follows it (the sender
      restarted), and then the statistics start again from it. The A.1 "probation" for a
      new source is not used: on a SIP leg the source is the one SDP negotiated.
    - A.3, loss: expected = extended highest - base + 1; cumulative lost = expected -
      received (negative with duplicates, clamped to 24 bits); fraction lost over the
      interval since the previous report = lost in the interval * 256 / expected in the
      interval, zero when nothing was expected or more arrived than expected.
    - A.8, interarrival jitter: for consecutive arrivals i-1, i with arrival times R and RTP
      timestamps S, D = (R_i - R_(i-1)) - (S_i - S_(i-1)) in timestamp units, and
      J += (|D| - J) / 16. Arrival times are the caller's `now` in seconds, converted with
      the clock rate; the timestamp difference is wrap-safe (`ts_diff`), so the 2^32 wrap
      does not show up as a spike. J is kept as a float and truncated in the report.
    - LSR/DLSR (§6.4.1): `on_sender_report` keeps the middle of the SR's NTP timestamp and
      when it arrived; `report_block(ssrc, now)` puts them in the block.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Final

from firmware.media.errors import MediaError
from firmware.media.frames import SAMPLE_RATE
from firmware.media.seq import ts_diff

__all__ = [
    "BYE",
    "CNAME",
    "RR",
    "SDES",
    "SR",
    "Bye",
    "ReceiverReport",
    "ReceptionStats",
    "ReportBlock",
    "RtcpError",
    "RtcpItem",
    "SdesChunk",
    "SenderReport",
    "SourceDescription",
    "is_rtcp",
    "ntp_from_unix",
    "ntp_middle",
    "parse_compound",
]

SR: Final = 200
RR: Final = 201
SDES: Final = 202
BYE: Final = 203

CNAME: Final = 1  # SDES item type (§6.5.1); every compound packet should carry one

NTP_UNIX_OFFSET: Final = 2_208_988_800  # seconds from 1900-01-01 (NTP era 0) to 1970-01-01
MAX_COUNT: Final = 31  # the 5-bit count field
_LOST_MIN: Final = -(1 << 23)
_LOST_MAX: Final = (1 << 23) - 1

_COMMON: Final = struct.Struct("!BBH")
_BLOCK: Final = struct.Struct("!IB3sIIII")  # SSRC, fraction, lost (24), highest, J, LSR, DLSR
_SENDER_INFO: Final = struct.Struct("!IQIII")  # SSRC, NTP, RTP timestamp, packets, octets
_WORD: Final = struct.Struct("!I")

Buffer = bytes | bytearray | memoryview


class RtcpError(MediaError):
    """An RTCP packet is malformed, or a field given to build one is out of range."""


def is_rtcp(data: Buffer) -> bool:
    """True if a datagram on a muxed RTP/RTCP port is RTCP (RFC 5761 §4: second octet 192-223,
    a range RTP payload types 64-95 would occupy and which no audio type uses)."""
    return len(data) >= 2 and 192 <= data[1] <= 223


def ntp_from_unix(seconds: float) -> int:
    """The 64-bit NTP timestamp (32.32 fixed point, era 0) of a Unix time in seconds."""
    return round((seconds + NTP_UNIX_OFFSET) * (1 << 32)) & 0xFFFF_FFFF_FFFF_FFFF


def ntp_middle(ntp_timestamp: int) -> int:
    """The middle 32 bits of a 64-bit NTP timestamp: the LSR field of a report block."""
    return (ntp_timestamp >> 16) & 0xFFFFFFFF


def _u32(name: str, value: int) -> None:
    if not 0 <= value <= 0xFFFFFFFF:
        raise RtcpError(f"RTCP {name} {value} is outside 0..2^32-1")


def _header(packet_type: int, count: int, body: bytes) -> bytes:
    """Common header (§6.4.1) in front of a body that is a whole number of words."""
    return _COMMON.pack(0x80 | count, packet_type, len(body) // 4) + body


# ---------------------------------------------------------------------------------------------
# Packets


@dataclass(frozen=True, slots=True)
class ReportBlock:
    """One reception report (§6.4.1) about the source `ssrc`."""

    ssrc: int
    fraction_lost: int
    cumulative_lost: int
    highest_sequence: int
    jitter: int
    lsr: int = 0
    dlsr: int = 0

    def __post_init__(self) -> None:
        _u32("report SSRC", self.ssrc)
        if not 0 <= self.fraction_lost <= 0xFF:
            raise RtcpError(f"RTCP fraction lost {self.fraction_lost} is outside 0..255")
        if not _LOST_MIN <= self.cumulative_lost <= _LOST_MAX:
            raise RtcpError(
                f"RTCP cumulative lost {self.cumulative_lost} does not fit a signed 24-bit field"
            )
        _u32("extended highest sequence", self.highest_sequence)
        _u32("jitter", self.jitter)
        _u32("LSR", self.lsr)
        _u32("DLSR", self.dlsr)

    @classmethod
    def parse(cls, data: Buffer, offset: int = 0) -> ReportBlock:
        if len(data) - offset < 24:
            raise RtcpError(f"RTCP report block needs 24 bytes, {max(0, len(data) - offset)} left")
        ssrc, fraction, lost, highest, jitter, lsr, dlsr = _BLOCK.unpack_from(data, offset)
        cumulative = int.from_bytes(lost, "big", signed=True)
        return cls(ssrc, fraction, cumulative, highest, jitter, lsr, dlsr)

    def __bytes__(self) -> bytes:
        lost = self.cumulative_lost.to_bytes(3, "big", signed=True)
        return _BLOCK.pack(
            self.ssrc,
            self.fraction_lost,
            lost,
            self.highest_sequence,
            self.jitter,
            self.lsr,
            self.dlsr,
        )


def _check_reports(reports: tuple[ReportBlock, ...]) -> None:
    if len(reports) > MAX_COUNT:
        raise RtcpError(f"RTCP report with {len(reports)} blocks, at most 31 fit")


def _parse_blocks(body: Buffer, offset: int, count: int, kind: str) -> tuple[ReportBlock, ...]:
    need = offset + 24 * count
    if need > len(body):
        raise RtcpError(
            f"RTCP {kind} with {count} report blocks needs {need} bytes, has {len(body)}"
        )
    return tuple(ReportBlock.parse(body, offset + 24 * i) for i in range(count))


@dataclass(frozen=True, slots=True)
class SenderReport:
    """SR (§6.4.1): sender info of `ssrc` plus reception reports about other sources."""

    ssrc: int
    ntp_timestamp: int
    rtp_timestamp: int
    packet_count: int
    octet_count: int
    reports: tuple[ReportBlock, ...] = ()

    def __post_init__(self) -> None:
        _u32("SSRC", self.ssrc)
        if not 0 <= self.ntp_timestamp <= 0xFFFF_FFFF_FFFF_FFFF:
            raise RtcpError(f"RTCP NTP timestamp {self.ntp_timestamp} is outside 0..2^64-1")
        _u32("RTP timestamp", self.rtp_timestamp)
        _u32("packet count", self.packet_count)
        _u32("octet count", self.octet_count)
        _check_reports(self.reports)

    @classmethod
    def parse_body(cls, body: Buffer, count: int) -> SenderReport:
        if len(body) < 24:
            raise RtcpError(f"RTCP SR body of {len(body)} bytes is shorter than 24")
        ssrc, ntp, rtp_ts, packets, octets = _SENDER_INFO.unpack_from(body)
        return cls(ssrc, ntp, rtp_ts, packets, octets, _parse_blocks(body, 24, count, "SR"))

    def __bytes__(self) -> bytes:
        body = _SENDER_INFO.pack(
            self.ssrc, self.ntp_timestamp, self.rtp_timestamp, self.packet_count, self.octet_count
        ) + b"".join(bytes(block) for block in self.reports)
        return _header(SR, len(self.reports), body)


@dataclass(frozen=True, slots=True)
class ReceiverReport:
    """RR (§6.4.2): reception reports from `ssrc`, a participant that sent no RTP lately."""

    ssrc: int
    reports: tuple[ReportBlock, ...] = ()

    def __post_init__(self) -> None:
        _u32("SSRC", self.ssrc)
        _check_reports(self.reports)

    @classmethod
    def parse_body(cls, body: Buffer, count: int) -> ReceiverReport:
        if len(body) < 4:
            raise RtcpError(f"RTCP RR body of {len(body)} bytes is shorter than 4")
        (ssrc,) = _WORD.unpack_from(body)
        return cls(ssrc, _parse_blocks(body, 4, count, "RR"))

    def __bytes__(self) -> bytes:
        body = _WORD.pack(self.ssrc) + b"".join(bytes(block) for block in self.reports)
        return _header(RR, len(self.reports), body)


@dataclass(frozen=True, slots=True)
class SdesChunk:
    """One SDES chunk (§6.5): a source and its items as (type, value) pairs."""

    ssrc: int
    items: tuple[tuple[int, bytes], ...] = ()

    def __post_init__(self) -> None:
        _u32("SDES SSRC", self.ssrc)
        for kind, value in self.items:
            if not 1 <= kind <= 0xFF:
                raise RtcpError(f"RTCP SDES item type {kind} is outside 1..255")
            if len(value) > 0xFF:
                raise RtcpError(f"RTCP SDES item of {len(value)} bytes, at most 255 fit")

    def __bytes__(self) -> bytes:
        data = _WORD.pack(self.ssrc) + b"".join(
            bytes((kind, len(value))) + value for kind, value in self.items
        )
        # The item list ends with a null octet, then null octets up to a word boundary
        # (§6.5): always at least one, so 1 to 4 are added.
        return data + bytes(4 - len(data) % 4)


@dataclass(frozen=True, slots=True)
class SourceDescription:
    """SDES (§6.5)."""

    chunks: tuple[SdesChunk, ...] = ()

    def __post_init__(self) -> None:
        if len(self.chunks) > MAX_COUNT:
            raise RtcpError(f"RTCP SDES with {len(self.chunks)} chunks, at most 31 fit")

    @classmethod
    def cname(cls, ssrc: int, cname: str) -> SourceDescription:
        return cls((SdesChunk(ssrc, ((CNAME, cname.encode()),)),))

    @classmethod
    def parse_body(cls, body: Buffer, count: int) -> SourceDescription:
        chunks = []
        offset = 0
        for _ in range(count):
            if offset + 4 > len(body):
                raise RtcpError(f"RTCP SDES chunk at byte {offset} runs past the end")
            (ssrc,) = _WORD.unpack_from(body, offset)
            offset += 4
            items = []
            while True:
                if offset >= len(body):
                    raise RtcpError("RTCP SDES item list has no terminating null octet")
                kind = body[offset]
                if kind == 0:
                    offset = (offset + 4) & ~3  # the null octet and the padding to a word
                    break
                if offset + 2 > len(body) or offset + 2 + body[offset + 1] > len(body):
                    raise RtcpError(f"RTCP SDES item at byte {offset} runs past the end")
                length = body[offset + 1]
                items.append((kind, bytes(body[offset + 2 : offset + 2 + length])))
                offset += 2 + length
            chunks.append(SdesChunk(ssrc, tuple(items)))
        return cls(tuple(chunks))

    def __bytes__(self) -> bytes:
        return _header(SDES, len(self.chunks), b"".join(bytes(c) for c in self.chunks))


@dataclass(frozen=True, slots=True)
class Bye:
    """BYE (§6.6): these sources left; `reason` is optional text."""

    sources: tuple[int, ...]
    reason: bytes = b""

    def __post_init__(self) -> None:
        if len(self.sources) > MAX_COUNT:
            raise RtcpError(f"RTCP BYE with {len(self.sources)} sources, at most 31 fit")
        for source in self.sources:
            _u32("BYE SSRC", source)
        if len(self.reason) > 0xFF:
            raise RtcpError(f"RTCP BYE reason of {len(self.reason)} bytes, at most 255 fit")

    @classmethod
    def parse_body(cls, body: Buffer, count: int) -> Bye:
        need = 4 * count
        if need > len(body):
            raise RtcpError(f"RTCP BYE with {count} sources needs {need} bytes, has {len(body)}")
        sources = struct.unpack_from(f"!{count}I", body)
        reason = b""
        if len(body) > need:
            length = body[need]
            if need + 1 + length > len(body):
                raise RtcpError(f"RTCP BYE reason of {length} bytes runs past the end")
            reason = bytes(body[need + 1 : need + 1 + length])
        return cls(sources, reason)

    def __bytes__(self) -> bytes:
        body = struct.pack(f"!{len(self.sources)}I", *self.sources)
        if self.reason:
            text = bytes((len(self.reason),)) + self.reason
            body += text + bytes(-len(text) % 4)
        return _header(BYE, len(self.sources), body)


RtcpItem = SenderReport | ReceiverReport | SourceDescription | Bye

_PARSERS: Final = {
    SR: SenderReport.parse_body,
    RR: ReceiverReport.parse_body,
    SDES: SourceDescription.parse_body,
    BYE: Bye.parse_body,
}


def parse_compound(data: Buffer) -> list[RtcpItem]:
    """The SR, RR, SDES and BYE packets of a compound RTCP datagram, in order.

    Packets of other types are skipped; any malformed packet raises `RtcpError`.
    """
    size = len(data)
    if size < 4:
        raise RtcpError(f"RTCP packet of {size} bytes is shorter than the 4-byte header")
    items: list[RtcpItem] = []
    offset = 0
    while offset < size:
        if size - offset < 4:
            raise RtcpError(
                f"RTCP packet at byte {offset} has {size - offset} bytes, header needs 4"
            )
        b0, packet_type, words = _COMMON.unpack_from(data, offset)
        if b0 >> 6 != 2:
            raise RtcpError(f"RTCP version {b0 >> 6} at byte {offset}, expected 2")
        end = offset + 4 * (words + 1)
        if end > size:
            raise RtcpError(
                f"RTCP packet at byte {offset} claims {4 * (words + 1)} bytes, {size - offset} left"
            )
        body_end = end
        if b0 & 0x20:
            padding = data[end - 1]
            if padding == 0 or padding > end - offset - 4:
                raise RtcpError(f"RTCP padding count {padding} at byte {offset} is invalid")
            body_end = end - padding
        parser = _PARSERS.get(packet_type)
        if parser is not None:
            items.append(parser(memoryview(data)[offset + 4 : body_end], b0 & 0x1F))
        offset = end
    return items


# ---------------------------------------------------------------------------------------------
# Reception statistics


class ReceptionStats:
    """Per-source RTP reception statistics (RFC 3550 A.1, A.3, A.8); see the module docstring."""

    MAX_DROPOUT: Final = 3000
    MAX_MISORDER: Final = 100

    __slots__ = (
        "_bad_seq",
        "_base_seq",
        "_cycles",
        "_expected_prior",
        "_jitter",
        "_last_arrival",
        "_last_ts",
        "_max_seq",
        "_received_prior",
        "_sr_arrival",
        "_sr_middle",
        "clock_rate",
        "received",
    )

    def __init__(self, clock_rate: int = SAMPLE_RATE) -> None:
        self.clock_rate = clock_rate
        self.received = 0
        self._max_seq: int | None = None
        self._base_seq = 0
        self._cycles = 0
        self._bad_seq: int | None = None
        self._expected_prior = 0
        self._received_prior = 0
        self._jitter = 0.0
        self._last_arrival = 0.0
        self._last_ts = 0
        self._sr_middle = 0
        self._sr_arrival: float | None = None

    def _restart(self, sequence: int) -> None:
        """A.1 init_seq: count from this packet afresh."""
        self._max_seq = sequence
        self._base_seq = sequence
        self._cycles = 0
        self._bad_seq = None
        self.received = 0
        self._expected_prior = 0
        self._received_prior = 0

    def update(self, sequence: int, timestamp: int, arrival: float) -> bool:
        """Account one received packet; False if it was set aside as an unconfirmed jump."""
        if self._max_seq is None:
            self._restart(sequence)
        else:
            delta = (sequence - self._max_seq) & 0xFFFF
            if delta < self.MAX_DROPOUT:
                if sequence < self._max_seq:
                    self._cycles += 1 << 16  # the 16-bit number wrapped
                self._max_seq = sequence
            elif delta <= (1 << 16) - self.MAX_MISORDER:
                if sequence != self._bad_seq:
                    self._bad_seq = (sequence + 1) & 0xFFFF
                    return False
                self._restart(sequence)  # two in a row: the sender restarted
            # otherwise a duplicate or a reordered packet: counted, nothing else moves
        if self.received:
            moved = (arrival - self._last_arrival) * self.clock_rate
            d = moved - ts_diff(timestamp, self._last_ts)
            self._jitter += (abs(d) - self._jitter) / 16.0
        self.received += 1
        self._last_arrival = arrival
        self._last_ts = timestamp
        return True

    @property
    def extended_highest(self) -> int:
        """Extended highest sequence number received: cycles * 65536 + highest (A.1)."""
        return 0 if self._max_seq is None else self._cycles + self._max_seq

    @property
    def expected(self) -> int:
        if self._max_seq is None:
            return 0
        return self._cycles + self._max_seq - self._base_seq + 1

    @property
    def cumulative_lost(self) -> int:
        """Expected minus received since the start (A.3); negative after duplicates."""
        return self.expected - self.received

    @property
    def jitter(self) -> float:
        """Interarrival jitter estimate J in timestamp units (A.8)."""
        return self._jitter

    @property
    def jitter_seconds(self) -> float:
        return self._jitter / self.clock_rate

    def on_sender_report(self, ntp_timestamp: int, arrival: float) -> None:
        """Remember an SR from this source for the LSR/DLSR of our next report (§6.4.1)."""
        self._sr_middle = ntp_middle(ntp_timestamp)
        self._sr_arrival = arrival

    def report_block(self, ssrc: int, now: float) -> ReportBlock:
        """The report block about source `ssrc`; starts a new fraction-lost interval (A.3)."""
        expected = self.expected
        expected_interval = expected - self._expected_prior
        received_interval = self.received - self._received_prior
        self._expected_prior = expected
        self._received_prior = self.received
        lost_interval = expected_interval - received_interval
        if expected_interval == 0 or lost_interval <= 0:
            fraction = 0
        else:
            fraction = min(0xFF, (lost_interval << 8) // expected_interval)
        lost = max(_LOST_MIN, min(_LOST_MAX, self.cumulative_lost))
        dlsr = 0
        if self._sr_arrival is not None:
            dlsr = min(0xFFFFFFFF, max(0, round((now - self._sr_arrival) * 65536)))
        return ReportBlock(
            ssrc,
            fraction,
            lost,
            self.extended_highest & 0xFFFFFFFF,
            min(0xFFFFFFFF, int(self._jitter)),
            self._sr_middle,
            dlsr,
        )
