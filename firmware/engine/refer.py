"""A SIP phone's TRANSFER key: REFER in one of its calls through the box (RFC 3515).

The box is a back-to-back agent: the phone's party B is on a leg of its own, so the box
does the transfer itself, with the same features an analog flash uses
(`firmware.engine.features.transfer`), and tells the phone how it went.

    blind      phone A ── REFER, Refer-To: <sip:103@box> ──▶ box
               ◀── 202 Accepted, NOTIFY "SIP/2.0 100 Trying" (subscription active)
               B is held, then sent to 103 (hears ringback; caller ID shows B); nobody
               answers: B comes back and rings A's extension again
               ◀── NOTIFY "SIP/2.0 200 OK" (terminated): the box has taken the call over
               ── BYE ──▶ (the box sends it after BYE_WAIT_S if the phone does not)

    attended   A talks to B on dialog A1 and to C on A2 (both through the box)
               ── REFER on A1, Refer-To: <sip:C?Replaces=A2's Call-ID;to-tag;from-tag>
               ◀── 202, NOTIFY 100; B and C are joined; A2 ends (BYE from the box,
               as a transfer target ends the dialog it replaced, RFC 3891 §3)
               ◀── NOTIFY 200 (terminated); A1 ends as above
               A2 still ringing at C (the phone transfers before C answers): A2 is
               cancelled (487) and B is sent to the number A2 called, as a blind transfer.

What the REFER itself gets wrong is refused at once, the leg untouched:

    403  the leg is no office phone's (a trunk), the REFER did not come from the phone
         of the dialog, the target is not this box, nothing to transfer (no two-party
         call), the Replaces names another phone's call
    400  no Refer-To (or several), unparseable, no number in it
    481  (the dialog does not exist: answered by the user agent before it gets here)

A REFER with `Refer-Sub: false` (RFC 4488) is answered 202 with `Refer-Sub: false`, and
no NOTIFY follows.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from firmware.engine.channel import Cause, Channel
from firmware.engine.features.hold import hold
from firmware.engine.features.transfer import attended_transfer, blind_transfer
from firmware.engine.replaces import partner
from firmware.logs import call_event
from firmware.sip.dialog import DialogState
from firmware.sip.errors import ParseError
from firmware.sip.message import Request, make_response
from firmware.sip.refer import (
    SIPFRAG,
    ReferTo,
    Replaces,
    SipFrag,
    notify_headers,
    wants_subscription,
)
from firmware.sip.transaction import ServerTransaction
from firmware.sip.uri import SipUri

if TYPE_CHECKING:
    from firmware.engine.channels.sip import SipChannel
    from firmware.engine.sipua import SipUserAgent
    from firmware.sip.transport import Address


# After the final NOTIFY the phone hangs up the transferred call itself; one that does
# not within this long gets a BYE (a few seconds: NOTIFY may be retransmitted meanwhile).
BYE_WAIT_S = 4.0


class Refused(Exception):
    """A REFER the box turns down: answered `status`, the call goes on as it was."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


class Transfers:
    """REFERs of the phones on one user agent, and the BYEs they leave to send."""

    def __init__(self, ua: SipUserAgent) -> None:
        self.ua = ua
        self._byes: dict[SipChannel, asyncio.TimerHandle] = {}

    def stop(self) -> None:
        for handle in self._byes.values():
            handle.cancel()
        self._byes.clear()

    def receive(self, channel: SipChannel, request: Request, tx: ServerTransaction,
                source: Address) -> None:
        """A REFER in `channel`'s confirmed dialog (its CSeq already accepted)."""
        try:
            target = self._check(channel, request, source)
            if target.replaces is None:
                self._blind(channel, request, tx, self._number(target))
            else:
                self._attended(channel, request, tx, target)
        except Refused as refused:
            call_event("refer-refused", channel=channel.name, status=refused.status,
                       why=refused.reason)
            self.ua.respond(tx, make_response(request, refused.status, refused.reason))

    def forget(self, channel: SipChannel) -> None:
        """The phone hung up the transferred call itself: no BYE to send."""
        handle = self._byes.pop(channel, None)
        if handle is not None:
            handle.cancel()

    # -- checks ------------------------------------------------------------------------

    def _check(self, channel: SipChannel, request: Request, source: Address) -> ReferTo:
        if not channel.internal:
            raise Refused(403, "Only Office Phones Transfer")
        if source.host != channel.peer.host:  # the tags alone are no proof of who sends
            raise Refused(403, "Not From This Call's Phone")
        try:
            target = ReferTo.of(request)
        except ParseError as exc:
            raise Refused(400, f"Bad Refer-To: {exc.message}"[:120]) from None
        uri = target.uri
        if not isinstance(uri, SipUri):
            raise Refused(403, f"Cannot Transfer To A {uri.scheme}: URI")
        own = getattr(request.from_.uri, "host", None)  # the domain the phone uses for us
        if uri.host != own and not self.ua.is_ours(uri.host):
            raise Refused(403, "Transfers Stay On This Box")
        if partner(channel) is None:
            raise Refused(403, "No Call To Transfer")
        return target

    def _number(self, target: ReferTo) -> str:
        number = getattr(target.uri, "user", None)
        if not number:
            raise Refused(400, "No Number In Refer-To")
        return number

    def _replaced(self, channel: SipChannel, replaces: Replaces) -> SipChannel:
        other = self.ua.dialog_of(replaces.call_id, replaces.to_tag, replaces.from_tag)
        if other is None or other is channel:
            raise Refused(403, "No Such Call To Join")
        if not other.internal or other.party.number != channel.party.number:
            raise Refused(403, "Not Your Call")  # a phone joins its own calls only
        return other

    # -- blind -------------------------------------------------------------------------

    def _blind(self, channel: SipChannel, request: Request, tx: ServerTransaction,
               number: str) -> None:
        held = partner(channel)
        assert held is not None  # checked
        call_event("refer", channel=channel.name, to=number, kind="blind", held=held.name)
        channel.transferred = True  # before the leg can be hung up: its end is ours now
        self._accept(channel, request, tx)
        hold(self.ua.engine, held)
        self._send_away(held, number, channel.party.number)
        self._finish(channel, request, SipFrag(200, "OK"))

    def _send_away(self, held: Channel, number: str, back_to: str | None,
                   after: asyncio.Task[object] | None = None) -> None:
        """`held` to `number` (back to the extension `back_to` if nobody answers: the
        transferrer, whom the target's display names too), once `after` (a call still
        ringing the number) is over, so that its phone is free."""
        engine = self.ua.engine

        async def transfer() -> None:
            if after is not None and not after.done():
                await asyncio.wait([after])
            await blind_transfer(engine, held, number, back_to=back_to, by=back_to)

        engine.supervisor.spawn(f"transfer {held.name}", transfer(),
                                on_crash=lambda _exc: held.hangup(Cause.FAILURE))

    # -- attended ----------------------------------------------------------------------

    def _attended(self, channel: SipChannel, request: Request, tx: ServerTransaction,
                  target: ReferTo) -> None:
        assert target.replaces is not None
        other = self._replaced(channel, target.replaces)
        if other.dialog is None:  # the consult call still rings: semi-attended
            self._semi_attended(channel, request, tx, other)
            return
        if partner(other) is None:
            raise Refused(403, "No Call To Join")
        call_event("refer", channel=channel.name, to=other.name, kind="attended")
        channel.transferred = True
        self._accept(channel, request, tx)
        if attended_transfer(channel, other):  # ends `other` (BYE) and `channel` (ours)
            self._finish(channel, request, SipFrag(200, "OK"))
        else:
            channel.transferred = False
            self._notify(channel, request, SipFrag(503, "Service Unavailable"), final=True)

    def _semi_attended(self, channel: SipChannel, request: Request, tx: ServerTransaction,
                       consult: SipChannel) -> None:
        """The phone transfers while its consult call rings: that call is dropped and the
        party sent to the number it called (rung afresh), as a blind transfer."""
        number = getattr(consult.invite.uri, "user", None) if consult.invite else None
        if not number:
            raise Refused(403, "No Call To Join")
        held = partner(channel)
        assert held is not None
        call_event("refer", channel=channel.name, to=number, kind="semi-attended")
        channel.transferred = True
        self._accept(channel, request, tx)
        consult.hangup()  # 487 to the phone's consult INVITE
        session = consult.session
        if session is not None:
            session.cancel()  # its ringing stops before the transfer rings again
        hold(self.ua.engine, held)
        self._send_away(held, number, channel.party.number, after=session)
        self._finish(channel, request, SipFrag(200, "OK"))

    # -- the REFER's answers -------------------------------------------------------------

    def _accept(self, channel: SipChannel, request: Request, tx: ServerTransaction) -> None:
        """202 Accepted (a 2xx to a target refresh: with our Contact), then the first
        NOTIFY at once (RFC 3515 §2.4.4)."""
        response = make_response(request, 202)
        response.headers.add("Contact", self.ua.contact(channel.peer))
        if not wants_subscription(request):
            response.headers.add("Refer-Sub", "false")  # RFC 4488 §4: no NOTIFY follows
        self.ua.respond(tx, response)
        self._notify(channel, request, SipFrag(100, "Trying"), final=False)

    def _finish(self, channel: SipChannel, request: Request, result: SipFrag) -> None:
        """The final NOTIFY; the phone hangs up after it, or gets a BYE."""
        self._notify(channel, request, result, final=True)
        self.forget(channel)
        self._byes[channel] = self.ua.loop.call_later(BYE_WAIT_S, self._bye, channel)

    def _notify(self, channel: SipChannel, request: Request, frag: SipFrag,
                final: bool) -> None:
        if not wants_subscription(request):
            return
        dialog = channel.dialog
        if dialog is None or dialog.state is not DialogState.CONFIRMED:
            return  # the phone hung up already: nobody to tell
        call_event("refer-notify", channel=channel.name, status=frag.status,
                   final=final or None)
        self.ua.send_in_dialog(channel, "NOTIFY", body=bytes(frag), content_type=SIPFRAG,
                               headers=notify_headers(request, final))

    def _bye(self, channel: SipChannel) -> None:
        self._byes.pop(channel, None)
        self.ua.end_transferred(channel)
