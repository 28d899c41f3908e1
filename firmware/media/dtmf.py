"""In-band DTMF: a generator and a streaming detector (ITU-T Q.23 / Q.24).

A DTMF key sends two sines at once: one from the low (row) group 697, 770, 852, 941 Hz and
one from the high (column) group 1209, 1336, 1477, 1633 Hz (Q.23). The keypad is 4 x 4:

            1209  1336  1477  1633
     697      1     2     3     A
     770      4     5     6     B
     852      7     8     9     C
     941      *     0     #     D

Generator
    `DtmfGenerator.samples("123")` gives each digit as `tone_ms` of tone then `gap_ms` of
    silence (REFERENCE.md: 100 ms / 100 ms). The row tone is at `level_dbm0`; the column
    tone is `twist_db` louder ("normal twist"), as phones do to make up for the line losing
    more at high frequencies.

Detector: theory of operation
    The shape is spandsp's dtmf.c: Goertzel terms per tone over 102-sample blocks, per-block
    tests (level, twist, relative peak, share of the energy), then a debouncer over
    successive blocks. How a plain block detector meets the Q.24 limits depends on how a
    tone happens to fall on its blocks (two 80 %-full blocks can pass a 20 ms burst); the
    additions below make each limit in REFERENCE.md hold at every alignment, each on its
    own and in combination.

    1. Blocks. Audio is cut into sub-blocks of 51 samples (6.4 ms) and each has its mean
       removed (DC removal: an offset neither leaks into the tone terms nor counts as
       "other energy"). An analysis window is two adjacent sub-blocks, 102 samples
       (12.75 ms: long enough to tell neighbouring rows apart, short enough to time a
       40 ms tone); windows overlap by half, so one ends every 6.4 ms. Samples short of a
       sub-block wait for the next call, so any chunk size gives the same result.

    2. Goertzel terms. Goertzel's recurrence computes one DFT term per frequency; as a
       per-sample loop that is slow in Python, so we compute the same sums as a matrix
       product of the sub-blocks with a precomputed e^{-jwn} table. A window's term is
       its first sub-block's plus its second's rotated by 51 samples' worth of phase, so
       overlapping costs nothing. The strongest row and column terms name the candidate
       digit; a cheap first pass (steady, loud enough, a fair share of the energy, all
       with generous margins) drops silence and most speech here.

    3. Measuring the pair. A 102-sample window is only about one bin (78 Hz) wide, so
       Goertzel terms alone blur what Q.24 asks to separate: a tone 1.5 % off loses up to
       1.4 dB, and the other group's tone leaks in at about -21 dB (941 + 1209 Hz), which
       moves a twist reading by 1.5 dB. So for the candidate pair we measure instead:
       - frequency: how far each tone's phase turns from the first sub-block to the
         second, beyond what its nominal frequency explains, is its offset (unambiguous
         to +-78 Hz; per sub-block both tones are fitted jointly, so neither sways the
         other's phase);
       - amplitudes: a least-squares fit of both sines at their measured frequencies over
         the window, which is exact for any offset and twist;
       - what is left once the fitted pair is subtracted, at the 8 nominal frequencies and
         at both tones' second harmonics.

    4. Per-window tests. A window is a hit for the digit when all hold:
       - frequency: both tones within 2.5 % of nominal, half way between Q.24's accept
         (1.5 %) and reject (3.5 %) limits;
       - level: both tones at or above -32 dBm0 (Q.24 asks for -26 dBm0 per tone and -40
         must be ignored; the limit sits between them);
       - twist: column at most 9 dB above the row (normal twist; 8 dB must pass, 10 dB
         fail) and row at most 5 dB above the column (reverse twist; 4 pass, 6 fail);
       - relative peak: no other row or column tone within 8 dB of the fitted ones (as in
         spandsp, but measured on the residual, so an off-frequency tone's own skirt does
         not count against it);
       - harmonics: each tone's second harmonic at least 12 dB below it (a keypad's are
         more than 20 dB down; voices and instruments are rich in them). Without the
         residual this could not be read for rows: 2 x 697 Hz sits 58 Hz from 1336 Hz;
       - share: the pair holds at least 70 % of the window's energy (spandsp: 82 %; white
         noise at 15 dB S/N alone takes 3 %), which rejects speech and music whose energy
         is spread over many partials;
       - steadiness: the two sub-blocks' energies within 3 dB of each other. This is what
         makes the duration limits exact: a window only partly covered by a tone burst
         fails, so hits count windows (nearly) full of tone.

    5. Debouncer, per window in order. A digit is reported once, when it has been the hit
       in 4 consecutive windows (5 sub-blocks, 32 ms): a 40 ms tone always holds 4 full
       windows, a 20 ms burst never gives 4 hits (tones of ~28-34 ms depend on alignment).
       A reported digit is held until 6 consecutive windows miss it: any pause of 35 ms
       or more ends the press (Q.24: 40 ms must), while a dropout of up to 20 ms (Q.24
       asks 10 ms; a lost frame, a codec glitch) never does, at any alignment, so one
       long press is not reported twice. A different digit reaching 4 hits is reported at
       once (a keypad rolled without a gap).

Cost: a chunk costs a fixed few dozen numpy calls; on a CI-class x86 core about 0.07 ms
per 20 ms frame of silence or speech and 0.3 ms while a tone is present (the fit runs only
then). No Python loop runs per sample; the debouncer loops per window, 157 times a second.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import numpy.typing as npt

from firmware.media.frames import SAMPLE_RATE, amplitude

__all__ = ["DIGITS", "DtmfDetector", "DtmfGenerator", "dtmf_frequencies"]

DIGITS: Final = "123A456B789C*0#D"  # keypad order, rows x columns

ROW_HZ: Final = (697.0, 770.0, 852.0, 941.0)
COLUMN_HZ: Final = (1209.0, 1336.0, 1477.0, 1633.0)

_FULL_SCALE: Final = 32767


def dtmf_frequencies(digit: str) -> tuple[float, float]:
    """The (row Hz, column Hz) pair of `digit`; ValueError for anything not on the keypad."""
    index = DIGITS.find(digit) if len(digit) == 1 else -1
    if index < 0:
        raise ValueError(f"not a DTMF digit: {digit!r} (expected one of {DIGITS!r})")
    return ROW_HZ[index // 4], COLUMN_HZ[index % 4]


class DtmfGenerator:
    """Renders digit strings as DTMF audio: each digit is `tone_ms` of tone, `gap_ms` quiet."""

    def __init__(
        self,
        level_dbm0: float = -7.0,
        twist_db: float = 2.0,
        tone_ms: int = 100,
        gap_ms: int = 100,
    ) -> None:
        if tone_ms <= 0 or gap_ms < 0:
            raise ValueError(f"need tone_ms > 0 and gap_ms >= 0, got {tone_ms}, {gap_ms}")
        self._row_amplitude = amplitude(level_dbm0)
        self._column_amplitude = amplitude(level_dbm0 + twist_db)
        # The two sines peak together now and then: refuse levels that would clip, since a
        # clipped tone grows harmonics and a strict detector may then reject it.
        if self._row_amplitude + self._column_amplitude > _FULL_SCALE:
            raise ValueError(
                f"DTMF at {level_dbm0} dBm0 with {twist_db} dB twist would clip; lower the level"
            )
        self._tone_samples = tone_ms * SAMPLE_RATE // 1000
        self._gap_samples = gap_ms * SAMPLE_RATE // 1000
        # Digits are rendered once and reused: dialling a number should not redo the sines.
        self._cache: dict[str, npt.NDArray[np.int16]] = {}

    def samples(self, digits: str) -> npt.NDArray[np.int16]:
        """The audio for `digits` (ValueError if any is not a DTMF digit)."""
        parts = [self._digit(digit) for digit in digits]
        if not parts:
            return np.zeros(0, dtype=np.int16)
        return np.concatenate(parts)

    def _digit(self, digit: str) -> npt.NDArray[np.int16]:
        cached = self._cache.get(digit)
        if cached is not None:
            return cached
        row_hz, column_hz = dtmf_frequencies(digit)
        t = np.arange(self._tone_samples) / SAMPLE_RATE
        tone = self._row_amplitude * np.sin(2 * np.pi * row_hz * t) + (
            self._column_amplitude * np.sin(2 * np.pi * column_hz * t)
        )
        out = np.zeros(self._tone_samples + self._gap_samples, dtype=np.int16)
        out[: self._tone_samples] = np.rint(tone)
        out.setflags(write=False)
        self._cache[digit] = out
        return out


# Detector limits; the module docstring says where each comes from.
_SUB_MS: Final = 51 / 8  # 51 samples at 8 kHz; a window is two sub-blocks (102 samples)
_MAX_OFFSET: Final = 0.025  # half way between Q.24's accept (1.5 %) and reject (3.5 %)
_MIN_LEVEL_DBM0: Final = -32.0


def _power_ratio(db: float) -> float:
    return float(10.0 ** (db / 10.0))


_NORMAL_TWIST: Final = _power_ratio(9.0)  # column louder than row
_REVERSE_TWIST: Final = _power_ratio(5.0)  # row louder than column
_RELATIVE_PEAK: Final = _power_ratio(8.0)
_HARMONIC_DOWN: Final = _power_ratio(12.0)
_STEADY: Final = _power_ratio(3.0)
_MIN_SHARE: Final = 0.70
_HITS_TO_REPORT: Final = 4
_MISSES_TO_RELEASE: Final = 6
# First-pass margins: a tone 2.5 % off with the other tone's sidelobe against it reads at
# most 9 dB low on its Goertzel term, and such a pair still shows over 40 % of the energy.
_ROUGH_LEVEL: Final = _power_ratio(-9.0)
_ROUGH_SHARE: Final = 0.25

# Probes: the 8 nominal frequencies, then their second harmonics in the same order.
_PROBES_HZ: Final = np.array((*ROW_HZ, *COLUMN_HZ, *(2 * hz for hz in ROW_HZ + COLUMN_HZ)))
_HARMONIC: Final = 8  # index of the first harmonic probe
# The (row probe, column probe) of each digit index.
_PAIRS: Final = np.array([(row, 4 + column) for row in range(4) for column in range(4)])


def _pair_fits(omega: npt.NDArray[np.float64], sub: int) -> npt.NDArray[np.float64]:
    """Per digit, the matrix turning a sub-block's DFT terms into least-squares amplitudes.

    The basis (cos and sin of the row, then of the column) gets the same mean removal as
    the audio, so a pair of on-frequency sines is fitted exactly.
    """
    fits = np.empty((len(_PAIRS), 4, 4))
    for digit, pair in enumerate(_PAIRS):
        phase = np.outer(np.arange(sub), omega[pair])
        basis = np.stack([np.cos(phase), np.sin(phase)], axis=2).reshape(sub, 4)
        basis -= basis.mean(axis=0)
        fits[digit] = np.linalg.inv(basis.T @ basis)
    return fits


def _fit_terms(
    fits: npt.NDArray[np.float64], digit: npt.NDArray[np.intp], terms: npt.NDArray[np.complex128]
) -> npt.NDArray[np.complex128]:
    """Complex amplitudes (n, 2) of each digit's row and column sines from DFT terms (n, 8).

    A DFT term X = sum x e^{-jwn} holds the correlations with cos (Re X) and sin (-Im X);
    the fitted a cos + b sin is the phasor a - jb.
    """
    picked = terms[np.arange(len(terms))[:, None], _PAIRS[digit]]
    sums = np.stack([picked.real, -picked.imag], axis=2).reshape(len(terms), 4, 1)
    ab = (fits[digit] @ sums).reshape(len(terms), 2, 2)
    return ab[:, :, 0] - 1j * ab[:, :, 1]


_UNKNOWN_KEY = -2  # whatever key may be down when a detector starts


class DtmfDetector:
    """Streaming detector; feed any number of samples at a time (frames of 160, or odd sizes)."""

    def __init__(self, sample_rate: int = SAMPLE_RATE, *, key_may_be_down: bool = False
                 ) -> None:
        """`key_may_be_down`: a key sounding when the detector starts is the tail of one
        already reported elsewhere (the last digit dialled, before an application listens):
        it is not reported; a key pressed after a pause is."""
        self._start_held = _UNKNOWN_KEY if key_may_be_down else -1
        # The second harmonic of 1633 Hz (3266 Hz) must stay below Nyquist.
        if sample_rate < 8000:
            raise ValueError(f"sample rate must be at least 8000 Hz, got {sample_rate}")
        sub = round(sample_rate * _SUB_MS / 1000)
        omega = 2 * np.pi * _PROBES_HZ / sample_rate  # rad/sample
        self._sub = sub
        self._window = 2 * sub
        self._omega = omega[:8]
        self._n = np.arange(2 * sub)
        # Goertzel terms of a sub-block at the 8 nominal frequencies, and of a whole window
        # (for what the fit leaves) at every probe.
        self._sub_dft = np.exp(-1j * np.outer(self._n[:sub], omega[:8]))
        self._window_dft = np.exp(-1j * np.outer(self._n, omega))
        self._delay = np.exp(-1j * omega[:8] * sub)  # a second sub-block's phase lag
        self._sub_fits = _pair_fits(omega, sub)
        # |X|^2 of a sine of amplitude A over a window is about (A * window / 2)^2; scaling
        # by (2 / window)^2 puts every power in "amplitude squared", like amplitude()^2.
        self._scale = (2.0 / self._window) ** 2
        self._min_power = amplitude(_MIN_LEVEL_DBM0) ** 2
        self.reset()

    def reset(self) -> None:
        """Forget all audio and any digit in progress (e.g. when the channel is re-bridged)."""
        self._pending = np.zeros(0)
        # The newest sub-block and its terms: the first half of the next window.
        self._last_block: npt.NDArray[np.float64] | None = None
        self._last_terms: npt.NDArray[np.complex128] | None = None
        # digit index of the key being held (already reported), -1, or _UNKNOWN_KEY
        self._held = self._start_held
        self._candidate = -1  # digit index of the current run of hits, or -1
        self._run = 0
        self._misses = 0

    @property
    def sounding(self) -> str | None:
        """The key whose tone is on the line now: one being reported or held, or one whose
        run of hits has begun but is not yet long enough to report (so a caller can act on a
        press before it is confirmed, e.g. keep its tone from going further). None: none."""
        index = self._candidate if self._candidate >= 0 else self._held
        return DIGITS[index] if index >= 0 else None

    def feed(self, samples: npt.ArrayLike) -> list[str]:
        """Digits whose key press started (and lasted the minimum time) in these samples."""
        chunk = np.asarray(samples)
        if chunk.ndim != 1:
            raise ValueError(f"expected a 1-D array of samples, got shape {chunk.shape}")
        data = np.concatenate([self._pending, chunk.astype(np.float64)])
        count = len(data) // self._sub
        self._pending = data[count * self._sub :]
        if count == 0:
            return []
        blocks = data[: count * self._sub].reshape(count, self._sub)
        blocks = blocks - blocks.mean(axis=1, keepdims=True)  # DC removal
        terms = blocks @ self._sub_dft
        if self._last_block is not None:
            blocks = np.vstack([self._last_block, blocks])
            terms = np.vstack([self._last_terms, terms])
        self._last_block, self._last_terms = blocks[-1:], terms[-1:]
        if len(blocks) < 2:
            return []
        return self._debounce(self._classify(blocks, terms))

    def _classify(
        self, blocks: npt.NDArray[np.float64], sub_terms: npt.NDArray[np.complex128]
    ) -> list[int]:
        """For each window (adjacent sub-blocks): the digit index it is a hit for, or -1.

        A first pass on the Goertzel terms picks each window's candidate digit and drops
        hopeless windows; only if one survives does the costlier measuring run.
        """
        first, second = sub_terms[:-1], sub_terms[1:]
        terms = first + second * self._delay
        power = (terms.real**2 + terms.imag**2) * self._scale
        at = np.arange(len(terms))
        best_row, best_column = power[:, 0:4].argmax(axis=1), power[:, 4:8].argmax(axis=1)
        digit = best_row * 4 + best_column
        energy = np.einsum("ij,ij->i", blocks, blocks)
        total = (energy[:-1] + energy[1:]) * (2.0 / self._window)  # amplitude^2 units
        steady = np.minimum(energy[:-1], energy[1:]) * _STEADY >= np.maximum(
            energy[:-1], energy[1:]
        )
        rough_row, rough_column = power[at, best_row], power[at, 4 + best_column]
        candidate = (
            steady
            & (np.minimum(rough_row, rough_column) >= self._min_power * _ROUGH_LEVEL)
            & (rough_row + rough_column >= _ROUGH_SHARE * total)
        )
        if not candidate.any():
            return [-1] * len(terms)
        hit = candidate & self._judge(digit, first, second, blocks, total)
        return np.where(hit, digit, -1).tolist()

    def _judge(
        self,
        digit: npt.NDArray[np.intp],
        first: npt.NDArray[np.complex128],
        second: npt.NDArray[np.complex128],
        blocks: npt.NDArray[np.float64],
        total: npt.NDArray[np.float64],
    ) -> npt.NDArray[np.bool_]:
        """The full per-window tests of each window's candidate digit (docstring, 3 and 4)."""
        count = len(digit)
        at = np.arange(count)
        nominal = self._omega[_PAIRS[digit]]  # (windows, 2)
        phasors = _fit_terms(
            self._sub_fits, np.concatenate([digit, digit]), np.concatenate([first, second])
        )
        turn = phasors[count:] * np.conj(phasors[:count])
        offset = np.angle(turn * np.exp(-1j * nominal * self._sub)) / self._sub
        limit = _MAX_OFFSET * nominal
        windows = np.concatenate([blocks[:-1], blocks[1:]], axis=1)
        fitted, residual = self._fit_pair(windows, nominal + np.clip(offset, -limit, limit))
        row, column = fitted[:, 0], fitted[:, 1]
        left = residual @ self._window_dft
        left = (left.real**2 + left.imag**2) * self._scale
        best_row, best_column = digit // 4, digit % 4
        return (
            np.all(np.abs(offset) <= limit, axis=1)
            & (np.minimum(row, column) >= self._min_power)
            & (column <= row * _NORMAL_TWIST)
            & (row <= column * _REVERSE_TWIST)
            & (left[:, 0:4].max(axis=1) * _RELATIVE_PEAK <= row)
            & (left[:, 4:8].max(axis=1) * _RELATIVE_PEAK <= column)
            & (left[at, _HARMONIC + best_row] * _HARMONIC_DOWN <= row)
            & (left[at, _HARMONIC + 4 + best_column] * _HARMONIC_DOWN <= column)
            & (row + column >= _MIN_SHARE * total)
        )

    def _fit_pair(
        self, windows: npt.NDArray[np.float64], omega: npt.NDArray[np.float64]
    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        """Least-squares fit of two sines at `omega` (windows, 2) to each window.

        Returns their amplitudes^2 (windows, 2) and what the fit leaves (windows, samples).
        """
        phase = self._n[None, :, None] * omega[:, None, :]
        basis = np.concatenate([np.cos(phase), np.sin(phase)], axis=2)  # (windows, n, 4)
        # The same per-sub-block mean removal as the audio got, so the fit stays exact.
        pieces = basis.reshape(len(windows), 2, self._sub, 4)
        basis = (pieces - pieces.mean(axis=2, keepdims=True)).reshape(basis.shape)
        transposed = basis.transpose(0, 2, 1)
        coefficients = np.linalg.solve(transposed @ basis, transposed @ windows[:, :, None])
        residual = windows - (basis @ coefficients)[:, :, 0]
        squared = coefficients[:, :, 0] ** 2  # cos row, cos column, sin row, sin column
        return squared[:, 0:2] + squared[:, 2:4], residual

    def _debounce(self, hits: list[int]) -> list[str]:
        """Turn per-window hits into key presses, each reported once, at its start."""
        found: list[str] = []
        for hit in hits:
            if self._held == _UNKNOWN_KEY:  # a key down at the start is not a new press
                self._held, self._misses = (hit, 0) if hit >= 0 else (-1, 0)
                if hit < 0:
                    continue
            if hit >= 0 and hit == self._candidate:
                self._run += 1
            else:
                self._candidate, self._run = hit, (1 if hit >= 0 else 0)
            if hit == self._held:
                self._misses = 0
            elif self._held >= 0:
                self._misses += 1
                if self._misses >= _MISSES_TO_RELEASE:
                    self._held = -1
            if hit >= 0 and hit != self._held and self._run >= _HITS_TO_REPORT:
                found.append(DIGITS[hit])
                self._held, self._misses = hit, 0
        return found
