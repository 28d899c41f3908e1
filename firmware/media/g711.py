"""G.711 μ-law (PCMU, RTP payload type 0) and A-law (PCMA, type 8) by table lookup.

Theory (ITU-T G.711, 1988)
    G.711 squeezes each linear sample into 8 bits with a piecewise-linear approximation of a
    logarithm: a sign bit, a 3-bit segment (exponent) and a 4-bit step within the segment
    (mantissa). Each segment is twice as wide as the one below with steps twice as big, so
    the signal-to-quantisation-noise ratio stays roughly constant over ~40 dB of level.

    μ-law (G.711 Tables 2a/2b) works on a 14-bit magnitude scale (0..8159). Adding a bias
    of 33 makes segment s cover biased values [32 << s, 64 << s) with steps of 2 << s, so
    the segment is the position of the top bit and the mantissa the next four bits. A code
    decodes to the middle of its step: ((2 * mantissa + 33) << segment) - 33. The character
    sent on the line has all bits inverted (so the common small values are not runs of
    zeros on old T1 lines): positive zero is 0xFF.

    A-law (Tables 1a/1b) works on a 13-bit scale (magnitudes 0..4095). Segments 0 and 1 both
    have steps of 2 (one linear stretch 0..63), each later segment doubles; a code decodes
    to the middle of its step. The even bits of the character are inverted (XOR 0x55):
    the smallest positive value is 0xD5. A-law has no zero code; silence decodes to +-8.

    Our 16-bit samples are the G.711 scale shifted left (2 bits for μ-law, 3 for A-law),
    the convention of the ITU's own reference code (G.191 Software Tool Library, g711.c):
    the encoder drops the low bits of the magnitude, taking the magnitude of a negative
    sample x as ~x = -x - 1 (one's complement). That keeps the quantiser symmetric: x and
    -1 - x get the same code but for the sign, and -1 is "negative zero" (μ 0x7F, decoding
    to 0). (Sun's widely copied g711.c, and so the old `audioop`, negates instead, which
    moves a negative sample on a step boundary to the next step; decoders agree either way.)

Implementation
    Both directions are single numpy gathers through tables built once at import by the
    vectorised bit arithmetic above (DESIGN.md: numpy instead of per-sample Python loops):
    decode via a 256-entry int16 table indexed by the code; encode via a 65536-entry uint8
    table indexed by the int16 sample's bit pattern (the frame viewed as uint16, no copy).
    The tests check both tables against a slow reference written from the G.711 tables'
    decision and reconstruction values, over all 65536 inputs and all 256 codes.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import numpy.typing as npt

from firmware.media.errors import MediaError
from firmware.media.frames import Frame

__all__ = [
    "ALAW_DECODE",
    "ALAW_ENCODE",
    "ALAW_SILENCE",
    "PCMA",
    "PCMU",
    "ULAW_DECODE",
    "ULAW_ENCODE",
    "ULAW_SILENCE",
    "G711Error",
    "alaw_decode",
    "alaw_encode",
    "ulaw_decode",
    "ulaw_encode",
]

PCMU: Final = 0  # static RTP payload types (RFC 3551 §6, Table 4)
PCMA: Final = 8
ULAW_SILENCE: Final = 0xFF  # positive zero
ALAW_SILENCE: Final = 0xD5  # smallest positive step, 0x80 ^ 0x55

_ULAW_BIAS: Final = 33  # on the 14-bit scale
_ULAW_CLIP: Final = 0x1FFF  # biased magnitude ceiling: magnitude 8158 and above -> top step


class G711Error(MediaError):
    """A frame given to a G.711 encoder is not int16 samples."""


def _segment(values: npt.NDArray[np.int64], first_top: int) -> npt.NDArray[np.int64]:
    """Segment number = how many of the thresholds first_top, 2*first_top, ... (7 of them)
    `values` reach: the position of the top bit, vectorised."""
    thresholds = first_top << np.arange(7, dtype=np.int64)
    return np.searchsorted(thresholds, values, side="right").astype(np.int64)


def _build_ulaw() -> tuple[npt.NDArray[np.int16], npt.NDArray[np.uint8]]:
    codes = np.arange(256, dtype=np.int64)
    inverted = ~codes & 0xFF
    segment = (inverted >> 4) & 7
    mantissa = inverted & 0x0F
    magnitude = (((2 * mantissa + _ULAW_BIAS) << segment) - _ULAW_BIAS) << 2
    decode = np.where(inverted & 0x80, -magnitude, magnitude).astype(np.int16)

    x = np.arange(1 << 16, dtype=np.uint16).view(np.int16).astype(np.int64)
    negative = x < 0
    biased = np.minimum((np.where(negative, ~x, x) >> 2) + _ULAW_BIAS, _ULAW_CLIP)
    seg = _segment(biased, 64)
    code = (seg << 4) | ((biased >> (seg + 1)) & 0x0F)
    encode = (code ^ np.where(negative, 0x7F, 0xFF)).astype(np.uint8)
    return decode, encode


def _build_alaw() -> tuple[npt.NDArray[np.int16], npt.NDArray[np.uint8]]:
    codes = np.arange(256, dtype=np.int64) ^ 0x55
    segment = (codes >> 4) & 7
    mantissa = codes & 0x0F
    magnitude = np.where(
        segment == 0,
        (mantissa << 4) + 8,
        (((mantissa + 16) << 4) + 8) << np.maximum(segment - 1, 0),
    )
    decode = np.where(codes & 0x80, magnitude, -magnitude).astype(np.int16)

    x = np.arange(1 << 16, dtype=np.uint16).view(np.int16).astype(np.int64)
    negative = x < 0
    magnitude13 = np.where(negative, ~x, x) >> 4  # in steps of 2 on the 13-bit scale
    seg = _segment(magnitude13, 16)
    step = np.where(seg == 0, magnitude13, (magnitude13 >> np.maximum(seg - 1, 0)) & 0x0F)
    code = (seg << 4) | step
    encode = ((code | np.where(negative, 0, 0x80)) ^ 0x55).astype(np.uint8)
    return decode, encode


def _frozen(array: npt.NDArray[np.generic]) -> None:
    array.setflags(write=False)


ULAW_DECODE, ULAW_ENCODE = _build_ulaw()
ALAW_DECODE, ALAW_ENCODE = _build_alaw()
for _table in (ULAW_DECODE, ULAW_ENCODE, ALAW_DECODE, ALAW_ENCODE):
    _frozen(_table)


def _bit_patterns(frame: Frame) -> npt.NDArray[np.uint16]:
    if frame.dtype != np.int16:
        raise G711Error(f"G.711 encodes int16 samples, got {frame.dtype}")
    return frame.view(np.uint16)


# Gathers use take(mode="clip"): every index is in range by construction (a uint16 pattern
# into 65536 entries, a uint8 code into 256), and "clip" skips numpy's per-element bounds
# check, a quarter of the cost at 160 samples.


def ulaw_encode(frame: Frame) -> bytes:
    """μ-law characters of `frame` (any number of int16 samples), one byte per sample."""
    return ULAW_ENCODE.take(_bit_patterns(frame), mode="clip").tobytes()


def alaw_encode(frame: Frame) -> bytes:
    """A-law characters of `frame` (any number of int16 samples), one byte per sample."""
    return ALAW_ENCODE.take(_bit_patterns(frame), mode="clip").tobytes()


def ulaw_decode(payload: bytes, out: Frame | None = None) -> Frame:
    """Linear samples of a μ-law payload; written into `out` (same length) if given."""
    return ULAW_DECODE.take(np.frombuffer(payload, dtype=np.uint8), out=out, mode="clip")


def alaw_decode(payload: bytes, out: Frame | None = None) -> Frame:
    """Linear samples of an A-law payload; written into `out` (same length) if given."""
    return ALAW_DECODE.take(np.frombuffer(payload, dtype=np.uint8), out=out, mode="clip")
