"""Hold: a leg waits with hold music; and a held call that rings its holder back.

`hold` puts a leg into a holding bridge of its own (`firmware.engine.bridges.holding`):
its session keeps it, it hears the box's hold music. `ring_back` rings an analog phone
with a held call (its holder hung up without finishing, or a transfer came back):
the phone shows the held party's caller ID; lifting it joins the two.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from firmware.engine.bridges import HoldingBridge, make_bridge
from firmware.engine.channel import Cause, Channel
from firmware.engine.dial import release_legs
from firmware.logs import call_event
from firmware.media.tones import ToneGenerator

if TYPE_CHECKING:
    from firmware.engine.channels.fxs import FxsPort
    from firmware.engine.pbx import Engine


def hold(engine: Engine, channel: Channel) -> HoldingBridge:
    """`channel` leaves its bridge and hears hold music."""
    return HoldingBridge(channel, engine.hold_music(), engine.clock, "hold")


def play_ringback(engine: Engine, channel: Channel) -> None:
    """A held leg hears ringback (its transfer target is ringing)."""
    bridge = channel.bridge
    if isinstance(bridge, HoldingBridge):
        bridge.play(ToneGenerator(engine.plan.tone("ringback")))


def play_music(engine: Engine, channel: Channel) -> None:
    bridge = channel.bridge
    if isinstance(bridge, HoldingBridge):
        bridge.play(engine.hold_music())


async def ring_back(engine: Engine, port: FxsPort, held: Channel, ring_s: float,
                    *, release: bool = True, announce: list[str] | None = None,
                    mailbox: str | None = None) -> bool:
    """Ring `port` with the held call for up to `ring_s`; True if it was answered (the call
    then goes on here until it ends). Unanswered, the held party goes to `mailbox`'s
    voicemail or the operator (`to_operator`; unless `release` is False: it stays on hold
    for the caller to send elsewhere). With `announce`, whoever answers first hears those
    prompts ("transfer failed")."""
    if held.gone.is_set():
        return False
    if not port.available:
        call_event("recall-failed", port=port.name, held=held.name, why="busy")
        if release:
            await to_operator(engine, held, Cause.USER_BUSY, mailbox)
        return False
    play_music(engine, held)
    leg = port.claim()
    call_event("recall", port=port.name, held=held.name)
    leg.ring(held.party)
    waits = [asyncio.ensure_future(e.wait()) for e in (leg.answered, leg.gone, held.gone)]
    try:
        await asyncio.wait(waits, timeout=ring_s, return_when=asyncio.FIRST_COMPLETED)
        if not leg.answered.is_set() or leg.gone.is_set() or held.gone.is_set():
            if not held.gone.is_set():
                call_event("recall-failed", port=port.name, held=held.name, why="no answer")
                if release:
                    leg.hangup()  # stop ringing here before the operator rings
                    await to_operator(engine, held, Cause.NO_ANSWER, mailbox)
            return False
        if announce:
            source, seconds = engine.announcement(announce, beeps=2)
            HoldingBridge(leg, source, engine.clock, "announce")
            await asyncio.sleep(seconds)
            if leg.gone.is_set() or held.gone.is_set():
                return False
        held.indicate(None)
        make_bridge(held, leg)
        await leg.until_alone()
        return True
    finally:
        for wait in waits:
            wait.cancel()
        release_legs(engine, [leg])


async def to_operator(engine: Engine, held: Channel, cause: Cause,
                      mailbox: str | None = None) -> None:
    """A held call nobody took back: to the voicemail of `mailbox` (the extension a failed
    transfer was for: the person the caller wanted) if it has one, else to the operator
    (`[features] operator`) if the office has one, else it is released with `cause`."""
    leave = engine.destination(f"voicemail:{mailbox}") if mailbox is not None else None
    if leave is not None and not held.gone.is_set():
        call_event("to-voicemail", channel=held.name, ext=mailbox, why=cause.value)
        held.presented = None
        if await leave(held) is Cause.NORMAL_CLEARING or held.gone.is_set():
            return
    operator = engine.office.features.operator
    if operator is not None and not held.gone.is_set():
        call_event("to-operator", channel=held.name, operator=operator)
        held.presented = None
        if await engine.route(held, operator) is Cause.NORMAL_CLEARING or held.gone.is_set():
            return
    held.hangup(cause)
