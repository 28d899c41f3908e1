"""Country tone plans and a phase-continuous, sample-exact tone generator.

Theory of operation
-------------------
A tone is a `ToneSpec`: a list of `ToneSegment`s (a set of frequencies, or silence, for a
number of milliseconds) and the index `loop_from` of the first segment that repeats
forever; `loop_from=None` plays the list once and then gives silence. A last segment with
`ms=None` is steady: it never ends. Specs are written, and parsed, in Asterisk's
`indications.conf` notation (configs/samples/indications.conf.sample):

    element  = ["!"] freq [1*("+" freq) / "*" freq] ["/" duration]
    tonelist = element *("," element)

`f1+f2+...` sums components, `f1*f2` is f1 amplitude-modulated by f2 (Asterisk fixes the
depth at 90 %), `0` is silence, a missing duration means "for ever" and `!` marks an
element that is not repeated: the loop starts at the first element without `!`.

A `TonePlan` is one country's set of tones (REFERENCE.md, "Tones and ring cadences"), its
FXS ring cadence, which tone a line hears when the far end clears, and its caller-ID
flavour. `PLANS` holds the countries the box ships with; `plan(country)` looks one up.

`ToneGenerator` plays a spec one 20 ms frame at a time. Each component is a function of the
generator's absolute sample clock (sin(2*pi*f*n/fs)), so a frequency keeps its phase
across frames and across segment boundaries (the 440 Hz of UK stutter dial tone runs on
smoothly when the 350 Hz stops). Cadence boundaries fall on exact samples (ms * 8).

For speed every sound segment has a precomputed int16 table holding one full period of its
waveform (integer frequencies repeat within 8000 samples), shared between generators and
read-only; a frame inside one segment is then a slice (a view, no copy) of that table.
Frames that straddle a boundary are assembled in the generator's own buffer. Either way the
returned frame is read-only and valid until the next `next_frame()` call: copy it to keep it.

Choices where REFERENCE.md is silent
------------------------------------
- Howler (off-hook warning): only North America standardises one, the receiver off-hook
  (ROH) tone 1400+2060+2450+2600 Hz 100/100 ms (Telcordia GR-506-CORE s. 17.2.8). BT's
  howler is a rising warble not given in SIN 350 (some UK PABXs alternate DTMF * and #,
  which our own in-band DTMF detector would hear through the line's hybrid echo); ETSI
  countries have none (exchanges just leave busy/NU tone on the line). Virgin Media UK
  lines use the American ROH tone, so every plan uses it here; a plan may override it.
  Play it loud: the engine, not the plan, picks the level.
- FR: REFERENCE.md gives dial, busy and ring cadence; ringback, congestion, call waiting,
  recall and stutter dial are Asterisk's [fr] section (its "callwait" 440/300,0/10000).
- DE call waiting: Asterisk plays 200/200/200/5000 five times and stops; we repeat it, as
  for the other countries; the engine stops the tone when the waiting call goes away.
- SIT: REFERENCE.md's 950/1400/1800 Hz x 330 ms once, for every plan (BT SIN 350 puts
  15 ms gaps between the three; Asterisk [uk] "info" has them; REFERENCE.md says "same").
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache
from typing import ClassVar

import numpy as np
import numpy.typing as npt

from firmware.media.frames import FRAME_SAMPLES, SAMPLE_RATE, Frame, amplitude, silence

__all__ = [
    "AM_DEPTH",
    "CALLERID_KINDS",
    "PLANS",
    "ToneGenerator",
    "TonePlan",
    "ToneSegment",
    "ToneSpec",
    "plan",
    "render",
]

# Asterisk indications.conf.sample: "The implicit modulation depth is fixed at 90%".
AM_DEPTH = 0.9
NYQUIST_HZ = SAMPLE_RATE / 2
SAMPLES_PER_MS = SAMPLE_RATE // 1000
# A table longer than this (10 s) is not worth its memory: such segments are computed live.
_MAX_TABLE_SAMPLES = 10 * SAMPLE_RATE

CALLERID_KINDS = ("bell202", "etsi", "bt")


@dataclass(frozen=True, slots=True)
class ToneSegment:
    """One step of a cadence: `freqs` summed (or silence if empty) for `ms` milliseconds.

    `ms=None` is steady (for ever) and is only valid as a spec's last segment. With
    `modulated=True`, `freqs` is (carrier, modulating frequency) as in Asterisk's `f1*f2`.
    """

    freqs: tuple[float, ...]
    ms: int | None
    modulated: bool = False

    def __post_init__(self) -> None:
        if self.ms is not None and (isinstance(self.ms, bool) or self.ms <= 0):
            raise ValueError(f"segment duration must be a positive number of ms: {self.ms!r}")
        for f in self.freqs:
            if not 0 < f < NYQUIST_HZ:
                raise ValueError(f"frequency {f} Hz outside 0 < f < {NYQUIST_HZ:g} Hz")
        if len(set(self.freqs)) != len(self.freqs):
            raise ValueError(f"frequency given twice in {self.freqs}")
        if self.modulated:
            if len(self.freqs) != 2:
                raise ValueError("a modulated segment needs (carrier, modulation) frequencies")
            carrier, mod = self.freqs
            if mod >= carrier or carrier + mod >= NYQUIST_HZ:
                raise ValueError(f"modulation {carrier:g}*{mod:g} folds over or exceeds Nyquist")

    @property
    def silent(self) -> bool:
        return not self.freqs


# element = ["!"] freq [1*("+" freq) / "*" freq] ["/" duration]; freq = 1*DIGIT ["." 1*DIGIT]
_NUM = r"\d+(?:\.\d+)?"
_ELEMENT = re.compile(
    rf"(?P<once>!)?(?P<freqs>{_NUM}(?:(?:\+{_NUM})+|\*{_NUM})?)(?:/(?P<ms>\d+))?"
)


def _fmt_hz(f: float) -> str:
    return str(int(f)) if float(f).is_integer() else np.format_float_positional(f, trim="-")


@dataclass(frozen=True, slots=True)
class ToneSpec:
    """A named tone: segments, and where the repetition starts (None: play once)."""

    name: str
    segments: tuple[ToneSegment, ...]
    loop_from: int | None = 0

    def __post_init__(self) -> None:
        if not self.segments:
            raise ValueError(f"tone {self.name!r} has no segments")
        for seg in self.segments[:-1]:
            if seg.ms is None:
                raise ValueError(f"tone {self.name!r}: only the last segment may be steady")
        if self.loop_from is not None and not 0 <= self.loop_from < len(self.segments):
            raise ValueError(f"tone {self.name!r}: loop_from {self.loop_from} out of range")

    @classmethod
    def parse(cls, name: str, text: str) -> ToneSpec:
        """Parse an Asterisk indications.conf tone list, e.g. "480+620/500,0/500"."""
        elements = [e.strip() for e in text.split(",")]
        if not text.strip() or any(not e for e in elements):
            raise ValueError(f"tone {name!r}: empty element in {text!r}")
        segments: list[ToneSegment] = []
        loop_from: int | None = None
        for i, element in enumerate(elements):
            m = _ELEMENT.fullmatch(element)
            if m is None:
                raise ValueError(f"tone {name!r}: bad element {element!r} in {text!r}")
            once = m["once"] is not None
            if once and loop_from is not None:
                # Asterisk would silently fold it into the loop; refuse the ambiguity.
                raise ValueError(f"tone {name!r}: '!{element[1:]}' follows a repeating element")
            if not once and loop_from is None:
                loop_from = i
            modulated = "*" in m["freqs"]
            freqs = tuple(float(f) for f in re.split(r"[+*]", m["freqs"]))
            if modulated and 0.0 in freqs:
                raise ValueError(f"tone {name!r}: zero frequency in modulation {element!r}")
            if not modulated:
                freqs = tuple(sorted(f for f in freqs if f != 0.0))
            ms = int(m["ms"]) if m["ms"] is not None else None
            if ms == 0:
                raise ValueError(f"tone {name!r}: zero duration in {element!r}")
            if ms is None and i != len(elements) - 1:
                raise ValueError(f"tone {name!r}: {element!r} has no duration but is not last")
            try:
                segments.append(ToneSegment(freqs, ms, modulated))
            except ValueError as exc:
                raise ValueError(f"tone {name!r}: {exc}") from None
        return cls(name, tuple(segments), loop_from)

    def __str__(self) -> str:
        """The spec in indications.conf notation (parse(name, str(spec)) == spec)."""
        parts = []
        for i, seg in enumerate(self.segments):
            once = "!" if self.loop_from is None or i < self.loop_from else ""
            freq = ("*" if seg.modulated else "+").join(_fmt_hz(f) for f in seg.freqs) or "0"
            parts.append(f"{once}{freq}" + ("" if seg.ms is None else f"/{seg.ms}"))
        return ",".join(parts)

    @property
    def frequencies(self) -> frozenset[float]:
        """Every non-zero frequency the tone sounds (a modulated segment: its carrier)."""
        out: set[float] = set()
        for seg in self.segments:
            out.update(seg.freqs[:1] if seg.modulated else seg.freqs)
        return frozenset(out)

    @property
    def play_once(self) -> bool:
        """True if the tone ends (and is followed by silence)."""
        return self.loop_from is None and self.segments[-1].ms is not None


@dataclass(frozen=True, slots=True)
class TonePlan:
    """One country's call-progress tones, FXS ring cadence and analog-line conventions."""

    country: str
    description: str
    ring_cadence: tuple[int, ...]  # alternating on/off ms for the FXS ringer
    dial: ToneSpec
    busy: ToneSpec
    ringback: ToneSpec
    congestion: ToneSpec
    call_waiting: ToneSpec
    recall_dial: ToneSpec
    stutter_dial: ToneSpec
    sit: ToneSpec
    howler: ToneSpec  # off-hook warning / receiver off-hook
    cleared: str  # the tone an analog line hears after the far end hangs up
    callerid: str  # 'bell202' | 'etsi' | 'bt'

    tone_names: ClassVar[tuple[str, ...]] = (
        "dial",
        "busy",
        "ringback",
        "congestion",
        "call_waiting",
        "recall_dial",
        "stutter_dial",
        "sit",
        "howler",
    )

    def __post_init__(self) -> None:
        cadence = self.ring_cadence
        if not cadence or len(cadence) % 2 or any(ms <= 0 for ms in cadence):
            raise ValueError(f"plan {self.country!r}: ring cadence {cadence} is not on/off pairs")
        for name in self.tone_names:
            spec = getattr(self, name)
            if spec.name != name:
                raise ValueError(f"plan {self.country!r}: field {name!r} holds {spec.name!r}")
        if self.cleared not in self.tone_names:
            raise ValueError(f"plan {self.country!r}: cleared tone {self.cleared!r} unknown")
        if self.callerid not in CALLERID_KINDS:
            raise ValueError(f"plan {self.country!r}: caller ID {self.callerid!r} not in "
                             f"{CALLERID_KINDS}")

    def tone(self, name: str) -> ToneSpec:
        """The plan's tone called `name` (one of `tone_names`)."""
        if name not in self.tone_names:
            raise KeyError(f"no tone {name!r} in plan {self.country!r}; "
                           f"known tones: {', '.join(self.tone_names)}")
        spec: ToneSpec = getattr(self, name)
        return spec

    def tones(self) -> tuple[ToneSpec, ...]:
        """All tones, in `tone_names` order."""
        return tuple(getattr(self, name) for name in self.tone_names)


def _make_plan(country: str, description: str, ring: tuple[int, ...], cleared: str,
               callerid: str, **tones: str) -> TonePlan:
    specs = {name: ToneSpec.parse(name, text) for name, text in tones.items()}
    return TonePlan(country, description, ring, cleared=cleared, callerid=callerid, **specs)


_BURSTS_3 = "!350+440/100,!0/100," * 3
_SIT = "!950/330,!1400/330,!1800/330"
# Receiver off-hook (ROH) tone, Telcordia GR-506-CORE s. 17.2.8; used in every plan
# (module docs, "Choices where REFERENCE.md is silent").
_ROH = "1400+2060+2450+2600/100,0/100"

PLANS: dict[str, TonePlan] = {
    p.country: p
    for p in (
        _make_plan(
            "us", "United States / North America", (2000, 4000), "congestion", "bell202",
            dial="350+440",
            busy="480+620/500,0/500",
            ringback="440+480/2000,0/4000",
            congestion="480+620/250,0/250",
            call_waiting="440/300,0/10000",
            recall_dial=_BURSTS_3 + "350+440",
            stutter_dial=_BURSTS_3 * 2 + "350+440",
            sit=_SIT,
            howler=_ROH,
        ),
        _make_plan(
            "uk", "United Kingdom", (400, 200, 400, 2000), "busy", "bt",
            dial="350+440",
            busy="400/375,0/375",
            ringback="400+450/400,0/200,400+450/400,0/2000",
            congestion="400/400,0/350,400/225,0/525",
            call_waiting="400/100,0/4000",
            recall_dial="350+440",  # REFERENCE.md: "as dial"
            stutter_dial="350+440/750,440/750",
            sit=_SIT,
            howler=_ROH,
        ),
        _make_plan(
            "de", "Germany", (1000, 4000), "busy", "etsi",
            dial="425",
            busy="425/480,0/480",
            ringback="425/1000,0/4000",
            congestion="425/240,0/240",
            call_waiting="425/200,0/200,425/200,0/5000",
            recall_dial="!425/100,!0/100," * 3 + "425",
            stutter_dial="400+425",
            sit=_SIT,
            howler=_ROH,
        ),
        # REFERENCE.md gives FR dial, busy and ring only; the rest is Asterisk's [fr].
        _make_plan(
            "fr", "France", (1500, 3500), "busy", "etsi",
            dial="440",
            busy="440/500,0/500",
            ringback="440/1500,0/3500",
            congestion="440/250,0/250",
            call_waiting="440/300,0/10000",
            recall_dial=_BURSTS_3 + "350+440",
            stutter_dial="!440/100,!0/100," * 6 + "440",
            sit=_SIT,
            howler=_ROH,
        ),
    )
}


def plan(country: str) -> TonePlan:
    """The tone plan of `country` (ISO 3166 alpha-2, lower case, as in indications.conf)."""
    try:
        return PLANS[country.lower()]
    except KeyError:
        raise KeyError(f"no tone plan for country {country!r}; known: "
                       f"{', '.join(sorted(PLANS))}") from None


# ---------------------------------------------------------------------------------------
# Generation


def _period(freqs: tuple[float, ...]) -> int | None:
    """Samples after which sin(2*pi*f*n/fs) repeats for every f, or None if too long."""
    period = 1
    for f in freqs:
        fr = Fraction(f).limit_denominator(1000)
        if float(fr) != f:
            return None
        # f*n/fs is a whole number of cycles when n is a multiple of fs*q/gcd(p, fs*q).
        p, q = fr.numerator, fr.denominator
        cycle = SAMPLE_RATE * q // math.gcd(p, SAMPLE_RATE * q)
        period = period * cycle // math.gcd(period, cycle)
        if period > _MAX_TABLE_SAMPLES:
            return None
    return period


def _waveform(seg: ToneSegment, peak: float, n: npt.NDArray[np.float64]) -> npt.NDArray[np.int16]:
    """The segment's samples at absolute sample times `n`, rounded and clipped to int16."""

    def sine(f: float) -> npt.NDArray[np.float64]:
        # Reduce f*n modulo fs first: exact for integer f, so long clocks keep their phase.
        return np.sin(2.0 * np.pi * (np.mod(f * n, SAMPLE_RATE) / SAMPLE_RATE))

    if seg.modulated:
        carrier, mod = seg.freqs
        wave = peak * sine(carrier) * (1.0 + AM_DEPTH * sine(mod)) / (1.0 + AM_DEPTH)
    else:
        wave = peak * sum((sine(f) for f in seg.freqs), np.zeros_like(n))
    return np.clip(np.rint(wave), -32768, 32767).astype(np.int16)


_RAMP = np.arange(FRAME_SAMPLES, dtype=np.float64)


class _Source:
    """The waveform of one sound segment, addressed by the absolute sample clock."""

    __slots__ = ("_peak", "_period", "_seg", "_table")

    def __init__(self, seg: ToneSegment, level_dbm0: float) -> None:
        self._seg = seg
        self._peak = amplitude(level_dbm0)
        self._period = _period(seg.freqs)
        self._table = _table(seg, level_dbm0) if self._period is not None else None

    def view(self, n: int) -> Frame | None:
        """A read-only frame starting at clock `n`, if the segment has a table."""
        if self._table is None:
            return None
        start = n % self._period  # type: ignore[operator]
        return self._table[start : start + FRAME_SAMPLES]

    def fill(self, out: Frame, n: int) -> None:
        """Write the samples at clock n, n+1, ... into `out`."""
        if self._table is not None:
            start = n % self._period  # type: ignore[operator]
            out[:] = self._table[start : start + len(out)]
            return
        # Live: each component's phase at n from the clock (reduced in float64, good to
        # ~1e-4 cycle after days), then one vectorised sine per component.
        count = len(out)
        ramp = _RAMP[:count]

        def sine(f: float) -> npt.NDArray[np.float64]:
            step = 2.0 * math.pi * f / SAMPLE_RATE
            phase0 = 2.0 * math.pi * (math.fmod(f * n, SAMPLE_RATE) / SAMPLE_RATE)
            return np.sin(phase0 + step * ramp)

        seg = self._seg
        if seg.modulated:
            carrier, mod = seg.freqs
            wave = sine(carrier) * (1.0 + AM_DEPTH * sine(mod)) * (self._peak / (1 + AM_DEPTH))
        else:
            wave = sine(seg.freqs[0])
            for f in seg.freqs[1:]:
                wave += sine(f)
            wave *= self._peak
        np.clip(np.rint(wave), -32768, 32767, out=wave)
        out[:] = wave


@lru_cache(maxsize=128)
def _table(seg: ToneSegment, level_dbm0: float) -> npt.NDArray[np.int16]:
    """One period of the segment plus a frame's overlap, so any frame is one slice."""
    period = _period(seg.freqs)
    assert period is not None
    table = _waveform(seg, amplitude(level_dbm0), np.arange(period + FRAME_SAMPLES, dtype=float))
    table.setflags(write=False)
    return table


class ToneGenerator:
    """Plays a ToneSpec frame by frame: phase-continuous, sample-exact cadence.

    The returned frames are read-only and valid until the next call (see module docs).
    """

    __slots__ = (
        "_buf",
        "_finished",
        "_left",
        "_lengths",
        "_n",
        "_out",
        "_seg",
        "_sources",
        "_spec",
    )

    def __init__(self, spec: ToneSpec, level_dbm0: float = -13.0) -> None:
        self._spec = spec
        self._sources = tuple(None if s.silent else _Source(s, level_dbm0) for s in spec.segments)
        self._lengths = tuple(None if s.ms is None else s.ms * SAMPLES_PER_MS
                              for s in spec.segments)
        self._seg = 0
        self._left = self._lengths[0]  # samples left in the current segment; None = steady
        self._n = 0  # the sample clock every component's phase is a function of
        self._finished = False
        self._buf = np.zeros(FRAME_SAMPLES, dtype=np.int16)
        self._out = self._buf.view()
        self._out.setflags(write=False)

    @property
    def spec(self) -> ToneSpec:
        return self._spec

    @property
    def finished(self) -> bool:
        """True once a play-once spec has ended; every later frame is silence."""
        return self._finished

    def next_frame(self) -> Frame:
        if self._finished:
            return silence()
        left = self._left
        if left is None or left >= FRAME_SAMPLES:  # the common case: one segment, one slice
            src = self._sources[self._seg]
            n = self._n
            self._n = n + FRAME_SAMPLES
            if left is not None:
                self._left = left - FRAME_SAMPLES
                if self._left == 0:
                    self._advance()
            if src is None:
                return silence()
            frame = src.view(n)
            if frame is not None:
                return frame
            src.fill(self._buf, n)
            return self._out
        return self._assemble()

    def _assemble(self) -> Frame:
        """Build a frame that crosses one or more segment boundaries."""
        buf = self._buf
        pos = 0
        while pos < FRAME_SAMPLES:
            if self._finished:
                buf[pos:] = 0
                self._n += FRAME_SAMPLES - pos
                break
            left = self._left
            count = FRAME_SAMPLES - pos if left is None else min(left, FRAME_SAMPLES - pos)
            src = self._sources[self._seg]
            if src is None:
                buf[pos : pos + count] = 0
            else:
                src.fill(buf[pos : pos + count], self._n)
            self._n += count
            pos += count
            if left is not None:
                self._left = left - count
                if self._left == 0:
                    self._advance()
        return self._out

    def _advance(self) -> None:
        nxt = self._seg + 1
        if nxt == len(self._lengths):
            if self._spec.loop_from is None:
                self._finished = True
                return
            nxt = self._spec.loop_from
        self._seg = nxt
        self._left = self._lengths[nxt]


def render(spec: ToneSpec, ms: int, level_dbm0: float = -13.0) -> npt.NDArray[np.int16]:
    """The first `ms` milliseconds of `spec` as one new int16 array."""
    total = ms * SAMPLES_PER_MS
    frames = -(-total // FRAME_SAMPLES)
    gen = ToneGenerator(spec, level_dbm0)
    out = np.empty(frames * FRAME_SAMPLES, dtype=np.int16)
    for i in range(frames):
        out[i * FRAME_SAMPLES : (i + 1) * FRAME_SAMPLES] = gen.next_frame()
    return out[:total].copy()
