"""A fixed-depth jitter buffer for legs the box decodes (analog ports, prompts, recording).

Why
    Packets leave the peer every 20 ms but arrive bunched and out of order. The buffer
    holds a few of them so that the frame clock of the box (one `get()` per 20 ms tick,
    paced by deadline in the async shell -- STYLE.md principles 7 and 8) always finds the
    next frame waiting. A relayed SIP-to-SIP leg does not come here: it forwards packets
    as they arrive and leaves the de-jittering to the far phone.

Model
    One packet is one 20 ms frame (REFERENCE.md: ptime 20; a peer sending other packet
    sizes must be repacketised first); frames are ordered by RTP sequence number, and
    `_next` is the sequence number the next `get()` plays. Only the leg's audio payload
    type belongs here: the caller routes telephone-events (RFC 4733) and comfort noise
    elsewhere, since they share the sequence space but are not frames to play. The state
    machine, as a table (event -> next state)::

        IDLE      --first packet-->           PRIMING
        PRIMING   --get, depth > target,
                    or target time since
                    the first packet-->       PLAYING  (plays in the same get)
        PLAYING   --get, nothing buffered-->  PRIMING  (underrun: refill to the target)
        any       --SSRC change, or a
                    confirmed seq/ts jump-->  IDLE -> PRIMING on that packet (resync)

    `depth` counts frames from `_next` to the newest packet, holes included, which is how
    far behind the sender the playout runs. Priming ends when the depth exceeds the target,
    so that after the first frame is taken `target` frames still wait: in steady state a
    frame plays `target_ms` after it arrived, and a packet up to `target_ms` later than
    its schedule still makes it.

    - get() in PLAYING: the frame is there -> its payload. Missing but later frames are
      buffered -> None, counted `lost` (the caller conceals: repeats the last frame or plays
      comfort noise) and playout moves on. Nothing buffered at all -> None, counted as an
      underrun, and the buffer primes again; playout waits at the missing frame, so a frame
      that was merely late is played when it comes, and silence suppression (no packets
      while the peer is quiet) does not make every later packet late.
    - put(): a packet whose frame was already played or passed is dropped as `late` (or
      as a duplicate, if that very frame was played); a second copy of a buffered frame
      is a duplicate. Before the first frame is played, an earlier packet than the first
      one received moves the start back (reordering at the very start loses nothing).
    - Overrun: if the depth exceeds `max_ms` (a burst, a peer whose clock runs fast), the
      oldest frames are dropped down to the primed depth (target + 1): latency stays
      bounded at the cost of a glitch. Priming trims the same way when it ends with more
      than that buffered (the burst that ends a network stall arrives while the buffer is
      priming after the underrun), so every (re)start plays at the target latency.
      Dropped packets count as `overruns`, skipped holes as `lost`.
    - Resync: an SSRC change is a new stream (a re-INVITE to another source, a transfer):
      the buffer flushes and primes on it. A sequence jump of more than `max_seq_jump`
      or a timestamp more than `max_ts_jump_ms` away from where the sequence number puts
      it is believed only when the next packet agrees with it (the RFC 3550 A.1 rule);
      until then the packet is set aside (counted as a `stray` if never confirmed).

    Adaptive option: with `adaptive=True` the target depth follows the interarrival jitter
    estimate J of RFC 3550 A.8, computed from arrival times and RTP timestamps: target =
    3 J rounded up to whole frames (for delays spread evenly over [0, D], J is D / 3, so
    3 J covers the spread), kept between `min_ms` and one frame under `max_ms`. The
    target is only consulted when priming and trimming, so it never stretches or squeezes
    audio that is already playing.

All times are arguments (`arrival`, `now`, seconds on the caller's clock); nothing here
reads a clock, sleeps or awaits. All sequence and timestamp arithmetic wraps
(`firmware.media.seq`).
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass
from typing import Final

from firmware.media.errors import MediaError
from firmware.media.frames import FRAME_SAMPLES, SAMPLE_RATE
from firmware.media.rtp import RtpPacket
from firmware.media.seq import seq_add, seq_diff, ts_add, ts_diff

__all__ = ["JitterBuffer", "JitterError", "JitterStats", "Playout"]

_HISTORY: Final = 64  # recently played sequence numbers, to tell a duplicate from a late packet
_JUMP_CONFIRM: Final = 4  # a packet within this many of a set-aside one confirms a jump


class JitterError(MediaError):
    """A jitter buffer setting is out of range."""


class Playout(enum.Enum):
    """What the last `get()` did."""

    IDLE = "idle"  # nothing received yet
    BUFFERING = "buffering"  # filling to the target depth: play silence
    FRAME = "frame"  # returned a payload
    LOST = "lost"  # frame missing, later ones present: conceal
    UNDERRUN = "underrun"  # nothing buffered: conceal, and the buffer refills


class _State(enum.Enum):
    IDLE = "idle"
    PRIMING = "priming"
    PLAYING = "playing"


@dataclass(frozen=True, slots=True)
class JitterStats:
    """Counters for logs and benchmarks."""

    received: int  # every packet handed to put()
    late: int
    lost: int
    duplicates: int
    overruns: int
    underruns: int
    resyncs: int
    strays: int
    depth: int  # frames, now
    target: int  # frames, now
    jitter_ms: float  # RFC 3550 A.8 estimate


class JitterBuffer:
    """Orders RTP payloads by sequence number and hands out one per 20 ms tick."""

    def __init__(
        self,
        target_ms: float = 60.0,
        max_ms: float = 200.0,
        *,
        adaptive: bool = False,
        min_ms: float = 40.0,
        max_seq_jump: int = 100,
        max_ts_jump_ms: float = 1000.0,
        frame_samples: int = FRAME_SAMPLES,
        clock_rate: int = SAMPLE_RATE,
    ) -> None:
        frame_ms = 1000.0 * frame_samples / clock_rate
        self._frame_samples = frame_samples
        self._clock_rate = clock_rate
        self._fixed_target = max(1, math.ceil(target_ms / frame_ms - 1e-9))
        self._max_frames = math.floor(max_ms / frame_ms + 1e-9)
        self._min_frames = max(1, math.ceil(min_ms / frame_ms - 1e-9))
        if self._max_frames <= self._fixed_target or self._max_frames <= self._min_frames:
            raise JitterError(
                f"jitter buffer maximum of {max_ms} ms must exceed the target "
                f"({target_ms} ms) and minimum ({min_ms} ms) by a frame"
            )
        if max_seq_jump < self._max_frames:
            raise JitterError(
                f"max_seq_jump {max_seq_jump} is smaller than the {self._max_frames}-frame buffer"
            )
        self._adaptive = adaptive
        self._max_seq_jump = max_seq_jump
        self._max_ts_jump = round(max_ts_jump_ms * clock_rate / 1000)

        self._state = _State.IDLE
        self._slots: dict[int, bytes] = {}
        self._next = 0
        self._newest = 0
        self._newest_ts = 0
        self._anchored = False  # a frame was played or skipped since the (re)start
        self._prime_since: float | None = None
        self._pending: tuple[int, int, bytes, float] | None = None
        self._ssrc: int | None = None
        self._history = [-1] * _HISTORY
        self._jitter = 0.0  # timestamp units
        self._last: tuple[float, int] | None = None  # (arrival, timestamp) for A.8

        self.last = Playout.IDLE
        self.received = 0
        self.late = 0
        self.lost = 0
        self.duplicates = 0
        self.overruns = 0
        self.underruns = 0
        self.resyncs = 0
        self.strays = 0

    # -- reading ------------------------------------------------------------------------------

    @property
    def target_frames(self) -> int:
        if not self._adaptive:
            return self._fixed_target
        wanted = math.ceil(3.0 * self._jitter / self._frame_samples - 1e-9)
        return max(self._min_frames, min(self._max_frames - 1, wanted))

    @property
    def depth(self) -> int:
        """Frames from the next to play to the newest received, holes included."""
        if self._state is _State.IDLE:
            return 0
        return max(0, seq_diff(self._newest, self._next) + 1)

    @property
    def jitter_ms(self) -> float:
        return 1000.0 * self._jitter / self._clock_rate

    def stats(self) -> JitterStats:
        return JitterStats(
            self.received,
            self.late,
            self.lost,
            self.duplicates,
            self.overruns,
            self.underruns,
            self.resyncs,
            self.strays,
            self.depth,
            self.target_frames,
            self.jitter_ms,
        )

    # -- input --------------------------------------------------------------------------------

    def put(self, packet: RtpPacket, arrival: float) -> None:
        """Buffer a received packet (arrival time in seconds on the caller's clock)."""
        self.push(packet.sequence, packet.timestamp, packet.payload, arrival, packet.ssrc)

    def push(
        self,
        sequence: int,
        timestamp: int,
        payload: bytes,
        arrival: float,
        ssrc: int | None = None,
    ) -> None:
        """`put` from header fields (as `peek_header` gives them) and the payload."""
        self.received += 1
        if ssrc is not None and ssrc != self._ssrc:
            if self._ssrc is not None:
                self.resync()
            self._ssrc = ssrc
        if self._state is _State.IDLE:
            self._start(sequence, timestamp)
        elif self._is_jump(sequence, timestamp):
            pending = self._pending
            if pending is None or not self._confirms(pending, sequence, timestamp):
                if pending is not None:
                    self.strays += 1
                self._pending = (sequence, timestamp, payload, arrival)
                return
            self.resync()
            self._start(pending[0], pending[1])
            self._insert(*pending)
        elif self._pending is not None:
            self.strays += 1
            self._pending = None
        self._insert(sequence, timestamp, payload, arrival)

    def resync(self) -> None:
        """Forget the stream: flush and prime again on the next packet (counted)."""
        self.resyncs += 1
        self._state = _State.IDLE
        self._slots.clear()
        self._pending = None
        self._history = [-1] * _HISTORY

    def _start(self, sequence: int, timestamp: int) -> None:
        self._state = _State.PRIMING
        self._next = self._newest = sequence
        self._newest_ts = timestamp
        self._anchored = False
        self._prime_since = None
        self._last = None

    def _is_jump(self, sequence: int, timestamp: int) -> bool:
        d = seq_diff(sequence, self._newest)
        if abs(d) > self._max_seq_jump:
            return True
        expected = ts_add(self._newest_ts, d * self._frame_samples)
        return abs(ts_diff(timestamp, expected)) > self._max_ts_jump

    def _confirms(self, pending: tuple[int, int, bytes, float], sequence: int, ts: int) -> bool:
        d = seq_diff(sequence, pending[0])
        if d == 0 or abs(d) > _JUMP_CONFIRM:
            return False
        expected = ts_add(pending[1], d * self._frame_samples)
        return abs(ts_diff(ts, expected)) <= self._max_ts_jump

    def _insert(self, sequence: int, timestamp: int, payload: bytes, arrival: float) -> None:
        self._observe(timestamp, arrival)  # every packet of the stream, late ones too (A.8)
        if seq_diff(sequence, self._next) < 0:
            if self._anchored or seq_diff(self._newest, sequence) >= self._max_frames:
                if self._history[sequence % _HISTORY] == sequence:
                    self.duplicates += 1
                else:
                    self.late += 1
                return
            self._next = sequence  # nothing played yet: start earlier
        if sequence in self._slots:
            self.duplicates += 1
            return
        self._slots[sequence] = payload
        if self._state is _State.PRIMING and self._prime_since is None:
            self._prime_since = arrival
        if seq_diff(sequence, self._newest) > 0:
            self._newest = sequence
            self._newest_ts = timestamp
        if seq_diff(self._newest, self._next) >= self._max_frames:
            self._trim()

    def _observe(self, timestamp: int, arrival: float) -> None:
        """RFC 3550 A.8: J += (|D| - J) / 16 over consecutive arrivals."""
        if self._last is not None:
            last_arrival, last_ts = self._last
            d = (arrival - last_arrival) * self._clock_rate - ts_diff(timestamp, last_ts)
            self._jitter += (abs(d) - self._jitter) / 16.0
        self._last = (arrival, timestamp)

    def _trim(self) -> None:
        """Overrun: drop the oldest frames until the depth is back at the primed level."""
        keep_from = seq_add(self._newest, -self.target_frames)
        while self._next != keep_from:
            if self._slots.pop(self._next, None) is None:
                self.lost += 1
            else:
                self.overruns += 1
            self._next = seq_add(self._next, 1)
        self._anchored = True

    # -- output -------------------------------------------------------------------------------

    def get(self, now: float | None = None) -> bytes | None:
        """The payload of the next 20 ms frame, or None (see `last` for why)."""
        if self._state is _State.IDLE:
            self.last = Playout.IDLE
            return None
        if self._state is _State.PRIMING:
            if not self._primed(now):
                self.last = Playout.BUFFERING
                return None
            self._state = _State.PLAYING
            if self.depth > self.target_frames + 1:
                self._trim()  # a burst filled the buffer while priming: start at the target
        payload = self._slots.pop(self._next, None)
        if payload is not None:
            self._history[self._next % _HISTORY] = self._next
            self.last = Playout.FRAME
        elif self._slots:
            self.lost += 1
            self.last = Playout.LOST
        else:
            self.underruns += 1
            self._state = _State.PRIMING
            self._prime_since = None
            self._anchored = True
            self.last = Playout.UNDERRUN
            return None
        self._next = seq_add(self._next, 1)
        self._anchored = True
        return payload

    def _primed(self, now: float | None) -> bool:
        # target + 1: the frame about to play, and `target` frames still waiting behind it
        if self.depth > self.target_frames:
            return True
        if now is None or self._prime_since is None:
            return False
        target_s = self.target_frames * self._frame_samples / self._clock_rate
        return now - self._prime_since >= target_s - 1e-9
