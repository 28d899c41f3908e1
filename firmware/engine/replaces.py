"""An INVITE with Replaces (RFC 3891): a phone takes the place of a call leg of the box's.

    phone X ── INVITE, Replaces: <Call-ID>;to-tag=<box's tag>;from-tag=<Y's tag> ──▶ box
    the box's leg of that dialog (to phone Y) talks to P:
    X's new leg is answered (200) and joined with P; Y's leg ends (BYE from the box)

What phones use it for: moving a call to another phone ("call pull"), and completing an
attended transfer the phone's way. Both sides must be office phones: X authenticated as an
extension (the user agent checked), and Y's leg is an office phone's (not a trunk's).
The tags are the proof of knowing the call: only the phones in it have them.

    400  the Replaces cannot be read
    481  no such dialog, or not yet answered: an early dialog is not taken over (for a
         ringing call the box placed, RFC 3891 §3 says so; `*8` and `**` pick calls up)
    486  the dialog is confirmed but the Replaces says early-only (RFC 3891 §3)
    403  the leg is no office phone's, or it is in no two-party call (on hold, a 3-way)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from firmware.engine.bridges import make_bridge
from firmware.engine.channel import Cause, Channel
from firmware.logs import call_event
from firmware.sip.dialog import DialogState
from firmware.sip.errors import ParseError
from firmware.sip.message import Request
from firmware.sip.refer import Replaces

if TYPE_CHECKING:
    from firmware.engine.channels.sip import SipChannel
    from firmware.engine.sipua import SipUserAgent


def replaced_leg(ua: SipUserAgent, request: Request) -> SipChannel | int:
    """The leg the INVITE's Replaces names, or the status to refuse the INVITE with."""
    try:
        replaces = Replaces.parse(request.headers.get("Replaces") or "")
    except ParseError:
        return 400
    leg = ua.dialog_of(replaces.call_id, replaces.to_tag, replaces.from_tag)
    dialog = leg.dialog if leg is not None else None
    if leg is None or dialog is None or dialog.state is not DialogState.CONFIRMED:
        return 481
    if replaces.early_only:
        return 486
    if not leg.internal or partner(leg) is None:
        return 403
    return leg


def take_over(ua: SipUserAgent, new: SipChannel, old: SipChannel) -> None:
    """`new` (answered now) talks to whoever `old` talked to; `old` is hung up."""
    other = partner(old)
    bridge = old.bridge
    assert other is not None and bridge is not None  # checked by `replaced_leg`
    new.accept()
    bridge.dissolve()
    make_bridge(other, new)  # no await since the check: `other` is still there
    call_event("replaces", channel=new.name, replaced=old.name, party=other.name)
    old.hangup()
    new.session = ua.engine.supervisor.spawn(
        f"call from {new.name}", _stay(new), on_crash=lambda _exc: new.hangup(Cause.FAILURE))


async def _stay(leg: Channel) -> None:
    await leg.until_alone()
    leg.hangup()


def partner(leg: Channel) -> Channel | None:
    """Who `leg` talks to in a two-party call (None: alone, on hold, in a 3-way)."""
    bridge = leg.bridge
    return bridge.other(leg) if bridge is not None else None
