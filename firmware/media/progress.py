"""Call-progress tone classifier: what a listener hears, from the audio alone.

Used by the virtual phone (to tell a person what the handset hears), by the integration
tests, and by the FXO trunk for disconnect (busy-tone) supervision.

Theory of operation
-------------------
1. **Sound or silence.** The window is cut into 5 ms blocks. A block is sound when its
   level is above -45 dBm0 and within 12 dB of the loudest sound in the window (so line
   noise 20 dB under a tone stays silence). Dips of up to 15 ms in or beside a sound are filled
   (two close frequencies, e.g. 400+425 Hz, beat to zero every 40 ms) and blips of up to
   15 ms are dropped (clicks); plan tones have no gap or burst shorter than 100 ms.
2. **Runs.** Consecutive blocks form on/off runs. A sound run may hold several tones
   back to back (SIT's 950/1400/1800 Hz, UK stutter's 350+440 then 440, a dial tone that
   turns into busy): two 100 ms windows either side of every 20 ms step are compared as
   smoothed, normalised power spectra (Hellinger distance) and the run is split where they
   differ most (placed to 5 ms); each split is confirmed with the whole stretches on both
   sides, so two beating frequencies never split a steady tone. Each piece is
   measured with a zero-padded Hann FFT over its middle (at most the last 0.5 s): peaks
   within 15 dB of the strongest, refined by parabolic interpolation. A piece whose peaks
   hold under 75 % of its energy, or that has more than five, is not a set of pure tones
   (speech, noise): its frequencies are unknown and it matches no plan tone.
3. **Matching.** Each plan tone is compiled to a cadence graph (segment -> next segment,
   the loop, an endless last segment; a play-once tone ends in endless silence). Walking
   back from the newest run, we keep the set of segments the run could be: a run fits a
   segment when its frequencies are within 2 % and its duration within 15 % or 30 ms
   (whichever is more). The newest run may be cut short by the end of the window; the
   oldest run of a match may be cut short (window start, or the tone started mid-segment)
   or, if it is sound, be longer (an earlier tone of the same frequencies ran into it, as
   German dial tone runs into busy tone). So each tone explains a trailing stretch of the
   window; everything before it is an older tone and is ignored.
4. **Deciding.** The tones whose stretch starts with the earliest sound explain the most
   recent change and are the candidates. Among them the simplest (fewest segments) wins:
   plain dial tone rather than the steady tail of stutter dial tone. Two different tones
   equally simple leave the answer open. The winner is reported only once confirmed:
   a cadence has shown every segment of its loop complete; a tone with a preamble (recall
   and stutter dial, SIT) has shown it all and reached its endless part; a steady tone has
   lasted longer than any cadenced tone of the same frequencies is ever on (+ tolerance)
   and at least 400 ms. Otherwise `tone` is None and `candidates` says what it may become.
   No sound at all, or a trailing silence longer than any silence in the plan, is
   'silence'; a most recent sound that no tone explains is 'other'.

Tones whose compiled cadences are identical (the UK plan's recall dial tone *is* its dial
tone) cannot be told apart: the first in `TonePlan.tone_names` order is reported and the
other is listed in `candidates`. A window that begins inside stutter dial tone's bursts,
with only the last three left, is heard as recall dial tone: that is all it shows.

Durations are measured to the 5 ms block; the classifier costs about 10 ms of CPU per 8 s
of audio (most of it the split search over long steady tones), so call it on demand or a
few times a second, not per frame.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import numpy.typing as npt

from firmware.media.frames import FULL_SCALE_DBM0, SAMPLE_RATE, level_dbm0
from firmware.media.tones import TonePlan, ToneSegment, ToneSpec

__all__ = ["Heard", "classify"]

SAMPLES_PER_MS = SAMPLE_RATE // 1000

# Sound/silence (step 1).
BLOCK = 5 * SAMPLES_PER_MS
SILENCE_DBM0 = -45.0
ON_MARGIN_DB = 12.0
GAP_FILL_BLOCKS = 3  # <= 15 ms: shortest plan gap is 100 ms
BLIP_BLOCKS = 3
EDGE_MIN = 60 * SAMPLES_PER_MS  # a sound cut by the window edge shorter than this is unmeasurable
MIN_WINDOW = 50 * SAMPLES_PER_MS

# Splitting a sound run where the tone changes (step 2).
CHANGE_WIN = 100 * SAMPLES_PER_MS
CHANGE_HOP = 20 * SAMPLES_PER_MS
CHANGE_STEP = 5 * SAMPLES_PER_MS  # a found split is then placed to this step
CHANGE_NFFT = 1024
CHANGE_MIN_DISTANCE = 0.1  # 350+440 -> 440 (UK stutter) scores ~0.29, a steady tone ~0.01
SMOOTH_BINS = 2  # +-15.6 Hz: tolerant of small frequency errors and of beating

# Measuring a piece (step 2).
EDGE_TRIM = 10 * SAMPLES_PER_MS  # at an on/off edge
SPLIT_TRIM = 20 * SAMPLES_PER_MS  # at a split, placed to +-5 ms
ANALYSIS_MIN = 40 * SAMPLES_PER_MS
ANALYSIS_MAX = 4096
BAND_HZ = (150.0, 3800.0)
PEAK_RANGE_DB = 15.0
MAX_PEAKS = 5
TONALITY_MIN = 0.75

# Matching (steps 3 and 4).
FREQ_TOL = 0.02
DUR_TOL_FRACTION = 0.15
DUR_TOL_MS = 30.0
MIN_STEADY_MS = 400.0


@dataclass(frozen=True, slots=True)
class Heard:
    """What a listener hears at the end of a window of audio."""

    tone: str | None  # a plan tone name, 'silence', 'other', or None (cannot tell yet)
    freqs: tuple[float, ...]  # component frequencies of the most recent sound, Hz
    cadence_ms: tuple[int, ...]  # complete on/off runs of the trailing tone
    level_dbm0: float  # level of the most recent sound (of the window if all silent)
    candidates: tuple[str, ...]  # plan tones consistent with the trailing audio


# ---------------------------------------------------------------------------------------
# Step 1 and 2: runs


@dataclass(frozen=True, slots=True)
class _Run:
    start: int
    stop: int
    freqs: tuple[float, ...] | None  # () silence; None a sound that is no set of pure tones
    level: float
    open_start: bool = False  # begins at the window start: may have begun earlier

    @property
    def ms(self) -> float:
        return (self.stop - self.start) / SAMPLES_PER_MS

    @property
    def sound(self) -> bool:
        return self.freqs != ()


def _dbm0(power: npt.NDArray[np.float64] | float) -> npt.NDArray[np.float64]:
    """dBm0 of a mean square (as frames.level_dbm0 reads it)."""
    with np.errstate(divide="ignore"):
        return 10.0 * np.log10(2.0 * np.asarray(power) / 32767.0**2) + FULL_SCALE_DBM0


def _bool_runs(mask: npt.NDArray[np.bool_]) -> list[tuple[int, int, bool]]:
    edges = np.flatnonzero(mask[1:] != mask[:-1]) + 1
    bounds = [0, *edges.tolist(), len(mask)]
    return [(a, b, bool(mask[a])) for a, b in itertools.pairwise(bounds)]


def _sound_mask(levels: npt.NDArray[np.float64]) -> npt.NDArray[np.bool_]:
    if len(levels) >= 3:  # median of three: one loud block does not set the scale
        a, b, c = levels[:-2], levels[1:-1], levels[2:]
        smooth = np.maximum(np.minimum(a, b), np.minimum(np.maximum(a, b), c))
    else:
        smooth = levels
    threshold = max(SILENCE_DBM0, float(np.max(smooth)) - ON_MARGIN_DB)
    mask = levels > threshold
    runs = _bool_runs(mask)
    for a, b, on in runs:  # at the window edges too: a dip there is as likely as a gap
        if not on and len(runs) > 1 and b - a <= GAP_FILL_BLOCKS:
            mask[a:b] = True
    for a, b, on in _bool_runs(mask):
        if on and b - a <= BLIP_BLOCKS:
            mask[a:b] = False
    return mask


def _profiles(frames: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Square roots of smoothed, normalised power spectra of equal-length frames (rows)."""
    n = frames.shape[1]
    spec = np.abs(np.fft.rfft(frames * np.hanning(n), n=max(CHANGE_NFFT, n), axis=1)) ** 2
    res = SAMPLE_RATE / max(CHANGE_NFFT, n)
    band = spec[:, int(BAND_HZ[0] / res) : int(BAND_HZ[1] / res)]
    width = 2 * SMOOTH_BINS + 1
    csum = np.cumsum(band, axis=1)
    smooth = csum[:, width - 1 :] - np.concatenate(
        [np.zeros((len(band), 1)), csum[:, : -width]], axis=1
    )
    total = smooth.sum(axis=1, keepdims=True)
    total[total <= 0.0] = 1.0
    return np.sqrt(np.maximum(smooth, 0.0) / total)


def _profile(x: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """One profile for a stretch: the average of 100 ms frames (hop 50 ms)."""
    if len(x) <= CHANGE_WIN:
        return _profiles(x[None, :])[0]
    frames = np.lib.stride_tricks.sliding_window_view(x, CHANGE_WIN)[:: CHANGE_WIN // 2]
    p = np.mean(_profiles(frames) ** 2, axis=0)
    return np.sqrt(p / max(float(p.sum()), 1e-300))


def _distance(p: npt.NDArray[np.float64], q: npt.NDArray[np.float64]) -> float:
    return 1.0 - float(np.dot(p, q))


def _place(x: npt.NDArray[np.float64], a: int, b: int, c: int) -> int:
    """The position near `c` (within a hop) where the windows either side differ most."""
    at = np.arange(max(a + CHANGE_WIN, c - CHANGE_HOP), min(b - CHANGE_WIN, c + CHANGE_HOP) + 1,
                   CHANGE_STEP)
    if len(at) < 2:
        return c
    left = _profiles(np.stack([x[p - CHANGE_WIN : p] for p in at]))
    right = _profiles(np.stack([x[p : p + CHANGE_WIN] for p in at]))
    return int(at[np.argmin(np.einsum("ij,ij->i", left, right))])


def _splits(x: npt.NDArray[np.float64], a: int, b: int) -> list[int]:
    """Sample positions inside [a, b) where the sound changes from one tone to another."""
    if b - a < 2 * CHANGE_WIN + 2 * CHANGE_HOP:
        return []
    frames = np.lib.stride_tricks.sliding_window_view(x[a:b], CHANGE_WIN)[::CHANGE_HOP]
    prof = _profiles(frames)
    lag = CHANGE_WIN // CHANGE_HOP
    dist = 1.0 - np.einsum("ij,ij->i", prof[:-lag], prof[lag:])
    where = a + CHANGE_WIN + CHANGE_HOP * np.arange(len(dist))
    candidates: list[int] = []
    for i in np.argsort(-dist):
        if dist[i] <= CHANGE_MIN_DISTANCE:
            break
        c = int(where[i])
        if all(abs(c - o) >= CHANGE_WIN for o in candidates):
            candidates.append(_place(x, a, b, c))
    # Confirm each split with the whole stretches either side of it.
    bounds = sorted(candidates)
    changed = True
    while changed and bounds:
        changed = False
        edges = [a, *bounds, b]
        for k in range(1, len(edges) - 1):
            left = x[max(edges[k - 1], edges[k] - ANALYSIS_MAX) : edges[k]]
            right = x[edges[k] : min(edges[k + 1], edges[k] + ANALYSIS_MAX)]
            if _distance(_profile(left), _profile(right)) <= CHANGE_MIN_DISTANCE:
                bounds.remove(edges[k])
                changed = True
                break
    return bounds


def _measure(x: npt.NDArray[np.float64]) -> tuple[tuple[float, ...] | None, float]:
    """(component frequencies or None if not pure tones, level dBm0) of a stretch."""
    level = float(_dbm0(np.mean(np.square(x))))
    n = len(x)
    nfft = min(16384, max(4096, 1 << (4 * n - 1).bit_length()))
    spec = np.abs(np.fft.rfft(x * np.hanning(n), n=nfft)) ** 2
    res = SAMPLE_RATE / nfft
    lo, hi = int(BAND_HZ[0] / res), int(BAND_HZ[1] / res)
    total = float(spec[int(100 / res) : int(3900 / res)].sum())
    band = spec[lo:hi]
    if total <= 0.0 or len(band) < 3:
        return None, level
    top = float(band.max())
    inner = band[1:-1]
    floor = top * 10 ** (-PEAK_RANGE_DB / 10)
    is_peak = (inner > band[:-2]) & (inner >= band[2:]) & (inner >= floor)
    peaks = np.flatnonzero(is_peak) + 1 + lo
    if not 0 < len(peaks) <= MAX_PEAKS:
        return None, level
    half = math.ceil(2 * nfft / n) + 1  # Hann main lobe: +-2 bins of the unpadded DFT
    lobe = np.zeros(len(spec), dtype=bool)
    for k in peaks:
        lobe[max(0, k - half) : k + half + 1] = True
    if float(spec[lobe].sum()) < TONALITY_MIN * total:
        return None, level
    freqs = []
    for k in peaks:  # parabolic interpolation on the log spectrum
        y0, y1, y2 = np.log(np.maximum(spec[k - 1 : k + 2], 1e-300))
        denom = y0 - 2 * y1 + y2
        delta = 0.5 * (y0 - y2) / denom if denom != 0 else 0.0
        freqs.append(float((k + delta) * res))
    return tuple(sorted(freqs)), level


def _measure_piece(x: npt.NDArray[np.float64], a: int, b: int, trim_a: int, trim_b: int
                   ) -> tuple[tuple[float, ...] | None, float]:
    lo, hi = a + trim_a, b - trim_b
    if hi - lo < ANALYSIS_MIN:
        lo, hi = a, b
    lo = max(lo, hi - ANALYSIS_MAX)  # the most recent part of a long tone
    return _measure(x[lo:hi])


def _same(f: tuple[float, ...] | None, g: tuple[float, ...] | None) -> bool:
    if f is None or g is None:
        return f is g
    return len(f) == len(g) and all(abs(p - q) <= FREQ_TOL * q for p, q in zip(f, g, strict=True))


def _sound_runs(x: npt.NDArray[np.float64], a: int, b: int, open_start: bool) -> list[_Run]:
    """The tones of one stretch of sound, split where the sound changes."""
    edges = [a, *_splits(x, a, b), b]
    runs: list[_Run] = []
    lo = a
    for k in range(1, len(edges)):
        hi = edges[k]
        trim_lo = EDGE_TRIM if lo == a else SPLIT_TRIM
        trim_hi = EDGE_TRIM if hi == b else SPLIT_TRIM
        freqs, level = _measure_piece(x, lo, hi, trim_lo, trim_hi)
        if runs and _same(runs[-1].freqs, freqs):
            # Measures the same as the piece before: beating, not a change; measure as one.
            lo = runs.pop().start
            trim_lo = EDGE_TRIM if lo == a else SPLIT_TRIM
            freqs, level = _measure_piece(x, lo, hi, trim_lo, trim_hi)
        runs.append(_Run(lo, hi, freqs, level, open_start and lo == a))
        lo = hi
    return runs


def _runs(x: npt.NDArray[np.float64]) -> list[_Run]:
    nblocks = len(x) // BLOCK
    power = np.mean(np.square(x[: nblocks * BLOCK].reshape(nblocks, BLOCK)), axis=1)
    mask = _sound_mask(_dbm0(power))
    spans = [(a * BLOCK, b * BLOCK, on) for a, b, on in _bool_runs(mask)]
    # A sound cut by the window edge too short to measure is left out of the window.
    if spans and spans[0][2] and spans[0][1] - spans[0][0] < EDGE_MIN:
        spans.pop(0)
    if spans and spans[-1][2] and spans[-1][1] - spans[-1][0] < EDGE_MIN:
        spans.pop()
    runs: list[_Run] = []
    for i, (a, b, on) in enumerate(spans):
        if on:
            runs.extend(_sound_runs(x, a, b, open_start=i == 0))
        else:
            runs.append(_Run(a, b, (), float(_dbm0(np.mean(np.square(x[a:b])))), i == 0))
    return runs


# ---------------------------------------------------------------------------------------
# Step 3 and 4: cadence graphs and matching


@dataclass(frozen=True, slots=True)
class _Seg:
    freqs: tuple[float, ...]  # () silence
    ms: float | None  # None: endless


@dataclass(frozen=True, slots=True)
class _Pattern:
    name: str
    order: int
    segs: tuple[_Seg, ...]
    preds: tuple[tuple[int, ...], ...]
    loop: tuple[int, ...]  # the repeating finite segments; () when the tone ends endless
    endless: int | None  # index of the endless segment
    min_steady_ms: float = 0.0


@dataclass(frozen=True, slots=True)
class _Compiled:
    patterns: tuple[_Pattern, ...]
    long_silence_ms: float  # longer than any finite silence of any tone


@dataclass(slots=True)
class _Chain:
    start: int  # the oldest run the tone explains
    first_on: int  # the oldest sound run it explains
    first_segs: frozenset[int]  # segments the oldest run may be
    first_complete: bool  # the oldest run fitted a whole segment
    last_segs: frozenset[int]  # segments the newest run may be
    seen: frozenset[int] = field(default_factory=frozenset)  # segments seen complete


def _tol(ms: float) -> float:
    return max(DUR_TOL_FRACTION * ms, DUR_TOL_MS)


def _heard_freqs(seg: ToneSegment) -> tuple[float, ...]:
    if seg.modulated:  # AM: the carrier and its two sidebands
        carrier, mod = seg.freqs
        return (carrier - mod, carrier, carrier + mod)
    return tuple(sorted(seg.freqs))


def _pattern(spec: ToneSpec, order: int) -> _Pattern:
    raw: list[tuple[tuple[float, ...], float | None]] = [
        (_heard_freqs(s), s.ms) for s in spec.segments
    ]
    loop_from = spec.loop_from
    if loop_from is None:  # play once: then endless silence
        if raw[-1][1] is not None:
            raw.append(((), None))
        loop_from = len(raw) - 1
    segs: list[_Seg] = []
    loop = 0
    for i, (freqs, ms) in enumerate(raw):
        if segs and segs[-1].freqs == freqs and i != loop_from:  # heard as one run
            prev = segs[-1].ms
            segs[-1] = _Seg(freqs, None if ms is None or prev is None else prev + ms)
        else:
            segs.append(_Seg(freqs, ms))
        if i == loop_from:
            loop = len(segs) - 1
    m = len(segs)
    succ = [None if s.ms is None else (i + 1 if i + 1 < m else loop) for i, s in enumerate(segs)]
    preds = tuple(tuple(i for i in range(m) if succ[i] == j) for j in range(m))
    endless = m - 1 if segs[-1].ms is None else None
    return _Pattern(spec.name, order, tuple(segs), preds,
                    () if endless is not None else tuple(range(loop, m)), endless)


@lru_cache(maxsize=32)
def _compile(plan: TonePlan) -> _Compiled:
    pats = [_pattern(spec, i) for i, spec in enumerate(plan.tones())]
    out = []
    for p in pats:
        if p.endless == 0 and p.segs[0].freqs:  # steady: outlast same-frequency cadences
            longest = max((s.ms + _tol(s.ms) for q in pats if q is not p for s in q.segs
                           if s.ms is not None and _same(s.freqs, p.segs[0].freqs)),
                          default=0.0)
            p = _Pattern(p.name, p.order, p.segs, p.preds, p.loop, p.endless,
                         max(MIN_STEADY_MS, longest + BLOCK / SAMPLES_PER_MS))
        out.append(p)
    silences = [s.ms for p in pats for s in p.segs if not s.freqs and s.ms is not None]
    long_silence = max((ms + _tol(ms) for ms in silences), default=0.0)
    return _Compiled(tuple(out), max(long_silence, MIN_STEADY_MS))


def _may_be_cut(run: _Run, seg: _Seg) -> bool:
    """The run, cut short by the window's end, may be (the start of) the segment."""
    return seg.ms is None or run.ms <= seg.ms + _tol(seg.ms)


def _walk(p: _Pattern, runs: list[_Run]) -> _Chain | None:
    """How far back from the newest run the tone explains the window."""
    n = len(runs)
    last = runs[-1]
    same = [i for i, s in enumerate(p.segs) if _same(last.freqs, s.freqs)]
    states = {i: frozenset[int]() for i in same if _may_be_cut(last, p.segs[i])}
    if not states:
        if not same or not last.sound:
            return None
        # Longer than the tone allows: an earlier sound of the same frequencies may run
        # into the segment's start, so the tone explains the newest run and nothing more.
        return _Chain(n - 1, n - 1, frozenset(same), False, frozenset(same))
    chain = _Chain(n - 1, n, frozenset(states), False, frozenset(states))
    for k in range(n - 2, -1, -1):
        run = runs[k]
        fits: dict[int, frozenset[int]] = {}
        cut: set[int] = set()
        for q, seen in states.items():
            for i in p.preds[q]:
                seg = p.segs[i]
                assert seg.ms is not None  # only finite segments have successors
                if not _same(run.freqs, seg.freqs):
                    continue
                if abs(run.ms - seg.ms) <= _tol(seg.ms):
                    fits[i] = fits.get(i, frozenset()) | seen | {i}
                elif run.ms < seg.ms or run.sound:
                    cut.add(i)
        if fits:
            states = fits
            chain.start, chain.first_segs, chain.first_complete = k, frozenset(fits), True
            continue
        if cut:
            chain.start, chain.first_segs, chain.first_complete = k, frozenset(cut), False
        break
    chain.seen = frozenset().union(*states.values())
    chain.first_on = next((i for i in range(chain.start, n) if runs[i].sound), n)
    return chain


def _confirmed(p: _Pattern, chain: _Chain, runs: list[_Run]) -> bool:
    if p.endless is None:
        return set(p.loop) <= chain.seen
    if p.endless not in chain.last_segs:
        return False
    if p.endless == 0:
        return runs[-1].ms >= p.min_steady_ms
    preamble_seen = set(range(1, p.endless)) <= chain.seen
    return preamble_seen and (0 in chain.seen or 0 in chain.first_segs)


def _complete(runs: list[_Run], start: int, first_complete: bool) -> tuple[int, ...]:
    """Durations of runs[start:-1], without a first run that may have begun earlier."""
    if start < len(runs) - 1 and (runs[start].open_start or not first_complete):
        start += 1
    return tuple(round(r.ms) for r in runs[start:-1])


def _trailing(runs: list[_Run], last_on: int) -> tuple[int, ...]:
    """Cadence of the runs since the most recent sound last changed character."""
    freqs = runs[last_on].freqs
    start = last_on
    while start > 0 and (not runs[start - 1].sound or _same(runs[start - 1].freqs, freqs)):
        start -= 1
    return _complete(runs, start, first_complete=start > 0)


def classify(samples: npt.ArrayLike, plan: TonePlan) -> Heard:
    """What a listener of `samples` (int16 PCM at 8 kHz, oldest first) hears at the end."""
    x = np.asarray(samples, dtype=np.float64).ravel()
    window_level = level_dbm0(x)
    if len(x) < MIN_WINDOW:
        return Heard(None, (), (), window_level, ())
    runs = _runs(x)
    sound = [i for i, r in enumerate(runs) if r.sound]
    if not sound:
        return Heard("silence" if runs else None, (), (), window_level, ())
    last_on = sound[-1]
    recent = runs[last_on]
    freqs = tuple(float(round(f)) for f in recent.freqs or ())
    compiled = _compile(plan)
    if not runs[-1].sound and runs[-1].ms > compiled.long_silence_ms:
        return Heard("silence", freqs, (), recent.level, ())
    chains = {}
    for p in compiled.patterns:
        chain = _walk(p, runs)
        if chain is not None and chain.first_on <= last_on:
            chains[p.name] = (p, chain)
    if not chains:
        return Heard("other", freqs, _trailing(runs, last_on), recent.level, ())
    earliest = min(chain.first_on for _, chain in chains.values())
    best = [pc for pc in chains.values() if pc[1].first_on == earliest]
    best.sort(key=lambda pc: (len(pc[0].segs), pc[0].order))
    winner, chain = best[0]
    rivals = [p for p, _ in best[1:] if len(p.segs) == len(winner.segs)
              and (p.segs, p.loop) != (winner.segs, winner.loop)]
    tone = None if rivals or not _confirmed(winner, chain, runs) else winner.name
    if tone is not None:  # decided: only tones that sound exactly alike remain
        best = [pc for pc in best if (pc[0].segs, pc[0].loop) == (winner.segs, winner.loop)]
    candidates = tuple(p.name for p, _ in sorted(best, key=lambda pc: pc[0].order))
    cadence = _complete(runs, chain.start, chain.first_complete)
    return Heard(tone, freqs, cadence, recent.level, candidates)
