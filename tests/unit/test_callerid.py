"""Caller ID: message byte layouts, FSK measured back from the samples, and round trips.

Expected bytes are written out from GR-30-CORE / ETSI EN 300 659-3 by hand (the sums are in
the comments), never produced by the code under test.
"""

from __future__ import annotations

import contextlib
import datetime
import wave
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from firmware.media.callerid import CallerId, CallerIdError, MessageWaiting, parse_message
from firmware.media.frames import FRAME_SAMPLES, SAMPLE_RATE, amplitude, level_dbm0
from firmware.media.fsk import (
    TRAILING_MARK_BITS,
    FskDemodulator,
    FskStandard,
    etsi_alert_signal,
    fsk_demodulate,
    fsk_modulate,
)

STANDARDS = list(FskStandard)
SAMPLES_PER_BIT = SAMPLE_RATE / 1200  # 6.67

SMITH = CallerId(
    number="5551234", name="SMITH JOHN", when=datetime.datetime(2000, 11, 23, 9, 15)
)

# MDMF 0x80 for 5551234 / "SMITH JOHN" / 23 Nov 09:15. Sum of all bytes before the checksum:
# 0x80 + 0x1f = 159; 0x01 + 0x08 + "11230915" (406) = 415; 0x02 + 0x07 + "5551234" (361)
# = 370; 0x07 + 0x0a + "SMITH JOHN" (724) = 741; total 1685 = 0x695, 0x95 mod 256, so the
# checksum is 0x100 - 0x95 = 0x6b.
SMITH_MDMF = b"".join(
    (
        b"\x80\x1f",  # type: MDMF caller ID; 31 data bytes follow
        b"\x01\x08" b"11230915",  # date/time MMDDHHMM
        b"\x02\x07" b"5551234",  # number
        b"\x07\x0a" b"SMITH JOHN",  # name
        b"\x6b",  # checksum
    )
)

# The SDMF example printed in caller ID application notes: 30 Sep 12:24 from 6095551212.
# 0x04 + 0x12 = 22; "09301224" = 405; "6095551212" = 516; total 943 = 0x3af -> 0xaf, so the
# checksum is 0x100 - 0xaf = 0x51.
CLASSIC_SDMF = bytes.fromhex("04 12 30 39 33 30 31 32 32 34 36 30 39 35 35 35 31 32 31 32 51")


def noisy(
    signal: npt.NDArray[np.int16], snr_db: float, rng: np.random.Generator
) -> npt.NDArray[np.int16]:
    """`signal` plus white Gaussian noise `snr_db` below the signal's power."""
    x = signal.astype(np.float64)
    sigma = np.sqrt(np.mean(x**2) / 10.0 ** (snr_db / 10.0))
    x += rng.normal(0.0, sigma, len(x))
    return np.clip(np.rint(x), -32768, 32767).astype(np.int16)


def pad(signal: npt.NDArray[np.int16], before: int, after: int) -> npt.NDArray[np.int16]:
    return np.concatenate((np.zeros(before, np.int16), signal, np.zeros(after, np.int16)))


def feed_chunks(demod: FskDemodulator, x: npt.NDArray[np.int16], size: int) -> list[bytes]:
    found: list[bytes] = []
    for start in range(0, len(x), size):
        found += demod.feed(x[start : start + size])
    return found


def instantaneous_hz(x: npt.NDArray[np.int16]) -> npt.NDArray[np.float64]:
    """Frequency between consecutive samples, from the analytic signal (FFT Hilbert)."""
    n = len(x)
    gain = np.zeros(n)
    gain[0] = 1.0
    gain[1 : (n + 1) // 2] = 2.0
    if n % 2 == 0:
        gain[n // 2] = 1.0
    z = np.fft.ifft(np.fft.fft(x.astype(np.float64)) * gain)
    return np.diff(np.unwrap(np.angle(z))) * SAMPLE_RATE / (2.0 * np.pi)


def peak_hz(x: npt.NDArray[np.int16]) -> float:
    """The strongest frequency, Hann window, zero-padded to a ~0.03 Hz grid."""
    size = 1 << 18
    spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x)), size))
    return float(np.fft.rfftfreq(size, 1.0 / SAMPLE_RATE)[np.argmax(spectrum)])


# ------------------------------------------------------------------------------------------
# Byte layouts


def test_mdmf_layout_matches_hand_computed_bytes() -> None:
    assert SMITH.to_mdmf() == SMITH_MDMF
    assert bytes(SMITH) == SMITH_MDMF
    assert CallerId.parse(SMITH_MDMF) == SMITH


def test_sdmf_layout_matches_the_classic_example() -> None:
    cid = CallerId(number="6095551212", when=datetime.datetime(2000, 9, 30, 12, 24))
    assert cid.to_sdmf() == CLASSIC_SDMF
    assert CallerId.parse(CLASSIC_SDMF) == cid
    assert parse_message(CLASSIC_SDMF) == cid


def test_sdmf_smith_layout() -> None:
    # 0x04 + 0x0f = 19; "11230915" = 406; "5551234" = 361; 786 = 0x312 -> 0x12; 0xee.
    expected = bytes([0x04, 0x0F]) + b"11230915" + b"5551234" + bytes([0xEE])
    assert SMITH.to_sdmf() == expected
    # SDMF has no name field: the name is dropped.
    assert CallerId.parse(expected) == CallerId(number="5551234", when=SMITH.when)


def test_mdmf_reasons_for_absence() -> None:
    cid = CallerId(
        when=datetime.datetime(2000, 1, 2, 3, 4), number_absent="P", name_absent="O"
    )
    # 0x80 + 0x10 = 144; 0x01 + 0x08 + "01020304" (394) = 403; 0x04 + 0x01 + 'P' (80) = 85;
    # 0x08 + 0x01 + 'O' (79) = 88; 720 = 0x2d0 -> 0xd0; checksum 0x30.
    expected = (
        bytes([0x80, 0x10, 0x01, 0x08]) + b"01020304"
        + bytes([0x04, 0x01]) + b"P" + bytes([0x08, 0x01]) + b"O" + bytes([0x30])
    )
    assert cid.to_mdmf() == expected
    assert CallerId.parse(expected) == cid


@pytest.mark.parametrize(
    ("number_absent", "tail", "checksum"),
    # 0x04 + 0x09 + "11230915" (406) = 419 = 0x1a3 -> 0xa3; + 'P' (0x50) -> 0xf3 / 'O' -> 0xf2
    [("P", b"P", 0x0D), ("O", b"O", 0x0E), (None, b"O", 0x0E)],
)
def test_sdmf_private_and_unavailable(
    number_absent: str | None, tail: bytes, checksum: int
) -> None:
    cid = CallerId(when=SMITH.when, number_absent=number_absent)
    expected = bytes([0x04, 0x09]) + b"11230915" + tail + bytes([checksum])
    assert cid.to_sdmf() == expected
    assert CallerId.parse(expected) == CallerId(when=SMITH.when, number_absent=tail.decode())


@pytest.mark.parametrize(
    ("mwi", "mdmf", "sdmf"),
    [
        # 0x82 + 0x03 + 0x0b + 0x01 + 0xff = 400 = 0x190 -> 0x90, checksum 0x70;
        # 0x06 + 0x03 + 3 * 0x42 = 207 = 0xcf, checksum 0x31.
        (MessageWaiting(True), "82 03 0b 01 ff 70", "06 03 42 42 42 31"),
        # 0x82 + 0x03 + 0x0b + 0x01 + 0x00 = 145 = 0x91, checksum 0x6f;
        # 0x06 + 0x03 + 3 * 0x6f = 342 = 0x156 -> 0x56, checksum 0xaa.
        (MessageWaiting(False), "82 03 0b 01 00 6f", "06 03 6f 6f 6f aa"),
    ],
)
def test_message_waiting_layouts(mwi: MessageWaiting, mdmf: str, sdmf: str) -> None:
    assert mwi.to_mdmf() == bytes.fromhex(mdmf)
    assert mwi.to_sdmf() == bytes.fromhex(sdmf)
    assert bytes(mwi) == bytes.fromhex(mdmf)
    assert MessageWaiting.parse(bytes.fromhex(mdmf)) == mwi
    assert MessageWaiting.parse(bytes.fromhex(sdmf)) == mwi
    assert parse_message(bytes.fromhex(mdmf)) == mwi
    assert parse_message(bytes.fromhex(sdmf)) == mwi


@pytest.mark.parametrize(
    "cid",
    [
        CallerId(),
        CallerId(number="+441632960961"),
        CallerId(name="O'BRIEN, PAT"),
        CallerId(number="*69#", name_absent="P"),
        CallerId(number_absent="O", name_absent="O"),
        CallerId(when=datetime.datetime(2000, 2, 29, 23, 59), number="911"),
    ],
)
def test_mdmf_round_trip(cid: CallerId) -> None:
    assert CallerId.parse(cid.to_mdmf()) == cid
    assert parse_message(cid.to_mdmf()) == cid


def test_parse_takes_the_year_and_drops_seconds() -> None:
    sent = CallerId(when=datetime.datetime(2031, 7, 4, 18, 30, 59, 999))
    got = CallerId.parse(sent.to_mdmf(), year=2031)
    assert got.when == datetime.datetime(2031, 7, 4, 18, 30)
    assert parse_message(sent.to_mdmf(), year=1999) == CallerId(
        when=datetime.datetime(1999, 7, 4, 18, 30)
    )


def test_mdmf_skips_unknown_parameters() -> None:
    # GR-30-CORE receivers ignore parameters they do not know (here 0x06, 'L' long distance).
    body = bytes([0x80, 0x07, 0x06, 0x01]) + b"L" + bytes([0x02, 0x02]) + b"42"
    message = body + bytes([-sum(body) & 0xFF])
    assert CallerId.parse(message) == CallerId(number="42")


def test_long_fields_are_truncated_to_15_characters() -> None:
    cid = CallerId(number="12345678901234567890", name="ABCDEFGHIJKLMNOPQRST")
    assert CallerId.parse(cid.to_mdmf()) == CallerId(
        number="123456789012345", name="ABCDEFGHIJKLMNO"
    )
    sdmf = CallerId(number="12345678901234567890", when=SMITH.when).to_sdmf()
    assert CallerId.parse(sdmf).number == "123456789012345"


def test_non_ascii_name_characters_become_question_marks() -> None:
    cid = CallerId(number="5551234", name="Jürgen Müller")
    message = cid.to_mdmf()
    assert b"J?rgen M?ller" in message
    assert all(b < 0x80 for b in message[2:-1])  # every data byte is ASCII
    assert CallerId.parse(message).name == "J?rgen M?ller"
    # Emoji, a control character, CJK: one '?' each, counted before truncation.
    odd = CallerId(name="☎ Tab\there 電話 0123456789")
    assert CallerId.parse(odd.to_mdmf()).name == "? Tab?here ?? 0"


def test_non_ascii_bytes_on_the_wire_become_question_marks() -> None:
    body = bytes([0x80, 0x05, 0x07, 0x03, 0x41, 0xE9, 0x07])
    message = body + bytes([-sum(body) & 0xFF])
    assert CallerId.parse(message).name == "A??"


def with_checksum(body: bytes) -> bytes:
    return body + bytes([-sum(body) & 0xFF])


@pytest.mark.parametrize(
    ("message", "error"),
    [
        (b"", "message too short: 0 bytes (type, length and checksum need 3)"),
        (b"\x80\x00", "message too short: 2 bytes (type, length and checksum need 3)"),
        (SMITH_MDMF[:-1], "message truncated: 33 bytes, length byte 31 needs 34"),
        (SMITH_MDMF[:10], "message truncated: 10 bytes, length byte 31 needs 34"),
        (SMITH_MDMF + b"\x00", "message too long: 35 bytes, length byte 31 needs 34"),
        (SMITH_MDMF[:-1] + b"\x6c", "bad checksum 0x6c, expected 0x6b"),
        # '0' -> '8' in the date adds 8 to the sum: 0xaf + 8 = 0xb7, so 0x49 was due.
        (CLASSIC_SDMF[:5] + b"8" + CLASSIC_SDMF[6:], "bad checksum 0x51, expected 0x49"),
        (with_checksum(b"\x82\x00"), "not a caller ID message: type 0x82"),
        (with_checksum(b"\x04\x03123"), "SDMF caller ID has 3 data bytes, need at least 8"),
        (with_checksum(b"\x04\x0813A20915"), "bad date/time '13A20915': need 8 digits MMDDHHMM"),
        (with_checksum(b"\x04\x0813320915"), "bad date/time '13320915': not a date"),
        (with_checksum(b"\x04\x0802300915"), "bad date/time '02300915': not a date"),
        (with_checksum(b"\x04\x0a1123091555"), None),  # fine: a number "55"
        (with_checksum(b"\x80\x03\x07\x05A"), (
            "parameter 0x07 at offset 0 runs past the end of the data")),
        (with_checksum(b"\x80\x03\x02\x01A"), (
            "number may hold only digits, '*', '#' and '+', got 'A'")),
        (with_checksum(b"\x80\x01\x02"), "parameter at offset 0 has no length byte"),
        (with_checksum(b"\x80\x06\x02\x011\x02\x012"), "parameter 0x02 appears twice"),
        (with_checksum(b"\x80\x03\x04\x01X"), "reason for absence must be 'P' or 'O', got 'X'"),
        (with_checksum(b"\x80\x06\x02\x011\x04\x01P"), "number and number_absent are exclusive"),
        (with_checksum(b"\x80\x06\x07\x01A\x08\x01O"), "name and name_absent are exclusive"),
    ],
)
def test_malformed_caller_id_messages(message: bytes, error: str | None) -> None:
    if error is None:
        assert CallerId.parse(message).number == "55"
        return
    with pytest.raises(CallerIdError) as caught:
        CallerId.parse(message)
    assert str(caught.value) == error


def test_unknown_message_type() -> None:
    with pytest.raises(CallerIdError) as caught:
        parse_message(with_checksum(b"\x05\x01\x00"))
    assert str(caught.value) == "unknown message type 0x05"


@pytest.mark.parametrize(
    ("message", "error"),
    [
        (with_checksum(b"\x06\x03\x42\x42\x6f"), (
            "SDMF message waiting must be 42 42 42 or 6f 6f 6f, got 42 42 6f")),
        (with_checksum(b"\x82\x00"), "MDMF message waiting has no indicator parameter 0x0b"),
        (with_checksum(b"\x82\x04\x0b\x02\xff\xff"), (
            "indicator parameter 0x0b must be 1 byte, got 2")),
        (SMITH_MDMF, "not a message-waiting message: type 0x80"),
        (b"\x82\x03\x0b\x01\xff\x71", "bad checksum 0x71, expected 0x70"),
    ],
)
def test_malformed_message_waiting(message: bytes, error: str) -> None:
    with pytest.raises(CallerIdError) as caught:
        MessageWaiting.parse(message)
    assert str(caught.value) == error


def test_unknown_type_after_a_framing_error_reports_the_framing_error() -> None:
    with pytest.raises(CallerIdError) as caught:
        parse_message(b"\x05\x09\x00")
    assert str(caught.value) == "message truncated: 3 bytes, length byte 9 needs 12"


def test_errors_are_value_errors() -> None:
    assert issubclass(CallerIdError, ValueError)


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"number": "555-1234"}, "number may hold only digits, '*', '#' and '+', got '555-1234'"),
        ({"number_absent": "X"}, "number_absent must be 'P' or 'O', got 'X'"),
        ({"name_absent": "p"}, "name_absent must be 'P' or 'O', got 'p'"),
        ({"number": "1", "number_absent": "P"}, "number and number_absent are exclusive"),
        ({"name": "A", "name_absent": "O"}, "name and name_absent are exclusive"),
    ],
)
def test_invalid_caller_id_fields(kwargs: dict[str, str], error: str) -> None:
    with pytest.raises(CallerIdError) as caught:
        CallerId(**kwargs)  # type: ignore[arg-type]
    assert str(caught.value) == error


def test_empty_strings_mean_absent() -> None:
    # A party with an empty number or name is passed straight in by the ringer.
    cid = CallerId(number="", name="", number_absent="O", name_absent="O")
    assert cid == CallerId(number_absent="O", name_absent="O")


def test_sdmf_needs_a_date() -> None:
    with pytest.raises(CallerIdError) as caught:
        CallerId(number="5551234").to_sdmf()
    assert str(caught.value) == "SDMF needs a date/time: set when, or send MDMF"


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=40))
def test_parse_never_raises_anything_but_caller_id_error(message: bytes) -> None:
    with contextlib.suppress(CallerIdError):
        parse_message(message)


# ------------------------------------------------------------------------------------------
# Modulation, measured back from the samples


@pytest.mark.parametrize("standard", STANDARDS)
def test_mark_frequency_from_the_spectrum_of_a_mark_run(standard: FskStandard) -> None:
    marks = fsk_modulate(b"", standard, seizure_bits=0, mark_bits=1200)  # one second
    assert abs(peak_hz(marks) - standard.mark_hz) < 0.5


@pytest.mark.parametrize("standard", STANDARDS)
def test_space_frequency_inside_the_space_runs_of_zero_bytes(standard: FskStandard) -> None:
    # Each 0x00 character is start + 8 data bits = 9 space bits, then a mark stop bit.
    x = fsk_modulate(bytes(40), standard, seizure_bits=0, mark_bits=20)
    freq = instantaneous_hz(x)
    inside = []
    for char in range(40):
        first = 20 + 10 * char  # the start bit's index in the bit stream
        lo, hi = int(np.ceil((first + 1.5) * SAMPLES_PER_BIT)), int((first + 8.5) * SAMPLES_PER_BIT)
        inside.append(freq[lo:hi])
    assert abs(np.mean(np.concatenate(inside)) - standard.space_hz) < 3.0


@pytest.mark.parametrize("standard", STANDARDS)
def test_seizure_bit_timing_from_its_transitions(standard: FskStandard) -> None:
    x = fsk_modulate(b"", standard, seizure_bits=300, mark_bits=180)
    freq = instantaneous_hz(x)
    middle = (standard.mark_hz + standard.space_hz) / 2.0
    # The seizure starts with a space bit (0101...); space is the higher tone in both.
    assert freq[2] > middle
    high = freq > middle
    where = np.flatnonzero(high[1:] != high[:-1])
    a, b = freq[where] - middle, freq[where + 1] - middle
    times = where + 0.5 + a / (a - b)  # interpolated crossing, in samples
    assert len(times) == 299  # 300 alternating bits, then the marks: no more transitions
    bit = np.rint(times / SAMPLES_PER_BIT)
    assert np.array_equal(bit, np.arange(1, 300))
    assert np.max(np.abs(times - bit * SAMPLES_PER_BIT)) < 0.5  # exact timing, no drift
    samples_per_bit = np.polyfit(bit, times, 1)[0]
    assert SAMPLE_RATE / samples_per_bit == pytest.approx(1200.0, rel=1e-4)


@pytest.mark.parametrize("standard", STANDARDS)
@pytest.mark.parametrize(("seizure", "marks", "size"), [(300, 180, 34), (0, 80, 1), (7, 3, 0)])
def test_duration_is_bits_over_1200(
    standard: FskStandard, seizure: int, marks: int, size: int
) -> None:
    x = fsk_modulate(bytes(size), standard, seizure_bits=seizure, mark_bits=marks)
    bits = seizure + marks + 10 * size + TRAILING_MARK_BITS
    assert len(x) == int(np.ceil(bits * SAMPLE_RATE / 1200))
    assert abs(len(x) / SAMPLE_RATE - bits / 1200) < 1 / SAMPLE_RATE


@pytest.mark.parametrize("standard", STANDARDS)
@pytest.mark.parametrize("level", [-30.0, -13.5, -5.0])
def test_level_and_phase_continuity(standard: FskStandard, level: float) -> None:
    x = fsk_modulate(SMITH_MDMF, standard, level_dbm0=level)
    assert x.dtype == np.int16
    assert level_dbm0(x) == pytest.approx(level, abs=0.1)
    # A jump in phase would show as a step larger than the fastest tone can make.
    step = 2.0 * amplitude(level) * np.sin(np.pi * standard.space_hz / SAMPLE_RATE)
    assert np.max(np.abs(np.diff(x.astype(np.float64)))) <= step + 1.0
    assert abs(int(x[0])) <= 1  # starts at phase zero: no click


def test_modulate_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError, match="bit counts must be >= 0"):
        fsk_modulate(b"", FskStandard.BELL202, seizure_bits=-1)
    with pytest.raises(ValueError, match="would clip"):
        fsk_modulate(b"", FskStandard.BELL202, level_dbm0=4.0)


def test_etsi_alert_signal() -> None:
    x = etsi_alert_signal()
    assert len(x) == 800  # 100 ms
    spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x)), 1 << 16))
    freqs = np.fft.rfftfreq(1 << 16, 1.0 / SAMPLE_RATE)
    low = freqs < 2440
    assert abs(freqs[low][np.argmax(spectrum[low])] - 2130) < 1.0
    assert abs(freqs[~low][np.argmax(spectrum[~low])] - 2750) < 1.0
    # Two tones at -20 dBm0 each read as one sine 3 dB louder.
    assert level_dbm0(x) == pytest.approx(-20.0 + 10 * np.log10(2), abs=0.1)
    assert len(etsi_alert_signal(ms=88)) == 704
    with pytest.raises(ValueError, match="would clip"):
        etsi_alert_signal(level_dbm0=0.0)


# ------------------------------------------------------------------------------------------
# Round trips through the demodulator


@pytest.mark.parametrize("standard", STANDARDS)
@pytest.mark.parametrize("chunk", [FRAME_SAMPLES, 1, 7, 333, 100_000])
def test_round_trip_in_chunks(standard: FskStandard, chunk: int) -> None:
    x = pad(fsk_modulate(SMITH_MDMF, standard), before=1234, after=4000)
    assert feed_chunks(FskDemodulator(standard), x, chunk) == [SMITH_MDMF]


@pytest.mark.parametrize("standard", STANDARDS)
@pytest.mark.parametrize("level", [-30.0, -25.0, -20.0, -13.5, -10.0, -5.0])
def test_round_trip_with_noise_at_20_db(standard: FskStandard, level: float) -> None:
    rng = np.random.default_rng(int(-level * 10) + len(standard.name))
    for message in (SMITH_MDMF, CLASSIC_SDMF, MessageWaiting(True).to_sdmf()):
        x = noisy(pad(fsk_modulate(message, standard, level_dbm0=level), 800, 800), 20.0, rng)
        assert feed_chunks(FskDemodulator(standard), x, FRAME_SAMPLES) == [message]


@pytest.mark.parametrize("standard", STANDARDS)
def test_message_after_other_audio(standard: FskStandard) -> None:
    rng = np.random.default_rng(7)
    t = np.arange(4000) / SAMPLE_RATE
    # Speech-like: wandering tones in noise; then the ETSI alert; then the FSK burst.
    babble = sum(
        amplitude(-18.0) * np.sin(2 * np.pi * f * t + rng.uniform(0, 6.3))
        for f in rng.uniform(200, 3400, 6)
    )
    babble = np.rint(babble + rng.normal(0, amplitude(-30.0), len(t))).astype(np.int16)
    x = np.concatenate(
        (babble, etsi_alert_signal(), np.zeros(400, np.int16), fsk_modulate(SMITH_MDMF, standard))
    )
    assert feed_chunks(FskDemodulator(standard), x, FRAME_SAMPLES) == [SMITH_MDMF]


SPEECH = Path(__file__).parent.parent / "data" / "speech-8k.wav"


@pytest.mark.parametrize("standard", STANDARDS)
def test_speech_alone_is_no_message_and_does_not_hide_one(standard: FskStandard) -> None:
    if not SPEECH.exists():
        pytest.skip(f"{SPEECH} is missing")
    with wave.open(str(SPEECH)) as recording:
        assert (recording.getframerate(), recording.getsampwidth()) == (SAMPLE_RATE, 2)
        speech = np.frombuffer(recording.readframes(recording.getnframes()), "<i2")
    speech = speech.astype(np.int16)
    assert feed_chunks(FskDemodulator(standard), speech, FRAME_SAMPLES) == []
    x = np.concatenate((speech, fsk_modulate(SMITH_MDMF, standard)))
    assert feed_chunks(FskDemodulator(standard), x, FRAME_SAMPLES) == [SMITH_MDMF]


@pytest.mark.parametrize("standard", STANDARDS)
def test_garbage_is_ignored(standard: FskStandard) -> None:
    rng = np.random.default_rng(11)
    noise = rng.normal(0, amplitude(-15.0), 5 * SAMPLE_RATE)
    assert fsk_demodulate(np.rint(noise).astype(np.int16), standard) == []
    random_bytes = rng.integers(0, 256, 600, dtype=np.uint8).tobytes()
    garbage = fsk_modulate(random_bytes, standard, seizure_bits=0, mark_bits=30)
    assert fsk_demodulate(garbage, standard) == []
    bad_checksum = SMITH_MDMF[:-1] + b"\x00"
    assert fsk_demodulate(fsk_modulate(bad_checksum, standard), standard) == []
    # Garbage running straight into a real message does not hide it.
    x = np.concatenate((garbage, fsk_modulate(bad_checksum, standard),
                        fsk_modulate(SMITH_MDMF, standard)))
    assert fsk_demodulate(x, standard) == [SMITH_MDMF]


@pytest.mark.parametrize("standard", STANDARDS)
def test_two_messages_in_one_stream(standard: FskStandard) -> None:
    first, second = MessageWaiting(True).to_mdmf(), SMITH.to_sdmf()
    x = np.concatenate(
        (fsk_modulate(first, standard), np.zeros(2000, np.int16), fsk_modulate(second, standard))
    )
    assert feed_chunks(FskDemodulator(standard), x, FRAME_SAMPLES) == [first, second]
    # Back to back with no silence and no seizure (as on call waiting) works as well.
    call_waiting = fsk_modulate(second, standard, seizure_bits=0, mark_bits=80)
    y = np.concatenate((fsk_modulate(first, standard), call_waiting))
    assert fsk_demodulate(y, standard) == [first, second]


@pytest.mark.parametrize("standard", STANDARDS)
def test_reset_drops_a_half_received_message(standard: FskStandard) -> None:
    demod = FskDemodulator(standard)
    x = fsk_modulate(SMITH_MDMF, standard)
    assert demod.feed(x[: len(x) - 800]) == []
    demod.reset()
    assert demod.feed(x[len(x) - 800 :]) == []
    assert demod.feed(x) == [SMITH_MDMF]


def test_feed_wants_one_dimensional_samples() -> None:
    with pytest.raises(ValueError, match="one-dimensional"):
        FskDemodulator(FskStandard.V23).feed(np.zeros((2, 160), np.int16))
    assert FskDemodulator(FskStandard.V23).feed(np.zeros(0, np.int16)) == []


@pytest.mark.parametrize("standard", STANDARDS)
@pytest.mark.parametrize("active", [True, False])
def test_message_waiting_round_trip(standard: FskStandard, active: bool) -> None:
    mwi = MessageWaiting(active)
    for message in (mwi.to_mdmf(), mwi.to_sdmf()):
        got = fsk_demodulate(pad(fsk_modulate(message, standard), 500, 500), standard)
        assert [parse_message(m) for m in got] == [mwi]


@pytest.mark.parametrize("standard", STANDARDS)
def test_unicode_name_survives_the_line(standard: FskStandard) -> None:
    cid = CallerId(number="0301234567", name="Zoë Ørsted-Åberg")
    got = fsk_demodulate(fsk_modulate(cid.to_mdmf(), standard), standard)
    assert [parse_message(m) for m in got] == [
        CallerId(number="0301234567", name="Zo? ?rsted-?ber")
    ]


names = st.none() | st.text(min_size=1, max_size=24)
numbers = st.none() | st.text(alphabet="0123456789*#+", min_size=1, max_size=20)
minutes = st.none() | st.datetimes(
    min_value=datetime.datetime(2000, 1, 1), max_value=datetime.datetime(2000, 12, 31, 23, 59)
).map(lambda when: when.replace(second=0, microsecond=0))


def expected_after_the_line(cid: CallerId) -> CallerId:
    """What the far end shows: 15 characters at most, printable ASCII names."""
    name = None
    if cid.name is not None:
        name = "".join(c if " " <= c <= "~" else "?" for c in cid.name[:15])
    number = None if cid.number is None else cid.number[:15]
    return CallerId(number=number, name=name, when=cid.when,
                    number_absent=cid.number_absent, name_absent=cid.name_absent)


@settings(max_examples=40, deadline=None)
@given(
    number=numbers,
    name=names,
    when=minutes,
    standard=st.sampled_from(STANDARDS),
    chunk=st.sampled_from([FRAME_SAMPLES, 97, 1000]),
)
def test_any_caller_id_survives_modulation(
    number: str | None,
    name: str | None,
    when: datetime.datetime | None,
    standard: FskStandard,
    chunk: int,
) -> None:
    cid = CallerId(number=number, name=name, when=when,
                   number_absent="P" if number is None else None)
    x = pad(fsk_modulate(cid.to_mdmf(), standard), 300, 300)
    got = feed_chunks(FskDemodulator(standard), x, chunk)
    assert [CallerId.parse(m) for m in got] == [expected_after_the_line(cid)]


@settings(max_examples=20, deadline=None)
@given(number=numbers, when=minutes.filter(lambda w: w is not None),
       standard=st.sampled_from(STANDARDS))
def test_any_sdmf_survives_modulation(
    number: str | None, when: datetime.datetime, standard: FskStandard
) -> None:
    cid = CallerId(number=number, when=when)
    got = fsk_demodulate(fsk_modulate(cid.to_sdmf(), standard), standard)
    expected = CallerId(number=None if number is None else number[:15], when=when,
                        number_absent="O" if number is None else None)
    assert [CallerId.parse(m) for m in got] == [expected]
