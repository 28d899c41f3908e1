"""Blind transfer: the held party is sent to a number; nobody answering sends it back.

The held party hears ringback while the target rings (for at most the office's
`[features] transfer_ring_s`, or the target's own ring time if shorter). Answered, the
two talk and the transferrer is out of the call. Busy, unanswered or no such number, the
call comes back: it rings the transferrer's phone ("bounce back"), never a dead end.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from firmware.engine.channel import Cause, Channel
from firmware.engine.features.hold import play_ringback, ring_back
from firmware.logs import call_event

if TYPE_CHECKING:
    from firmware.engine.channels.fxs import FxsPort
    from firmware.engine.pbx import Engine


async def blind_transfer(engine: Engine, held: Channel, number: str,
                         back_to: FxsPort | None) -> Cause:
    features = engine.office.features
    call_event("transfer", channel=held.name, to=number, kind="blind")
    play_ringback(engine, held)
    held.ring_limit_s = features.transfer_ring_s
    held.recall_to = back_to  # a transfer to the park number: the recall comes here
    try:
        cause = await engine.route(held, number)
    finally:
        held.ring_limit_s = None
        held.indicate(None)
    if held.gone.is_set() or cause is Cause.NORMAL_CLEARING:
        return cause  # it was answered, and that call is over
    call_event("transfer-failed", channel=held.name, to=number, cause=cause.value)
    if back_to is not None:
        await ring_back(engine, back_to, held, features.recall_ring_s)
    else:
        held.hangup(cause)
    return cause
