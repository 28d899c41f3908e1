"""Call waiting on an analog line: a second call while you talk.

The person hears the call-waiting tone over the conversation (REFERENCE.md: US 440 Hz
300 ms, then 10 s quiet, repeating) instead of the caller getting busy. A flash answers it
and puts the first call on hold; further flashes swap between the two (features.flash).
Hanging up with a call still waiting makes the phone ring with it. `*70` before dialling
turns call waiting off for that one call; `[analog] call_waiting = false` for good.

Caller ID on call waiting (GR-30-CORE; ETSI EN 300 659-2), on lines with `callerid` on:
when the first burst of the tone (the SAS) is over, the conversation is muted both ways
and the box alerts the phone (CAS); a phone with the feature acknowledges with DTMF D (or
A) and gets the waiting caller's number, name, date and time as off-hook FSK (Bell 202 in
the US, V.23 elsewhere); one without it stays silent and the conversation resumes after
~260 ms. The exchange and its timings: `features.cidcw`. It runs once per waiting call;
the tone's later bursts are tone only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from firmware.engine.channel import ChannelState, Party
from firmware.engine.channels.fxs_ringer import callerid_message
from firmware.engine.features.cidcw import CidcwExchange
from firmware.engine.features.flash import FlashState
from firmware.logs import call_event
from firmware.media.frames import FRAME_MS, Frame
from firmware.media.fsk import FskStandard
from firmware.media.tones import ToneGenerator, ToneSpec

# A pause in the tone this long ends its first burst (the SAS): US 300 ms then 10 s,
# DE 200/200/200 then 5 s, UK 100 then 4 s.
_BURST_GAP_MS = 1000

if TYPE_CHECKING:
    from firmware.engine.channels.fxs import FxsChannel, FxsPort


class CallWaiting:
    def __init__(self, port: FxsPort) -> None:
        self.port = port
        self.leg: FxsChannel | None = None  # the call waiting to be answered
        self.caller: Party | None = None
        self.off_this_call = False  # *70 was dialled before this call
        self._tone: ToneGenerator | None = None
        self._sas_frames = 0  # frames of the tone before caller ID is sent (0: none)
        self._exchange: CidcwExchange | None = None

    def possible(self) -> bool:
        """May a second call wait here now? Only in a plain two-party call."""
        port, flash = self.port, self.port.flash
        channel = port.channel
        return (port.settings.call_waiting and not self.off_this_call and self.leg is None
                and channel is not None and channel.bridge is not None
                and channel.bridge.other(channel) is not None
                and flash.held is None and flash.state is FlashState.TALKING)

    def offer(self, leg: FxsChannel, caller: Party) -> None:
        """The waiting leg rings: the tone over the conversation."""
        self.leg, self.caller = leg, caller
        leg.state = ChannelState.RINGING
        spec = self.port.engine.plan.tone("call_waiting")
        self._tone = ToneGenerator(spec)
        self._sas_frames = _first_burst_frames(spec) if self.port.settings.callerid else 0
        call_event("call-waiting", port=self.port.name, caller=caller.number)

    def take(self) -> FxsChannel | None:
        """The person answers the waiting call (a flash): the leg, tone stopped."""
        leg = self.leg
        self._stop()
        return leg

    def gone(self, leg: FxsChannel) -> bool:
        """The waiting caller gave up (or its ring time ran out)."""
        if leg is not self.leg:
            return False
        self._stop()
        return True

    def _stop(self) -> None:
        self.leg, self.caller, self._tone, self._exchange = None, None, None, None
        self._sas_frames = 0

    def overlay(self, frame: Frame) -> Frame:
        """What the person hears: the conversation with the tone over it, or, while caller
        ID is sent, only the signals for the phone."""
        tone = self._tone
        if tone is None:
            return frame
        beep = tone.next_frame()  # the tone's cadence runs on under the exchange
        exchange = self._exchange
        if exchange is not None:
            out = exchange.next_frame()
            if exchange.done:
                self._finish_exchange()
            return out
        if self._sas_frames:
            self._sas_frames -= 1
            if not self._sas_frames:
                self._start_exchange()  # from the next frame on
        mixed = frame.astype(np.int32) + beep
        return np.clip(mixed, -32768, 32767).astype(np.int16)

    @property
    def sounding(self) -> bool:
        return self._tone is not None

    # -- caller ID on call waiting (features.cidcw) -----------------------------------

    @property
    def muting(self) -> bool:
        """The conversation is muted both ways: caller ID is being sent."""
        return self._exchange is not None

    def hear(self, frame: Frame) -> None:
        """What the phone sent while muted: its acknowledgement, perhaps."""
        exchange = self._exchange
        if exchange is not None:
            exchange.heard(frame)
            if exchange.done:
                self._finish_exchange()

    def _start_exchange(self) -> None:
        if self.caller is None:
            return
        engine = self.port.engine
        standard = FskStandard.BELL202 if engine.plan.callerid == "bell202" else FskStandard.V23
        self._exchange = CidcwExchange(callerid_message(self.caller, engine.now_local()),
                                       standard)
        call_event("callerid-waiting", port=self.port.name, caller=self.caller.number)

    def _finish_exchange(self) -> None:
        exchange, self._exchange = self._exchange, None
        if exchange is not None:
            call_event("callerid-waiting-done", port=self.port.name, ack=exchange.ack or "none")


def _first_burst_frames(spec: ToneSpec) -> int:
    """Frames of `spec` before its first long pause: the SAS the caller ID follows."""
    ms = 0
    for segment in spec.segments:
        if segment.silent and (segment.ms is None or segment.ms >= _BURST_GAP_MS):
            break
        if segment.ms is None:
            return 0  # a steady tone has no end to follow
        ms += segment.ms
    return max(1, -(-ms // FRAME_MS))
