"""`*45` (`[features] agent_login`): a queue agent logs out of every queue that lists
them, or back in; they hear "you are logged out" / "you are logged in". Only an office
phone of an agent may: anyone else hears the intercept tone (the code is not theirs).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from firmware.apps.voice import say
from firmware.engine.bridges import HoldingBridge
from firmware.engine.channel import Cause, Channel
from firmware.logs import call_event

if TYPE_CHECKING:
    from firmware.apps.queues import QueueApp

__all__ = ["toggle_agent"]


async def toggle_agent(app: QueueApp, caller: Channel) -> Cause:
    extension = caller.party.number
    queues = [q for q in app.queues.values()
              if extension is not None and q.config.agent(extension) is not None]
    if not caller.internal or extension is None or not queues:
        call_event("agent-login-refused", channel=caller.name, ext=extension)
        return Cause.CALL_BARRED
    logged_in = await app.roster.toggle(extension)
    call_event("agent-login" if logged_in else "agent-logout", ext=extension,
               queues=",".join(q.name for q in queues))
    for queue in queues:
        queue.agents_changed()
    assert app.engine is not None
    caller.accept()
    await say(app.engine, caller, ["agent-in" if logged_in else "agent-out"], beeps=3)
    bridge = caller.bridge
    if isinstance(bridge, HoldingBridge):
        bridge.dissolve()
    return Cause.NORMAL_CLEARING
