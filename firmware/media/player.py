"""Frame sources: things that produce the next 20 ms to play to a device."""

from __future__ import annotations

from typing import Protocol

import numpy as np

from firmware.media.frames import FRAME_SAMPLES, Frame, silence


class FrameSource(Protocol):
    def next_frame(self) -> Frame: ...

    @property
    def finished(self) -> bool: ...


class SamplePlayer:
    """Plays a buffer of samples once (a caller-ID burst, a recorded prompt)."""

    def __init__(self, samples: np.ndarray) -> None:
        pad = -len(samples) % FRAME_SAMPLES
        self._samples = np.concatenate((samples.astype(np.int16), np.zeros(pad, np.int16)))
        self._pos = 0

    @property
    def finished(self) -> bool:
        return self._pos >= len(self._samples)

    @property
    def seconds(self) -> float:
        return len(self._samples) / 8000

    def next_frame(self) -> Frame:
        if self.finished:
            return silence()
        frame = self._samples[self._pos : self._pos + FRAME_SAMPLES]
        self._pos += FRAME_SAMPLES
        return frame
