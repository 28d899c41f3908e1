"""The call-progress classifier: what a listener hears, from the audio alone."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from firmware.media.frames import SAMPLE_RATE, amplitude
from firmware.media.progress import Heard, classify
from firmware.media.tones import PLANS, TonePlan, plan, render

MS = SAMPLE_RATE // 1000
SPEECH = Path(__file__).parents[1] / "data" / "speech-8k.wav"
TONES = [(c, t) for c in sorted(PLANS) for t in TonePlan.tone_names]
# Long enough to have heard every part of the cadence at least once, complete.
LISTEN_MS = {"call_waiting": 12000, "sit": 2000, "dial": 3000, "stutter_dial": 4000}


def listen_ms(name: str) -> int:
    return LISTEN_MS.get(name, 8000)


def expected(country: str, name: str) -> str:
    # The UK's recall dial tone is its dial tone ("as dial"): it can only be heard as dial.
    return "dial" if (country, name) == ("uk", "recall_dial") else name


def with_noise(x: np.ndarray, snr_db: float, seed: int) -> np.ndarray:
    """White noise `snr_db` under the tone's power (while it sounds), on the whole window."""
    rng = np.random.default_rng(seed)
    sounding = x[x != 0].astype(float)
    sigma = np.sqrt(np.mean(sounding**2) / 10 ** (snr_db / 10))
    return np.clip(np.rint(x + rng.normal(0.0, sigma, len(x))), -32768, 32767).astype(np.int16)


def sine(freq: float, ms: int, level: float = -13.0) -> np.ndarray:
    n = np.arange(ms * MS)
    return np.rint(amplitude(level) * np.sin(2 * np.pi * freq * n / SAMPLE_RATE)).astype(np.int16)


def cat(*parts: np.ndarray) -> np.ndarray:
    return np.concatenate(parts)


# ---------------------------------------------------------------------------------------
# Every tone of every plan


@pytest.mark.parametrize(("country", "name"), TONES)
def test_every_tone_is_recognised(country, name):
    p = plan(country)
    heard = classify(render(p.tone(name), listen_ms(name)), p)
    assert heard.tone == expected(country, name), heard
    assert name in heard.candidates


@pytest.mark.parametrize(("country", "name"), TONES)
@pytest.mark.parametrize("level", [-30.0, -5.0])
def test_every_tone_in_noise_at_20db_snr(country, name, level):
    p = plan(country)
    seed = TONES.index((country, name))
    x = with_noise(render(p.tone(name), listen_ms(name), level), 20.0, seed)
    heard = classify(x, p)
    assert heard.tone == expected(country, name), heard


@pytest.mark.parametrize("level", [-30.0, -20.0, -13.0, -5.0])
@pytest.mark.parametrize("name", ["dial", "busy", "ringback", "congestion"])
def test_levels(name, level):
    for country in ("us", "de"):
        p = plan(country)
        heard = classify(render(p.tone(name), listen_ms(name), level), p)
        assert heard.tone == name
        components = len(p.tone(name).segments[0].freqs)
        assert heard.level_dbm0 == pytest.approx(level + 10 * np.log10(components), abs=0.2)


def test_measures_frequencies_and_cadence():
    us, uk = plan("us"), plan("uk")
    busy = classify(render(us.busy, 8000), us)
    assert busy.freqs == (480.0, 620.0)
    assert len(busy.cadence_ms) >= 10 and all(abs(ms - 500) <= 5 for ms in busy.cadence_ms)
    ring = classify(render(uk.ringback, 8000), uk)
    assert ring.freqs == (400.0, 450.0)
    assert ring.cadence_ms[:4] == (200, 400, 2000, 400)
    de = classify(render(plan("de").stutter_dial, 3000), plan("de"))
    assert de.freqs == (400.0, 425.0)
    sit = classify(render(us.sit, 2000), us)
    assert sit.freqs == (1800.0,) and sit.cadence_ms == (330, 330)


# ---------------------------------------------------------------------------------------
# What came before is ignored


@pytest.mark.parametrize(
    ("country", "before", "after", "after_ms", "want"),
    [
        ("us", "dial", "busy", 6000, "busy"),
        ("us", "busy", "dial", 3000, "dial"),
        ("us", "dial", "stutter_dial", 4000, "stutter_dial"),
        ("us", "ringback", "sit", 2000, "sit"),
        ("us", "congestion", "howler", 3000, "howler"),
        ("uk", "busy", "ringback", 6000, "ringback"),
        ("uk", "dial", "congestion", 5000, "congestion"),
        # Same frequency throughout: the dial tone runs straight into the next tone.
        ("de", "dial", "busy", 6000, "busy"),
        ("de", "dial", "recall_dial", 3000, "recall_dial"),
        ("de", "busy", "congestion", 4000, "congestion"),
        ("fr", "ringback", "busy", 4000, "busy"),
    ],
)
def test_after_a_different_tone(country, before, after, after_ms, want):
    p = plan(country)
    x = cat(render(p.tone(before), 2000), render(p.tone(after), after_ms))
    assert classify(x, p).tone == want


def test_window_starting_mid_cadence():
    us = plan("us")
    x = render(us.ringback, 30000)
    heard = classify(x[3000 * MS : 13000 * MS], us)  # begins 1 s into the silence
    assert heard.tone == "ringback"
    uk = plan("uk")
    congestion = render(uk.congestion, 20000)[1234 * MS : 9234 * MS]
    assert classify(congestion, uk).tone == "congestion"


def test_sliding_windows_never_name_a_wrong_tone():
    """Random windows of every tone: the right tone, or not yet (with it a candidate)."""
    rng = np.random.default_rng(7)
    for country, name in TONES:
        if name == "sit":
            continue
        p = plan(country)
        x = render(p.tone(name), 30000)
        for _ in range(4):
            ms = int(rng.integers(300, 10000))
            start = int(rng.integers(0, 30000 - ms))
            window = x[start * MS : (start + ms) * MS]
            if np.count_nonzero(window) < 100 * MS:
                continue  # (almost) only the silence of a cadence
            heard = classify(window, p)
            ok = {expected(country, name)}
            if name in ("recall_dial", "stutter_dial"):
                ok.add("dial")  # a window of the steady part only
            if name == "stutter_dial":
                ok.add("recall_dial")  # a window holding its last three bursts only
            assert heard.tone in ok or (heard.tone is None and name in heard.candidates), (
                country, name, start, ms, heard)


# ---------------------------------------------------------------------------------------
# Silence, other sounds, too little audio


def test_silence():
    us = plan("us")
    assert classify(np.zeros(4000 * MS, np.int16), us).tone == "silence"
    quiet = np.random.default_rng(1).normal(0, 8, 4000 * MS).astype(np.int16)  # ~-66 dBm0
    assert classify(quiet, us).tone == "silence"


def test_a_long_silence_after_a_tone_is_silence():
    us, de = plan("us"), plan("de")
    x = cat(render(us.call_waiting, 300), np.zeros(12000 * MS, np.int16))
    heard = classify(x, us)
    assert heard.tone == "silence" and heard.freqs == (440.0,)
    assert classify(cat(render(de.sit, 1000), np.zeros(7000 * MS, np.int16)), de).tone == "silence"


@pytest.mark.parametrize("country", sorted(PLANS))
def test_test_tone_is_other(country):
    heard = classify(sine(1000, 3000), plan(country))
    assert heard.tone == "other" and heard.freqs == (1000.0,) and heard.candidates == ()


@pytest.mark.parametrize("country", sorted(PLANS))
def test_speech_is_other(country):
    with wave.open(str(SPEECH)) as w:
        assert w.getframerate() == SAMPLE_RATE and w.getsampwidth() == 2
        speech = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
    p = plan(country)
    assert classify(speech, p).tone == "other"
    for start in range(0, len(speech) - 2 * SAMPLE_RATE, SAMPLE_RATE):
        assert classify(speech[start : start + 2 * SAMPLE_RATE], p).tone == "other"


def test_speech_like_noise_is_other():
    """Noise through two formant-like resonances, syllable-modulated at 4 Hz."""
    rng = np.random.default_rng(3)
    n = 6000 * MS
    noise = rng.normal(0, 1, n)
    t = np.arange(256) / SAMPLE_RATE
    kernel = sum(np.exp(-t * 300) * np.sin(2 * np.pi * f * t) for f in (700, 1200))
    voiced = np.convolve(noise, kernel, mode="same")
    envelope = 0.55 + 0.45 * np.sin(2 * np.pi * 4 * np.arange(n) / SAMPLE_RATE)
    x = voiced * envelope
    x = (x / np.sqrt(np.mean(x**2)) * amplitude(-16) / np.sqrt(2)).astype(np.int16)
    assert classify(x, plan("us")).tone == "other"
    white = rng.normal(0, amplitude(-20) / np.sqrt(2), n).astype(np.int16)
    assert classify(white, plan("de")).tone == "other"


def test_too_short_to_tell():
    us = plan("us")
    heard = classify(render(us.busy, 300), us)
    assert heard.tone is None
    assert heard.candidates == ("busy", "congestion")
    assert heard.freqs == (480.0, 620.0)
    blip = classify(render(us.busy, 30), us)
    assert blip == Heard(None, (), (), pytest.approx(-10.0, abs=0.3), ())
    dial = classify(render(us.dial, 300), us)  # a burst of stutter dial tone is 100 ms
    assert dial.tone is None and dial.candidates == ("dial", "recall_dial", "stutter_dial")
    assert classify(render(us.dial, 600), us).tone == "dial"
    de = plan("de")  # ringback is on for 1 s: 425 Hz must outlast that to be dial tone
    assert classify(render(de.dial, 900), de).tone is None
    assert classify(render(de.dial, 1500), de).tone == "dial"


def test_cadence_needs_one_whole_cycle():
    us = plan("us")
    assert classify(render(us.busy, 900), us).tone is None  # the first off is still going
    assert classify(render(us.busy, 1100), us).tone == "busy"
    waiting = classify(render(us.call_waiting, 8000), us)  # 10 s of silence not yet over
    assert waiting.tone is None and waiting.candidates == ("call_waiting",)


def test_accepts_frames_and_lists():
    us = plan("us")
    x = render(us.busy, 2000)
    assert classify(list(x), us).tone == "busy"
    assert classify(x.reshape(-1, 160), us).tone == "busy"


@settings(max_examples=60, deadline=None)
@given(
    st.integers(min_value=0, max_value=3 * SAMPLE_RATE).flatmap(
        lambda n: st.sampled_from(["zeros", "dc", "square", "clicks", "noise"]).map(
            lambda kind: (kind, n)
        )
    ),
    st.integers(min_value=0, max_value=2**32 - 1),
)
def test_any_audio_gives_an_answer(shape, seed):
    """Whatever arrives (DC, clipped square waves, clicks, noise, any length): an answer."""
    kind, n = shape
    rng = np.random.default_rng(seed)
    x = {
        "zeros": lambda: np.zeros(n),
        "dc": lambda: np.full(n, 32767.0),
        "square": lambda: 32767.0 * np.sign(np.sin(2 * np.pi * 440 * np.arange(n) / 8000)),
        "clicks": lambda: 20000.0 * (rng.random(n) < 0.002),
        "noise": lambda: rng.normal(0, 10 ** rng.uniform(0, 4), n),
    }[kind]()
    heard = classify(np.clip(x, -32768, 32767).astype(np.int16), plan("us"))
    assert heard.tone in (None, "silence", "other", *TonePlan.tone_names)
    assert set(heard.candidates) <= set(TonePlan.tone_names)
