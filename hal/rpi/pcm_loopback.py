"""A PCM stream without a sound card: the far end of every timeslot is a buffer.

Same contract as the sound card stream (`PcmStream`): every 20 ms one block goes through
`PcmHighway.on_audio_thread`. What a slot captures is what was `speak`-ed into it (the
phone's microphone); what the box plays to a slot is kept for `heard` (the earpiece).

Two clocks drive it: `clock="loop"` ticks with a `call_at` timer on the event loop (tests:
fake time, no threads), `clock="thread"` ticks on a real thread paced by deadline, standing
in for the codec's clock (benchmarks: measures the thread-to-loop bridge for real).
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import deque
from typing import Literal

import numpy as np

from hal.audio import FRAME_MS, FRAME_SAMPLES, Frame
from hal.rpi.pcm import PcmHighway

PERIOD_S = FRAME_MS / 1000.0
HEARD_SECONDS = 15.0  # what `heard` can look back over


class LoopbackPcm:
    def __init__(self, highway: PcmHighway, clock: Literal["loop", "thread"] = "loop") -> None:
        self.name = "loopback"
        self._highway = highway
        self._clock = clock
        channels = max(highway.channels, 1)
        self._mic = {slot: np.zeros(0, np.int16) for slot in highway.ports}
        self._mic_lock = threading.Lock()  # speak() on the loop, tick() maybe on the thread
        self._earpiece: dict[int, deque[Frame]] = {
            slot: deque(maxlen=int(HEARD_SECONDS * 1000 / FRAME_MS)) for slot in highway.ports
        }
        self._captured = np.zeros((FRAME_SAMPLES, channels), np.int16)
        self._out = np.zeros((FRAME_SAMPLES, channels), np.int16)
        self._timer: asyncio.TimerHandle | None = None
        self._thread: threading.Thread | None = None
        self._running = threading.Event()
        self._t0 = 0.0
        self._n = 0
        self.ticks = 0

    # -- the far end ---------------------------------------------------------------------

    def speak(self, slot: int, samples: np.ndarray) -> None:
        with self._mic_lock:
            self._mic[slot] = np.concatenate((self._mic[slot], samples.astype(np.int16)))

    def heard(self, slot: int, seconds: float = HEARD_SECONDS) -> np.ndarray:
        frames = list(self._earpiece[slot])[-max(1, round(seconds * 1000 / FRAME_MS)):]
        return np.concatenate(frames) if frames else np.zeros(0, np.int16)

    def tick(self, stamp: float | None = None) -> None:
        """One 20 ms period of the stand-in codec."""
        self.ticks += 1
        with self._mic_lock:
            for slot, queued in self._mic.items():
                take = queued[:FRAME_SAMPLES]
                self._captured[:, slot] = 0
                self._captured[: len(take), slot] = take
                self._mic[slot] = queued[FRAME_SAMPLES:]
        self._highway.on_audio_thread(self._captured, self._out,
                                      time.perf_counter() if stamp is None else stamp)
        for slot, earpiece in self._earpiece.items():
            earpiece.append(self._out[:, slot].copy())

    # -- PcmStream ---------------------------------------------------------------------------

    def start(self) -> None:
        if self._clock == "loop":
            loop = self._highway.loop
            self._t0, self._n = loop.time(), 0
            self._timer = loop.call_at(self._t0, self._on_timer)
            return
        self._running.set()
        self._thread = threading.Thread(target=self._run_thread, name="pcm-loopback",
                                        daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._running.clear()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def _on_timer(self) -> None:
        self.tick()
        self._n += 1
        self._timer = self._highway.loop.call_at(self._t0 + self._n * PERIOD_S, self._on_timer)

    def _run_thread(self) -> None:
        # The stand-in codec: paced by deadline on its own clock, like a sound card's DMA.
        t0 = time.perf_counter()
        n = 0
        while self._running.is_set():
            due = t0 + n * PERIOD_S
            delay = due - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            self.tick(stamp=time.perf_counter())
            n += 1
