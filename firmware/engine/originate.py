"""Calls the box places itself: a queue calling a customer back, a manager ringing to keep
a promise. No phone of the office dialled them, so a stand-in (`Originator`) is the caller:
it is routed like any caller (an extension, a ring group, `9` + an outside number through a
route), and when a person answers, the answering leg is handed to whoever asked, waiting in
a holding bridge of its own (silence), and the stand-in drops out.

    leg = await place_call(engine, "102", Party("600", "Support"), ring_s=30, why="callback")
    if leg is not None:      # answered by a person; play them a prompt, join them to someone

The answered leg is then looked after by the engine (`Engine.adopt`): it is hung up once it
is alone, so whoever took it only has to join it to someone or hang it up. A destination
that answers without a person (a mailbox, a menu) does not count: nobody is there to greet.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any

from firmware.engine.bridges import HoldingBridge
from firmware.engine.channel import Cause, Channel, ChannelState, Party
from firmware.logs import call_event
from firmware.media.frames import Frame, silence

if TYPE_CHECKING:
    from firmware.engine.pbx import Engine

__all__ = ["Originator", "place_call"]

_numbers = itertools.count(1)


class Originator(Channel):
    """The box as the caller of a call it places: it hears nothing and says nothing."""

    def __init__(self, shown: Party, why: str) -> None:
        super().__init__(f"box:{why}/{next(_numbers)}", shown)
        self.state = ChannelState.UP
        # The box may use the office's outside lines (its routes' rules still apply).
        self.internal = True

    def indicate(self, tone: str | None) -> None:
        pass  # ringback to nobody

    def ring(self, caller: Party) -> None:
        raise RuntimeError("the box's stand-in places calls, it is never rung")

    def deliver(self, frame: Frame) -> None:
        pass

    def _release(self, cause: Cause) -> None:
        pass


async def place_call(engine: Engine, target: str, shown: Party, ring_s: float,
                     why: str) -> Channel | None:
    """Call `target` (as dialled, or a destination of the config) showing `shown` as the
    caller; the leg of the person who answered within `ring_s`, in a holding bridge of its
    own, or None (no answer, busy, no such number, not a person)."""
    caller = Originator(shown, why)
    caller.ring_limit_s = ring_s  # also: a transfer-like call, not sent to voicemail
    call_event("originate", channel=caller.name, to=target, why=why)
    routing = engine.supervisor.spawn(f"{why} to {target}", _route(engine, caller, target),
                                      on_crash=lambda _exc: caller.hangup(Cause.FAILURE))
    caller.session = routing
    try:
        answered = await asyncio.wait_for(_answered(caller, routing), ring_s + 1)
    except TimeoutError:
        answered = None
    if answered is None:
        routing.cancel()  # stops the ringing (the destination releases its legs)
        caller.hangup(Cause.NO_ANSWER)
        call_event("originate-failed", channel=caller.name, to=target,
                   cause=(caller.cause or Cause.NO_ANSWER).value)
        return None
    # The person's leg leaves the stand-in for a holding bridge of its own: the stand-in is
    # alone, so the destination ends and hands the leg to the engine to look after.
    HoldingBridge(answered, _Silence(), engine.clock, why)
    caller.hangup()
    return answered


async def _route(engine: Engine, caller: Originator, target: str) -> None:
    cause = await engine.route(caller, target)
    caller.hangup(cause)


async def _answered(caller: Originator, routing: asyncio.Task[object]) -> Channel | None:
    """The answering person's leg, once the stand-in talks to it; None if the call ends
    first. Early media (the far end's audio before it answers) is not an answer."""
    while not routing.done():
        await _first(routing, caller.until_bridged())
        if routing.done() or caller.gone.is_set():
            return None
        far = caller.partner()
        if far is None:
            return None  # a mailbox or a menu took the call: nobody to talk to
        if far.answered.is_set() and not far.gone.is_set():
            return far
        await _first(routing, far.answered.wait(), caller.until_alone())
        if far.answered.is_set() and caller.partner() is far and not far.gone.is_set():
            return far
    return None


async def _first(routing: asyncio.Task[object], *waits: Coroutine[Any, Any, object]) -> None:
    """Until `routing` ends or one of `waits` is done (the others are cancelled)."""
    futures = [asyncio.ensure_future(w) for w in waits]
    try:
        await asyncio.wait([routing, *futures], return_when=asyncio.FIRST_COMPLETED)
    finally:
        for future in futures:
            future.cancel()


class _Silence:
    finished = False

    def next_frame(self) -> Frame:
        return silence()
