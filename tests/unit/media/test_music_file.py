"""The office's own hold music from a WAV file: looped frame by frame, refused with a clear
message in any format but 8000 Hz mono 16-bit."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np
import pytest

from firmware.media.errors import MediaError
from firmware.media.frames import FRAME_SAMPLES
from firmware.media.music import HoldMusic, hold_music_samples, office_music_samples
from firmware.media.wav import WavFormatError, write_wav


def ramp(n: int) -> np.ndarray:
    return (np.arange(n) % 2000 + 1000).astype(np.int16)


def test_loops_the_file_forever_in_whole_frames(tmp_path: Path) -> None:
    path = tmp_path / "music.wav"
    write_wav(path, ramp(1000))  # not a whole number of frames
    music = HoldMusic.from_wav(path)
    frames = [music.next_frame() for _ in range(21)]
    assert not music.finished
    assert all(len(f) == FRAME_SAMPLES for f in frames)
    one_loop = np.concatenate(frames[:7])  # 1000 samples padded to 1120
    assert np.array_equal(one_loop[160:840], ramp(1000)[160:840])  # the music itself, as is
    assert not one_loop[1000:].any()  # padded with silence
    assert np.array_equal(np.concatenate(frames[7:14]), one_loop)  # and round again


def test_the_loop_point_cannot_click(tmp_path: Path) -> None:
    path = tmp_path / "music.wav"
    write_wav(path, np.full(8000, 20000, dtype=np.int16))  # starts and ends at full level
    loop = office_music_samples(path)
    assert loop[0] == 0 and loop[-1] == 0
    assert np.abs(np.diff(loop.astype(np.int32))).max() < 200  # a 20 ms fade, no step
    assert not loop.flags.writeable  # shared by every held call


@pytest.mark.parametrize(("rate", "channels", "width", "what"), [
    (44100, 2, 2, "44100 Hz, stereo, 16-bit"),
    (16000, 1, 2, "16000 Hz, mono, 16-bit"),
    (8000, 1, 3, "8000 Hz, mono, 24-bit"),
])
def test_another_format_is_refused_naming_the_file_and_the_format_needed(
        tmp_path: Path, rate: int, channels: int, width: int, what: str) -> None:
    path = tmp_path / "office music.wav"
    with wave.open(str(path), "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(width)
        w.setframerate(rate)
        w.writeframes(bytes(rate * channels * width))
    with pytest.raises(WavFormatError) as e:
        HoldMusic.from_wav(path)
    message = str(e.value)
    assert str(path) in message and what in message
    assert "the box needs 8000 Hz, mono, 16-bit PCM WAV" in message
    assert "python -m tools.prompts convert" in message and "sox" in message


def test_an_mp3_or_a_missing_file_is_refused_as_a_media_error(tmp_path: Path) -> None:
    mp3 = tmp_path / "music.mp3"
    mp3.write_bytes(b"ID3\x04\x00\x00" + bytes(2000))
    with pytest.raises(MediaError, match=r"music\.mp3: not a PCM WAV file"):
        HoldMusic.from_wav(mp3)
    with pytest.raises(MediaError, match=r"absent\.wav: no such file"):
        HoldMusic.from_wav(tmp_path / "absent.wav")


def test_the_built_in_tune_is_unchanged() -> None:
    music = HoldMusic()
    assert np.array_equal(music.next_frame(), hold_music_samples()[:FRAME_SAMPLES])
    with pytest.raises(ValueError, match="whole frames"):
        HoldMusic(np.zeros(100, dtype=np.int16))
