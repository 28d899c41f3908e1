"""DTMF generator and detector against the Q.23 / Q.24 figures in REFERENCE.md ("DTMF")."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from firmware.media.dtmf import DIGITS, DtmfDetector, DtmfGenerator, dtmf_frequencies
from firmware.media.frames import FRAME_SAMPLES, SAMPLE_RATE, amplitude, level_dbm0

SPEECH = Path(__file__).parent.parent / "data" / "speech-8k.wav"
MS = SAMPLE_RATE // 1000  # samples per millisecond


def two_tone(
    row_hz: float,
    column_hz: float,
    ms: float,
    row_dbm0: float = -7.0,
    column_dbm0: float = -5.0,
    rate: int = SAMPLE_RATE,
) -> npt.NDArray[np.float64]:
    t = np.arange(round(ms * rate / 1000)) / rate
    return amplitude(row_dbm0) * np.sin(2 * np.pi * row_hz * t) + amplitude(
        column_dbm0
    ) * np.sin(2 * np.pi * column_hz * t + 1.0)


def pcm(x: npt.NDArray[np.float64]) -> npt.NDArray[np.int16]:
    return np.clip(np.rint(x), -32768, 32767).astype(np.int16)


def silence(ms: float) -> npt.NDArray[np.float64]:
    return np.zeros(round(ms * MS))


def detect(audio: npt.NDArray[np.generic], chunk: int | list[int] = FRAME_SAMPLES) -> str:
    """Everything one detector reports for `audio`, fed in chunks (sizes cycled)."""
    samples = pcm(np.asarray(audio, dtype=np.float64))
    sizes = [chunk] if isinstance(chunk, int) else chunk
    detector, found, start, i = DtmfDetector(), [], 0, 0
    while start < len(samples):
        found += detector.feed(samples[start : start + sizes[i % len(sizes)]])
        start += sizes[i % len(sizes)]
        i += 1
    return "".join(found)


def keyed(digit: str, ms: float, lead_ms: float = 30.0, **levels: float) -> npt.NDArray:
    """One key press of `digit` lasting `ms`, with silence either side."""
    tone = two_tone(*dtmf_frequencies(digit), ms, **levels)
    return np.concatenate([silence(lead_ms), tone, silence(60)])


def tone_level_dbm0(x: npt.NDArray[np.generic], hz: float) -> float:
    """Level of the sine at `hz` in `x`, by a least-squares fit of cos and sin."""
    t = np.arange(len(x)) / SAMPLE_RATE
    basis = np.stack([np.cos(2 * np.pi * hz * t), np.sin(2 * np.pi * hz * t)], axis=1)
    (a, b), *_ = np.linalg.lstsq(basis, x.astype(np.float64), rcond=None)
    return 20 * np.log10(np.hypot(a, b) / amplitude(0.0))


def read_speech() -> npt.NDArray[np.float64]:
    with wave.open(str(SPEECH)) as wav:
        assert (wav.getframerate(), wav.getnchannels(), wav.getsampwidth()) == (8000, 1, 2)
        return np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2").astype(float)


# --- the keypad -------------------------------------------------------------------------


def test_keypad_frequencies() -> None:
    assert dtmf_frequencies("1") == (697.0, 1209.0)
    assert dtmf_frequencies("5") == (770.0, 1336.0)
    assert dtmf_frequencies("9") == (852.0, 1477.0)
    assert dtmf_frequencies("0") == (941.0, 1336.0)
    assert dtmf_frequencies("*") == (941.0, 1209.0)
    assert dtmf_frequencies("#") == (941.0, 1477.0)
    assert dtmf_frequencies("A") == (697.0, 1633.0)
    assert dtmf_frequencies("D") == (941.0, 1633.0)
    assert len({dtmf_frequencies(d) for d in DIGITS}) == 16


@pytest.mark.parametrize("bad", ["E", "a", "", "12", " ", "x"])
def test_unknown_digit_is_refused(bad: str) -> None:
    with pytest.raises(ValueError):
        dtmf_frequencies(bad)


# --- generator --------------------------------------------------------------------------


@pytest.mark.parametrize("digit", DIGITS)
def test_generated_frequencies_measure_back(digit: str) -> None:
    tone = DtmfGenerator().samples(digit)[: 100 * MS].astype(float)
    # Hann window against leakage, zero-padded FFT for a 0.06 Hz grid.
    spectrum = np.abs(np.fft.rfft(tone * np.hanning(len(tone)), 1 << 17))
    hz = np.fft.rfftfreq(1 << 17, 1 / SAMPLE_RATE)
    low, high = hz < 1100, hz >= 1100
    row, column = dtmf_frequencies(digit)
    assert hz[low][spectrum[low].argmax()] == pytest.approx(row, abs=0.5)
    assert hz[high][spectrum[high].argmax()] == pytest.approx(column, abs=0.5)


def test_generated_levels_and_twist() -> None:
    for level, twist in ((-7.0, 2.0), (-20.0, 0.0), (-10.0, 4.0)):
        tone = DtmfGenerator(level, twist).samples("8")[: 100 * MS]
        row, column = dtmf_frequencies("8")
        assert tone_level_dbm0(tone, row) == pytest.approx(level, abs=0.05)
        assert tone_level_dbm0(tone, column) == pytest.approx(level + twist, abs=0.05)
        total = 10 * np.log10(10 ** (level / 10) + 10 ** ((level + twist) / 10))
        assert level_dbm0(tone) == pytest.approx(total, abs=0.05)


def test_generated_tone_and_gap_durations() -> None:
    for tone_ms, gap_ms in ((100, 100), (50, 50), (40, 60)):
        audio = DtmfGenerator(tone_ms=tone_ms, gap_ms=gap_ms).samples("1#9")
        assert audio.dtype == np.int16
        per_digit = (tone_ms + gap_ms) * MS
        assert len(audio) == 3 * per_digit
        for start in range(0, len(audio), per_digit):
            tone = audio[start : start + tone_ms * MS]
            gap = audio[start + tone_ms * MS : start + per_digit]
            assert not gap.any()
            # Sound right up to both ends: every millisecond of the tone carries it.
            assert np.all(np.abs(tone.reshape(-1, MS)).max(axis=1) > 1000)


def test_generator_refuses_bad_input() -> None:
    with pytest.raises(ValueError):
        DtmfGenerator().samples("12E")
    with pytest.raises(ValueError):
        DtmfGenerator(level_dbm0=0.0, twist_db=2.0)  # the two peaks would clip
    with pytest.raises(ValueError):
        DtmfGenerator(tone_ms=0)
    assert len(DtmfGenerator().samples("")) == 0


# --- detector: round trips --------------------------------------------------------------


def test_all_digits_round_trip_in_frames() -> None:
    assert detect(DtmfGenerator().samples(DIGITS)) == DIGITS


@pytest.mark.parametrize("chunk", [1, 7, 50, 51, 101, 159, 161, 333, 4000, [3, 250, 17, 160, 1]])
def test_all_digits_round_trip_in_odd_chunks(chunk: int | list[int]) -> None:
    assert detect(DtmfGenerator().samples(DIGITS), chunk) == DIGITS


def test_a_long_press_is_reported_once_near_its_start() -> None:
    audio = pcm(np.concatenate([silence(100), two_tone(770, 1336, 1000), silence(100)]))
    detector = DtmfDetector()
    reports = [
        (i, digit)
        for i, frame in enumerate(audio.reshape(-1, FRAME_SAMPLES))
        for digit in detector.feed(frame)
    ]
    assert [digit for _, digit in reports] == ["5"]
    # The tone starts with frame 5; 40 ms of tone ends with frame 6.
    assert reports[0][0] in (6, 7)


def test_reset_forgets_a_tone_in_progress() -> None:
    tone = pcm(two_tone(852, 1477, 40))
    first, second, after = tone[: 20 * MS], tone[20 * MS :], pcm(silence(100))
    detector = DtmfDetector()
    assert detector.feed(first) + detector.feed(second) + detector.feed(after) == ["9"]
    detector.reset()
    assert detector.feed(first) == []
    detector.reset()  # e.g. the channel was re-bridged mid-tone: two 20 ms halves remain
    assert detector.feed(second) + detector.feed(after) == []


def test_feed_refuses_a_two_dimensional_array() -> None:
    with pytest.raises(ValueError):
        DtmfDetector().feed(np.zeros((2, 160), dtype=np.int16))


def test_other_sample_rate() -> None:
    rate = 16000
    gap = np.zeros(rate // 20)
    audio = np.concatenate(
        [gap, two_tone(941, 1336, 60, rate=rate), gap, two_tone(697, 1633, 60, rate=rate), gap]
    )
    assert DtmfDetector(sample_rate=rate).feed(pcm(audio)) == ["0", "A"]
    with pytest.raises(ValueError):
        DtmfDetector(sample_rate=4000)


# --- detector: Q.24 limits --------------------------------------------------------------


@pytest.mark.parametrize("tone", ["row", "column"])
@pytest.mark.parametrize("sign", [-1, +1])
def test_frequency_tolerance(tone: str, sign: int) -> None:
    for digit in DIGITS:
        row, column = dtmf_frequencies(digit)

        def shifted(error: float, row: float = row, column: float = column) -> npt.NDArray:
            factor = 1 + sign * error
            pair = (row * factor, column) if tone == "row" else (row, column * factor)
            return np.concatenate([silence(30), two_tone(*pair, 80), silence(60)])

        assert detect(shifted(0.015)) == digit, f"{digit} {tone} {sign * 1.5} %"
        assert detect(shifted(0.035)) == "", f"{digit} {tone} {sign * 3.5} %"


def test_forty_ms_is_detected_at_any_alignment() -> None:
    for digit in DIGITS:
        for lead in range(0, 51, 3):  # every phase of the detector's 51-sample grid
            audio = keyed(digit, 40, lead_ms=lead / MS)
            assert detect(audio) == digit, (digit, lead)


def test_twenty_ms_burst_is_ignored_at_any_alignment() -> None:
    for digit in DIGITS:
        for lead in range(0, 51, 3):
            audio = keyed(digit, 20, lead_ms=lead / MS, row_dbm0=-3.0, column_dbm0=-3.0)
            assert detect(audio) == "", (digit, lead)
    # Shorter still, back to back with silence between: nothing.
    bursts = np.concatenate([keyed(d, ms) for d in "159" for ms in (5, 10, 15, 20)])
    assert detect(bursts) == ""


def test_a_forty_ms_pause_separates_presses_of_one_key() -> None:
    for digit in DIGITS:
        for lead in range(0, 51, 10):
            audio = DtmfGenerator(tone_ms=40, gap_ms=40).samples(digit * 3)
            assert detect(np.concatenate([silence(lead / MS), audio])) == digit * 3


def test_a_ten_ms_dropout_does_not_split_a_press() -> None:
    # Q.24: an interruption of up to 10 ms within a tone is not a pause.
    for digit in DIGITS:
        for lead in range(0, 51, 10):
            tone = two_tone(*dtmf_frequencies(digit), 60)
            audio = np.concatenate([silence(lead / MS), tone, silence(10), tone, silence(60)])
            assert detect(audio) == digit


@pytest.mark.parametrize("level", [-7.0, -26.0])
def test_ten_digits_per_second(level: float) -> None:
    digits = DIGITS + "5555" + DIGITS[::-1] + "00"
    audio = DtmfGenerator(level_dbm0=level, twist_db=0.0, tone_ms=50, gap_ms=50).samples(digits)
    assert detect(audio) == digits


@pytest.mark.parametrize(
    ("twist_db", "detected"),
    [(8.0, True), (10.0, False), (-4.0, True), (-6.0, False), (0.0, True)],
    ids=["normal-8dB", "normal-10dB", "reverse-4dB", "reverse-6dB", "none"],
)
def test_twist(twist_db: float, detected: bool) -> None:
    # Twist = column level minus row level; "normal" has the column louder.
    for digit in DIGITS:
        audio = keyed(digit, 60, row_dbm0=-12.0, column_dbm0=-12.0 + twist_db)
        assert detect(audio) == (digit if detected else ""), digit


def test_sensitivity() -> None:
    for digit in DIGITS:
        assert detect(keyed(digit, 60, row_dbm0=-26.0, column_dbm0=-26.0)) == digit
        assert detect(keyed(digit, 60, row_dbm0=-40.0, column_dbm0=-40.0)) == ""
    # The level limit is per tone: one tone at -40 dBm0 fails even with a loud partner.
    assert detect(keyed("5", 60, row_dbm0=-40.0, column_dbm0=-36.0)) == ""


@pytest.mark.parametrize("level", [-7.0, -20.0, -26.0])
def test_white_noise_at_15_db_signal_to_noise(level: float) -> None:
    rng = np.random.default_rng(15)
    digits = "".join(rng.choice(list(DIGITS), 12))
    audio = DtmfGenerator(level_dbm0=level).samples(digits).astype(float)
    signal_power = np.mean(audio[: 100 * MS] ** 2)  # over the tone
    noise = rng.normal(0.0, np.sqrt(signal_power / 10**1.5), len(audio) + 800)
    assert detect(np.concatenate([silence(100), audio]) + noise) == digits


def test_dc_offset_is_removed() -> None:
    audio = DtmfGenerator(level_dbm0=-12.0).samples("2580") + 4000.0
    assert detect(audio) == "2580"


# --- detector: talk-off -----------------------------------------------------------------


def test_speech_recording_is_small_and_long_enough() -> None:
    assert SPEECH.stat().st_size < 210_000
    assert len(read_speech()) > 10 * SAMPLE_RATE


@pytest.mark.parametrize("gain_db", [-10.0, 0.0, 6.0])
@pytest.mark.parametrize("speed", [0.85, 1.0, 1.2])
def test_speech_does_not_talk_off(gain_db: float, speed: float) -> None:
    speech = read_speech()
    # Replaying faster or slower moves the voice's pitch and formants: more voices.
    resampled = np.interp(np.arange(0, len(speech) - 1, speed), np.arange(len(speech)), speech)
    assert detect(resampled * 10 ** (gain_db / 20)) == ""


def synthetic_music(seconds: float, seed: int) -> npt.NDArray[np.float64]:
    """Chords of notes with harmonics, a new chord every 250-500 ms, at about -8 dBm0."""
    note_hz = {
        "A4": 440.0, "C5": 523.25, "D5": 587.33, "F5": 698.46, "G5": 783.99, "A5": 880.0,
        "B5": 987.77, "C6": 1046.5, "D#6": 1244.51, "E6": 1318.51, "F#6": 1479.98,
        "G#6": 1661.22,
    }  # fmt: skip
    chords = [
        ("F5", "A5", "C6"), ("F5", "D#6"), ("F5", "E6"), ("G5", "F#6"), ("C5", "A5", "G#6"),
        ("D5", "F5", "A5"), ("A4", "F5", "E6"), ("B5", "D#6"), ("C5", "G5", "E6"),
        ("F5", "F#6"),
    ]  # fmt: skip
    rng = np.random.default_rng(seed)
    parts: list[npt.NDArray[np.float64]] = []
    while sum(map(len, parts)) < seconds * SAMPLE_RATE:
        chord = chords[rng.integers(len(chords))]
        n = int(rng.uniform(0.25, 0.5) * SAMPLE_RATE)
        t = np.arange(n) / SAMPLE_RATE
        envelope = np.minimum(1.0, np.arange(n) / 80) * np.exp(-2.0 * t)  # pluck and decay
        part = np.zeros(n)
        for name in chord:
            for k, weight in enumerate((1.0, 0.5, 0.3, 0.2, 0.1), start=1):
                if k * note_hz[name] < 3900:
                    phase = rng.uniform(0, 2 * np.pi)
                    part += weight * np.sin(2 * np.pi * k * note_hz[name] * t + phase)
        parts.append(part * envelope)
    music = np.concatenate(parts)
    return music * amplitude(-8.0) / np.sqrt(2 * np.mean(music**2))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_music_does_not_talk_off(seed: int) -> None:
    assert detect(synthetic_music(8.0, seed)) == ""


@pytest.mark.parametrize("speech_gain_db", [-6.0, 0.0])
def test_digits_over_speech(speech_gain_db: float) -> None:
    speech = read_speech() * 10 ** (speech_gain_db / 20)
    digits = "159#0*D7"
    keys = DtmfGenerator().samples(digits)
    for start in (SAMPLE_RATE, 5 * SAMPLE_RATE + 123):  # over words, not just pauses
        audio = speech.copy()
        audio[start : start + len(keys)] += keys
        assert detect(audio) == digits


# --- property: random dialling ----------------------------------------------------------


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    digits=st.text(alphabet=DIGITS, min_size=1, max_size=8),
    row_dbm0=st.floats(-26.0, -3.0),
    column_dbm0=st.floats(-26.0, -3.0),
    chunks=st.lists(st.integers(1, 400), min_size=1, max_size=6),
    lead=st.integers(0, 400),
)
def test_random_dialling_round_trips(
    digits: str, row_dbm0: float, column_dbm0: float, chunks: list[int], lead: int
) -> None:
    assume(-3.0 <= column_dbm0 - row_dbm0 <= 7.0)  # inside the twist limits, with margin
    generator = DtmfGenerator(level_dbm0=row_dbm0, twist_db=column_dbm0 - row_dbm0)
    audio = np.concatenate([np.zeros(lead), generator.samples(digits)])
    assert detect(audio, chunks) == digits


def test_sounding_names_a_key_before_it_is_confirmed_and_until_it_ends() -> None:
    detector = DtmfDetector()
    audio = np.concatenate([pcm(two_tone(941.0, 1477.0, 100)), pcm(silence(100))])  # '#'
    named_at = reported_at = ended_at = None
    for start in range(0, len(audio), FRAME_SAMPLES):
        reported = detector.feed(audio[start:start + FRAME_SAMPLES])
        if detector.sounding == "#" and named_at is None:
            named_at = start
        if reported:
            assert reported == ["#"]
            reported_at = start
        if named_at is not None and detector.sounding is None and ended_at is None:
            ended_at = start
    assert named_at is not None and reported_at is not None and ended_at is not None
    assert named_at < reported_at  # a frame before the key is confirmed
    assert ended_at == 7 * FRAME_SAMPLES  # in the frame to 160 ms: the tone stopped at 100
    assert DtmfDetector().sounding is None


def test_a_key_still_down_when_the_detector_starts_is_not_a_new_press() -> None:
    tail = two_tone(*dtmf_frequencies("5"), 80)  # the end of a key dialled before
    audio = pcm(np.concatenate([tail, silence(100), keyed("7", 80)]))
    fresh = DtmfDetector(key_may_be_down=True)
    assert fresh.feed(audio) == ["7"]
    assert DtmfDetector().feed(audio) == ["5", "7"]
    quiet_start = pcm(np.concatenate([silence(40), keyed("5", 80)]))
    assert DtmfDetector(key_may_be_down=True).feed(quiet_start) == ["5"]
