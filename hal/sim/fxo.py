"""A virtual FXO port: the office's phone line, with the telephone exchange and a person
outside at the other end.

The firmware side is the `Trunk` interface: ring events, seize/release, audio both ways.
The outside side (`call`, `answer`, `hang_up`, `speak`, `heard`, `status`) is what the
control interface drives, as a person calling the office or being called by it:

    call        the exchange rings the line with the cadence given; caller ID data (audio,
                made by the tool) goes after the first ring (Bell 202) or, after a line
                reversal, before it (ETSI)
    seized      the box answered: the two talk
    box seizes  it hears dial tone until it sends sound (DTMF), then, once it has been
                quiet for a moment, ringback: the outside phone "rings" until `answer`
    hang_up     the outside person hangs up: while ringing the rings stop; in a call the
                exchange drops loop current (`disconnect = "loop"`) or, like many real
                lines, only plays busy tone (`disconnect = "tone"`)

The exchange does not decode the digits: the tool does, from what the outside heard
(`heard`), as it judges every other sound of the box.
"""

from __future__ import annotations

import asyncio
import enum
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from hal.audio import FRAME_SAMPLES, SAMPLE_RATE, Frame
from hal.events import LineReversal, LoopCurrentLost, RingStarted, RingStopped, TrunkEvent
from hal.sim.recorder import Recorder

EARPIECE_SECONDS = 15.0
MIC_MAX_SECONDS = 120.0
BELL_CALLERID_DELAY_S = 0.5  # after the first ring ends (GR-30-CORE)
ETSI_REVERSAL_TO_DATA_S = 0.1
ETSI_DATA_TO_RING_S = 0.2
MAX_RING_S = 300.0  # an outside caller nobody answers gives up in the end
DIALLING_DONE_S = 1.5  # the box quiet this long after sending digits: the number is dialled
LOUD = 500  # a frame louder than this (peak) is the box sending something (digits)
TONE_PEAK = 3000.0
# US exchange tones: (frequencies Hz, on ms, off ms); off 0 = steady.
DIAL_TONE = ((350.0, 440.0), 1000, 0)
RINGBACK = ((440.0, 480.0), 2000, 4000)
BUSY = ((480.0, 620.0), 500, 500)


class SimFxoError(ValueError):
    """A request the virtual line cannot carry out (busy line, bad audio)."""


class Exchange(enum.Enum):
    IDLE = "idle"
    RINGING_IN = "ringing"  # an outside caller rings the box
    DIAL_TONE = "dial-tone"  # the box seized the line to call out
    DIALLING = "dialling"  # the box sends digits
    RINGING_OUT = "ringing-out"  # the outside phone rings
    CONNECTED = "connected"
    CLEARED = "cleared"  # the outside hung up; the box still holds the line


class ToneSource:
    """An exchange tone as frames: steady or on/off."""

    def __init__(self, tone: tuple[tuple[float, ...], int, int]) -> None:
        freqs, on_ms, off_ms = tone
        period = (on_ms + off_ms) * SAMPLE_RATE // 1000 if off_ms else SAMPLE_RATE
        t = np.arange(period) / SAMPLE_RATE
        wave = sum(np.sin(2 * np.pi * f * t) for f in freqs) * TONE_PEAK / len(freqs)
        if off_ms:
            wave[on_ms * SAMPLE_RATE // 1000:] = 0
        self._samples = np.rint(wave).astype(np.int16)
        self._at = 0

    def next_frame(self) -> Frame:
        idx = (self._at + np.arange(FRAME_SAMPLES)) % len(self._samples)
        self._at = (self._at + FRAME_SAMPLES) % len(self._samples)
        return self._samples[idx]


class SimFxoLine:
    def __init__(self, name: str, loop: asyncio.AbstractEventLoop) -> None:
        self._name = name
        self._loop = loop
        self._listener: Callable[[TrunkEvent], None] | None = None
        self._seized = False
        self.state = Exchange.IDLE
        self._timers: list[asyncio.TimerHandle] = []
        self._rings: list[list[float | None]] = []
        self._onhook_audio = np.zeros(0, dtype=np.int16)  # caller ID data to the box
        self._mic = np.zeros(0, dtype=np.int16)  # the outside person speaking
        self._earpiece = Recorder(EARPIECE_SECONDS)  # what the outside person hears
        self._tone: ToneSource | None = None
        self._last_loud = 0.0
        self.caller_hung_up = False
        self.box_hung_up = False

    # -- Trunk (the firmware's side) ------------------------------------------------------

    @property
    def name(self) -> str:
        return self._name

    @property
    def line_present(self) -> bool:
        return True

    @property
    def off_hook(self) -> bool:
        return self._seized

    def set_listener(self, listener: Callable[[TrunkEvent], None]) -> None:
        self._listener = listener

    def seize(self) -> None:
        if self._seized:
            return
        self._seized = True
        self.box_hung_up = False
        self._onhook_audio = self._onhook_audio[:0]
        if self.state is Exchange.RINGING_IN:
            self._stop_ringing()
            self.state = Exchange.CONNECTED
            self._tone = None
        elif self.state is Exchange.IDLE:
            self.state = Exchange.DIAL_TONE
            self._tone = ToneSource(DIAL_TONE)

    def release(self) -> None:
        if not self._seized:
            return
        self._seized = False
        if self.state in (Exchange.CONNECTED, Exchange.RINGING_OUT, Exchange.DIALLING):
            self.box_hung_up = True
        self.state = Exchange.IDLE
        self._tone = None
        self._mic = self._mic[:0]

    def read_frame(self) -> Frame | None:
        if not self._seized:
            return self._take("_onhook_audio")
        if self._tone is not None:
            return self._tone.next_frame()
        if self.state is Exchange.CONNECTED:
            return self._take("_mic")
        return None

    def write_frame(self, frame: Frame) -> None:
        if not self._seized:
            return
        now = self._loop.time()
        self._earpiece.write(frame, now)
        loud = int(np.max(np.abs(frame.astype(np.int32)))) > LOUD if len(frame) else False
        if loud:
            self._last_loud = now
            if self.state is Exchange.DIAL_TONE:
                self.state, self._tone = Exchange.DIALLING, None
        elif self.state is Exchange.DIALLING and now - self._last_loud > DIALLING_DONE_S:
            self.state, self._tone = Exchange.RINGING_OUT, ToneSource(RINGBACK)

    # -- the outside (the person's side) ---------------------------------------------------

    def call(self, callerid: np.ndarray | None, cadence_ms: Sequence[float] = (2000, 4000),
             before_ring: bool = False) -> None:
        """Ring the line, as an outside caller dialling the office's number."""
        if self.state is not Exchange.IDLE or self._seized:
            raise SimFxoError(f"{self._name} is in use ({self.state.value}); hang up first")
        if len(cadence_ms) < 2 or len(cadence_ms) % 2 or any(ms <= 0 for ms in cadence_ms):
            raise SimFxoError("cadence_ms is on/off pairs of positive ms, e.g. [2000, 4000]")
        self.state = Exchange.RINGING_IN
        self.caller_hung_up = self.box_hung_up = False
        self._rings.clear()
        at = 0.0
        if callerid is not None and before_ring:
            self._emit(LineReversal)
            self._later(ETSI_REVERSAL_TO_DATA_S, self._send_onhook, callerid)
            at = ETSI_REVERSAL_TO_DATA_S + len(callerid) / SAMPLE_RATE + ETSI_DATA_TO_RING_S
            callerid = None
        first_off = True
        while at < MAX_RING_S:
            for on_ms, off_ms in zip(cadence_ms[0::2], cadence_ms[1::2], strict=True):
                self._later(at, self._ring, True)
                at += on_ms / 1000
                self._later(at, self._ring, False)
                if callerid is not None and first_off:
                    self._later(at + BELL_CALLERID_DELAY_S, self._send_onhook, callerid)
                first_off = False
                at += off_ms / 1000
        self._later(at, self._give_up)

    def answer(self) -> None:
        """The outside phone the box called is answered."""
        if self.state not in (Exchange.RINGING_OUT, Exchange.DIALLING):
            raise SimFxoError(f"nothing rings at the outside phone ({self.state.value})")
        self.state, self._tone = Exchange.CONNECTED, None

    def hang_up(self, disconnect: str = "loop") -> None:
        """The outside person hangs up (or stops calling)."""
        if disconnect not in ("loop", "tone"):
            raise SimFxoError("disconnect is 'loop' (loop current drop) or 'tone' (busy tone)")
        self.caller_hung_up = True
        if self.state is Exchange.RINGING_IN:
            self._stop_ringing()
            self.state = Exchange.IDLE
            return
        if self.state is Exchange.IDLE:
            return
        self.state, self._tone = Exchange.CLEARED, ToneSource(BUSY)
        self._mic = self._mic[:0]
        if disconnect == "loop":
            self._emit(LoopCurrentLost)

    def speak(self, samples: np.ndarray) -> float:
        if len(self._mic) + len(samples) > MIC_MAX_SECONDS * SAMPLE_RATE:
            raise SimFxoError(f"more than {MIC_MAX_SECONDS:.0f} s of audio queued")
        self._mic = np.concatenate((self._mic, samples.astype(np.int16, copy=False)))
        return len(self._mic) * 1000.0 / SAMPLE_RATE

    def heard(self, seconds: float) -> np.ndarray:
        """What the outside person heard from the box during the last `seconds`."""
        return self._earpiece.heard(seconds, self._loop.time())

    def status(self) -> dict[str, Any]:
        return {
            "port": self._name,
            "state": self.state.value,
            "seized": self._seized,
            "ringing": bool(self._rings and self._rings[-1][1] is None),
            "rings": [list(r) for r in self._rings[-16:]],
            "box_hung_up": self.box_hung_up,
            "now": self._loop.time(),
        }

    # -- the exchange's timing -------------------------------------------------------------

    def _later(self, delay: float, what: Callable[..., None], *args: Any) -> None:
        self._timers.append(self._loop.call_later(delay, what, *args))

    def _ring(self, on: bool) -> None:
        now = self._loop.time()
        if on:
            self._rings.append([now, None])
            self._emit(RingStarted)
        else:
            if self._rings and self._rings[-1][1] is None:
                self._rings[-1][1] = now
            self._emit(RingStopped)

    def _send_onhook(self, samples: np.ndarray) -> None:
        if not self._seized:
            self._onhook_audio = samples.astype(np.int16, copy=True)

    def _give_up(self) -> None:
        if self.state is Exchange.RINGING_IN:
            self.hang_up()

    def _stop_ringing(self) -> None:
        ringing = bool(self._rings and self._rings[-1][1] is None)
        for timer in self._timers:
            timer.cancel()
        self._timers.clear()
        self._onhook_audio = self._onhook_audio[:0]
        if ringing:
            self._ring(False)

    def _emit(self, event: type[TrunkEvent]) -> None:
        if self._listener is not None:
            self._listener(event(self._name, self._loop.time()))

    def _take(self, attr: str) -> Frame | None:
        buffer: np.ndarray = getattr(self, attr)
        if len(buffer) == 0:
            return None
        frame = buffer[:FRAME_SAMPLES]
        setattr(self, attr, buffer[FRAME_SAMPLES:])
        if len(frame) < FRAME_SAMPLES:
            frame = np.concatenate((frame, np.zeros(FRAME_SAMPLES - len(frame), np.int16)))
        return frame
