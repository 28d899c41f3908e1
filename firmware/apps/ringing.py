"""Ringing several extensions at once for one caller: the first phone to answer (or to pick
the call up with *8 / **) gets it. Ring groups ring their members with it.

It is `dial_extension` (firmware.engine.dial) for a set of extensions, built from the same
pieces: a device's `claim` and `ring`, `first_answer`, the pickup offers, `hand_over` and
`release_legs`. Members that cannot take a call are left out: no free phone (busy), do not
disturb, forwarding all their calls, or the caller themself.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from firmware.engine.bridges import HoldingBridge, make_bridge
from firmware.engine.channel import Cause, Channel
from firmware.engine.dial import first_answer, hand_over, release_legs
from firmware.engine.features.pickup import RingingCall
from firmware.logs import call_event
from firmware.media.tones import ToneGenerator

if TYPE_CHECKING:
    from firmware.config import ExtensionConfig
    from firmware.engine.pbx import Engine

__all__ = ["ring_and_connect", "ringback"]


def ringback(engine: Engine, caller: Channel, *, device: bool = True) -> None:
    """The caller hears ringback: their phone plays it (`device`: an analog phone, a SIP
    phone not yet answered), and a caller the box has answered already (a menu took the
    call) hears it from the box."""
    if device:
        caller.indicate("ringback")
    if isinstance(caller.bridge, HoldingBridge):
        caller.bridge.play(ToneGenerator(engine.plan.tone("ringback")))


def _takers(engine: Engine, caller: Channel, members: Sequence[ExtensionConfig]
            ) -> list[tuple[ExtensionConfig, list[Channel]]]:
    """Each member who can take the call now, with a claimed leg per free phone."""
    takers = []
    for member in members:
        settings = engine.settings.get(member.number)
        if settings.dnd or settings.forward_all is not None or \
                member.number == caller.party.number:
            continue
        free = [device for device in engine.devices_of(member) if device.available]
        if free:
            takers.append((member, [device.claim() for device in free]))
    return takers


def _first_pick(offers: list[RingingCall]) -> asyncio.Future[Channel]:
    """A future for the first of `offers` picked up elsewhere."""
    first: asyncio.Future[Channel] = asyncio.get_running_loop().create_future()

    def picked(future: asyncio.Future[Channel]) -> None:
        if not first.done() and not future.cancelled():
            first.set_result(future.result())

    for offer in offers:
        offer.picked.add_done_callback(picked)
    return first


async def ring_and_connect(engine: Engine, caller: Channel,
                           members: Sequence[ExtensionConfig], ring_s: float,
                           on_answer: Callable[[ExtensionConfig | None], None] | None = None,
                           ) -> tuple[Cause, ExtensionConfig | None]:
    """Ring `members` for `ring_s`; the first to answer talks with the caller until the call
    ends (`on_answer` is told who, at once: None for a pickup from elsewhere).
    (NORMAL_CLEARING, who answered) after an answered call; (NO_ANSWER, None) when nobody
    answered; (USER_BUSY, None) when nobody could ring."""
    takers = _takers(engine, caller, members)
    if not takers:
        return Cause.USER_BUSY, None
    owner = {leg: member for member, legs in takers for leg in legs}
    legs = list(owner)
    for leg in legs:
        leg.ring(caller.presented or caller.party)
    ringback(engine, caller)
    if caller.ring_limit_s is not None:
        ring_s = min(ring_s, caller.ring_limit_s)
    offers = [engine.ringing.offer(member, caller) for member, _ in takers]  # *8 and **
    picked = _first_pick(offers)
    winner = None
    try:
        winner = await first_answer(legs, ring_s, picked)
        if winner is None:
            for leg in legs:
                leg.hangup()
            caller.indicate(None)
            busy = all(leg.cause is Cause.USER_BUSY for leg in legs)  # SIP phones' 486
            return (Cause.USER_BUSY if busy else Cause.NO_ANSWER), None
        for leg in legs:
            if leg is not winner:
                leg.hangup(Cause.ANSWERED_ELSEWHERE)
        if winner not in owner:
            winner.accept()  # a phone that picked the call up
        call_event("group-answer", channel=caller.name, by=winner.name)
        if on_answer is not None:
            on_answer(owner.get(winner))
        if caller.handed_to is not None:
            return hand_over(caller, caller.handed_to, winner), owner.get(winner)
        caller.indicate(None)
        caller.accept()
        make_bridge(caller, winner)
        await caller.until_alone()
        return Cause.NORMAL_CLEARING, owner.get(winner)
    finally:
        for offer in offers:
            took = winner is not None and offer.picked.done() and \
                not offer.picked.cancelled() and offer.picked.result() is winner
            engine.ringing.withdraw(offer, used_pickup=took)
        if not picked.done():
            picked.cancel()
        release_legs(engine, legs)
