"""WAV files in the box's one audio format: 8000 Hz, mono, signed 16-bit linear PCM.

Prompts and the office's hold music arrive as files an installer or an office manager made;
the box never converts them (no resampler on the frame path, no MP3 decoder on the box).
A file in any other format is refused with a `WavFormatError` that names the file, what it
is and what the box needs, so the person who copied it in can convert it and try again.
"""

from __future__ import annotations

import io
import wave
from pathlib import Path

import numpy as np
import numpy.typing as npt

from firmware.media.errors import MediaError
from firmware.media.frames import SAMPLE_RATE

__all__ = ["CONVERT_HINT", "NEEDED_FORMAT", "WavFormatError", "read_wav", "wav_bytes",
           "write_wav"]

NEEDED_FORMAT = f"{SAMPLE_RATE} Hz, mono, 16-bit PCM WAV"
CONVERT_HINT = ("convert it with `python -m tools.prompts convert IN OUT` or"
                " `sox IN -r 8000 -c 1 -b 16 OUT.wav`")


class WavFormatError(MediaError):
    """A sound file the box cannot play as it is; the message names the file."""


def _refuse(path: Path, what: str) -> WavFormatError:
    return WavFormatError(f"{path}: {what}; the box needs {NEEDED_FORMAT}: {CONVERT_HINT}")


def read_wav(path: Path, *, max_seconds: float) -> npt.NDArray[np.int16]:
    """The samples of `path`, read-only. Raises WavFormatError (never anything else) for a
    missing, unreadable, foreign-format, empty or over-long file; `max_seconds` keeps one
    oversized file from eating the box's memory."""
    try:
        # Our own file object: wave.open(str) leaves a noisy __del__ behind when it fails.
        with open(path, "rb") as f, wave.open(f, "rb") as w:
            rate, channels, width = w.getframerate(), w.getnchannels(), w.getsampwidth()
            if (rate, channels, width) != (SAMPLE_RATE, 1, 2):
                raise _refuse(path, f"{rate} Hz, {_channels(channels)}, {8 * width}-bit")
            frames = w.getnframes()
            if frames > max_seconds * SAMPLE_RATE:
                raise _refuse(path, f"{frames / SAMPLE_RATE:.0f} s long, over the limit of"
                                    f" {max_seconds:.0f} s")
            data = w.readframes(frames)
    except FileNotFoundError:
        raise WavFormatError(f"{path}: no such file") from None
    except OSError as e:
        raise WavFormatError(f"{path}: cannot be read ({e.strerror or e})") from None
    except (wave.Error, EOFError) as e:
        # Not RIFF/WAVE PCM at all: an MP3, a float or compressed WAV, a truncated header.
        raise _refuse(path, f"not a PCM WAV file ({e or 'truncated'})") from None
    samples = np.frombuffer(data[: len(data) // 2 * 2], dtype="<i2").astype(np.int16)
    if len(samples) == 0:
        raise _refuse(path, "no audio in it")
    samples.setflags(write=False)
    return samples


def write_wav(path: Path, samples: npt.NDArray[np.int16], rate: int = SAMPLE_RATE) -> None:
    """Write mono 16-bit PCM; the same samples always give the same bytes (the wave module
    writes no dates or tool names), which the prompt build's reproducibility relies on."""
    path.write_bytes(wav_bytes(samples, rate))


def wav_bytes(samples: npt.NDArray[np.int16], rate: int = SAMPLE_RATE) -> bytes:
    """The WAV file of `samples`, in memory (to write atomically: `statefiles.write_atomic`)."""
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(np.asarray(samples, dtype="<i2").tobytes())
    return out.getvalue()


def _channels(n: int) -> str:
    return {1: "mono", 2: "stereo"}.get(n, f"{n} channels")
