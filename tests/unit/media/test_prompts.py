"""Prompt sets: the manifest and its WAVs, bad files reported by name and skipped, sequences
played frame by frame, numbers read digit by digit, the office's recordings over the set."""

from __future__ import annotations

import json
import logging
import wave
from pathlib import Path

import numpy as np
import pytest

from firmware.media.errors import MediaError
from firmware.media.frames import FRAME_SAMPLES
from firmware.media.player import FrameSource
from firmware.media.prompts import MANIFEST, SHIPPED_DIR, PromptSet, say_number
from firmware.media.wav import write_wav


def tone(value: int, n: int) -> np.ndarray:
    """A prompt whose samples say which prompt they came from."""
    return np.full(n, value, dtype=np.int16)


def make_set(directory: Path, prompts: dict[str, np.ndarray]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for key, samples in prompts.items():
        write_wav(directory / f"{key}.wav", samples)
    manifest = {"prompts": {k: {"file": f"{k}.wav", "text": k} for k in prompts}}
    (directory / MANIFEST).write_text(json.dumps(manifest))
    return directory


def write_raw_wav(path: Path, rate: int, channels: int, width: int, frames: int = 800) -> None:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(width)
        w.setframerate(rate)
        w.writeframes(b"\x01" * frames * channels * width)


def play(source: FrameSource, frames: int) -> np.ndarray:
    return np.concatenate([source.next_frame() for _ in range(frames)])


# --- loading --------------------------------------------------------------------------------


def test_loads_every_prompt_the_manifest_names(tmp_path: Path) -> None:
    d = make_set(tmp_path / "en", {"digit-1": tone(1, 300), "goodbye": tone(9, 500)})
    prompts = PromptSet.load(d)
    assert prompts.problems == ()
    assert prompts.keys() == ["digit-1", "goodbye"]
    assert "goodbye" in prompts and "hello" not in prompts
    assert np.array_equal(prompts.samples("goodbye"), tone(9, 500))
    assert prompts.source("digit-1") == d / "digit-1.wav"


def test_the_shipped_set_loads_cleanly_and_is_small() -> None:
    prompts = PromptSet.load(SHIPPED_DIR)
    assert prompts.problems == ()
    wanted = [*say_number("0123456789*#"), "parked-on", "slot", "transfer-failed", "lot-full",
              "please-hold", "thank-you", "goodbye", "invalid", "cannot-complete",
              "caller-number", "number", "extension"]
    assert prompts.missing(wanted) == []
    # About 130 s of speech with the menus, queues and voicemail: 16-bit WAV, ~2 MB.
    assert sum(p.stat().st_size for p in SHIPPED_DIR.iterdir()) < 3_000_000
    for key in wanted:
        samples = prompts.samples(key)
        assert samples is not None and 0.2 < len(samples) / 8000 < 4.0, key  # words, trimmed
        assert int(samples[0]) == 0 and int(samples[-1]) == 0, key  # no click at either end


@pytest.mark.parametrize(("make", "complaint"), [
    (lambda p: write_raw_wav(p, 44100, 1, 2), "44100 Hz, mono, 16-bit"),
    (lambda p: write_raw_wav(p, 8000, 2, 2), "8000 Hz, stereo, 16-bit"),
    (lambda p: write_raw_wav(p, 8000, 1, 1), "8000 Hz, mono, 8-bit"),
    (lambda p: p.write_bytes(b"ID3\x04\x00" + bytes(600)), "not a PCM WAV file"),
    (lambda p: p.write_bytes(b"RIFF\x24\x00\x00\x00WAVEfmt "), "not a PCM WAV file"),
    (lambda p: write_raw_wav(p, 8000, 1, 2, frames=0), "no audio in it"),
    (lambda p: None, "no such file"),
])
def test_a_bad_file_is_reported_by_name_and_skipped(
        tmp_path: Path, make: object, complaint: str, caplog: pytest.LogCaptureFixture) -> None:
    d = make_set(tmp_path, {"goodbye": tone(9, 500), "slot": tone(3, 200)})
    (d / "slot.wav").unlink()
    make(d / "slot.wav")  # type: ignore[operator]
    with caplog.at_level(logging.WARNING, logger="firmware.media.prompts"):
        prompts = PromptSet.load(d)
    assert prompts.keys() == ["goodbye"]  # the good one still loads
    [problem] = prompts.problems
    assert str(d / "slot.wav") in problem and complaint in problem
    if complaint != "no such file":
        assert "8000 Hz, mono, 16-bit PCM WAV" in problem  # what the box needs instead
    assert str(d / "slot.wav") in caplog.text


@pytest.mark.parametrize(("manifest", "complaint"), [
    (None, "prompts.json: no such file"),
    ("{not json", "prompts.json: cannot be read"),
    ('["digit-1"]', 'no "prompts" object'),
    ('{"prompts": {"slot": {"file": "../slot.wav"}}}', "prompt 'slot' has no plain \"file\""),
    ('{"prompts": {"slot": "slot.wav"}}', "prompt 'slot' has no plain \"file\""),
])
def test_a_bad_manifest_is_reported_never_raised(
        tmp_path: Path, manifest: str | None, complaint: str) -> None:
    d = make_set(tmp_path / "en", {"slot": tone(3, 200)})
    if manifest is None:
        (d / MANIFEST).unlink()
    else:
        (d / MANIFEST).write_text(manifest)
    prompts = PromptSet.load(d)
    assert len(prompts) == 0
    assert any(complaint in p for p in prompts.problems), prompts.problems


# --- sequences ------------------------------------------------------------------------------


def test_a_sequence_plays_the_prompts_with_gaps_frame_exact(tmp_path: Path) -> None:
    prompts = PromptSet.load(make_set(tmp_path, {"a": tone(1, 250), "b": tone(2, 100)}))
    player = prompts.sequence(["a", "b", "a"], gap_ms=10)
    assert player is not None
    gap = tone(0, 80)
    expected = np.concatenate([tone(1, 250), gap, tone(2, 100), gap, tone(1, 250)])
    frames = -(-len(expected) // FRAME_SAMPLES)  # 760 samples -> 5 frames, the last padded
    assert frames == 5
    heard = []
    for n in range(frames):
        assert not player.finished, n
        frame = player.next_frame()
        assert len(frame) == FRAME_SAMPLES
        heard.append(frame)
    assert player.finished
    out = np.concatenate(heard)
    assert np.array_equal(out[: len(expected)], expected)
    assert not out[len(expected) :].any()  # padded with silence, not with the next prompt
    assert not player.next_frame().any()  # and silence after the end


def test_the_default_gap_is_100_ms(tmp_path: Path) -> None:
    prompts = PromptSet.load(make_set(tmp_path, {"a": tone(1, 160), "b": tone(2, 160)}))
    player = prompts.sequence(["a", "b"])
    assert player is not None
    out = play(player, 7)
    assert out[:160].tolist() == [1] * 160
    assert not out[160:960].any()
    assert out[960:].tolist() == [2] * 160


def test_a_missing_key_gives_no_sequence_so_the_caller_plays_tones(tmp_path: Path) -> None:
    prompts = PromptSet.load(make_set(tmp_path, {"parked-on": tone(1, 300),
                                                 "digit-7": tone(7, 300)}))
    keys = ["parked-on", *say_number("701")]
    assert prompts.sequence(keys) is None  # never half a sentence
    assert prompts.missing(keys) == ["digit-0", "digit-1"]
    assert prompts.sequence([]) is None
    assert PromptSet({}).sequence(["goodbye"]) is None  # no prompts at all
    with pytest.raises(TypeError):
        prompts.sequence("digit-7")


def test_say_number_reads_digit_by_digit() -> None:
    assert say_number("701") == ["digit-7", "digit-0", "digit-1"]
    assert say_number("*5#") == ["digit-star", "digit-5", "digit-pound"]
    assert say_number("") == []
    with pytest.raises(MediaError, match=r"cannot say '7a-1': 'a-' is not a digit"):
        say_number("7a-1")


# --- the office's own recordings ------------------------------------------------------------


def test_an_office_recording_replaces_the_shipped_prompt(tmp_path: Path) -> None:
    shipped = make_set(tmp_path / "en", {"goodbye": tone(9, 500), "slot": tone(3, 200)})
    office = tmp_path / "office"
    office.mkdir()
    write_wav(office / "goodbye.wav", tone(-4, 320))
    write_wav(office / "welcome.wav", tone(5, 160))  # a prompt of the office's own
    prompts = PromptSet.load(shipped, overrides=office)
    assert prompts.problems == ()
    assert np.array_equal(prompts.samples("goodbye"), tone(-4, 320))
    assert prompts.source("goodbye") == office / "goodbye.wav"
    assert prompts.source("slot") == shipped / "slot.wav"  # the rest stays shipped
    assert prompts.keys() == ["goodbye", "slot", "welcome"]
    player = prompts.sequence(["goodbye"])
    assert player is not None and play(player, 2).tolist() == [-4] * 320


def test_a_bad_office_recording_leaves_the_shipped_prompt(tmp_path: Path) -> None:
    shipped = make_set(tmp_path / "en", {"goodbye": tone(9, 500)})
    office = tmp_path / "office"
    office.mkdir()
    write_raw_wav(office / "goodbye.wav", 44100, 2, 2)
    (office / "slot.mp3").write_bytes(b"ID3")
    prompts = PromptSet.load(shipped, overrides=office)
    assert np.array_equal(prompts.samples("goodbye"), tone(9, 500))
    wav_problem, mp3_problem = sorted(prompts.problems, key=lambda p: "slot.mp3" in p)
    assert str(office / "goodbye.wav") in wav_problem
    assert "44100 Hz, stereo, 16-bit" in wav_problem
    assert str(office / "slot.mp3") in mp3_problem
    assert "(slot.wav)" in mp3_problem  # says what the file should be


def test_an_office_without_recordings_is_no_problem(tmp_path: Path) -> None:
    shipped = make_set(tmp_path / "en", {"goodbye": tone(9, 500)})
    assert PromptSet.load(shipped, overrides=tmp_path / "absent").problems == ()
    (tmp_path / "afile").write_text("")
    [problem] = PromptSet.load(shipped, overrides=tmp_path / "afile").problems
    assert "not a directory" in problem
