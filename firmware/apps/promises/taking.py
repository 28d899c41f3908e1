"""Taking a promise: `[features] manager_callback` (`*36`).

    in a call: flash, *36               the other party (the customer) is promised a manager's
    (SIP phones: transfer to *36,        call: they hear "a manager will call you back within
     or key ## *36)                      thirty minutes. goodbye", and the call ends; the
                                         agent's part ended with the transfer
    *36 + a number (as you would dial    a promise to call that number back; you hear the
    it: 102, 9 5125550123)               promise said, to confirm

The customer's number is the number the box would dial to reach them (firmware.apps.reach):
their extension, or their outside number through a route. A customer the box cannot call
back is not promised anything: the transfer fails and comes back to the agent, who hears
"transfer failed".
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from firmware.apps.reach import callback_number
from firmware.apps.voice import say
from firmware.engine.bridges import HoldingBridge
from firmware.engine.channel import Cause, Channel
from firmware.logs import call_event
from firmware.media.prompts import say_count

if TYPE_CHECKING:
    from firmware.apps.promises import PromiseApp

__all__ = ["promise_words", "take_promise"]


async def take_promise(app: PromiseApp, channel: Channel, number: str | None = None) -> Cause:
    config = app.config
    if config is None or app.engine is None:
        return Cause.UNALLOCATED_NUMBER
    engine = app.engine
    if number is not None:  # an agent dialled the code and the customer's number
        if not channel.internal:
            return Cause.CALL_BARRED
        customer, taken_by, name = number, channel.party.number, None
    elif channel.recall_to is not None or channel.presented is not None:
        # The customer, sent here by a transfer: the agent's phone is where it came from.
        dial = callback_number(engine.office, channel)
        if dial is None:
            call_event("promise-refused", channel=channel.name, number=channel.party.number,
                       why="the box cannot call this number back")
            return Cause.CALL_BARRED  # the transfer comes back to the agent
        customer, taken_by, name = dial, _extension_of(channel.recall_to), channel.party.name
    else:
        call_event("promise-refused", channel=channel.name, why="no customer")
        return Cause.CALL_BARRED
    await app.take(customer, name, taken_by)
    channel.accept()
    await say(engine, channel, [*promise_words(config.promise_minutes),
                                *(["goodbye"] if number is None else [])], beeps=3)
    bridge = channel.bridge
    if isinstance(bridge, HoldingBridge):
        bridge.dissolve()  # the customer's own call ends here (theirs is the call's session)
    return Cause.NORMAL_CLEARING


def promise_words(minutes: int) -> list[str]:
    """"A manager will call you back within thirty minutes"."""
    return ["promise-taken", *say_count(minutes), "minute" if minutes == 1 else "minutes"]


def _extension_of(recall_to: object) -> str | None:
    """Who transferred the call: an analog port's extension, or an extension number."""
    if isinstance(recall_to, str):
        return recall_to
    party = getattr(recall_to, "party", None)  # an analog port (FxsPort)
    number = getattr(party, "number", None)
    return number if isinstance(number, str) else None
