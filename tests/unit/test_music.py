"""Hold music: never silence, never a click at the loop point, never a call-progress tone."""

from __future__ import annotations

import numpy as np

from firmware.media.frames import FRAME_SAMPLES, level_dbm0
from firmware.media.music import HoldMusic, hold_music_samples
from firmware.media.progress import classify
from firmware.media.tones import plan


def test_plays_without_end_and_loops_back_to_the_start() -> None:
    loop = hold_music_samples()
    music = HoldMusic()
    frames = [music.next_frame() for _ in range(len(loop) // FRAME_SAMPLES + 3)]
    assert not music.finished
    assert all(len(f) == FRAME_SAMPLES for f in frames)
    assert np.array_equal(frames[len(loop) // FRAME_SAMPLES], loop[:FRAME_SAMPLES])


def test_is_heard_as_music_at_a_modest_level() -> None:
    loop = hold_music_samples()
    for second in range(int(len(loop) / 8000)):
        assert level_dbm0(loop[second * 8000 : (second + 1) * 8000]) > -40  # never silent
    assert np.abs(loop).max() < 8000  # far from clipping either codec
    assert classify(loop, plan("us")).tone == "other"  # not mistaken for busy or dial tone
    assert abs(int(loop[-1]) - int(loop[0])) < 500  # the loop point does not click
