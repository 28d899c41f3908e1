"""The PCM highway: one multi-channel audio stream, one channel per port's timeslot.

The line card's chips put each port's voice in its own PCM timeslot (`pcm_slot` in the
board config); the HAT's ALSA driver shows the bus as one sound card with a channel per
slot. One stream carries every port: channel = slot.

Threads. The audio library calls `on_audio_thread` on its own thread every 20 ms with the
block it captured and the buffer to play. That call only
- fills the playback buffer from each port's queue (a deque: append/popleft are atomic in
  CPython, so loop and audio thread share it without a lock, and neither ever waits), and
- hands the captured block to the loop with `call_soon_threadsafe` (DESIGN.md, "Runtime").
Everything else (per-port capture queues, counters, logging) happens on the loop.

Two clocks meet here: the codec's and the engine's media clock. Small queues absorb their
jitter: playback starts once PRIME_FRAMES are queued and re-primes after an underrun;
capture keeps the newest CAPTURE_MAX_FRAMES. Underruns and overruns are counted, and
logged at most every XRUN_LOG_INTERVAL_S; nothing ever blocks.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from hal.audio import FRAME_SAMPLES, Frame

log = logging.getLogger(__name__)

PRIME_FRAMES = 2  # 40 ms queued before a port starts playing: the two clocks' jitter
PLAYBACK_MAX_FRAMES = 6  # beyond this the engine runs ahead of the codec: drop the oldest
CAPTURE_MAX_FRAMES = 4  # 80 ms; older captured audio is dropped
READ_RECENTLY_S = 0.1  # a port read this recently is listened to: a dropped frame counts
XRUN_LOG_INTERVAL_S = 10.0


@dataclass(slots=True)
class PcmCounters:
    blocks: int = 0  # blocks the audio thread handled
    capture_overruns: int = 0  # captured frames dropped because the loop did not read them
    playback_underruns: int = 0  # a playing port's queue ran dry
    playback_overruns: int = 0  # frames dropped because the queue was full
    stream_xruns: int = 0  # under/overflows the audio library itself reported
    bad_blocks: int = 0  # blocks of the wrong size (dropped)

    def snapshot(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in self.__slots__}  # type: ignore[attr-defined]


class PcmPort:
    """One port's voice: `read_frame`/`write_frame` on the loop, the queue to the thread."""

    def __init__(self, slot: int, highway: PcmHighway) -> None:
        self.slot = slot
        self._highway = highway
        self._captured: deque[Frame] = deque()
        self._playback: deque[Frame] = deque()
        self._primed = False  # audio thread only
        self._last_read = -1e9

    def read_frame(self) -> Frame | None:
        self._last_read = self._highway.loop.time()
        return self._captured.popleft() if self._captured else None

    def write_frame(self, frame: Frame) -> None:
        if len(self._playback) >= PLAYBACK_MAX_FRAMES:
            self._playback.popleft()
            self._highway.counters.playback_overruns += 1
        # A copy: the engine may reuse its frame buffer for the next tick.
        self._playback.append(np.array(frame, dtype=np.int16, copy=True))

    def _next_playback(self) -> Frame | None:
        """Audio thread: the frame to play now, or None (silence)."""
        queue = self._playback
        if not self._primed:
            if len(queue) < PRIME_FRAMES:
                return None
            self._primed = True
        if queue:
            return queue.popleft()
        self._primed = False
        self._highway.counters.playback_underruns += 1
        return None

    def _capture(self, frame: Frame, now: float) -> None:
        """Loop: a captured frame arrived."""
        if len(self._captured) >= CAPTURE_MAX_FRAMES:
            self._captured.popleft()
            if now - self._last_read < READ_RECENTLY_S:
                self._highway.counters.capture_overruns += 1
        self._captured.append(frame)


class PcmHighway:
    def __init__(self, loop: asyncio.AbstractEventLoop, slots: Sequence[int]) -> None:
        self.loop = loop
        self.channels = max(slots, default=-1) + 1
        self.ports = {slot: PcmPort(slot, self) for slot in slots}
        self.counters = PcmCounters()
        # Called on the loop with the audio thread's time stamp of each delivered block
        # (the benchmark measures the thread-to-loop lateness with it).
        self.on_delivered: Callable[[float], None] | None = None
        self._logged = self.counters.snapshot()
        self._last_check = loop.time()

    def port(self, slot: int) -> PcmPort:
        return self.ports[slot]

    # -- the audio thread ------------------------------------------------------------------

    def on_audio_thread(self, captured: np.ndarray, out: np.ndarray, stamp: float) -> None:
        """One 20 ms period: `captured` and `out` are (160, channels) int16 arrays."""
        self.counters.blocks += 1
        if captured.shape[0] != FRAME_SAMPLES or out.shape[0] != FRAME_SAMPLES:
            self.counters.bad_blocks += 1
            out.fill(0)
            return
        for slot, port in self.ports.items():
            frame = port._next_playback()
            if frame is None:
                out[:, slot] = 0
            else:
                out[:, slot] = frame
        # A copy (the library reuses its buffer), one row per slot: frames are plain views.
        block = captured.T.copy()
        with contextlib.suppress(RuntimeError):  # the loop is closed: shutting down
            self.loop.call_soon_threadsafe(self._deliver, block, stamp)

    def stream_xrun(self) -> None:
        """Audio thread: the audio library reported an under- or overflow."""
        self.counters.stream_xruns += 1

    # -- the loop --------------------------------------------------------------------------

    def _deliver(self, block: np.ndarray, stamp: float) -> None:
        now = self.loop.time()
        for slot, port in self.ports.items():
            port._capture(block[slot], now)
        if self.on_delivered is not None:
            self.on_delivered(stamp)
        if now - self._last_check >= XRUN_LOG_INTERVAL_S:
            self._last_check = now
            self._log_xruns()

    def _log_xruns(self) -> None:
        counts = self.counters.snapshot()
        changed = {k: counts[k] - self._logged[k] for k in counts
                   if k != "blocks" and counts[k] != self._logged[k]}
        if changed:
            log.warning("pcm: %s in the last %.0f s",
                        ", ".join(f"{n} {k.replace('_', ' ')}" for k, n in changed.items()),
                        XRUN_LOG_INTERVAL_S)
        self._logged = counts


class PcmError(OSError):
    """The audio device cannot be opened or started."""


class PcmStream(Protocol):
    """What drives a highway: a sound card, or the loopback. Started after bring-up."""

    @property
    def name(self) -> str: ...

    def start(self) -> None: ...

    def stop(self) -> None: ...
