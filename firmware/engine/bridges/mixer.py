"""The mixer: three or more legs in one call (a 3-way call, later conferences).

Every leg is decoded (SIP legs go on the media clock). Each tick every leg hears the sum of
what the others said on the previous tick, never its own voice (no echo of oneself), with
the sum clipped to 16 bits. Mixing one tick late costs 20 ms of delay and lets the mixer
run at any place in the clock's order. A leg that leaves takes only itself out; when two
remain they go on in an ordinary two-party bridge.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from firmware.engine.channel import Channel
from firmware.logs import call_event
from firmware.media.frames import FRAME_SAMPLES, Frame

if TYPE_CHECKING:
    from firmware.engine.clock import FrameClock


class MixerBridge:
    relays = False

    def __init__(self, legs: list[Channel], clock: FrameClock) -> None:
        self.legs: list[Channel] = []
        self.name = "mixer " + "+".join(leg.name for leg in legs)
        self._clock = clock
        self._said: dict[Channel, Frame] = {}
        for leg in legs:
            self.add(leg)
        clock.add(self)
        call_event("bridge", legs=",".join(leg.name for leg in legs), kind="mixer")

    def add(self, leg: Channel) -> None:
        previous = leg.bridge
        if previous is not None and previous is not self:
            previous.leave(leg)
        self.legs.append(leg)
        leg.bridge = self
        start = getattr(leg, "media_up", None)  # a SIP leg is decoded to be mixed
        if start is not None:
            start()

    def other(self, channel: Channel) -> Channel | None:
        """No single other party: digits keyed here go to nobody in particular."""
        return None

    def forward(self, source: Channel, frame: Frame) -> None:
        self._said[source] = frame

    def leave(self, channel: Channel) -> None:
        """`channel` is out (hung up, dropped); two left go on as a two-party call."""
        if channel not in self.legs:
            return
        self.legs.remove(channel)
        self._said.pop(channel, None)
        if channel.bridge is self:
            channel.bridge = None
        if len(self.legs) <= 2:
            rest = list(self.legs)
            self._stop()
            if len(rest) == 2:
                from firmware.engine.bridges import make_bridge  # the package imports us

                make_bridge(*rest)
            for leg in rest:
                if leg.bridge is self:
                    leg.bridge = None

    def dissolve(self) -> None:
        legs = list(self.legs)
        self._stop()
        for leg in legs:
            if leg.bridge is self:
                leg.bridge = None

    def _stop(self) -> None:
        self._clock.discard(self)
        for leg in self.legs:
            if leg.bridge is self:
                leg.bridge = None  # cleared before a new bridge takes them
        self.legs = []
        self._said.clear()

    # -- the media clock

    def capture(self) -> None:
        said = self._said
        if not said:
            return
        self._said = {}
        total = np.zeros(FRAME_SAMPLES, dtype=np.int32)
        for frame in said.values():
            total += frame
        for leg in self.legs:
            own = said.get(leg)
            mix = total - own if own is not None else total
            leg.deliver(np.clip(mix, -32768, 32767).astype(np.int16))

    def render(self) -> None:
        pass

    def crashed(self, exc: BaseException) -> None:
        self.dissolve()
