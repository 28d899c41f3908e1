"""Returning a customer's call with someone of the office already on the line: an agent
taking a queue callback, a manager keeping a promise. The box has rung them first, so
nobody at the customer's end waits for a person who may not come.

    the staff member       hears `staff_prompts` ("a caller is waiting ..."), then ringback
    the customer           is called (`place_call`); answering, hears `customer_prompts`
                           ("hello, we are returning your call"), then talks to the staff

The outcome says what to record: "connected", "no-answer" (the customer did not answer, or
hung up before the greeting ended: the staff member hears so), "staff-gone" (the staff
member hung up first: the customer, if reached, hears goodbye). Either way nobody is left
hanging on a line: the customer's leg is hung up unless it was connected, and the staff
member's is the caller's to release.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from firmware.apps.voice import music, sound
from firmware.engine.bridges import make_bridge
from firmware.engine.channel import Channel, Party
from firmware.engine.originate import place_call
from firmware.logs import call_event
from firmware.media.tones import ToneGenerator

if TYPE_CHECKING:
    from firmware.engine.pbx import Engine

__all__ = ["return_call"]

CONNECTED, NO_ANSWER, STAFF_GONE = "connected", "no-answer", "staff-gone"


async def return_call(engine: Engine, staff: Channel, staff_prompts: list[str], dial: str,
                      shown: Party, ring_s: float, customer_prompts: list[str],
                      why: str) -> str:
    """Call `dial` back for `staff` (answered, the box's to direct); the outcome."""
    if not await _told(engine, staff, staff_prompts):
        return STAFF_GONE
    sound(engine, staff, ToneGenerator(engine.plan.tone("ringback")), "ringback")
    customer = await place_call(engine, dial, shown, ring_s, why)
    if staff.gone.is_set():
        if customer is not None:
            await _told(engine, customer, ["goodbye"])
            customer.hangup()
        return STAFF_GONE
    if customer is None:
        await _told(engine, staff, ["callback-no-answer"])
        return NO_ANSWER
    music(engine, staff)
    greeted = await _told(engine, customer, customer_prompts)
    if staff.gone.is_set():
        if greeted:
            await _told(engine, customer, ["goodbye"])
        customer.hangup()
        return STAFF_GONE
    if not greeted:
        await _told(engine, staff, ["callback-no-answer"])
        return NO_ANSWER
    make_bridge(customer, staff)
    call_event("returned", staff=staff.name, customer=customer.name, why=why)
    return CONNECTED


async def _told(engine: Engine, channel: Channel, prompts: list[str]) -> bool:
    """`channel` hears `prompts` to the end; False if it hung up first."""
    if channel.gone.is_set():
        return False
    source, seconds = engine.announcement(prompts, beeps=2)
    sound(engine, channel, source, "prompt")
    gone = asyncio.ensure_future(channel.gone.wait())
    try:
        await asyncio.wait([gone], timeout=seconds)
    finally:
        gone.cancel()
    return not channel.gone.is_set()
