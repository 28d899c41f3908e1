"""Calling out: a number dialled after a route's prefix goes to the provider on its trunk.

The dial plan has already checked the number against the route's allowed patterns. Here
the rest of the toll-fraud rules hold (DESIGN.md, "Reliability rules"): only an office
phone may call out (a call that came in from outside may not be passed back out), and an
international number only on a route that allows it. The provider sees the office's
number as the caller: the number whose calls reach the caller's extension, else the
trunk's `caller_id`, else its account name.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from firmware.config import INTERNATIONAL_PREFIX, RouteConfig, TrunkConfig
from firmware.engine.bridges import make_bridge
from firmware.engine.channel import Cause, Channel, Party
from firmware.engine.channels.sip import SipChannel
from firmware.engine.dial import release_legs
from firmware.engine.lineout import dial_line
from firmware.logs import call_event

if TYPE_CHECKING:
    from firmware.engine.pbx import Engine


async def dial_out(engine: Engine, route: RouteConfig, number: str, caller: Channel) -> Cause:
    trunk = engine.office.trunk(route.trunk)
    if not caller.internal and caller.forwarded_by is None:
        # (a forward to an outside number was set by an office extension: it may go)
        call_event("outbound-refused", channel=caller.name, number=number,
                   why="not an office phone")
        return Cause.CALL_BARRED
    if not route.international and is_international(number, engine.office.site.country):
        call_event("outbound-refused", channel=caller.name, number=number,
                   why="international calls are off")
        return Cause.CALL_BARRED
    if route.trunk.startswith("fxo:"):  # the board's analog phone line
        return await dial_line(engine, engine.fxo.get(route.trunk), route.prepend + number,
                               caller)
    leg = engine.sip.trunk_leg(route.trunk, route.prepend + number) \
        if engine.sip is not None and trunk is not None else None
    if leg is None or trunk is None:
        call_event("outbound-failed", channel=caller.name, trunk=route.trunk,
                   why="trunk not available")
        return Cause.CONGESTION
    call_event("outbound", channel=caller.name, trunk=route.trunk, number=number)
    leg.ring(outside_party(engine, trunk, caller.party))
    caller.indicate("ringback")
    try:
        if not await _answered(caller, leg, trunk.ring_timeout_s):
            return leg.cause if leg.cause is not None else Cause.NO_ANSWER
        caller.accept()
        if caller.bridge is not leg.bridge or leg.bridge is None:
            make_bridge(caller, leg)
        await caller.until_alone()
        return Cause.NORMAL_CLEARING
    finally:
        release_legs(engine, [leg])


async def _answered(caller: Channel, leg: SipChannel, ring_s: float) -> bool:
    """Wait up to `ring_s` for the outside number to answer. Should the network send audio
    first (its ringback, "the number you have called ..."), the caller hears it meanwhile
    rather than the box's ringback."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + ring_s
    answered, gone, early = (asyncio.ensure_future(event.wait())
                             for event in (leg.answered, leg.gone, leg.early))
    waiting = {answered, gone, early}
    try:
        while not (answered.done() or gone.done()) and loop.time() < deadline:
            await asyncio.wait(waiting, timeout=deadline - loop.time(),
                               return_when=asyncio.FIRST_COMPLETED)
            if early.done() and early in waiting and not gone.done():
                waiting.discard(early)  # early media: the caller hears the far end now
                caller.indicate(None)
                caller.progress()
                make_bridge(caller, leg)
        if answered.done() and not leg.gone.is_set():
            caller.indicate(None)
            return True
        return False
    finally:
        for wait in (answered, gone, early):
            wait.cancel()


def is_international(number: str, country: str) -> bool:
    return number.startswith(("+", INTERNATIONAL_PREFIX.get(country, "00")))


def outside_party(engine: Engine, trunk: TrunkConfig, caller: Party) -> Party:
    """Who the outside world sees calling: an office number, and the office's name."""
    direct = next((did for did, ext in trunk.inbound.items() if ext == caller.number), None)
    number = direct or trunk.caller_id or trunk.username
    return Party(number, engine.office.site.name or caller.name)
