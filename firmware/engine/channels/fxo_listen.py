"""What the box listens for on the phone line, frame by frame: the caller ID the exchange
sends while the line rings, and the busy tone by which many exchanges say the far end hung
up (they never drop loop current).

Both are plain synchronous classes fed 20 ms frames (STYLE.md, "Synchronous core").
"""

from __future__ import annotations

from collections import deque

import numpy as np

from firmware.engine.channel import Party
from firmware.media.callerid import CallerId, CallerIdError, parse_message
from firmware.media.frames import FRAME_MS, Frame, silence
from firmware.media.fsk import FskDemodulator, FskStandard
from firmware.media.progress import classify
from firmware.media.tones import TonePlan

# Judge the last 3 s once a second (the classifier costs ~4 ms per 3 s of audio): busy
# (500/500 ms) and reorder show two whole cycles in that.
DISCONNECT_WINDOW_MS = 3000
DISCONNECT_EVERY_MS = 1000
DISCONNECT_TONES = ("busy", "congestion")


class CallerIdCapture:
    """Decodes the first caller-ID message in the line's on-hook audio."""

    def __init__(self, plan: TonePlan) -> None:
        standard = FskStandard.BELL202 if plan.callerid == "bell202" else FskStandard.V23
        self._demodulator = FskDemodulator(standard)
        self.caller: Party | None = None

    def feed(self, frame: Frame) -> None:
        if self.caller is not None:
            return
        for message in self._demodulator.feed(frame):
            try:
                parsed = parse_message(message)
            except CallerIdError:
                continue  # a damaged burst: the call comes in without a number
            if isinstance(parsed, CallerId):
                self.caller = Party(parsed.number, parsed.name)
                return


class DisconnectTone:
    """Hears the exchange's busy or reorder tone on a line in a call."""

    def __init__(self, plan: TonePlan) -> None:
        self._plan = plan
        self._frames: deque[Frame] = deque(maxlen=DISCONNECT_WINDOW_MS // FRAME_MS)
        self._since = 0

    def feed(self, frame: Frame | None) -> bool:
        """True once the line has been sounding busy or reorder tone."""
        self._frames.append(frame if frame is not None else silence())
        self._since += FRAME_MS
        if self._since < DISCONNECT_EVERY_MS or len(self._frames) < self._frames.maxlen:
            return False
        self._since = 0
        return classify(np.concatenate(self._frames), self._plan).tone in DISCONNECT_TONES
