"""Keeping a promise: ring the manager, and when they answer, call the customer back.

    try     ring `manager` (an extension, a ring group) for `manager_ring_s`, showing the
            customer's number; the manager answers and hears "you promised a customer a
            call back"; the box calls the customer, who hears "hello, a manager is returning
            your call", and the two talk: kept
    again   the manager or the customer did not answer: `retry_s` later, at most
            1 + `retries` tries, none starting after the due time
    unkept  the due time passed (or the tries ran out) without a call: marked in the store,
            logged (`event=promise-unkept`), shown in the figures

The first try starts at once: the sooner the better for an upset customer. A promise
open at a restart is picked up where it was (tries made, due time).
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from firmware.apps.returning import CONNECTED, NO_ANSWER, STAFF_GONE, return_call
from firmware.engine.channel import Party
from firmware.engine.originate import place_call
from firmware.logs import call_event

if TYPE_CHECKING:
    from firmware.apps.promises import PromiseApp
    from firmware.apps.promises.book import Promise

__all__ = ["keep"]


async def keep(app: PromiseApp, promise: Promise) -> None:
    loop = asyncio.get_running_loop()
    clock = app.clock
    while promise.status == "open":
        config = app.config
        if config is None:
            return  # [escalation] was removed: the promise waits in the store
        if clock.now() >= promise.due_at:
            await _unkept(app, promise, promise.outcome or "not tried in time")
            return
        if promise.attempts >= 1 + config.retries:
            await _unkept(app, promise, promise.outcome or "no tries left")
            return
        outcome = await _try(app, promise)
        if outcome == CONNECTED:
            await app.book.settle(promise, "kept", "connected")
            call_event("promise-kept", id=promise.id, customer=promise.customer_number,
                       attempts=promise.attempts)
            app.changed()
            return
        call_event("promise-retry", id=promise.id, customer=promise.customer_number,
                   outcome=outcome, attempts=promise.attempts)
        app.changed()
        if promise.attempts >= 1 + config.retries:
            continue  # (marked unkept above, on the next turn)
        # Wait for the next try, or for the due time if that comes first.
        next_try = loop.time() + config.retry_s
        until = min(next_try, clock.loop_time(promise.due_at))
        await asyncio.sleep(max(until - loop.time(), 0.0))


async def _try(app: PromiseApp, promise: Promise) -> str:
    """One try; its outcome (stored)."""
    config = app.config
    assert config is not None and app.engine is not None
    engine = app.engine
    shown = Party(promise.customer_number, "promise")
    call_event("promise-try", id=promise.id, manager=promise.manager,
               customer=promise.customer_number, attempt=promise.attempts + 1)
    manager = await place_call(engine, promise.manager, shown, config.manager_ring_s,
                               "promise")
    if manager is None:
        outcome = "manager did not answer"
    else:
        office = Party(None, engine.office.site.name or "manager")
        result = await return_call(engine, manager, ["promise-due"], promise.customer_number,
                                   office, config.customer_ring_s, ["promise-hello"],
                                   "promise")
        if result != CONNECTED:
            manager.hangup()
        outcome = {CONNECTED: CONNECTED, NO_ANSWER: "customer did not answer",
                   STAFF_GONE: "manager hung up"}[result]
    await app.book.tried(promise, outcome)
    return outcome


async def _unkept(app: PromiseApp, promise: Promise, why: str) -> None:
    await app.book.settle(promise, "unkept", why)
    call_event("promise-unkept", id=promise.id, customer=promise.customer_number,
               taken_by=promise.taken_by, due=app.clock.iso(promise.due_at), why=why,
               attempts=promise.attempts)
    app.changed()
