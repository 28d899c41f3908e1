"""Offering a place in line to agents: ring them, and what follows when one answers.

    a caller on the line     the agent who answers talks to them at once (the music or
                             the announcement stops); the caller leaves the line
    a callback request       the agent hears "a caller is waiting for a call back", then the
                             box calls the customer ("hello, we are returning your call")
                             and joins the two; unanswered, the request keeps its place and
                             is tried again `callback_retry_s` later, at most
                             1 + `callback_retries` times

Nobody answers within `ring_s`: the agents rung are marked tried for this place, and after
`RETRY_PAUSE_S` the next free ones ring (Asterisk's `retry`). The caller leaving (hanging
up, overflow, pressing 1) stops the ringing at once. The agent who took a call is in
wrap-up for the queue's (or their own) `wrap_up_s` once their part of the call ends.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from firmware.apps.returning import CONNECTED, NO_ANSWER, return_call
from firmware.engine.bridges import HoldingBridge, make_bridge
from firmware.engine.channel import Cause, Channel
from firmware.engine.dial import first_answer, release_legs
from firmware.logs import call_event

if TYPE_CHECKING:
    from firmware.apps.queues.line import Entry
    from firmware.apps.queues.queue import Queue

__all__ = ["RETRY_PAUSE_S", "offer"]

RETRY_PAUSE_S = 5.0


async def offer(queue: Queue, entry: Entry, chosen: list[str]) -> None:
    """Ring the agents `chosen` for `entry`; on an answer, serve it."""
    engine, roster = queue.engine, queue.app.roster
    loop = asyncio.get_running_loop()
    legs: dict[Channel, str] = {}
    agent: str | None = None
    busy_with_it = False
    try:
        for extension in chosen:  # (the dispatcher marked them "ringing")
            for phone in roster.phones(engine, extension):
                legs[phone.claim()] = extension
        queue.last_rung = chosen[-1]
        shown = queue.shown_to_agent(entry)
        for leg in legs:
            leg.ring(shown)
        call_event("queue-offer", queue=queue.name, caller=entry.label,
                   agents=",".join(chosen), phones=len(legs))
        queue.changed()
        winner = await _first_answer(list(legs), queue.config.ring_s, entry)
        agent = legs.get(winner) if winner is not None else None
        for leg in legs:
            if leg is not winner:
                leg.hangup(Cause.ANSWERED_ELSEWHERE if winner is not None else Cause.NO_ANSWER)
        for extension in chosen:
            if extension != agent:
                roster.state(extension).engaged = None
        if winner is None or agent is None:
            entry.tried.update(chosen)
            entry.not_before = loop.time() + RETRY_PAUSE_S
            call_event("queue-not-answered", queue=queue.name, caller=entry.label,
                       agents=",".join(chosen))
            return
        roster.start_call(agent)
        queue.changed()
        busy_with_it = await _serve(queue, entry, agent, winner)
    finally:
        entry.offering = False
        for extension in chosen:
            if extension != agent and roster.state(extension).engaged == "ringing":
                roster.state(extension).engaged = None
        if agent is not None and busy_with_it:
            roster.end_call(agent, loop.time(), queue.config.wrap_up(agent))
        elif agent is not None:
            roster.state(agent).engaged = None  # answered for nobody: free at once
        for leg in legs:  # an agent left hearing a prompt is done: the line is cleared
            if isinstance(leg.bridge, HoldingBridge):
                leg.bridge.dissolve()
        release_legs(engine, list(legs))
        queue.changed()


async def _first_answer(legs: list[Channel], ring_s: float, entry: Entry) -> Channel | None:
    """The first leg to answer, unless `entry` is withdrawn first (the ringing stops)."""
    ringing = asyncio.ensure_future(first_answer(legs, ring_s))
    withdrawn = asyncio.ensure_future(entry.withdrawn.wait())
    try:
        await asyncio.wait([ringing, withdrawn], return_when=asyncio.FIRST_COMPLETED)
    finally:
        withdrawn.cancel()
        if not ringing.done():
            ringing.cancel()
    if not ringing.done() or ringing.cancelled() or entry.withdrawn.is_set():
        return None
    return ringing.result()


async def _serve(queue: Queue, entry: Entry, agent: str, leg: Channel) -> bool:
    """The agent on `leg` answered for `entry`; True if they got busy with it (wrap-up)."""
    if entry.channel is None and entry.callback is not None:
        return await _call_back(queue, entry, agent, leg)
    customer = entry.channel
    if customer is None or customer.gone.is_set() or entry.paused or entry not in queue.line:
        return False  # the caller left in the same moment: nobody to talk to
    loop = asyncio.get_running_loop()
    waited = queue.answered(entry)
    customer.indicate(None)
    make_bridge(customer, leg)  # the music (or an announcement) stops here
    entry.served.set_result(leg)
    call_event("queue-answer", queue=queue.name, caller=customer.name, agent=agent,
               waited_s=f"{waited:.0f}")
    started = loop.time()
    await leg.until_alone()
    queue.handle.add(loop.time() - started + queue.config.wrap_up(agent))
    return True


async def _call_back(queue: Queue, entry: Entry, agent: str, leg: Channel) -> bool:
    request = entry.callback
    assert request is not None
    config = queue.config
    book = queue.app.book
    loop = asyncio.get_running_loop()
    call_event("queue-callback-due", queue=queue.name, number=request.number, agent=agent,
               attempt=request.attempts + 1)
    started = loop.time()
    outcome = await return_call(queue.engine, leg, ["callback-due"], request.number,
                                queue.shown_to_customer(), config.customer_ring_s,
                                ["callback-hello"], "callback")
    if outcome == CONNECTED:
        waited = queue.answered(entry, count=False)
        queue.figures.callbacks_done += 1
        call_event("queue-callback-done", queue=queue.name, number=request.number,
                   agent=agent, waited_s=f"{waited:.0f}")
        await book.tried(request, "answered", "done")
        await leg.until_alone()
        queue.handle.add(loop.time() - started + config.wrap_up(agent))
        return True
    if outcome == NO_ANSWER:
        last = request.attempts + 1 >= 1 + config.callback_retries
        await book.tried(request, "no-answer", "failed" if last else "waiting")
        if last:
            queue.figures.callbacks_failed += 1
            queue.leave(entry, "callback-failed")
        else:
            entry.not_before = loop.time() + config.callback_retry_s
            call_event("queue-callback-retry", queue=queue.name, number=request.number,
                       attempts=request.attempts, in_s=f"{config.callback_retry_s:.0f}")
        return True
    entry.not_before = loop.time() + RETRY_PAUSE_S  # the agent hung up: another one
    return False
