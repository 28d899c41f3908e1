"""A virtual earpiece: remembers the last seconds of audio played to a handset.

Frames arrive every 20 ms while the firmware plays to the line and not at all while it is
quiet, so the recorder keeps one continuous timeline: a stop in the stream (a gap longer
than a few frames) is recorded as the silence a listener would have heard.
"""

from __future__ import annotations

import numpy as np

from hal.audio import FRAME_SAMPLES, SAMPLE_RATE, Frame

# Writes paced by a deadline timer jitter by a few ms; only a gap this long is a real stop.
STREAM_STOP_S = 0.06
FRAME_S = FRAME_SAMPLES / SAMPLE_RATE


class Recorder:
    def __init__(self, seconds: float) -> None:
        self._size = int(seconds * SAMPLE_RATE)
        self._buf: np.ndarray | None = None  # allocated on first use: idle lines cost nothing
        self._written = 0  # total samples ever written (the ring's write position)
        self._last_write: float | None = None

    @property
    def last_write(self) -> float | None:
        return self._last_write

    def clear(self) -> None:
        self._written = 0
        self._last_write = None

    def write(self, frame: Frame, now: float) -> None:
        if self._buf is None:
            self._buf = np.zeros(self._size, dtype=np.int16)
        if self._last_write is not None:
            self._append_silence(now - self._last_write - FRAME_S)
        self._append(frame)
        self._last_write = now

    def heard(self, seconds: float, now: float) -> np.ndarray:
        """The last `seconds` up to `now`, with silence wherever nothing was played."""
        want = int(seconds * SAMPLE_RATE)
        out = np.zeros(want, dtype=np.int16)
        if self._buf is None or self._last_write is None:
            return out
        trailing = now - self._last_write - FRAME_S
        quiet = int(trailing * SAMPLE_RATE) if trailing > STREAM_STOP_S else 0
        take = min(want - min(quiet, want), self._written, self._size)
        if take > 0:
            end = want - min(quiet, want)
            out[end - take : end] = self._tail(take)
        return out

    def _append_silence(self, gap_s: float) -> None:
        if gap_s > STREAM_STOP_S:
            n = min(int(gap_s * SAMPLE_RATE), self._size)
            self._append(np.zeros(n, dtype=np.int16))

    def _append(self, samples: np.ndarray) -> None:
        assert self._buf is not None
        n = len(samples)
        start = self._written % self._size
        first = min(n, self._size - start)
        self._buf[start : start + first] = samples[:first]
        self._buf[: n - first] = samples[first:]
        self._written += n

    def _tail(self, n: int) -> np.ndarray:
        assert self._buf is not None
        end = self._written % self._size
        if n <= end:
            return self._buf[end - n : end].copy()
        return np.concatenate((self._buf[self._size - (n - end) :], self._buf[:end]))
