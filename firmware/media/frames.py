"""The audio unit of the box: 20 ms of signed 16-bit linear PCM at 8 kHz.

Every audio path inside the firmware moves frames of exactly FRAME_SAMPLES samples;
codecs (G.711) are applied only at the edges (DESIGN.md, "Runtime").
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from hal.audio import FRAME_MS, FRAME_SAMPLES, SAMPLE_RATE, Frame

__all__ = [
    "FRAME_MS",
    "FRAME_SAMPLES",
    "FRAME_SECONDS",
    "FULL_SCALE_DBM0",
    "SAMPLE_RATE",
    "Frame",
    "amplitude",
    "level_dbm0",
    "silence",
]

FRAME_SECONDS = FRAME_MS / 1000

# μ-law's full-scale sine is +3.17 dBm0, A-law's +3.14 dBm0 (ITU-T G.711); we use the
# A-law figure so a level never clips in either codec.
FULL_SCALE_DBM0 = 3.14

_SILENCE = np.zeros(FRAME_SAMPLES, dtype=np.int16)
_SILENCE.setflags(write=False)


def silence() -> Frame:
    """A shared, read-only frame of silence (no allocation per call)."""
    return _SILENCE


def amplitude(level_dbm0: float) -> float:
    """Peak amplitude in 16-bit linear units of a sine at `level_dbm0`."""
    return 32767.0 * 10.0 ** ((level_dbm0 - FULL_SCALE_DBM0) / 20.0)


def level_dbm0(samples: npt.NDArray[np.generic]) -> float:
    """The level of `samples` in dBm0 (as a sine of the same RMS would read); -inf if silent."""
    if len(samples) == 0:
        return float("-inf")
    rms = float(np.sqrt(np.mean(np.square(samples.astype(np.float64)))))
    if rms == 0.0:
        return float("-inf")
    peak = rms * np.sqrt(2.0)
    return 20.0 * float(np.log10(peak / 32767.0)) + FULL_SCALE_DBM0
