"""RFC 4733 telephone-events: DTMF digits and hook-flash carried as RTP packets.

Payload (RFC 4733 §2.3), one 4-byte block::

     0                   1                   2                   3
     0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
    |     event     |E|R| volume    |          duration             |
    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+

- event (§3.2): 0-9 are the digits, 10 is *, 11 is #, 12-15 are A-D; 16 is
  hook-flash (REFERENCE.md, "DTMF"). We name flash "!" where a digit string is wanted.
- E: the event has ended. R: reserved, sent as 0 and ignored on receipt (§2.3.3).
- volume: tone power as -dBm0, 0..63 (§2.3.4). duration: in timestamp units, counted from
  the event's timestamp (§2.3.5).
- A packet may pack further blocks (§2.5.1.5); `DtmfEvent.parse` reads the first and
  ignores the rest, which is what a receiver of plain DTMF needs.

Sending (§2.5.1): every packet of one event carries the *same* RTP timestamp, the event's
start; the first has the RTP marker bit; each update carries the duration so far; the
final packet (E bit, full duration) is sent three times in all (§2.5.1.4), so one lost
datagram does not lose the end. For the box's default 100 ms digit at 20 ms packetisation
that is durations 160, 320, 480, 640 and then 800 with E three times: seven datagrams,
due 20, 40, ..., 140 ms after the key went down. The packets share the audio stream's SSRC
and sequence space; `DtmfEventSender.rtp_packets` stamps them through an `RtpSender`.

Receiving: theory of operation
    An event is identified by its RTP timestamp (all its packets share it; §2.5.2) and its
    event code. The receiver reports two things, each exactly once per event:
    `DigitStarted` when the first packet of an event arrives -- whichever packet that is,
    so lost start packets cost nothing and an IVR can stop a prompt at once -- and
    `DigitReceived`, the digit with its duration, when the event is over. An event is over
    when the first packet with the E bit arrives, when a newer event starts (its end
    packets were all lost), or when no packet of it has arrived for `timeout_ms` (the
    sender stopped without an end: the digit still counts, once), checked by `poll(now)`
    at `next_deadline()`. Later copies of a finished event's packets (the end packet's
    retransmissions, network duplicates) are recognised by their timestamp and ignored,
    as is a packet of an event *older* than the newest one seen (reordered across events:
    reporting it would swap the digits). A change of SSRC (a re-INVITE, a transfer) ends
    the current event and forgets the history. Reordering inside an event needs nothing:
    the duration kept is the largest seen, and the E bit may come at any point.

    Not handled: events longer than 8.19 s, which §2.5.1.3 splits into segments with new
    timestamps, are reported once per segment; nobody holds a key that long to dial.
"""

from __future__ import annotations

import enum
import struct
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Final

from firmware.media.errors import MediaError
from firmware.media.frames import SAMPLE_RATE
from firmware.media.rtp import RtpPacket, RtpSender
from firmware.media.seq import ts_add, ts_diff

__all__ = [
    "EVENT_DIGITS",
    "FLASH",
    "FLASH_EVENT",
    "DigitEvent",
    "DigitReceived",
    "DigitStarted",
    "DtmfEvent",
    "DtmfEventError",
    "DtmfEventReceiver",
    "DtmfEventSender",
    "EndCause",
    "EventPacket",
    "event_code",
]

EVENT_DIGITS: Final = "0123456789*#ABCD"  # event codes 0-15 (§3.2)
FLASH_EVENT: Final = 16
FLASH: Final = "!"
_KEYS: Final = EVENT_DIGITS + FLASH  # index = event code, 0-16
MAX_DURATION: Final = 0xFFFF

_BLOCK: Final = struct.Struct("!BBH")


class DtmfEventError(MediaError):
    """A telephone-event payload is malformed, or a value given to build one is out of range."""


def event_code(key: str) -> int:
    """The event code of a DTMF key ("0"-"9", "*", "#", "A"-"D") or of flash ("!")."""
    code = _KEYS.find(key.upper()) if len(key) == 1 else -1
    if code < 0:
        raise DtmfEventError(f"{key!r} is not a DTMF key or '!' (flash)")
    return code


@dataclass(frozen=True, slots=True)
class DtmfEvent:
    """One telephone-event block (§2.3)."""

    event: int
    end: bool = False
    volume: int = 10
    duration: int = 0

    def __post_init__(self) -> None:
        if not 0 <= self.event <= 0xFF:
            raise DtmfEventError(f"telephone-event code {self.event} is outside 0..255")
        if not 0 <= self.volume <= 63:
            raise DtmfEventError(f"telephone-event volume {self.volume} is outside 0..63")
        if not 0 <= self.duration <= MAX_DURATION:
            raise DtmfEventError(f"telephone-event duration {self.duration} is outside 0..65535")

    @property
    def key(self) -> str | None:
        """ "0"-"9", "*", "#", "A"-"D", "!" for flash, or None for any other event."""
        return _KEYS[self.event] if self.event <= FLASH_EVENT else None

    @classmethod
    def parse(cls, data: bytes | bytearray | memoryview) -> DtmfEvent:
        if len(data) < 4:
            raise DtmfEventError(f"telephone-event payload of {len(data)} bytes is shorter than 4")
        event, flags, duration = _BLOCK.unpack_from(data)
        return cls(event, bool(flags & 0x80), flags & 0x3F, duration)

    def __bytes__(self) -> bytes:
        return _BLOCK.pack(self.event, (0x80 if self.end else 0) | self.volume, self.duration)


# ---------------------------------------------------------------------------------------------
# Sender


@dataclass(frozen=True, slots=True)
class EventPacket:
    """One packet of an event: RTP marker and timestamp, the payload, and when it is due
    (`due` samples after the event started)."""

    marker: bool
    timestamp: int
    event: DtmfEvent
    due: int

    @property
    def payload(self) -> bytes:
        return bytes(self.event)


class DtmfEventSender:
    """The packets of one event (§2.5.1); see the module docstring for the sequence."""

    def __init__(
        self,
        duration_ms: int = 100,
        packet_ms: int = 20,
        volume: int = 10,
        end_copies: int = 3,
        clock_rate: int = SAMPLE_RATE,
    ) -> None:
        self.step = packet_ms * clock_rate // 1000
        self.duration = duration_ms * clock_rate // 1000
        if self.step <= 0:
            raise DtmfEventError(f"packet interval of {packet_ms} ms is too short")
        if not 0 < self.duration <= MAX_DURATION:
            raise DtmfEventError(
                f"event of {duration_ms} ms does not fit the 16-bit duration at {clock_rate} Hz"
            )
        if end_copies < 1:
            raise DtmfEventError(f"end packet sent {end_copies} times, at least once needed")
        DtmfEvent(0, volume=volume)  # validates the volume
        self.volume = volume
        self.end_copies = end_copies

    def packets(self, key: str, timestamp: int) -> Iterator[EventPacket]:
        """The packets for `key` pressed at RTP `timestamp`, in sending order."""
        code = event_code(key)
        timestamp = ts_add(timestamp, 0)
        elapsed = self.step
        first = True
        while elapsed < self.duration:
            yield EventPacket(
                first, timestamp, DtmfEvent(code, False, self.volume, elapsed), elapsed
            )
            first = False
            elapsed += self.step
        end = DtmfEvent(code, True, self.volume, self.duration)
        for copy in range(self.end_copies):
            yield EventPacket(first, timestamp, end, self.duration + copy * self.step)
            first = False

    def rtp_packets(self, key: str, rtp: RtpSender, payload_type: int) -> list[tuple[int, bytes]]:
        """`(due, datagram)` for `key` on the stream of `rtp`, starting at its current
        timestamp; the stream's timestamp then moves past the event (the audio the event
        replaced is not sent, but the media clock runs on)."""
        start = rtp.timestamp
        out = [
            (p.due, rtp.packet_at(p.payload, start, p.marker, payload_type))
            for p in self.packets(key, start)
        ]
        rtp.skip(self.duration)
        return out


# ---------------------------------------------------------------------------------------------
# Receiver


class EndCause(enum.Enum):
    END_BIT = "end bit"
    NEXT_EVENT = "next event"
    TIMEOUT = "timeout"
    RESET = "reset"


@dataclass(frozen=True, slots=True)
class DigitStarted:
    """The first packet of an event arrived."""

    key: str
    timestamp: int


@dataclass(frozen=True, slots=True)
class DigitReceived:
    """An event is over: the key, its start timestamp, its duration in samples, and why it
    is considered over."""

    key: str
    timestamp: int
    duration: int
    cause: EndCause


DigitEvent = DigitStarted | DigitReceived


class _Active:
    __slots__ = ("code", "duration", "last_arrival", "timestamp")

    def __init__(self, code: int, timestamp: int, duration: int, arrival: float) -> None:
        self.code = code
        self.timestamp = timestamp
        self.duration = duration
        self.last_arrival = arrival


class DtmfEventReceiver:
    """Turns received telephone-event packets into digits, each exactly once."""

    def __init__(self, timeout_ms: float = 300.0, memory: int = 16) -> None:
        self.timeout = timeout_ms / 1000.0
        self._active: _Active | None = None
        self._done: deque[tuple[int, int]] = deque(maxlen=memory)
        self._newest: int | None = None
        self._ssrc: int | None = None
        self.duplicates = 0
        self.stale = 0
        self.ignored = 0

    def next_deadline(self) -> float | None:
        """When `poll` should next run (the active event's timeout), or None."""
        if self._active is None:
            return None
        return self._active.last_arrival + self.timeout

    def poll(self, now: float) -> list[DigitEvent]:
        """End the active event if no packet of it has come for `timeout_ms`."""
        active = self._active
        if active is not None and now - active.last_arrival >= self.timeout:
            return [self._finish(EndCause.TIMEOUT)]
        return []

    def reset(self) -> list[DigitEvent]:
        """End the active event and forget every event seen (a new stream)."""
        out = [self._finish(EndCause.RESET)] if self._active is not None else []
        self._done.clear()
        self._newest = None
        return out

    def feed_packet(self, packet: RtpPacket, now: float) -> list[DigitEvent]:
        """`feed` for a parsed RTP packet whose payload type is telephone-event."""
        return self.feed(DtmfEvent.parse(packet.payload), packet.timestamp, now, packet.ssrc)

    def feed(
        self, event: DtmfEvent, timestamp: int, now: float, ssrc: int | None = None
    ) -> list[DigitEvent]:
        """Account one packet (its payload and RTP timestamp, arriving at `now`)."""
        out = self.poll(now)
        if ssrc is not None and ssrc != self._ssrc:
            if self._ssrc is not None:
                out += self.reset()
            self._ssrc = ssrc
        if event.event > FLASH_EVENT:
            self.ignored += 1
            return out
        active = self._active
        if active is not None and active.timestamp == timestamp and active.code == event.event:
            active.duration = max(active.duration, event.duration)
            active.last_arrival = now
            if event.end:
                out.append(self._finish(EndCause.END_BIT))
            return out
        if (timestamp, event.event) in self._done:
            self.duplicates += 1
            return out
        if self._newest is not None and ts_diff(timestamp, self._newest) < 0:
            self.stale += 1
            return out
        if active is not None:
            out.append(self._finish(EndCause.NEXT_EVENT))
        self._newest = timestamp
        self._active = _Active(event.event, timestamp, event.duration, now)
        out.append(DigitStarted(_KEYS[event.event], timestamp))
        if event.end:
            out.append(self._finish(EndCause.END_BIT))
        return out

    def _finish(self, cause: EndCause) -> DigitReceived:
        active = self._active
        assert active is not None
        self._active = None
        self._done.append((active.timestamp, active.code))
        return DigitReceived(_KEYS[active.code], active.timestamp, active.duration, cause)
