"""The PCM highway through the loopback stream: frames in order both ways, one channel per
timeslot, under- and overruns counted (and logged, rate-limited), the thread bridge."""

from __future__ import annotations

import asyncio
import logging
import threading

import numpy as np
import pytest

from hal.audio import FRAME_SAMPLES
from hal.rpi.pcm import (
    CAPTURE_MAX_FRAMES,
    PLAYBACK_MAX_FRAMES,
    PRIME_FRAMES,
    XRUN_LOG_INTERVAL_S,
    PcmHighway,
)
from hal.rpi.pcm_loopback import LoopbackPcm
from hal.rpi.pcm_sounddevice import alsa_card_index, portaudio_device

FRAME_S = 0.02


def numbered(n: int, slot: int = 0) -> np.ndarray:
    """Frames whose samples are their number (and slot): order is visible in the audio."""
    return np.concatenate([np.full(FRAME_SAMPLES, 100 * slot + i, np.int16) for i in range(n)])


def frame_numbers(samples: np.ndarray) -> list[int]:
    return [int(samples[i]) for i in range(0, len(samples), FRAME_SAMPLES)]


def highway(slots: tuple[int, ...] = (0, 1, 2)) -> tuple[PcmHighway, LoopbackPcm]:
    hw = PcmHighway(asyncio.get_running_loop(), slots)
    return hw, LoopbackPcm(hw)


async def test_captured_frames_arrive_in_order_on_their_own_slot() -> None:
    hw, pcm = highway()
    pcm.speak(0, numbered(20, slot=0))
    pcm.speak(2, numbered(20, slot=2))
    pcm.start()
    got: dict[int, list[int]] = {0: [], 2: []}
    for _ in range(20):
        await asyncio.sleep(FRAME_S)
        for slot, seen in got.items():
            frame = hw.port(slot).read_frame()
            if frame is not None:
                assert (frame == frame[0]).all()
                seen.append(int(frame[0]))
    pcm.stop()
    assert got[0] == list(range(20))
    assert got[2] == [200 + i for i in range(20)]
    assert hw.counters.capture_overruns == 0


async def test_played_frames_come_out_in_order_after_priming() -> None:
    hw, pcm = highway()
    pcm.start()
    port = hw.port(1)
    for i in range(1, 11):
        port.write_frame(np.full(FRAME_SAMPLES, i, np.int16))
        await asyncio.sleep(FRAME_S)
    await asyncio.sleep(0.2)
    pcm.stop()
    played = [n for n in frame_numbers(pcm.heard(1, 1.0)) if n]
    assert played == list(range(1, 11))
    assert hw.counters.playback_underruns == 1  # the stream ran dry once, at the end
    assert set(frame_numbers(pcm.heard(0, 1.0))) == {0}  # other slots stay silent


async def test_an_underrun_is_counted_once_and_playback_primes_again() -> None:
    hw, pcm = highway()
    pcm.start()
    port = hw.port(0)
    for _ in range(PRIME_FRAMES):
        port.write_frame(np.full(FRAME_SAMPLES, 7, np.int16))
    await asyncio.sleep(1.0)  # the engine stalls: the queue runs dry, then stays idle
    assert hw.counters.playback_underruns == 1
    port.write_frame(np.full(FRAME_SAMPLES, 8, np.int16))  # one frame: not enough to start
    await asyncio.sleep(0.1)
    assert 8 not in frame_numbers(pcm.heard(0, 0.1))
    pcm.stop()


async def test_overruns_drop_the_oldest_and_are_counted() -> None:
    hw, pcm = highway()
    port = hw.port(0)
    for i in range(PLAYBACK_MAX_FRAMES + 3):  # nothing plays yet: the engine ran ahead
        port.write_frame(np.full(FRAME_SAMPLES, i, np.int16))
    assert hw.counters.playback_overruns == 3
    port.read_frame()  # someone listens to slot 0
    pcm.speak(0, numbered(CAPTURE_MAX_FRAMES + 2))
    for _ in range(CAPTURE_MAX_FRAMES + 2):
        pcm.tick()
    await asyncio.sleep(0)
    assert hw.counters.capture_overruns == 2
    assert int(port.read_frame()[0]) == 2  # type: ignore[index]
    await asyncio.sleep(0.2)  # from now on nobody reads any slot: drops are not overruns
    pcm.speak(1, numbered(CAPTURE_MAX_FRAMES + 2))
    for _ in range(CAPTURE_MAX_FRAMES + 2):
        pcm.tick()
    await asyncio.sleep(0)
    assert hw.counters.capture_overruns == 2


async def test_xruns_are_logged_at_most_every_ten_seconds(
        caplog: pytest.LogCaptureFixture) -> None:
    hw, pcm = highway((0,))
    pcm.start()
    with caplog.at_level(logging.WARNING, logger="hal.rpi.pcm"):
        for _ in range(5):  # five separate underruns within a few seconds
            for _ in range(PRIME_FRAMES):
                hw.port(0).write_frame(np.zeros(FRAME_SAMPLES, np.int16))
            await asyncio.sleep(0.5)
        await asyncio.sleep(XRUN_LOG_INTERVAL_S + 0.1)
    pcm.stop()
    lines = [r.message for r in caplog.records]
    assert lines == [f"pcm: 5 playback underruns in the last {XRUN_LOG_INTERVAL_S:.0f} s"]


async def test_blocks_of_the_wrong_size_are_dropped_and_counted() -> None:
    hw, _ = highway((0,))
    out = np.ones((80, 1), np.int16)
    hw.on_audio_thread(np.zeros((80, 1), np.int16), out, 0.0)
    assert hw.counters.bad_blocks == 1 and not out.any()


async def test_the_audio_thread_only_hands_over_through_the_loop() -> None:
    hw, pcm = highway((0,))
    delivered: list[float] = []
    hw.on_delivered = delivered.append
    pcm.speak(0, numbered(1))
    audio_thread = threading.Thread(target=pcm.tick, kwargs={"stamp": 42.0})
    audio_thread.start()
    audio_thread.join()
    assert delivered == []  # nothing ran on the audio thread but the hand-over
    await asyncio.sleep(0)
    assert delivered == [42.0]
    assert hw.port(0).read_frame() is not None


def test_alsa_names_find_the_portaudio_device() -> None:
    cards = (" 0 [Headphones     ]: bcm2835_headpho - bcm2835 Headphones\n"
             "                      bcm2835 Headphones\n"
             " 2 [pbxhat         ]: simple-card - pbx-hat\n")
    devices = [{"name": "bcm2835 Headphones: - (hw:0,0)"}, {"name": "pbx-hat: - (hw:2,0)"},
               {"name": "default"}]
    assert alsa_card_index("pbxhat", cards) == 2
    assert portaudio_device("hw:CARD=pbxhat,DEV=0", devices, cards) == 1
    assert portaudio_device("default", devices, cards) == "default"
    assert portaudio_device("hw:CARD=other,DEV=0", devices, cards) == "hw:CARD=other,DEV=0"
