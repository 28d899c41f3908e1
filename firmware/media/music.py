"""Built-in hold music: a short, gentle loop synthesised once, so the box never plays
silence to a held caller (a caller in silence thinks the call dropped).

A slow arpeggio over a pentatonic scale with a soft bass note, each note shaped by an
attack/release envelope so nothing clicks; well inside G.711's range and at a modest level
(-20 dBm0 peak per voice). The office's own recording replaces it when prompts arrive.
"""

from __future__ import annotations

import functools

import numpy as np
import numpy.typing as npt

from firmware.media.frames import FRAME_SAMPLES, SAMPLE_RATE, Frame, amplitude

NOTE_S = 0.45
# C major pentatonic, two octaves around middle C; the bass follows the bar's root.
MELODY_HZ = (261.63, 329.63, 392.00, 523.25, 440.00, 392.00, 329.63, 293.66,
             261.63, 293.66, 329.63, 392.00, 440.00, 392.00, 329.63, 261.63)
BASS_HZ = (130.81, 110.00, 87.31, 98.00)  # C, A, F, G
LEVEL_DBM0 = -20.0
FADE_S = 0.05


def _note(freq: float, seconds: float, level: float) -> npt.NDArray[np.float64]:
    n = int(seconds * SAMPLE_RATE)
    t = np.arange(n) / SAMPLE_RATE
    envelope = np.minimum(1.0, t / 0.03) * np.exp(-2.5 * t)  # soft attack, gentle decay
    return level * envelope * np.sin(2 * np.pi * freq * t)


@functools.cache
def hold_music_samples() -> npt.NDArray[np.int16]:
    """The whole loop, rendered once and shared (read-only) by every held call."""
    level = amplitude(LEVEL_DBM0)
    melody = np.concatenate([_note(f, NOTE_S, level) for f in MELODY_HZ])
    bar = len(melody) // len(BASS_HZ)
    bass = np.concatenate([_note(f, bar / SAMPLE_RATE, level * 0.6) for f in BASS_HZ])
    size = min(len(melody), len(bass)) // FRAME_SAMPLES * FRAME_SAMPLES
    mixed = melody[:size] + bass[:size]
    fade = int(FADE_S * SAMPLE_RATE)
    mixed[-fade:] *= np.linspace(1.0, 0.0, fade)  # the loop point must not click
    loop = np.clip(mixed, -32767, 32767).astype(np.int16)
    loop.setflags(write=False)
    return loop


class HoldMusic:
    """A never-ending frame source over the loop."""

    finished = False

    def __init__(self) -> None:
        self._samples = hold_music_samples()
        self._pos = 0

    def next_frame(self) -> Frame:
        frame = self._samples[self._pos : self._pos + FRAME_SAMPLES]
        self._pos = (self._pos + FRAME_SAMPLES) % len(self._samples)
        return frame
