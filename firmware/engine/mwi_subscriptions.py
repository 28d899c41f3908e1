"""SIP phones subscribe to their mailbox's message-waiting state (RFC 6665, RFC 3842).

    phone                                            box
    SUBSCRIBE sip:101@box  Event: message-summary ──▶
                                                ◀── 401 (digest, as for every request)
    SUBSCRIBE ... Authorization ────────────────────▶
                                                ◀── 200 OK, Expires: granted
                                                ◀── NOTIFY  Subscription-State: active;expires=N
                                                    Messages-Waiting: yes
                                                    Voice-Message: 1/0 (0/0)
    (a message is left, heard, deleted)         ◀── NOTIFY with the new counts
    SUBSCRIBE in the dialog (refresh) ──────────────▶
                                                ◀── 200, NOTIFY (the state now, §4.2.1.2)
    SUBSCRIBE in the dialog, Expires: 0 ────────────▶
                                                ◀── 200, NOTIFY terminated;reason=timeout

A phone may watch only its own extension's mailbox (403 otherwise, 404 if it has none).
A subscription that is not refreshed in time ends with a final NOTIFY (reason=timeout);
one whose NOTIFY is answered 481 (or not at all) is forgotten (RFC 6665 §4.2.2).
Subscriptions live in memory: after a restart the box answers a refresh 481 and phones
subscribe afresh, getting the current state (rebuilt from the store) at once.
"""

from __future__ import annotations

import asyncio
import logging
import random
from dataclasses import dataclass
from typing import TYPE_CHECKING

from firmware.engine.mwi import MessageCounts
from firmware.engine.sipauth import Verdict
from firmware.logs import call_event
from firmware.sip.dialog import Dialog
from firmware.sip.headers import Headers
from firmware.sip.message import Request, make_response
from firmware.sip.message_summary import CONTENT_TYPE, EVENT, MessageSummary
from firmware.sip.transaction import ServerTransaction
from firmware.sip.transport import Address
from firmware.sip.uri import SipUri

if TYPE_CHECKING:
    from firmware.engine.sipua import SipUserAgent

__all__ = ["DEFAULT_EXPIRES", "MIN_EXPIRES", "MwiSubscriptions"]

log = logging.getLogger(__name__)

DEFAULT_EXPIRES = 3600  # RFC 3842 §4.4: an hour, when the SUBSCRIBE names none
MAX_EXPIRES = 3600  # refreshed at least hourly, so a gone phone is forgotten soon
MIN_EXPIRES = 60  # shorter: 423 (RFC 6665 §4.2.1.1), as the registrar does for REGISTER
GONE = frozenset({408, 481})  # a NOTIFY answered so: the phone has no such subscription
ALLOW_EVENTS = ("Allow-Events", EVENT)


@dataclass(eq=False)
class Subscription:
    mailbox: str
    dialog: Dialog
    peer: Address  # where the SUBSCRIBE came from (NAT: where NOTIFYs must go)
    expires_at: float
    timer: asyncio.TimerHandle | None = None


class MwiSubscriptions:
    """Every live message-summary subscription, by (Call-ID, our tag)."""

    def __init__(self, ua: SipUserAgent) -> None:
        self.ua = ua
        self._subscriptions: dict[tuple[str, str], Subscription] = {}
        self._rng = random.Random()
        ua.engine.mwi.listen(self._changed)

    def __len__(self) -> int:
        return len(self._subscriptions)

    def stop(self) -> None:
        for subscription in self._subscriptions.values():
            if subscription.timer is not None:
                subscription.timer.cancel()
        self._subscriptions.clear()

    # -- SUBSCRIBE --------------------------------------------------------------------

    def receive(self, request: Request, tx: ServerTransaction, source: Address) -> None:
        """A SUBSCRIBE: a new subscription, or a refresh or end of one (in its dialog)."""
        event = (request.headers.get("Event") or "").split(";")[0].strip().lower()
        if event != EVENT:  # RFC 6665 §4.2.1.1: only the packages we have
            self.ua.respond(tx, make_response(request, 489, headers=[ALLOW_EVENTS]))
            return
        accept = request.headers.values("Accept")
        if accept and not any(CONTENT_TYPE in a.lower() or "*/*" in a for a in accept):
            self.ua.respond(tx, make_response(request, 406, headers=[("Accept",
                                                                      CONTENT_TYPE)]))
            return
        expires = _expires(request.headers.get("Expires"))
        if expires is None:
            self.ua.respond(tx, make_response(request, 400, "Bad Expires"))
            return
        if 0 < expires < MIN_EXPIRES:
            self.ua.respond(tx, make_response(request, 423, headers=[
                ("Min-Expires", str(MIN_EXPIRES))]))
            return
        if request.to_tag is None:
            self._new(request, tx, source, min(expires, MAX_EXPIRES))
        else:
            self._refresh(request, tx, min(expires, MAX_EXPIRES))

    def _new(self, request: Request, tx: ServerTransaction, source: Address,
             expires: int) -> None:
        now = self.ua.loop.time()
        outcome = self.ua.auth.check(request, source.host, now)
        if outcome.verdict is Verdict.CHALLENGE:
            self.ua.respond(tx, make_response(request, 401, headers=outcome.challenge_headers))
            return
        extension = self.ua.engine.office.extension(outcome.user or "")
        if outcome.verdict is not Verdict.OK or extension is None or \
                "sip" not in extension.devices:
            self.ua.respond(tx, make_response(request, 403))
            return
        mailbox = getattr(request.uri, "user", None) or extension.number
        if mailbox != extension.number:  # somebody else's mailbox
            self.ua.respond(tx, make_response(request, 403, "Not Your Mailbox"))
            return
        if mailbox not in self.ua.engine.mwi:
            self.ua.respond(tx, make_response(request, 404, "No Mailbox"))
            return
        tag = f"{self._rng.getrandbits(64):016x}"
        response = make_response(request, 200, to_tag=tag, headers=[
            ("Expires", str(expires)), ("Contact", self.ua.contact(source)), ALLOW_EVENTS])
        dialog = Dialog.from_uas(request, response)
        self.ua.respond(tx, response)
        subscription = Subscription(mailbox, dialog, source, now + expires)
        call_event("mwi-subscribe", mailbox=mailbox, peer=str(source), expires=expires)
        if expires == 0:  # a fetch: the state once, and done (RFC 6665 §4.2.1.4)
            self._notify(subscription, terminated=True)
            return
        self._subscriptions[(request.call_id, tag)] = subscription
        self._arm(request.call_id, tag, subscription)
        self._notify(subscription)

    def _refresh(self, request: Request, tx: ServerTransaction, expires: int) -> None:
        key = (request.call_id, request.to_tag or "")
        subscription = self._subscriptions.get(key)
        if subscription is None:
            self.ua.respond(tx, make_response(request, 481))
            return
        if not subscription.dialog.accept_request(request):
            self.ua.respond(tx, make_response(request, 500, "CSeq out of order"))
            return
        self.ua.respond(tx, make_response(request, 200, headers=[
            ("Expires", str(expires)), ("Contact", self.ua.contact(subscription.peer)),
            ALLOW_EVENTS]))
        if expires == 0:  # unsubscribe
            self._forget(key)
            call_event("mwi-unsubscribe", mailbox=subscription.mailbox)
            self._notify(subscription, terminated=True)
            return
        subscription.expires_at = self.ua.loop.time() + expires
        self._arm(*key, subscription)
        self._notify(subscription)

    def _arm(self, call_id: str, tag: str, subscription: Subscription) -> None:
        if subscription.timer is not None:
            subscription.timer.cancel()
        subscription.timer = self.ua.loop.call_at(subscription.expires_at, self._expired,
                                                  (call_id, tag))

    def _expired(self, key: tuple[str, str]) -> None:
        subscription = self._forget(key)
        if subscription is not None:
            call_event("mwi-expired", mailbox=subscription.mailbox)
            self._notify(subscription, terminated=True)

    def _forget(self, key: tuple[str, str]) -> Subscription | None:
        subscription = self._subscriptions.pop(key, None)
        if subscription is not None and subscription.timer is not None:
            subscription.timer.cancel()
        return subscription

    # -- NOTIFY -----------------------------------------------------------------------

    def _changed(self, mailbox: str, counts: MessageCounts) -> None:
        for subscription in list(self._subscriptions.values()):
            if subscription.mailbox == mailbox:
                self._notify(subscription)

    def _notify(self, subscription: Subscription, *, terminated: bool = False) -> None:
        """Send the mailbox's state now (the NOTIFY's answer is awaited in a task)."""
        counts = self.ua.engine.mwi.get(subscription.mailbox)
        account = subscription.dialog.local_uri  # the mailbox, as the phone named it
        if isinstance(account, SipUri):
            account = account.with_(params=(), headers=())
        summary = MessageSummary(counts.waiting, str(account), counts.new, counts.saved)
        left = max(0, round(subscription.expires_at - self.ua.loop.time()))
        state = "terminated;reason=timeout" if terminated else f"active;expires={left}"
        request = subscription.dialog.new_request(
            "NOTIFY", body=bytes(summary), content_type=CONTENT_TYPE,
            headers=[("Event", EVENT), ("Subscription-State", state)])
        request = Request(request.method, request.uri,
                          Headers([("Via", self.ua.via(subscription.peer)), *request.headers]),
                          request.body)
        self.ua.engine.supervisor.spawn(f"mwi notify {subscription.mailbox}",
                                        self._send(subscription, request))

    async def _send(self, subscription: Subscription, request: Request) -> None:
        response = await self.ua.request(request, subscription.peer)
        status = response.status if response is not None else 408
        if status in GONE or (status >= 300 and status not in (401, 407)):
            # RFC 6665 §4.2.2: the phone has no such subscription (or refuses it): drop it.
            for key, live in list(self._subscriptions.items()):
                if live is subscription:
                    self._forget(key)
                    call_event("mwi-gone", mailbox=subscription.mailbox, status=status)


def _expires(value: str | None) -> int | None:
    """The Expires header's seconds; DEFAULT_EXPIRES without one; None if garbled."""
    if value is None:
        return DEFAULT_EXPIRES
    value = value.strip()
    return int(value) if value.isdigit() and len(value) <= 10 else None
