"""Bridges join channels. The core picks the kind by what the channels can do:
two SIP legs sharing a codec are relayed packet for packet (`relay`); anything else is
decoded and passed frame by frame (`pcm`)."""

from __future__ import annotations

from firmware.engine.bridges.pcm import TwoPartyBridge
from firmware.engine.bridges.relay import RelayBridge, can_relay
from firmware.engine.channel import Channel

__all__ = ["RelayBridge", "TwoPartyBridge", "make_bridge"]


def make_bridge(a: Channel, b: Channel) -> TwoPartyBridge | RelayBridge:
    return RelayBridge(a, b) if can_relay(a, b) else TwoPartyBridge(a, b)
