"""Caller ID on call waiting: the exchange with the phone (Telcordia GR-30-CORE off-hook
data transmission; ETSI EN 300 659-2 in Europe).

After the call-waiting tone (SAS) the box talks to the phone, not the person, for about
half a second. Both ways of the conversation are muted meanwhile: the far party hears
silence (not the phone's acknowledgement), the person hears only the signals.

    step       the phone hears                          until
    ALERT      CAS: 2130 + 2750 Hz, 80 ms               the alert is out
    AWAIT_ACK  silence; the box listens for DTMF D/A    ACK heard, or 160 ms + a frame
    PAUSE      silence (the phone's ACK tone ends)      100 ms after the ACK was heard
    DATA       FSK: no seizure, 80 marks, MDMF          the burst is out
    DONE       the conversation again

    in step    event        next
    ALERT      ALERT_SENT   AWAIT_ACK
    AWAIT_ACK  ACK          PAUSE
    AWAIT_ACK  NO_ACK       DONE    (a phone without the feature: no data, just go on)
    PAUSE      PAUSE_OVER   DATA
    DATA       DATA_SENT    DONE

Timings (REFERENCE.md "Caller ID on an FXS port"; GR-30-CORE): CAS 80 ms (75-85); the
phone answers within 100 ms of the alert's end with a ~60 ms DTMF D (or A); the box waits
up to 160 ms for it, plus one 20 ms frame for the frame the ACK's start may fall in; the
data starts 50-500 ms after the ACK ends: the box's detector confirms a key ~32 ms into
its tone, so 100 ms later the ACK is over and at least ~60 ms have passed.

Time is counted in the 20 ms frames the port renders and captures: the exchange is a
plain synchronous object, driven by the media clock (`next_frame` for what the phone
hears, `heard` for what it sends), and tested without a loop.
"""

from __future__ import annotations

import enum
from typing import Final

import numpy as np

from firmware.media.dtmf import DtmfDetector
from firmware.media.frames import FRAME_MS, FRAME_SAMPLES, Frame, silence
from firmware.media.fsk import FskStandard, etsi_alert_signal, fsk_modulate

CAS_MS: Final = 80
ACK_WINDOW_MS: Final = 160 + FRAME_MS
DATA_AFTER_ACK_MS: Final = 100
ACK_KEYS: Final = "DA"
OFFHOOK_MARK_BITS: Final = 80  # GR-30-CORE off-hook: no channel seizure, 80 mark bits


class Step(enum.Enum):
    ALERT = "alert"
    AWAIT_ACK = "await-ack"
    PAUSE = "pause"
    DATA = "data"
    DONE = "done"


class Event(enum.Enum):
    ALERT_SENT = "alert sent"
    ACK = "ack"
    NO_ACK = "no ack"
    PAUSE_OVER = "pause over"
    DATA_SENT = "data sent"


TRANSITIONS: Final[dict[Step, dict[Event, Step]]] = {
    Step.ALERT: {Event.ALERT_SENT: Step.AWAIT_ACK},
    Step.AWAIT_ACK: {Event.ACK: Step.PAUSE, Event.NO_ACK: Step.DONE},
    Step.PAUSE: {Event.PAUSE_OVER: Step.DATA},
    Step.DATA: {Event.DATA_SENT: Step.DONE},
    Step.DONE: {},
}


class ExchangeError(RuntimeError):
    """An event that the current step does not expect (a bug, never the phone's doing)."""


def _frames(samples: np.ndarray) -> list[Frame]:
    """`samples` cut into whole frames, the last one padded with silence."""
    count = -(-len(samples) // FRAME_SAMPLES)
    padded = np.zeros(count * FRAME_SAMPLES, dtype=np.int16)
    padded[: len(samples)] = samples
    return list(padded.reshape(count, FRAME_SAMPLES))


class CidcwExchange:
    """One exchange: alert, wait for the ACK, send `message` (an MDMF caller-ID message)."""

    def __init__(self, message: bytes, standard: FskStandard) -> None:
        self.step = Step.ALERT
        self.ack: str | None = None  # the key the phone acknowledged with
        self._message = message
        self._standard = standard
        self._out = _frames(etsi_alert_signal(CAS_MS))  # what the phone hears next
        self._left = 0  # frames left in a step counted in frames
        self._detector: DtmfDetector | None = None

    @property
    def done(self) -> bool:
        return self.step is Step.DONE

    def next_frame(self) -> Frame:
        """What the phone hears this tick (the far party's audio is not passed)."""
        step = self.step
        if step in (Step.ALERT, Step.DATA):
            frame = self._out.pop(0)
            if not self._out:
                self._go(Event.ALERT_SENT if step is Step.ALERT else Event.DATA_SENT)
            return frame
        if step is Step.PAUSE:
            self._left -= 1
            if self._left <= 0:
                self._go(Event.PAUSE_OVER)
        return silence()

    def heard(self, frame: Frame) -> None:
        """What the phone sent this tick: in AWAIT_ACK, the ACK is looked for in it."""
        if self.step is not Step.AWAIT_ACK or self._detector is None:
            return
        keys = [k for k in self._detector.feed(frame) if k in ACK_KEYS]
        if keys:
            self.ack = keys[0]
            self._go(Event.ACK)
            return
        self._left -= 1
        if self._left <= 0:
            self._go(Event.NO_ACK)

    def _go(self, event: Event) -> None:
        step = TRANSITIONS[self.step].get(event)
        if step is None:
            was, self.step = self.step, Step.DONE  # a known state, never half-moved
            raise ExchangeError(f"{event.value!r} in step {was.value!r}")
        self.step = step
        if step is Step.AWAIT_ACK:
            self._detector = DtmfDetector()
            self._left = ACK_WINDOW_MS // FRAME_MS
        elif step is Step.PAUSE:
            self._detector = None
            self._left = DATA_AFTER_ACK_MS // FRAME_MS
        elif step is Step.DATA:
            burst = fsk_modulate(self._message, self._standard, seizure_bits=0,
                                 mark_bits=OFFHOOK_MARK_BITS)
            self._out = _frames(burst)
        else:
            self._detector = None
