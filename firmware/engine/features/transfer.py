"""Transfers, whoever asks for them (an analog flash sequence, a SIP phone's REFER).

Blind: the held party is sent to a number and hears ringback while the target rings (for
at most the office's `[features] transfer_ring_s`, or the target's own ring time if
shorter). Answered, the two talk and the transferrer is out of the call. Busy, unanswered
or no such number, the call comes back to the transferrer ("bounce back"): its analog
port rings, or its extension (every phone of it), never a dead end. If nobody takes it back
either, it goes to the target's voicemail (the person the caller wanted), else the
operator (`hold.to_operator`).

Attended: the transferrer talks to both in two calls; the two others are joined and the
transferrer's two legs end.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from firmware.engine.bridges import make_bridge
from firmware.engine.channel import Cause, Channel, Party
from firmware.engine.features.hold import play_music, play_ringback, ring_back, to_operator
from firmware.logs import call_event

if TYPE_CHECKING:
    from firmware.engine.channels.fxs import FxsPort
    from firmware.engine.pbx import Engine


async def blind_transfer(engine: Engine, held: Channel, number: str,
                         back_to: FxsPort | str | None, by: str | None = None) -> Cause:
    """`held` (in a holding bridge) to `number`; back to `back_to` (a port, or an
    extension number) if nobody answers. The target's phone shows the held party's
    number and, as its name, who transferred it (`by`, an extension number)."""
    features = engine.office.features
    call_event("transfer", channel=held.name, to=number, kind="blind")
    play_ringback(engine, held)
    held.ring_limit_s = features.transfer_ring_s
    held.recall_to = back_to  # a transfer to the park number: the recall comes here
    if by is not None:
        held.presented = transferred_party(held.party, by)
    try:
        cause = await engine.route(held, number)
    finally:
        held.ring_limit_s = None
        held.presented = None
        held.indicate(None)
    if held.gone.is_set() or cause is Cause.NORMAL_CLEARING:
        return cause  # it was answered, and that call is over
    call_event("transfer-failed", channel=held.name, to=number, cause=cause.value)
    if isinstance(back_to, str):
        play_music(engine, held)
        held.ring_limit_s = features.recall_ring_s
        try:
            back = await engine.route(held, back_to)
        finally:
            held.ring_limit_s = None
            held.indicate(None)
        if back is not Cause.NORMAL_CLEARING and not held.gone.is_set():
            await to_operator(engine, held, back, number)  # the transferrer is gone too
    elif back_to is not None:
        await ring_back(engine, back_to, held, features.recall_ring_s,
                        announce=["transfer-failed"], mailbox=number)
    else:
        held.hangup(cause)
    return cause


def transferred_party(caller: Party, by: str) -> Party:
    """The caller's number, and a name that says who transferred the call, compactly, as
    an analog display shows only 15 characters: "102>Acme Dental"."""
    return Party(caller.number, f"{by}>{caller.name or caller.number or 'unknown'}")


def attended_transfer(first: Channel, second: Channel) -> bool:
    """The transferrer's two legs `first` and `second`: whoever each talks to are joined,
    and the two legs end. False (nothing changed) unless both are in two-party calls."""
    a, b = first.partner(), second.partner()
    if a is None or b is None or a is b:
        return False
    for leg in (first, second):
        bridge = leg.bridge
        if bridge is not None:
            bridge.dissolve()
    make_bridge(a, b)
    call_event("transfer", channel=a.name, to=b.name, kind="attended")
    show_each_other(a, b, first.party.number)
    first.hangup()
    second.hangup()
    return True


def show_each_other(held: Channel, target: Channel, by: str | None) -> None:
    """After an attended transfer: the target's phone shows the caller it now talks to
    (and who transferred it), the caller's phone shows the target."""
    target.show_connected(transferred_party(held.party, by) if by else held.party)
    held.show_connected(target.party)

