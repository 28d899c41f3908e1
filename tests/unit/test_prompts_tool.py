"""The prompt tool: the resampler, converting WAVs to the box's format, and the espeak-ng
build (byte-identical twice over, in step with the shipped set); the build tests skip,
saying why, where espeak-ng is not installed (`.ci/run` installs it)."""

from __future__ import annotations

import json
import shutil
import struct
import wave
from pathlib import Path

import numpy as np
import pytest

from firmware.media.prompts import MANIFEST, SHIPPED_DIR, PromptSet
from firmware.media.wav import read_wav
from tools.prompts.__main__ import main
from tools.prompts.build import build, compare, espeak_version
from tools.prompts.catalogue import PROMPTS
from tools.prompts.resample import resample

needs_espeak = pytest.mark.skipif(
    shutil.which("espeak-ng") is None,
    reason="espeak-ng is not installed (Debian package espeak-ng; .ci/run installs it)")


def sine(freq: float, rate: int, seconds: float, amp: float = 10000.0) -> np.ndarray:
    return amp * np.sin(2 * np.pi * freq * np.arange(int(rate * seconds)) / rate)


# --- resampling -----------------------------------------------------------------------------


@pytest.mark.parametrize("src", [22050, 44100, 16000, 6000])
def test_a_tone_in_the_telephone_band_comes_through_unchanged(src: int) -> None:
    out = resample(sine(1000, src, 12.0), src, 8000)  # 12 s: several blocks
    assert len(out) == 96000
    ideal = sine(1000, 8000, 12.0)
    assert np.abs(out - ideal)[400:-400].max() < 1.0  # under one 16-bit step, past the edges


def test_nothing_above_4_khz_folds_back_into_the_band() -> None:
    out = resample(sine(5000, 22050, 1.0), 22050, 8000)  # would alias to 3 kHz
    assert np.abs(out)[100:-100].max() < 1.0  # the edges hold the click of a sudden start


# --- converting -----------------------------------------------------------------------------


def test_convert_makes_any_pcm_wav_playable(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                            ) -> None:
    src = tmp_path / "music.wav"
    left = sine(440, 44100, 2.0, 3e6)
    right = sine(440, 44100, 2.0, 1e6)
    pcm24 = np.stack((left, right), axis=1).ravel().astype("<i4")
    with wave.open(str(src), "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(3)
        w.setframerate(44100)
        w.writeframes(b"".join(v.tobytes()[:3] for v in pcm24))  # little-endian low 3 bytes
    assert main(["convert", str(src), str(tmp_path / "out.wav")]) == 0
    out = read_wav(tmp_path / "out.wav", max_seconds=10)  # the box's reader accepts it
    assert len(out) == 16000
    expected = (3e6 + 1e6) / 2 / 256  # the channels mixed, 24-bit scaled to 16-bit
    assert abs(np.abs(out[1000:-1000]).max() - expected) < 2
    assert "8000 Hz mono 16-bit" in capsys.readouterr().out


def test_convert_refuses_a_float_wav_and_points_to_sox(tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "float.wav"
    fmt = struct.pack("<HHIIHH", 3, 1, 8000, 32000, 4, 32)  # WAVE_FORMAT_IEEE_FLOAT
    data = bytes(400)
    src.write_bytes(b"RIFF" + struct.pack("<I", 4 + 24 + 8 + len(data)) + b"WAVE"
                    + b"fmt " + struct.pack("<I", 16) + fmt
                    + b"data" + struct.pack("<I", len(data)) + data)
    assert main(["convert", str(src), str(tmp_path / "out.wav")]) == 1
    err = capsys.readouterr().err
    assert str(src) in err and "not an integer PCM WAV" in err and "sox" in err
    assert not (tmp_path / "out.wav").exists()


# --- building with espeak-ng ----------------------------------------------------------------


def test_without_espeak_the_build_names_the_debian_package(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        ) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)
    assert main(["build", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err
    assert "espeak-ng is not installed" in err
    assert "Debian package espeak-ng" in err and "apt-get install -y espeak-ng" in err


def test_the_shipped_manifest_matches_the_catalogue() -> None:
    manifest = json.loads((SHIPPED_DIR / MANIFEST).read_text())
    said = {key: entry["text"] for key, entry in manifest["prompts"].items()}
    assert said == PROMPTS, "rebuild: python -m tools.prompts build firmware/media/sounds/en"


@needs_espeak
def test_the_build_is_byte_identical_twice(tmp_path: Path) -> None:
    some = {k: PROMPTS[k] for k in ("digit-7", "parked-on", "lot-full")}
    first = build(tmp_path / "a", some)
    build(tmp_path / "b", some)
    assert compare(tmp_path / "a", tmp_path / "b") == []
    assert sorted(p.name for p in first.values()) == [
        "digit-7.wav", "lot-full.wav", "parked-on.wav", MANIFEST]
    prompts = PromptSet.load(tmp_path / "a")
    assert prompts.problems == () and prompts.keys() == sorted(some)
    samples = prompts.samples("lot-full")
    assert samples is not None and 0.8 < len(samples) / 8000 < 2.5  # a spoken sentence
    assert 8000 < np.abs(samples).max() < 16000  # levelled, far from clipping


@needs_espeak
def test_the_shipped_set_is_what_the_build_makes(capsys: pytest.CaptureFixture[str]) -> None:
    made_with = json.loads((SHIPPED_DIR / MANIFEST).read_text())["generator"]["espeak-ng"]
    if made_with != espeak_version():
        pytest.skip(f"the shipped set was built with espeak-ng {made_with}, this machine"
                    f" has {espeak_version()}: a different version speaks differently")
    assert main(["check", str(SHIPPED_DIR)]) == 0, capsys.readouterr().err
