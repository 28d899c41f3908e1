"""Tone plans and the tone generator, measured back against REFERENCE.md.

The expected numbers below are typed in from REFERENCE.md ("Tones and ring cadences"), and
from Asterisk's indications.conf.sample where REFERENCE.md is silent, never read from the
plan objects: a typo in a plan fails here.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from firmware.media.frames import FRAME_SAMPLES, SAMPLE_RATE, amplitude, level_dbm0, silence
from firmware.media.tones import (
    PLANS,
    ToneGenerator,
    TonePlan,
    ToneSegment,
    ToneSpec,
    plan,
    render,
)

MS = SAMPLE_RATE // 1000

# (freqs, ms) steps; ms None = steady. `loop` = first repeating step, None = once then silence.
DIAL_US = ((350, 440), None)
BURST = [((350, 440), 100), ((), 100)]
SIT = [((950,), 330), ((1400,), 330), ((1800,), 330)]
ROH = [((1400, 2060, 2450, 2600), 100), ((), 100)]  # GR-506 s. 17.2.8 (REFERENCE.md silent)

REFERENCE = {
    "us": {
        "ring_cadence": (2000, 4000),
        "dial": ([DIAL_US], 0),
        "busy": ([((480, 620), 500), ((), 500)], 0),
        "ringback": ([((440, 480), 2000), ((), 4000)], 0),
        "congestion": ([((480, 620), 250), ((), 250)], 0),
        "call_waiting": ([((440,), 300), ((), 10000)], 0),
        "recall_dial": (BURST * 3 + [DIAL_US], 6),
        "stutter_dial": (BURST * 6 + [DIAL_US], 12),
        "sit": (SIT, None),
        "howler": (ROH, 0),
    },
    "uk": {
        "ring_cadence": (400, 200, 400, 2000),
        "dial": ([DIAL_US], 0),
        "busy": ([((400,), 375), ((), 375)], 0),
        "ringback": ([((400, 450), 400), ((), 200), ((400, 450), 400), ((), 2000)], 0),
        "congestion": ([((400,), 400), ((), 350), ((400,), 225), ((), 525)], 0),
        "call_waiting": ([((400,), 100), ((), 4000)], 0),
        "recall_dial": ([DIAL_US], 0),  # "as dial"
        "stutter_dial": ([((350, 440), 750), ((440,), 750)], 0),
        "sit": (SIT, None),
        "howler": (ROH, 0),
    },
    "de": {
        "ring_cadence": (1000, 4000),
        "dial": ([((425,), None)], 0),
        "busy": ([((425,), 480), ((), 480)], 0),
        "ringback": ([((425,), 1000), ((), 4000)], 0),
        "congestion": ([((425,), 240), ((), 240)], 0),
        "call_waiting": ([((425,), 200), ((), 200), ((425,), 200), ((), 5000)], 0),
        "recall_dial": ([((425,), 100), ((), 100)] * 3 + [((425,), None)], 6),
        "stutter_dial": ([((400, 425), None)], 0),
        "sit": (SIT, None),
        "howler": (ROH, 0),
    },
    "fr": {  # REFERENCE.md: dial, busy, ring; the rest from Asterisk's [fr]
        "ring_cadence": (1500, 3500),
        "dial": ([((440,), None)], 0),
        "busy": ([((440,), 500), ((), 500)], 0),
        "ringback": ([((440,), 1500), ((), 3500)], 0),
        "congestion": ([((440,), 250), ((), 250)], 0),
        "call_waiting": ([((440,), 300), ((), 10000)], 0),
        "recall_dial": (BURST * 3 + [DIAL_US], 6),
        "stutter_dial": ([((440,), 100), ((), 100)] * 6 + [((440,), None)], 12),
        "sit": (SIT, None),
        "howler": (ROH, 0),
    },
}
CONVENTIONS = {  # (cleared tone, caller ID): from the brief / REFERENCE.md "Caller ID"
    "us": ("congestion", "bell202"),
    "uk": ("busy", "bt"),
    "de": ("busy", "etsi"),
    "fr": ("busy", "etsi"),
}
TONES = [(c, t) for c in REFERENCE for t in TonePlan.tone_names]


# ---------------------------------------------------------------------------------------
# Measuring helpers (independent of firmware.media.progress)


def timeline(steps, loop, total_ms):
    """Expected (start_ms, stop_ms, freqs) pieces of the first total_ms."""
    out, t, i = [], 0, 0
    while t < total_ms:
        if i == len(steps):
            if loop is None:
                out.append((t, total_ms, ()))
                break
            i = loop
        freqs, ms = steps[i]
        stop = total_ms if ms is None else min(t + ms, total_ms)
        out.append((t, stop, tuple(freqs)))
        t, i = stop, i + 1
    return out


def envelope(x):
    """(sound?, ms) runs: a 1 ms block is sound unless all its samples are exactly 0."""
    sound = np.any(x.reshape(-1, MS) != 0, axis=1)
    edges = np.flatnonzero(sound[1:] != sound[:-1]) + 1
    bounds = [0, *edges.tolist(), len(sound)]
    return [(bool(sound[a]), b - a) for a, b in itertools.pairwise(bounds)]


def expected_envelope(pieces):
    runs = []
    for a, b, freqs in pieces:
        if runs and runs[-1][0] == bool(freqs):
            runs[-1] = (bool(freqs), runs[-1][1] + b - a)
        else:
            runs.append((bool(freqs), b - a))
    return runs


def peaks(x, floor_db=20.0):
    """Frequencies (Hz) of the spectral peaks of x within floor_db of the strongest."""
    nfft = 1 << 17
    spec = np.abs(np.fft.rfft(x * np.hanning(len(x)), n=nfft))
    db = 20 * np.log10(np.maximum(spec, 1e-12))
    inner = db[1:-1]
    is_peak = (inner > db[:-2]) & (inner >= db[2:]) & (inner > db.max() - floor_db)
    out = []
    for k in np.flatnonzero(is_peak) + 1:
        y0, y1, y2 = db[k - 1 : k + 2]
        out.append((k + 0.5 * (y0 - y2) / (y0 - 2 * y1 + y2)) * SAMPLE_RATE / nfft)
    return out


def fit(x, freqs, n0=0):
    """Least-squares amplitude of each sinusoid in x (sample clock n0, n0+1, ...) and the
    RMS of what they leave unexplained."""
    n = np.arange(n0, n0 + len(x))
    cols = []
    for f in freqs:
        w = 2 * np.pi * f * n / SAMPLE_RATE
        cols += [np.sin(w), np.cos(w)]
    a = np.array(cols).T
    coef, *_ = np.linalg.lstsq(a, x.astype(float), rcond=None)
    residual = x - a @ coef
    return np.hypot(coef[0::2], coef[1::2]), float(np.sqrt(np.mean(residual**2)))


def amplitudes(x, freqs, n0=0):
    return fit(x, freqs, n0)[0]


def render_ms(steps, loop):
    period = sum(ms for _, ms in steps if ms is not None)
    if steps[-1][1] is None:
        return period + 1000
    if loop is None:
        return period + 500
    return period + sum(ms for _, ms in steps[loop:])  # twice round the loop


# ---------------------------------------------------------------------------------------
# Plans


@pytest.mark.parametrize("country", sorted(REFERENCE))
def test_plan_conventions(country):
    p = plan(country)
    assert p.country == country
    assert p.ring_cadence == REFERENCE[country]["ring_cadence"]
    assert (p.cleared, p.callerid) == CONVENTIONS[country]


@pytest.mark.parametrize(("country", "name"), TONES)
def test_tone_envelope_is_sample_exact(country, name):
    steps, loop = REFERENCE[country][name]
    total = render_ms(steps, loop)
    x = render(plan(country).tone(name), total)
    assert len(x) == total * MS
    assert envelope(x) == expected_envelope(timeline(steps, loop, total))


@pytest.mark.parametrize(("country", "name"), TONES)
def test_tone_frequencies(country, name):
    steps, loop = REFERENCE[country][name]
    total = render_ms(steps, loop)
    x = render(plan(country).tone(name), total)
    for a, b, freqs in timeline(steps, loop, total):
        if not freqs:
            assert not np.any(x[a * MS : b * MS])
            continue
        a, b = a + 5, min(b - 5, a + 1000)  # keep off the edges; 1 s is plenty
        found = peaks(x[a * MS : b * MS])
        assert len(found) == len(freqs), (a, found)
        assert np.allclose(found, freqs, atol=0.5), (a, found)


@pytest.mark.parametrize(("country", "name"), TONES)
def test_segment_boundaries_are_exact(country, name):
    """Each component sounds at full level right up to each boundary and not after it."""
    steps, loop = REFERENCE[country][name]
    total = render_ms(steps, loop)
    x = render(plan(country).tone(name), total)
    peak = amplitude(-13.0)
    for a, b, freqs in timeline(steps, loop, total):
        for edge in (a, b - 5):  # the first and the last 5 ms of the piece
            chunk = x[edge * MS : (edge + 5) * MS]
            if not freqs:
                assert not np.any(chunk)
                continue
            amps, residual = fit(chunk, freqs, edge * MS)
            assert np.allclose(amps, peak, rtol=0.002), (edge, amps)
            assert residual < 1.0, (edge, residual)  # rounding only: nothing else in there


def test_specs_read_back_from_reference():
    for country, table in REFERENCE.items():
        for name in TonePlan.tone_names:
            steps, loop = table[name]
            spec = plan(country).tone(name)
            got = [(tuple(round(f) for f in s.freqs), s.ms) for s in spec.segments]
            assert got == [(tuple(f), ms) for f, ms in steps], (country, name)
            assert spec.loop_from == loop, (country, name)
            assert spec.name == name


def test_plan_lookup_errors_name_the_choices():
    assert plan("US") is PLANS["us"]
    with pytest.raises(KeyError, match="de, fr, uk, us"):
        plan("xx")
    with pytest.raises(KeyError, match="busy"):
        plan("us").tone("engaged")


def test_plan_validation():
    us = plan("us")
    tones = {name: us.tone(name) for name in TonePlan.tone_names}
    with pytest.raises(ValueError, match="cleared"):
        TonePlan("zz", "test", (1000, 4000), cleared="hangup", callerid="etsi", **tones)
    with pytest.raises(ValueError, match="caller ID"):
        TonePlan("zz", "test", (1000, 4000), cleared="busy", callerid="dtmf", **tones)
    with pytest.raises(ValueError, match="ring cadence"):
        TonePlan("zz", "test", (1000,), cleared="busy", callerid="etsi", **tones)
    swapped = {**tones, "busy": tones["congestion"]}
    with pytest.raises(ValueError, match="holds 'congestion'"):
        TonePlan("zz", "test", (1000, 4000), cleared="busy", callerid="etsi", **swapped)


def test_frequencies_property():
    assert plan("us").dial.frequencies == frozenset({350.0, 440.0})
    assert plan("uk").stutter_dial.frequencies == frozenset({350.0, 440.0})
    assert plan("us").sit.frequencies == frozenset({950.0, 1400.0, 1800.0})
    assert ToneSpec.parse("x", "425*25/400,0/200").frequencies == frozenset({425.0})


# ---------------------------------------------------------------------------------------
# Generator


def test_phase_continuous_across_frames():
    gen = ToneGenerator(plan("us").dial, -13.0)
    x = np.concatenate([gen.next_frame().copy() for _ in range(100)]).astype(float)
    n = np.arange(len(x))
    w = 2 * np.pi * n / SAMPLE_RATE
    ideal = amplitude(-13.0) * (np.sin(350 * w) + np.sin(440 * w))
    assert np.max(np.abs(x - np.rint(ideal))) == 0
    steps = np.abs(np.diff(x))
    at_frame_edges = steps[FRAME_SAMPLES - 1 :: FRAME_SAMPLES]
    assert at_frame_edges.max() <= steps.max()


def test_components_keep_phase_across_segments():
    """UK stutter dial: the 440 Hz runs on smoothly when the 350 Hz stops."""
    x = render(plan("uk").stutter_dial, 3000).astype(float)
    n = np.arange(len(x))
    a = amplitude(-13.0)
    on350 = (n // MS) % 1500 < 750
    ideal = a * (np.sin(2 * np.pi * 350 * n / 8000) * on350 + np.sin(2 * np.pi * 440 * n / 8000))
    assert np.max(np.abs(x - np.rint(ideal))) == 0


def test_frames_not_on_a_table_period_are_continuous_too():
    """Frequencies with no short period are computed live, still from the sample clock."""
    spec = ToneSpec.parse("odd", "413.337+440.71/333,0/77")
    x = render(spec, 3000).astype(float)
    n = np.arange(len(x))
    on = (n // MS) % 410 < 333
    ideal = amplitude(-13.0) * (np.sin(2 * np.pi * 413.337 * n / 8000)
                                + np.sin(2 * np.pi * 440.71 * n / 8000)) * on
    assert np.max(np.abs(x - np.rint(ideal))) <= 1


@pytest.mark.parametrize("level", [-13.0, -20.0, -30.0])
def test_level_is_per_component(level):
    x = render(plan("us").dial, 1000, level)
    assert np.allclose(amplitudes(x, (350, 440)), amplitude(level), rtol=0.002)
    single = render(plan("fr").dial, 1000, level)
    assert level_dbm0(single) == pytest.approx(level, abs=0.02)
    # Two equal components carry twice the power: 3 dB more than either.
    assert level_dbm0(x) == pytest.approx(level + 10 * np.log10(2), abs=0.05)


def test_loud_sums_clip_instead_of_wrapping():
    x = render(plan("us").howler, 200, level_dbm0=0.0)
    assert x.max() == 32767 and x.min() == -32768


def test_play_once_finishes_then_silence():
    gen = ToneGenerator(plan("us").sit)
    frames = [gen.next_frame().copy() for _ in range(49)]  # 980 ms of the 990 ms
    assert not gen.finished
    last = gen.next_frame()  # 980-1000 ms: the end of 1800 Hz, then silence
    assert gen.finished
    assert np.any(last[: 10 * MS]) and not np.any(last[10 * MS :])
    assert all(gen.next_frame() is silence() for _ in range(10))
    assert all(np.any(f) for f in frames)


def test_looping_tone_never_finishes():
    gen = ToneGenerator(plan("us").busy)
    for _ in range(500):
        gen.next_frame()
    assert not gen.finished


def test_frames_are_read_only_views():
    gen = ToneGenerator(plan("uk").congestion)
    for _ in range(200):
        frame = gen.next_frame()
        assert frame.dtype == np.int16 and frame.shape == (FRAME_SAMPLES,)
        assert not frame.flags.writeable


def test_modulated_tone_has_sidebands():
    x = render(ToneSpec.parse("am", "425*25"), 1000)
    found = peaks(x[800:], floor_db=12)
    assert np.allclose(found, (400, 425, 450), atol=0.5)
    amps = amplitudes(x, (400, 425, 450))
    assert amps[0] / amps[1] == pytest.approx(0.45, rel=0.01)  # depth 0.9 -> 0.45 each side


def test_render_length_and_start():
    x = render(plan("de").busy, 1234)
    assert len(x) == 1234 * MS
    assert np.array_equal(x, render(plan("de").busy, 2000)[: 1234 * MS])


# ---------------------------------------------------------------------------------------
# Parsing


def test_parse_cadence():
    spec = ToneSpec.parse("busy", "480+620/500,0/500")
    assert spec.segments == (ToneSegment((480.0, 620.0), 500), ToneSegment((), 500))
    assert spec.loop_from == 0 and not spec.play_once


def test_parse_bang_elements_are_not_repeated():
    spec = ToneSpec.parse(
        "recall", "!350+440/100,!0/100,!350+440/100,!0/100,!350+440/100,!0/100,350+440"
    )
    assert spec.loop_from == 6
    assert spec.segments[-1] == ToneSegment((350.0, 440.0), None)
    assert len(spec.segments) == 7


def test_parse_all_bang_plays_once():
    spec = ToneSpec.parse("info", "!950/330,!1400/330,!1800/330")
    assert spec.loop_from is None and spec.play_once


def test_parse_modulated_and_spaces():
    spec = ToneSpec.parse("ring", " 425*25/400 , 0/200 ")
    assert spec.segments[0] == ToneSegment((425.0, 25.0), 400, modulated=True)
    assert str(spec) == "425*25/400,0/200"


@pytest.mark.parametrize(
    "text",
    [
        "",
        " ",
        ",",
        "350/100,,0/100",
        "abc",
        "350+/100",
        "+350",
        "350/",
        "350/0",
        "350/-5",
        "350/1.5",
        "5000",
        "4000/100",
        "350,0/100",  # a steady element that is not last
        "350/100,!0/100",  # '!' after a repeating element
        "425*25*3",
        "350+350",
        "350+440*3",
        "0*25",
        "25*425",  # modulation above the carrier
        "!!350",
        "350 440",
    ],
)
def test_parse_rejects_bad_strings(text):
    with pytest.raises(ValueError):
        ToneSpec.parse("bad", text)


def test_every_plan_tone_round_trips_through_text():
    for p in PLANS.values():
        for spec in p.tones():
            assert ToneSpec.parse(spec.name, str(spec)) == spec


freq = st.integers(min_value=1, max_value=3999).map(float)
segment = st.builds(
    ToneSegment,
    st.lists(freq, max_size=4, unique=True).map(lambda fs: tuple(sorted(fs))),
    st.integers(min_value=1, max_value=30000),
)


@st.composite
def specs(draw):
    segs = draw(st.lists(segment, min_size=1, max_size=8))
    if draw(st.booleans()):
        last = draw(st.lists(freq, max_size=3, unique=True).map(lambda fs: tuple(sorted(fs))))
        segs.append(ToneSegment(last, None))
    loop = draw(st.none() | st.integers(min_value=0, max_value=len(segs) - 1))
    return ToneSpec("t", tuple(segs), loop)


@given(specs())
def test_text_round_trip(spec):
    assert ToneSpec.parse("t", str(spec)) == spec


@given(st.text(alphabet="0123456789+*/!,. x", max_size=40))
def test_parse_raises_only_value_error(text):
    try:
        spec = ToneSpec.parse("fuzz", text)
    except ValueError:
        return
    assert ToneSpec.parse("fuzz", str(spec)) == spec
