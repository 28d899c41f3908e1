"""Convert a PCM WAV of any rate, width and channel count to the box's format (8000 Hz,
mono, 16-bit): for an office's hold music or its own recording of a prompt.

Only what Python's wave module reads (integer PCM WAV); an MP3, a float or compressed WAV
needs sox or ffmpeg first (docs/prompts.md gives the command lines).
"""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np
import numpy.typing as npt

from firmware.media.frames import SAMPLE_RATE
from firmware.media.wav import write_wav
from tools.prompts.build import BuildError
from tools.prompts.resample import resample

__all__ = ["convert", "read_any_pcm"]

OTHER_TOOLS = ("convert it with sox (`sox IN -r 8000 -c 1 -b 16 OUT.wav`) or ffmpeg"
               " (`ffmpeg -i IN -ar 8000 -ac 1 -c:a pcm_s16le OUT.wav`)")


def read_any_pcm(path: Path) -> tuple[npt.NDArray[np.float64], int]:
    """Mono samples scaled to 16-bit units, and their rate."""
    try:
        with open(path, "rb") as f, wave.open(f, "rb") as w:
            rate, channels, width = w.getframerate(), w.getnchannels(), w.getsampwidth()
            data = w.readframes(w.getnframes())
    except OSError as e:
        raise BuildError(f"{path}: cannot be read ({e.strerror or e})") from None
    except (wave.Error, EOFError) as e:
        raise BuildError(f"{path}: not an integer PCM WAV ({e or 'truncated'}); "
                         f"{OTHER_TOOLS}") from None
    data = data[: len(data) // (width * channels) * width * channels]
    if width == 1:  # 8-bit WAV is unsigned
        samples = (np.frombuffer(data, np.uint8).astype(np.float64) - 128.0) * 256.0
    elif width in (2, 3, 4):
        raw = np.frombuffer(data, np.uint8).reshape(-1, width)
        # Little-endian, sign-extended into int32 from the top: 24-bit has no numpy dtype.
        padded = np.zeros((len(raw), 4), np.uint8)
        padded[:, 4 - width :] = raw
        samples = padded.view("<i4").ravel().astype(np.float64) / 65536.0
    else:
        raise BuildError(f"{path}: {8 * width}-bit samples are not supported; {OTHER_TOOLS}")
    if channels > 1:
        samples = samples.reshape(-1, channels).mean(axis=1)  # a mono phone line: mix down
    if len(samples) == 0:
        raise BuildError(f"{path}: no audio in it")
    return samples, rate


def convert(src: Path, dst: Path) -> float:
    """Write `src` to `dst` in the box's format; its length in seconds."""
    samples, rate = read_any_pcm(src)
    out = resample(samples, rate, SAMPLE_RATE)
    write_wav(dst, np.clip(np.round(out), -32767, 32767).astype(np.int16))
    return len(out) / SAMPLE_RATE
