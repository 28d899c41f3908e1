"""Sample-rate conversion for the prompt tools (never on the box: the box refuses what is
not already 8 kHz).

Each block of input is transformed (numpy's FFT), cut to the target rate's band with a
raised-cosine edge, and transformed back at the new length. The edge runs from 85 % to
97.5 % of the lower Nyquist frequency (3.4-3.9 kHz going to 8 kHz), so nothing above 4 kHz
folds back into the telephone band, and the ringing of a brick-wall cut is avoided. Blocks
overlap by a margin that is thrown away, which hides the FFT's wrap-around at block edges
and keeps memory flat for a long music file. Pure numpy and deterministic: the same input
gives the same samples, which the reproducible prompt build relies on.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

__all__ = ["resample"]

PASS_FRACTION = 0.85
STOP_FRACTION = 0.975
BLOCK_SAMPLES = 1 << 16  # input samples per block, about
MARGIN_SAMPLES = 1 << 12  # thrown away each side: far longer than the edge filter rings


def resample(x: npt.NDArray[np.float64], src_rate: int, dst_rate: int) -> npt.NDArray[np.float64]:
    """`x` at `src_rate` as samples at `dst_rate` (ceil(len * dst / src) of them)."""
    if src_rate == dst_rate:
        return np.asarray(x, dtype=np.float64).copy()
    g = math.gcd(src_rate, dst_rate)
    up, down = dst_rate // g, src_rate // g
    n_out = -(-len(x) * up // down)
    # Block and margin in whole multiples of `down`, so each maps to whole output samples.
    block = down * (1 << max(0, math.ceil(math.log2(BLOCK_SAMPLES / down))))
    margin = down * (1 << max(0, math.ceil(math.log2(MARGIN_SAMPLES / down))))
    padded = np.concatenate((np.zeros(margin), np.asarray(x, np.float64),
                             np.zeros(block + margin)))
    out_block, out_margin = block * up // down, margin * up // down
    out = [
        _fft_resample(padded[start : start + block + 2 * margin], src_rate, dst_rate)
        [out_margin : out_margin + out_block]
        for start in range(0, max(len(x), 1), block)
    ]
    return np.concatenate(out)[:n_out]


def _fft_resample(seg: npt.NDArray[np.float64], src_rate: int,
                  dst_rate: int) -> npt.NDArray[np.float64]:
    n_in = len(seg)
    n_out = n_in * dst_rate // src_rate
    spectrum = np.fft.rfft(seg)
    freqs = np.fft.rfftfreq(n_in, 1.0 / src_rate)
    nyquist = min(src_rate, dst_rate) / 2
    lo, hi = PASS_FRACTION * nyquist, STOP_FRACTION * nyquist
    edge = np.clip((freqs - lo) / (hi - lo), 0.0, 1.0)
    spectrum *= 0.5 * (1.0 + np.cos(np.pi * edge))
    bins = n_out // 2 + 1
    fitted = np.zeros(bins, dtype=complex)
    keep = min(bins, len(spectrum))
    fitted[:keep] = spectrum[:keep]
    return np.fft.irfft(fitted, n=n_out) * (n_out / n_in)
