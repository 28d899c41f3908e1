"""Call waiting on an analog line: a second call while you talk.

The person hears the call-waiting tone over the conversation (REFERENCE.md: US 440 Hz
300 ms, then 10 s quiet, repeating) instead of the caller getting busy. A flash answers it
and puts the first call on hold; further flashes swap between the two (features.flash).
Hanging up with a call still waiting makes the phone ring with it. `*70` before dialling
turns call waiting off for that one call; `[analog] call_waiting = false` for good.

Not here yet: caller ID on call waiting (the CAS alert and the phone's acknowledgement).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from firmware.engine.channel import ChannelState, Party
from firmware.engine.features.flash import FlashState
from firmware.logs import call_event
from firmware.media.frames import Frame
from firmware.media.tones import ToneGenerator

if TYPE_CHECKING:
    from firmware.engine.channels.fxs import FxsChannel, FxsPort


class CallWaiting:
    def __init__(self, port: FxsPort) -> None:
        self.port = port
        self.leg: FxsChannel | None = None  # the call waiting to be answered
        self.caller: Party | None = None
        self.off_this_call = False  # *70 was dialled before this call
        self._tone: ToneGenerator | None = None

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
        self._tone = ToneGenerator(self.port.engine.plan.tone("call_waiting"))
        call_event("call-waiting", port=self.port.name, caller=caller.number)

    def take(self) -> FxsChannel | None:
        """The person answers the waiting call (a flash): the leg, tone stopped."""
        leg, self.leg, self.caller, self._tone = self.leg, None, None, None
        return leg

    def gone(self, leg: FxsChannel) -> bool:
        """The waiting caller gave up (or its ring time ran out)."""
        if leg is not self.leg:
            return False
        self.leg, self.caller, self._tone = None, None, None
        return True

    def overlay(self, frame: Frame) -> Frame:
        """What the person hears: the conversation with the tone over it."""
        tone = self._tone
        if tone is None:
            return frame
        mixed = frame.astype(np.int32) + tone.next_frame()
        return np.clip(mixed, -32768, 32767).astype(np.int16)

    @property
    def sounding(self) -> bool:
        return self._tone is not None
