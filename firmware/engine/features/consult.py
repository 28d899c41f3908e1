"""A consult call from a phone that has only one line to the box (a SIP phone keying *2).

The phone's leg stays where it is; a stand-in (`ConsultCaller`) places the consult call
for it, and a `ConsultBridge` carries the audio between the phone's leg and whoever the
stand-in reaches: ringback while it rings, then the two talk. The phone's leg is never
alone meanwhile, so its own call goes on; when the consult ends (the far end hangs up,
nobody answers) the feature gives the phone its first party back.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from firmware.engine.bridges import HoldingBridge
from firmware.engine.channel import Cause, Channel, ChannelState, Party
from firmware.media.frames import Frame, silence
from firmware.media.tones import ToneGenerator

if TYPE_CHECKING:
    from firmware.engine.pbx import Engine


class ConsultCaller(Channel):
    """The phone, as the caller of its consult call."""

    def __init__(self, bridge: ConsultBridge, phone: Channel) -> None:
        super().__init__(f"{phone.name}+consult", phone.party)
        self.consult = bridge
        self.internal = phone.internal
        self.state = ChannelState.UP

    def indicate(self, tone: str | None) -> None:
        self.consult.tone(tone)

    def ring(self, caller: Party) -> None:
        raise RuntimeError("a consult stand-in places calls, it is never rung")

    def deliver(self, frame: Frame) -> None:
        self.consult.heard = frame

    def _release(self, cause: Cause) -> None:
        pass

    def far_end(self) -> Channel | None:
        return self.partner()


class ConsultBridge(HoldingBridge):
    """The phone's leg during a consult: ringback, then the consulted party's voice."""

    def __init__(self, engine: Engine, phone: Channel) -> None:
        self._engine = engine
        self.heard: Frame | None = None
        super().__init__(phone, ToneGenerator(engine.plan.tone("ringback")), engine.clock,
                         "consult")
        self.caller = ConsultCaller(self, phone)

    def tone(self, name: str | None) -> None:
        self.play(ToneGenerator(self._engine.plan.tone(name)) if name else _Silence())

    def forward(self, source: Channel, frame: Frame) -> None:
        far = self.caller.far_end()
        if far is not None:
            far.deliver(frame)  # the phone speaks to the consulted party

    def capture(self) -> None:
        if self.caller.far_end() is not None:
            frame, self.heard = self.heard, None
            self.channel.deliver(frame if frame is not None else silence())
        else:
            super().capture()


class _Silence:
    finished = False

    def next_frame(self) -> Frame:
        return silence()
