"""SIP dialogs (RFC 3261 §12), sans-I/O.

Theory of operation
-------------------
A dialog is the peer-to-peer relationship an INVITE creates between two user agents.  It is
named by `DialogId` (Call-ID, local tag, remote tag, §12) and carries what every later
request in it needs (§12.1): the local and remote URIs (From/To of the INVITE as seen from
our side), the local and remote CSeq numbers, the remote target (the peer's Contact), the
route set (Record-Route: in order for the UAS, reversed for the UAC) and the secure flag.

    Dialog.from_uac(invite, response)  a 1xx with a To tag makes an early dialog, a 2xx a
                                       confirmed one (§12.1.2); one dialog per To tag, so
                                       forked answers give several dialogs
    Dialog.from_uas(invite, response)  the same from the answering side (§12.1.1)

The lifecycle is a table `{state: {event: next_state}}` (`Dialog.TABLE`):

    EARLY      -- 2xx to the INVITE ---------------------------> CONFIRMED
    EARLY      -- 300-699 to the INVITE, BYE, 481/408 ---------> TERMINATED
    CONFIRMED  -- BYE sent or accepted, 481/408 (§12.2.1.2) ---> TERMINATED

Requests and responses in the dialog are self-loops that update the state: CSeq numbers,
the remote target on target refresh requests and their 2xx (§12.2.1.2, §12.2.2), the route
set when the early dialog of a UAC is confirmed (§12.1.2: recomputed from the 2xx).  A
terminated dialog still takes late responses (the 200 to our BYE, a retransmitted 2xx) and
a re-sent BYE (after a 401), but sending or accepting anything else there is a bug of the
caller: it raises `DialogError` and leaves the dialog in `ERROR`.

`new_request()` builds an in-dialog request per §12.2.1.1: Request-URI and Route from the
remote target and route set (loose routing when the first route has `lr`, strict routing
otherwise), From/To with the tags, Call-ID, the next local CSeq, Max-Forwards 70, our
Contact for target refresh requests, and a top Via when the caller gives its sent-by.
`make_ack_for_2xx()` builds the ACK for a 2xx the same way but with the INVITE's CSeq
number and credentials (§13.2.2.4).  `accept_request()` applies §12.2.2 to a request
received in the dialog: a CSeq lower than the last one is out of order (answer 500).
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import ClassVar

from firmware.sip.errors import SipError
from firmware.sip.headers import Headers, NameAddr
from firmware.sip.message import Request, Response
from firmware.sip.transaction import new_branch
from firmware.sip.uri import SipUri, Uri

__all__ = [
    "Dialog", "DialogError", "DialogEvent", "DialogId", "DialogState",
    "dialog_key", "make_ack_for_2xx",
]

MAX_FORWARDS = "70"  # §8.1.1.6: the recommended starting value
# Methods whose request (and 2xx) replace the remote target: RFC 3261 §12.2 (re-INVITE),
# RFC 3311 (UPDATE), RFC 6665 (SUBSCRIBE, NOTIFY), RFC 3515 (REFER).
TARGET_REFRESH = frozenset({"INVITE", "UPDATE", "SUBSCRIBE", "NOTIFY", "REFER"})
# Parameters a Request-URI must not carry (§19.1.1, Table 1) when a strict router's URI
# becomes the Request-URI (§12.2.1.1).
_NOT_IN_REQUEST_URI = frozenset({"method"})
_CSEQ_LIMIT = 2**31  # §8.1.1.5: the initial CSeq number is below 2**31
_SYSTEM_RANDOM = random.SystemRandom()


class DialogError(SipError):
    """A dialog was used in a way its state does not allow (a bug in the caller)."""


@dataclass(frozen=True, slots=True)
class DialogId:
    call_id: str
    local_tag: str | None
    remote_tag: str | None


def dialog_key(message: Request | Response, local_is_uac: bool) -> DialogId:
    """The id of the dialog a message belongs to, from our side.

    `local_is_uac` says whether we are the client of the message's transaction: we sent
    the request (or received the response), so the From tag is ours.  For a request we
    received (or a response we send) pass False: the To tag is ours.
    """
    if local_is_uac:
        return DialogId(message.call_id, message.from_tag, message.to_tag)
    return DialogId(message.call_id, message.to_tag, message.from_tag)


class DialogState(Enum):
    EARLY = "early"
    CONFIRMED = "confirmed"
    TERMINATED = "terminated"
    ERROR = "error"


class DialogEvent(Enum):
    PROVISIONAL = "1xx to the INVITE"
    CONFIRM = "2xx to the INVITE"
    REFRESH = "2xx to a target refresh request"
    RESPONSE = "other response in the dialog"
    REQUEST_SENT = "request sent"
    REQUEST_ACCEPTED = "request received"
    BYE = "BYE sent or accepted"
    END = "non-2xx to the INVITE, or 481/408"


St, Ev = DialogState, DialogEvent


class Dialog:
    TABLE: ClassVar[Mapping[DialogState, Mapping[DialogEvent, DialogState]]] = {
        St.EARLY: {
            Ev.PROVISIONAL: St.EARLY, Ev.CONFIRM: St.CONFIRMED, Ev.REFRESH: St.EARLY,
            Ev.RESPONSE: St.EARLY, Ev.REQUEST_SENT: St.EARLY, Ev.REQUEST_ACCEPTED: St.EARLY,
            Ev.BYE: St.TERMINATED, Ev.END: St.TERMINATED,
        },
        St.CONFIRMED: {
            Ev.PROVISIONAL: St.CONFIRMED, Ev.CONFIRM: St.CONFIRMED, Ev.REFRESH: St.CONFIRMED,
            Ev.RESPONSE: St.CONFIRMED, Ev.REQUEST_SENT: St.CONFIRMED,
            Ev.REQUEST_ACCEPTED: St.CONFIRMED, Ev.BYE: St.TERMINATED, Ev.END: St.TERMINATED,
        },
        St.TERMINATED: {
            Ev.PROVISIONAL: St.TERMINATED, Ev.CONFIRM: St.TERMINATED,
            Ev.REFRESH: St.TERMINATED, Ev.RESPONSE: St.TERMINATED, Ev.BYE: St.TERMINATED,
            Ev.END: St.TERMINATED,
        },
        St.ERROR: {},
    }

    def __init__(self, *, state: DialogState, is_uac: bool, call_id: str,
                 local_party: NameAddr, remote_party: NameAddr, local_cseq: int | None,
                 remote_cseq: int | None, remote_target: Uri,
                 route_set: tuple[NameAddr, ...], secure: bool, invite_cseq: int,
                 local_target: NameAddr | None = None, rng: random.Random | None = None
                 ) -> None:
        self.state = state
        self.is_uac = is_uac
        self.call_id = call_id
        self.local_party = local_party  # From (UAC) / To (UAS) of the INVITE, with our tag
        self.remote_party = remote_party
        self.local_cseq = local_cseq
        self.remote_cseq = remote_cseq
        self.remote_target = remote_target
        self.route_set = route_set
        self.secure = secure
        self.local_target = local_target  # our Contact, sent again in target refreshes
        self.invite_cseq = invite_cseq  # CSeq number of the INVITE that made the dialog
        self._rng = rng or _SYSTEM_RANDOM

    # -- creation

    @classmethod
    def from_uac(cls, invite: Request, response: Response, *,
                 rng: random.Random | None = None) -> Dialog:
        """§12.1.2: the dialog a response with a To tag creates at the caller."""
        if response.to_tag is None:
            raise DialogError("a response without a To tag creates no dialog")
        if not 101 <= response.status < 300:
            raise DialogError(f"a {response.status} creates no dialog")
        return cls(
            state=St.CONFIRMED if response.status >= 200 else St.EARLY, is_uac=True,
            call_id=invite.call_id, local_party=invite.from_, remote_party=response.to,
            local_cseq=invite.cseq.number, remote_cseq=None,
            remote_target=_contact_uri(response) or invite.uri,
            route_set=tuple(reversed(response.record_routes)),
            secure=_secure(invite), invite_cseq=invite.cseq.number,
            local_target=_contact(invite), rng=rng)

    @classmethod
    def from_uas(cls, invite: Request, response: Response, *,
                 rng: random.Random | None = None) -> Dialog:
        """§12.1.1: the dialog our 1xx (with a To tag) or 2xx to `invite` creates."""
        if response.to_tag is None:
            raise DialogError("a response without a To tag creates no dialog")
        if not 101 <= response.status < 300:
            raise DialogError(f"a {response.status} creates no dialog")
        remote_target = _contact_uri(invite)
        if remote_target is None:
            raise DialogError("the INVITE has no Contact")  # §8.1.1.8: it must have one
        return cls(
            state=St.CONFIRMED if response.status >= 200 else St.EARLY, is_uac=False,
            call_id=invite.call_id, local_party=response.to, remote_party=invite.from_,
            local_cseq=None, remote_cseq=invite.cseq.number, remote_target=remote_target,
            route_set=tuple(invite.record_routes), secure=_secure(invite),
            invite_cseq=invite.cseq.number, local_target=_contact(response), rng=rng)

    # -- identity

    @property
    def local_tag(self) -> str | None:
        return self.local_party.tag

    @property
    def remote_tag(self) -> str | None:
        return self.remote_party.tag

    @property
    def id(self) -> DialogId:
        return DialogId(self.call_id, self.local_tag, self.remote_tag)

    @property
    def local_uri(self) -> Uri:
        return self.local_party.uri

    @property
    def remote_uri(self) -> Uri:
        return self.remote_party.uri

    # -- the state table

    def _move(self, event: DialogEvent) -> DialogState:
        nxt = self.TABLE[self.state].get(event)
        if nxt is None:
            previous, self.state = self.state, St.ERROR
            raise DialogError(f"dialog {self.id}: {event.value} is not allowed in state "
                              f"{previous.value}")
        previous, self.state = self.state, nxt
        return previous

    # -- requests we send

    def new_request(self, method: str, *, body: bytes = b"", content_type: str | None = None,
                    headers: Iterable[tuple[str, str]] = (), sent_by: str | None = None,
                    transport: str = "UDP", branch: str | None = None) -> Request:
        """The next request in this dialog (§12.2.1.1). With `sent_by` ("host:port") a top
        Via with a fresh branch is added; otherwise the caller adds it."""
        method = method.upper()
        if method in ("ACK", "CANCEL"):
            raise DialogError(f"{method} is not a new request: use make_ack_for_2xx / "
                              "transaction.make_cancel")
        if method == "BYE" and not self.is_uac and self.state is St.EARLY:
            # §15: the callee must not send BYE in an early dialog (it answers instead).
            self.state = St.ERROR
            raise DialogError("the callee must not send BYE in an early dialog")
        self._move(Ev.BYE if method == "BYE" else Ev.REQUEST_SENT)
        if self.local_cseq is None:
            self.local_cseq = self._rng.randrange(1, _CSEQ_LIMIT // 2)
        else:
            self.local_cseq += 1
        return self._build(method, self.local_cseq, body=body, content_type=content_type,
                           headers=headers, sent_by=sent_by, transport=transport,
                           branch=branch)

    def _build(self, method: str, cseq: int, *, body: bytes, content_type: str | None,
               headers: Iterable[tuple[str, str]], sent_by: str | None, transport: str,
               branch: str | None) -> Request:
        uri, routes = self.request_target()
        out = Headers()
        if sent_by is not None:
            out.add("Via", f"SIP/2.0/{transport.upper()} {sent_by};branch="
                           f"{branch or new_branch(self._rng)}")
        out.add("Max-Forwards", MAX_FORWARDS)
        for route in routes:
            out.add("Route", str(route))
        out.add("From", str(self.local_party))
        out.add("To", str(self.remote_party))
        out.add("Call-ID", self.call_id)
        out.add("CSeq", f"{cseq} {method}")
        if method in TARGET_REFRESH and self.local_target is not None:
            out.add("Contact", str(self.local_target))
        for name, value in headers:
            out.add(name, value)
        if body and content_type is not None:
            out.set("Content-Type", content_type)
        return Request(method, uri, out, body)

    def request_target(self) -> tuple[Uri, tuple[NameAddr | str, ...]]:
        """Request-URI and Route headers for the next request (§12.2.1.1)."""
        if not self.route_set:
            return self.remote_target, ()
        first = self.route_set[0]
        if _uri_has_param(first.uri, "lr"):
            return self.remote_target, self.route_set  # loose routing
        # Strict routing: the first route becomes the Request-URI, the remote target the
        # last Route, so the strict router can swap them back.
        uri = _strip_for_request_uri(first.uri)
        return uri, (*self.route_set[1:], f"<{self.remote_target}>")

    # -- requests we receive

    def accept_request(self, request: Request) -> bool:
        """§12.2.2 for a request received in this dialog. False: out of order, answer 500.
        ACK and CANCEL carry the INVITE's number and are not ordered."""
        self._check_mine(dialog_key(request, local_is_uac=False))
        method = request.method
        if method in ("ACK", "CANCEL"):
            return self.state is not St.ERROR
        number = request.cseq.number
        if self.remote_cseq is not None and number < self.remote_cseq:
            return False
        self._move(Ev.BYE if method == "BYE" else Ev.REQUEST_ACCEPTED)
        self.remote_cseq = number
        if method in TARGET_REFRESH:
            self._refresh_target(request)
        return True

    # -- responses

    def receive_response(self, response: Response) -> None:
        """A response to a request we sent in this dialog (or to the INVITE that made it)."""
        if response.to_tag is None and response.status < 200:
            return  # a 100 Trying (or an untagged 1xx) says nothing about the dialog
        self._check_mine(dialog_key(response, local_is_uac=True))
        cseq = response.cseq
        status = response.status
        if cseq.method == "INVITE" and cseq.number == self.invite_cseq and self.is_uac:
            if status < 200:
                self._move(Ev.PROVISIONAL)
                if self.state is St.EARLY:
                    self._refresh_target(response)
            elif status < 300:
                if self._move(Ev.CONFIRM) is St.EARLY:
                    # §12.1.2: the route set is recomputed from the 2xx.
                    self.route_set = tuple(reversed(response.record_routes))
                    self._refresh_target(response)
            else:
                self._move(Ev.END)
            return
        if status in (408, 481):
            self._move(Ev.END)  # §12.2.1.2: the dialog is gone at the other end
        elif 200 <= status < 300 and cseq.method in TARGET_REFRESH:
            self._move(Ev.REFRESH)
            if self.state is not St.TERMINATED:
                self._refresh_target(response)
        else:
            self._move(Ev.RESPONSE)

    def response_sent(self, response: Response) -> None:
        """Our response to the INVITE that made this dialog (UAS): 2xx confirms it,
        300-699 ends it."""
        cseq = response.cseq
        if cseq.method != "INVITE" or cseq.number != self.invite_cseq:
            return
        if response.status < 200:
            self._move(Ev.PROVISIONAL)
        elif response.status < 300:
            self._move(Ev.CONFIRM)
        else:
            self._move(Ev.END)

    def terminate(self) -> None:
        """End the dialog without a BYE (e.g. the ACK never came and BYE failed too)."""
        self._move(Ev.END)

    def _check_mine(self, key: DialogId) -> None:
        # A message of another dialog is a dispatch bug of the caller, not an event of this
        # dialog: refused, and the dialog is left as it was.
        if key != self.id:
            raise DialogError(f"a message of dialog {key} was given to dialog {self.id}")

    def _refresh_target(self, message: Request | Response) -> None:
        uri = _contact_uri(message)
        if uri is not None:
            self.remote_target = uri

    def __repr__(self) -> str:
        return f"<Dialog {self.id} {self.state.value}>"


def make_ack_for_2xx(dialog: Dialog, invite: Request, *, body: bytes = b"",
                     content_type: str | None = None, sent_by: str | None = None,
                     transport: str = "UDP", branch: str | None = None) -> Request:
    """§13.2.2.4: the ACK for a 2xx to `invite`, built like any in-dialog request but with
    the INVITE's CSeq number, method ACK, and the INVITE's credentials. It is sent by the
    UAC core (not a transaction), once per 2xx received, with a branch of its own."""
    if dialog.state in (St.EARLY, St.ERROR):
        # An early dialog still has the route set of a 1xx: give it the 2xx first.
        raise DialogError(f"no ACK for a 2xx from a dialog in state {dialog.state.value}")
    credentials = [(name, value) for name in ("Authorization", "Proxy-Authorization")
                   for value in invite.headers.get_all(name)]
    return dialog._build("ACK", invite.cseq.number, body=body, content_type=content_type,
                         headers=credentials, sent_by=sent_by, transport=transport,
                         branch=branch)


# --- helpers -------------------------------------------------------------------------------


def _secure(invite: Request) -> bool:
    # §12.1.1/§12.1.2: TLS on the hop and a SIPS Request-URI.
    return invite.top_via.transport.upper() == "TLS" and invite.uri.scheme == "sips"


def _contact(message: Request | Response) -> NameAddr | None:
    contacts = message.contacts
    return contacts[0] if contacts and contacts != "*" else None


def _contact_uri(message: Request | Response) -> Uri | None:
    contact = _contact(message)
    return None if contact is None else contact.uri


def _uri_has_param(uri: Uri, key: str) -> bool:
    return isinstance(uri, SipUri) and uri.has_param(key)


def _strip_for_request_uri(uri: Uri) -> Uri:
    if not isinstance(uri, SipUri):
        return uri
    return uri.without_params(*_NOT_IN_REQUEST_URI).with_(headers=())

