"""Calling an extension: ring every free device, first to answer wins, then bridge.

This is the destination every extension number leads to. It returns why the attempt or
the call ended; the caller's device turns that into what its person hears or sees. The call
lasts while the caller is bridged (to the answering phone, or to whoever a transfer joined
it with); a leg that a transfer took elsewhere outlives this session (`Engine.adopt`).
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from firmware.engine.bridges import make_bridge
from firmware.engine.channel import Cause, Channel
from firmware.engine.features.forward import forward
from firmware.logs import call_event

if TYPE_CHECKING:
    from firmware.config import ExtensionConfig
    from firmware.engine.pbx import Engine


async def dial_extension(engine: Engine, extension: ExtensionConfig, caller: Channel) -> Cause:
    if caller.party.number == extension.number:
        return Cause.USER_BUSY  # calling yourself: busy, whatever phone you call from
    settings = engine.settings.get(extension.number)
    if settings.forward_all is not None:
        return await forward(engine, caller, extension.number, settings.forward_all, "all")
    devices = engine.devices_of(extension)
    free = [device for device in devices if device.available]
    call_event("call", channel=caller.name, to=extension.number, devices=len(devices),
               free=len(free), dnd=settings.dnd or None)
    if not free or settings.dnd:
        # No phone at all (a SIP phone not registered): voicemail says "not available".
        return await _busy(engine, caller, extension.number, "/busy" if devices else "")
    legs = [device.claim() for device in free]
    for leg in legs:
        leg.ring(caller.presented or caller.party)
    caller.indicate("ringback")
    ring_s = engine.ring_timeout(extension)
    if caller.ring_limit_s is not None:
        ring_s = min(ring_s, caller.ring_limit_s)
    ringing = engine.ringing.offer(extension, caller)  # for *8 and ** pickup
    try:
        winner = await first_answer(legs, ring_s, ringing.picked)
        engine.ringing.withdraw(ringing, used_pickup=winner is not None and winner not in legs)
        if winner is not None and winner not in legs:
            winner.accept()  # a phone that picked the call up (a SIP phone gets its 200)
        if winner is None:
            for leg in legs:
                leg.hangup()  # stop ringing before the call goes anywhere else
            if legs and all(leg.cause is Cause.USER_BUSY for leg in legs):
                # every phone said busy (a SIP phone's 486)
                return await _busy(engine, caller, extension.number)
            call_event("no-answer", channel=caller.name, to=extension.number)
            target = settings.forward_no_answer
            if target is not None and not caller.gone.is_set():
                return await forward(engine, caller, extension.number, target, "no-answer")
            return await _voicemail(engine, caller, extension.number, "", Cause.NO_ANSWER)
        for leg in legs:
            if leg is not winner:
                leg.hangup(Cause.ANSWERED_ELSEWHERE)
        if caller.handed_to is not None:
            return hand_over(caller, caller.handed_to, winner)
        caller.indicate(None)
        caller.accept()
        make_bridge(caller, winner)
        await caller.until_alone()
        return Cause.NORMAL_CLEARING
    finally:
        engine.ringing.withdraw(ringing)
        release_legs(engine, legs)


async def _busy(engine: Engine, caller: Channel, extension: str,
                greeting: str = "/busy") -> Cause:
    target = engine.settings.get(extension).forward_busy
    if target is None:
        return await _voicemail(engine, caller, extension, greeting, Cause.USER_BUSY)
    return await forward(engine, caller, extension, target, "busy")


async def _voicemail(engine: Engine, caller: Channel, extension: str, greeting: str,
                     cause: Cause) -> Cause:
    """The extension's mailbox takes the call ("voicemail:101", or "voicemail:101/busy" for
    the busy greeting), if it has one; else `cause`. Not for a transfer still under way:
    that comes back to whoever transferred it (and to the mailbox only if they are gone)."""
    if caller.ring_limit_s is not None or caller.handed_to is not None or \
            caller.gone.is_set():
        return cause
    leave = engine.destination(f"voicemail:{extension}{greeting}")
    if leave is None:
        return cause
    call_event("to-voicemail", channel=caller.name, ext=extension, why=cause.value)
    return await leave(caller)


def hand_over(caller: Channel, to: Channel, answered: Channel) -> Cause:
    """A semi-attended transfer: `answered` picked up the call `caller` placed, after the
    transferrer gave it to `to`; the two talk, `caller` (the transferrer's leg) goes."""
    if not to.gone.is_set():
        to.indicate(None)
        make_bridge(to, answered)
        call_event("transfer", channel=to.name, to=answered.name, kind="semi-attended")
    caller.hangup()
    return Cause.NORMAL_CLEARING


def release_legs(engine: Engine, legs: list[Channel]) -> None:
    """The session is over: hang up its legs, but one a transfer joined to someone else
    lives on, looked after by the engine."""
    for leg in legs:
        if leg.bridge is None:
            leg.hangup()
        else:
            engine.adopt(leg)


async def first_answer(legs: list[Channel], ring_s: float,
                       picked: asyncio.Future[Channel] | None = None) -> Channel | None:
    """The first leg to answer within `ring_s` seconds, or None (no answer, all gone).
    With `picked`: a phone elsewhere that picked the call up counts as an answer (a leg
    that answered at the same moment wins)."""
    waits: list[asyncio.Future[object]] = [asyncio.ensure_future(leg.answered.wait())
                                           for leg in legs]
    waits.append(asyncio.ensure_future(_all_gone(legs)))
    try:
        await asyncio.wait([*waits, *([picked] if picked is not None else [])],
                           timeout=ring_s, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for wait in waits:
            wait.cancel()
    answered = next((leg for leg in legs if leg.answered.is_set() and not leg.gone.is_set()),
                    None)
    if answered is None and picked is not None and picked.done() and \
            not picked.result().gone.is_set():
        return picked.result()
    return answered


async def _all_gone(legs: list[Channel]) -> None:
    for leg in legs:
        await leg.gone.wait()
