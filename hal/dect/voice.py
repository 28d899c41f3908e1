"""The handsets' voice: 20 ms frames per PCM timeslot, between the module and the host.

A real CMBS module puts each call's voice on a PCM/I2S (IOM) bus, one timeslot per call
(`hal.dect.cmbs`, assumption 11); the host reads and writes that bus through its sound
card. The base logic only needs frames per timeslot, so the bus is this small interface.
`FrameQueues` is the bus as two bounded queues per timeslot: the fake module in the tests
sits on one end, and it is what the UART backend uses until the board's PCM audio
(ALSA, `hal/rpi`) provides a `VoicePath` of its own.
"""

from __future__ import annotations

from collections import deque
from typing import Protocol

from hal.audio import Frame

QUEUE_FRAMES = 25  # 500 ms: a side that stops reading loses old audio, not memory


class VoicePath(Protocol):
    def read(self, timeslot: int) -> Frame | None:
        """The next 20 ms the module sent on `timeslot`, or None (nothing: silence)."""
        ...

    def write(self, timeslot: int, frame: Frame) -> None:
        """20 ms for the module on `timeslot`."""
        ...


class FrameQueues:
    """A PCM bus as queues: the host's end (`read`, `write`) and the module's end
    (`module_read`, `module_write`)."""

    def __init__(self, timeslots: int) -> None:
        self._to_host = [deque[Frame](maxlen=QUEUE_FRAMES) for _ in range(timeslots)]
        self._to_module = [deque[Frame](maxlen=QUEUE_FRAMES) for _ in range(timeslots)]

    def read(self, timeslot: int) -> Frame | None:
        queue = self._to_host[timeslot]
        return queue.popleft() if queue else None

    def write(self, timeslot: int, frame: Frame) -> None:
        self._to_module[timeslot].append(frame)

    def module_read(self, timeslot: int) -> Frame | None:
        queue = self._to_module[timeslot]
        return queue.popleft() if queue else None

    def module_write(self, timeslot: int, frame: Frame) -> None:
        self._to_host[timeslot].append(frame)

    def clear(self, timeslot: int) -> None:
        self._to_host[timeslot].clear()
        self._to_module[timeslot].clear()
