"""Bridges join channels. The core picks the kind by what the channels can do:
two SIP legs sharing a codec are relayed packet for packet (`relay`); anything else is
decoded and passed frame by frame (`pcm`); three or more are mixed (`mixer`). A leg on
hold (or parked, or waiting for a transfer) is in a `HoldingBridge` of its own, hearing
music or ringback (`holding`).
"""

from __future__ import annotations

from typing import Protocol

from firmware.engine.bridges.holding import HoldingBridge, RecordingBridge
from firmware.engine.bridges.mixer import MixerBridge
from firmware.engine.bridges.pcm import TwoPartyBridge
from firmware.engine.bridges.relay import RelayBridge, can_relay
from firmware.engine.channel import Channel
from firmware.media.frames import Frame

__all__ = ["Bridge", "HoldingBridge", "MixerBridge", "RecordingBridge", "RelayBridge",
           "TwoPartyBridge",
           "make_bridge"]


class Bridge(Protocol):
    relays: bool  # packets pass without decoding: the legs are off the media clock

    def other(self, channel: Channel) -> Channel | None: ...

    def forward(self, source: Channel, frame: Frame) -> None: ...

    def leave(self, channel: Channel) -> None: ...

    def dissolve(self) -> None: ...


def make_bridge(a: Channel, b: Channel) -> TwoPartyBridge | RelayBridge:
    """Join `a` and `b`, taking either out of hold (or park) first."""
    for ch in (a, b):
        if isinstance(ch.bridge, HoldingBridge):
            ch.bridge.dissolve()
    return RelayBridge(a, b) if can_relay(a, b) else TwoPartyBridge(a, b)
