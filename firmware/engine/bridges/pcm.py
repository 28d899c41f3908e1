"""A two-party bridge for decoded legs: each side's captured frame is the other's audio."""

from __future__ import annotations

from firmware.engine.channel import Channel
from firmware.logs import call_event
from firmware.media.frames import Frame


class BridgeError(RuntimeError):
    """A channel that is already bridged or gone cannot join a bridge."""


class TwoPartyBridge:
    def __init__(self, a: Channel, b: Channel) -> None:
        for ch in (a, b):
            if ch.bridge is not None or ch.gone.is_set():
                raise BridgeError(f"{ch.name} cannot be bridged: {ch!r}")
        self.a, self.b = a, b
        a.bridge = b.bridge = self
        for ch in (a, b):
            start = getattr(ch, "media_up", None)  # legs whose audio the box must decode
            if start is not None:
                start()
        call_event("bridge", a=a.name, b=b.name)

    relays = False  # audio passes through the box decoded, frame by frame

    def other(self, channel: Channel) -> Channel:
        return self.b if channel is self.a else self.a

    def forward(self, source: Channel, frame: Frame) -> None:
        """Called on each tick with what `source`'s device captured."""
        (self.b if source is self.a else self.a).deliver(frame)

    def leave(self, channel: Channel) -> None:
        """A leg leaves a two-party call: the call is over for the other as well."""
        self.dissolve()

    def dissolve(self) -> None:
        if self.a.bridge is self:
            self.a.bridge = None
        if self.b.bridge is self:
            self.b.bridge = None
