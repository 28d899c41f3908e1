"""The "hangup" destination: the caller hears "goodbye", then the call ends politely
(a night menu's last option, a queue that closes), never silence or a dead line."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from firmware.engine.bridges import HoldingBridge
from firmware.engine.channel import Cause, Channel

if TYPE_CHECKING:
    from firmware.engine.pbx import Engine


async def say_goodbye(engine: Engine, channel: Channel) -> Cause:
    channel.accept()
    source, seconds = engine.announcement(["goodbye"], beeps=2)
    bridge = HoldingBridge(channel, source, engine.clock, "goodbye")
    try:
        await asyncio.sleep(seconds)
    finally:
        bridge.dissolve()
    return Cause.NORMAL_CLEARING
