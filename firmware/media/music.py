"""Built-in hold music: a short, gentle loop synthesised once, so the box never plays
silence to a held caller (a caller in silence thinks the call dropped).

A slow arpeggio over a pentatonic scale with a soft bass note, each note shaped by an
attack/release envelope so nothing clicks; well inside G.711's range and at a modest level
(-20 dBm0 peak per voice).

An office's own music is a WAV file in the box's format (8000 Hz, mono, 16-bit):
`office_music_samples(path)` reads it once (at start-up or a config reload: it blocks) and
`HoldMusic(samples)` loops it for each held call; `HoldMusic.from_wav(path)` does both.
Anything else (44.1 kHz, stereo, MP3) is refused with a `WavFormatError` naming the file and
the format needed; docs/prompts.md says how to convert.
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import numpy.typing as npt

from firmware.media.frames import FRAME_SAMPLES, SAMPLE_RATE, Frame, amplitude
from firmware.media.wav import read_wav

NOTE_S = 0.45
# C major pentatonic, two octaves around middle C; the bass follows the bar's root.
MELODY_HZ = (261.63, 329.63, 392.00, 523.25, 440.00, 392.00, 329.63, 293.66,
             261.63, 293.66, 329.63, 392.00, 440.00, 392.00, 329.63, 261.63)
BASS_HZ = (130.81, 110.00, 87.31, 98.00)  # C, A, F, G
LEVEL_DBM0 = -20.0
FADE_S = 0.05
# An hour of music is 57 MB of samples: more than that is a mistake, not a playlist.
MAX_MUSIC_SECONDS = 3600.0
# The office's file is faded in and out this long, so its loop point cannot click.
FILE_FADE_S = 0.02


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


def office_music_samples(path: Path) -> npt.NDArray[np.int16]:
    """The office's hold music from `path`, ready to loop: faded at both ends, padded with
    silence to whole frames, read-only. Raises WavFormatError for any other format."""
    samples = read_wav(path, max_seconds=MAX_MUSIC_SECONDS).astype(np.float64)
    fade = min(int(FILE_FADE_S * SAMPLE_RATE), len(samples) // 2)
    if fade:
        ramp = np.linspace(0.0, 1.0, fade)
        samples[:fade] *= ramp
        samples[-fade:] *= ramp[::-1]
    pad = -len(samples) % FRAME_SAMPLES  # next_frame slices whole frames around the loop
    loop = np.concatenate((np.round(samples), np.zeros(pad))).astype(np.int16)
    loop.setflags(write=False)
    return loop


class HoldMusic:
    """A never-ending frame source over a loop: the built-in tune, or `samples` (a whole
    number of frames, e.g. from `office_music_samples`) shared read-only by every call."""

    finished = False

    def __init__(self, samples: npt.NDArray[np.int16] | None = None) -> None:
        if samples is None:
            samples = hold_music_samples()
        if len(samples) == 0 or len(samples) % FRAME_SAMPLES:
            raise ValueError(f"hold music must be whole frames of {FRAME_SAMPLES} samples,"
                             f" not {len(samples)} samples")
        self._samples = samples
        self._pos = 0

    @classmethod
    def from_wav(cls, path: Path) -> HoldMusic:
        """Music from the office's file. Reads the file: for many calls, read it once with
        `office_music_samples` and give each call `HoldMusic(samples)`."""
        return cls(office_music_samples(path))

    def next_frame(self) -> Frame:
        frame = self._samples[self._pos : self._pos + FRAME_SAMPLES]
        self._pos = (self._pos + FRAME_SAMPLES) % len(self._samples)
        return frame
