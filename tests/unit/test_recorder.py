"""The virtual earpiece keeps a continuous timeline: pauses in the stream are silence."""

from __future__ import annotations

import numpy as np

from hal.sim.recorder import Recorder


def frame(value: int) -> np.ndarray:
    return np.full(160, value, dtype=np.int16)


def test_back_to_back_frames_are_contiguous_despite_timer_jitter() -> None:
    r = Recorder(seconds=1)
    for n, jitter in enumerate([0, 0.003, -0.001, 0.004]):
        r.write(frame(n + 1), 0.02 * n + jitter)
    heard = r.heard(0.08, now=0.08)
    assert list(heard[::160]) == [1, 2, 3, 4]


def test_a_stop_in_the_stream_is_heard_as_silence() -> None:
    r = Recorder(seconds=2)
    r.write(frame(5), 0.0)
    r.write(frame(6), 0.5)  # nothing was played for 480 ms
    heard = r.heard(0.52, now=0.52)
    assert heard[:160].tolist() == [5] * 160
    assert not heard[160:-160].any()
    assert heard[-160:].tolist() == [6] * 160
    assert not r.heard(1.0, now=2.0).any()  # and since then, silence


def test_the_ring_keeps_only_the_newest_audio() -> None:
    r = Recorder(seconds=0.1)
    for n in range(10):
        r.write(frame(n), 0.02 * n)
    assert list(r.heard(0.1, now=0.2)[::160]) == [5, 6, 7, 8, 9]
