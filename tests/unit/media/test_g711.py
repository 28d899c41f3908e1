"""G.711 against a slow reference written from the standard's tables, over every input.

The reference does not share the implementation's bit tricks: it lists the quantisation
intervals of ITU-T G.711 Table 2a (μ-law, magnitudes on the 14-bit scale, overload at 8159)
and Table 1a (A-law, 13-bit scale, overload at 4095) segment by segment -- where each
segment starts, its step, and that a value decodes to the middle of its interval -- and
finds an input's interval by bisection. 16-bit samples map to those scales as in the ITU's
G.191 reference code: drop 2 (μ) or 3 (A) low bits of the magnitude, a negative sample x
having magnitude -x - 1.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable
from itertools import pairwise

import numpy as np
import pytest

from firmware.media.frames import FRAME_SAMPLES
from firmware.media.g711 import (
    ALAW_DECODE,
    ALAW_ENCODE,
    ULAW_DECODE,
    ULAW_ENCODE,
    G711Error,
    alaw_decode,
    alaw_encode,
    ulaw_decode,
    ulaw_encode,
)

ALL_INT16 = np.arange(-32768, 32768, dtype=np.int64)


def decision_values(first: list[int], steps: list[int]) -> list[int]:
    """Ascending interval edges: `first`, then 16 intervals of each step in `steps`."""
    edges = list(first)
    for step in steps:
        edges += [edges[-1] + step * k for k in range(1, 17)]
    return edges


# G.711 Table 2a, μ-law (14-bit scale): [0, 1) decodes to 0, then 15 steps of 2 up to 31,
# then 16 steps each of 4, 8, ..., 256, ending at the overload point 8159.
ULAW_EDGES = decision_values([0, *range(1, 32, 2)], [4, 8, 16, 32, 64, 128, 256])
ULAW_VALUES = [0] + [(lo + hi) // 2 for lo, hi in pairwise(ULAW_EDGES[1:])]
# G.711 Table 1a, A-law (13-bit scale): 32 steps of 2 up to 64 (segments 0 and 1), then 16
# steps each of 4, 8, ..., 128, ending at 4096; every interval decodes to its middle.
ALAW_EDGES = decision_values(list(range(0, 65, 2)), [4, 8, 16, 32, 64, 128])
ALAW_VALUES = [(lo + hi) // 2 for lo, hi in pairwise(ALAW_EDGES)]


def test_reference_tables_have_the_standards_end_points() -> None:
    assert len(ULAW_EDGES) == len(ALAW_EDGES) == 129
    assert len(ULAW_VALUES) == len(ALAW_VALUES) == 128
    assert ULAW_EDGES[:4] == [0, 1, 3, 5] and ULAW_EDGES[16] == 31 and ULAW_EDGES[32] == 95
    assert ULAW_EDGES[-1] == 8159
    assert ULAW_VALUES[:3] == [0, 2, 4] and ULAW_VALUES[16] == 33 and ULAW_VALUES[-1] == 8031
    assert ALAW_EDGES[:3] == [0, 2, 4] and ALAW_EDGES[48] == 128 and ALAW_EDGES[-1] == 4096
    assert ALAW_VALUES[:2] == [1, 3] and ALAW_VALUES[32] == 66 and ALAW_VALUES[-1] == 4032


def ref_ulaw_encode(x: int) -> int:
    negative = x < 0
    magnitude = (-x - 1 if negative else x) >> 2
    index = min(bisect.bisect_right(ULAW_EDGES, magnitude) - 1, 127)  # overload -> top step
    return (0x7F if negative else 0xFF) - index  # characters are sent inverted


def ref_ulaw_decode(code: int) -> int:
    index = 0xFF - code if code & 0x80 else 0x7F - code
    value = ULAW_VALUES[index] * 4
    return value if code & 0x80 else -value


def ref_alaw_encode(x: int) -> int:
    negative = x < 0
    magnitude = (-x - 1 if negative else x) >> 3
    index = bisect.bisect_right(ALAW_EDGES, magnitude) - 1
    return (index | (0 if negative else 0x80)) ^ 0x55  # even bits inverted


def ref_alaw_decode(code: int) -> int:
    plain = code ^ 0x55
    value = ALAW_VALUES[plain & 0x7F] * 8
    return value if plain & 0x80 else -value


# -- exactness -----------------------------------------------------------------------------------


def test_ulaw_encoder_matches_the_reference_on_all_65536_inputs() -> None:
    samples = ALL_INT16.astype(np.int16)
    got = np.frombuffer(ulaw_encode(samples), dtype=np.uint8)
    want = np.array([ref_ulaw_encode(int(x)) for x in ALL_INT16], dtype=np.uint8)
    mismatches = np.flatnonzero(got != want)
    assert mismatches.size == 0, f"first mismatch at x={ALL_INT16[mismatches[0]]}"


def test_alaw_encoder_matches_the_reference_on_all_65536_inputs() -> None:
    samples = ALL_INT16.astype(np.int16)
    got = np.frombuffer(alaw_encode(samples), dtype=np.uint8)
    want = np.array([ref_alaw_encode(int(x)) for x in ALL_INT16], dtype=np.uint8)
    mismatches = np.flatnonzero(got != want)
    assert mismatches.size == 0, f"first mismatch at x={ALL_INT16[mismatches[0]]}"


def test_decoders_match_the_reference_on_all_256_codes() -> None:
    codes = bytes(range(256))
    assert ulaw_decode(codes).tolist() == [ref_ulaw_decode(c) for c in range(256)]
    assert alaw_decode(codes).tolist() == [ref_alaw_decode(c) for c in range(256)]
    assert ULAW_DECODE.dtype == np.int16 and ULAW_DECODE.shape == (256,)
    assert ALAW_DECODE.dtype == np.int16 and ALAW_DECODE.shape == (256,)
    assert ULAW_ENCODE.dtype == np.uint8 and ULAW_ENCODE.shape == (65536,)
    assert ALAW_ENCODE.dtype == np.uint8 and ALAW_ENCODE.shape == (65536,)


def test_well_known_values() -> None:
    silence = np.zeros(FRAME_SAMPLES, dtype=np.int16)
    assert ulaw_encode(silence) == b"\xff" * FRAME_SAMPLES
    assert alaw_encode(silence) == b"\xd5" * FRAME_SAMPLES
    assert ulaw_decode(b"\xff\x7f\x80\x00").tolist() == [0, 0, 32124, -32124]
    assert alaw_decode(b"\xd5\x55\xaa\x2a").tolist() == [8, -8, 32256, -32256]
    extremes = np.array([32767, -32768], dtype=np.int16)
    assert ulaw_encode(extremes) == b"\x80\x00"
    assert alaw_encode(extremes) == b"\xaa\x2a"


def test_tables_are_read_only() -> None:
    for table in (ULAW_DECODE, ULAW_ENCODE, ALAW_DECODE, ALAW_ENCODE):
        with pytest.raises(ValueError):
            table[0] = 1


# -- round-trip error ------------------------------------------------------------------------------


def step_of(decoded: np.ndarray, table: np.ndarray) -> np.ndarray:
    """The 16-bit step size of the interval each decoded value is the middle of."""
    levels = np.unique(table.astype(np.int64))
    pos = np.searchsorted(levels, decoded)
    below = levels[np.maximum(pos - 1, 0)]
    above = levels[np.minimum(pos + 1, len(levels) - 1)]
    return np.maximum(decoded - below, above - decoded)


@pytest.mark.parametrize(
    ("encode", "decode", "table", "overload"),
    [
        (ulaw_encode, ulaw_decode, ULAW_DECODE, 8159 * 4),
        (alaw_encode, alaw_decode, ALAW_DECODE, 4096 * 8),
    ],
    ids=["ulaw", "alaw"],
)
def test_decode_of_encode_is_within_half_a_step(
    encode: Callable[[np.ndarray], bytes],
    decode: Callable[[bytes], np.ndarray],
    table: np.ndarray,
    overload: int,
) -> None:
    x = ALL_INT16
    y = decode(encode(x.astype(np.int16))).astype(np.int64)
    error = np.abs(y - x)
    inside = (x < overload) & (x >= -overload)
    # Half a step, plus one for negatives (their magnitude is -x - 1), inside the range;
    # beyond μ-law's overload point the top level is kept.
    bound = step_of(y, table) // 2 + 1
    assert np.all(error[inside] <= bound[inside])
    assert np.all(y[~inside] == np.sign(x[~inside]) * 32124)
    # monotonic: a louder input never decodes quieter
    assert np.all(np.diff(y) >= 0)
    # near zero the error is tiny; at full scale it is ~3 % at most
    assert error[np.abs(x) < 64].max() <= 8
    big = np.abs(x) > 1024
    assert (error[big] / np.abs(x[big])).max() < 0.04


def test_encode_of_decode_is_identity_except_negative_zero() -> None:
    codes = bytes(range(256))
    again = ulaw_encode(ulaw_decode(codes))
    assert [c for c in range(256) if again[c] != c] == [0x7F]  # -0 comes back as +0
    assert again[0x7F] == 0xFF
    assert alaw_encode(alaw_decode(codes)) == codes


# -- API edges -------------------------------------------------------------------------------------


def test_decode_into_a_caller_buffer() -> None:
    out = np.empty(FRAME_SAMPLES, dtype=np.int16)
    payload = bytes(range(FRAME_SAMPLES))
    assert ulaw_decode(payload, out) is out
    assert out.tolist() == ulaw_decode(payload).tolist()
    assert alaw_decode(payload, out) is out
    assert out.tolist() == alaw_decode(payload).tolist()


def test_decode_of_an_empty_payload() -> None:
    assert ulaw_decode(b"").size == 0 and alaw_decode(b"").dtype == np.int16


def test_encoder_rejects_samples_that_are_not_int16() -> None:
    with pytest.raises(G711Error) as caught:
        ulaw_encode(np.zeros(160, dtype=np.float64))  # type: ignore[arg-type]
    assert str(caught.value) == "G.711 encodes int16 samples, got float64"
    with pytest.raises(G711Error):
        alaw_encode(np.zeros(160, dtype=np.int32))  # type: ignore[arg-type]
