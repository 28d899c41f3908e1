"""The PCM format every audio port of every backend speaks.

A PCM highway (the SLIC's PCM bus through ALSA), the virtual board and a DECT module all
move 20 ms frames of signed 16-bit linear samples at 8 kHz (DESIGN.md, "Runtime").
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

SAMPLE_RATE = 8000
FRAME_MS = 20
FRAME_SAMPLES = SAMPLE_RATE * FRAME_MS // 1000  # 160

Frame = npt.NDArray[np.int16]
