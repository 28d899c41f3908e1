"""What the SIP transaction machines and their layer share (RFC 3261 §17), sans-I/O.

The vocabulary of `firmware.sip.transaction`: timer settings (T1, T2, T4), the state and
event enums the four machines' tables are written in, the actions they return (`Send` for
the shell, the rest for the transaction user), the keys that match a message to its
transaction (§17.1.3, §17.2.3) and the two requests a client transaction builds itself
(the ACK for a non-2xx answer and CANCEL).
"""

from __future__ import annotations

import random
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING

from firmware.sip.errors import ParseError, SipError
from firmware.sip.headers import Headers
from firmware.sip.message import Request, Response

if TYPE_CHECKING:
    from firmware.sip.transaction_client import ClientTransaction
    from firmware.sip.transaction_machine import Transaction

MAGIC_COOKIE = "z9hG4bK"  # §8.1.1.7: branches of RFC 3261 elements start with this
RELIABLE_TRANSPORTS = frozenset({"TCP", "TLS", "SCTP", "TLS-SCTP", "WS", "WSS"})

_SYSTEM_RANDOM = random.SystemRandom()


def new_branch(rng: random.Random | None = None) -> str:
    """A fresh branch: the magic cookie and 64 random bits (§8.1.1.7: unique in space and
    time). Pass a seeded `random.Random` for repeatable tests."""
    return f"{MAGIC_COOKIE}{(rng or _SYSTEM_RANDOM).getrandbits(64):016x}"


class TransactionError(SipError):
    """A transaction was driven by an event its state does not allow (a bug in the TU)."""


@dataclass(frozen=True, slots=True)
class TimerSettings:
    """T1, T2, T4 (RFC 3261 Table 4); every other timer derives from them."""

    t1: float = 0.5  # RTT estimate
    t2: float = 4.0  # longest retransmission interval for non-INVITE requests, INVITE answers
    t4: float = 5.0  # longest time a message stays in the network
    trying: float = 0.2  # §17.2.1: send 100 Trying if the TU has not answered within 200 ms

    @property
    def timeout(self) -> float:
        """Timers B, F, H, J (unreliable), L, M: 64*T1."""
        return 64 * self.t1

    def wait_d(self, reliable: bool) -> float:
        # §17.1.1.2: "at least 32 seconds" on UDP; with T1 raised, 64*T1 covers the
        # server's whole Timer H window.
        return 0.0 if reliable else max(32.0, self.timeout)


DEFAULT_TIMERS = TimerSettings()  # RFC 3261 Table 4 values


class State(Enum):
    CALLING = "calling"
    TRYING = "trying"
    PROCEEDING = "proceeding"
    COMPLETED = "completed"
    CONFIRMED = "confirmed"
    ACCEPTED = "accepted"
    TERMINATED = "terminated"
    ERROR = "error"


class Event(Enum):
    # from the network (responses are classified by status, requests by method)
    PROVISIONAL = "1xx"
    SUCCESS = "2xx"
    FAILURE = "300-699"
    REQUEST = "request retransmission"
    ACK = "ACK"
    # from the TU or the shell
    RESPOND_PROVISIONAL = "1xx from TU"
    RESPOND_SUCCESS = "2xx from TU"
    RESPOND_FAILURE = "300-699 from TU"
    CANCEL_SENT = "CANCEL sent"
    TRANSPORT_ERROR = "transport error"
    # timers
    TIMER_A = "A"
    TIMER_B = "B"
    TIMER_D = "D"
    TIMER_E = "E"
    TIMER_F = "F"
    TIMER_G = "G"
    TIMER_H = "H"
    TIMER_I = "I"
    TIMER_J = "J"
    TIMER_K = "K"
    TIMER_L = "L"
    TIMER_M = "M"
    TIMER_TRYING = "200 ms without an answer"
    TIMER_CANCEL = "64*T1 after CANCEL"


class EndReason(Enum):
    NORMAL = "normal"
    TIMEOUT = "timeout"  # the TU treats a client timeout as 408 (§8.1.3.1)
    TRANSPORT_ERROR = "transport error"  # ... and this as 503 (§8.1.3.1)


Message = Request | Response

# --- actions -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Send:
    """Put `message` on the wire to `dest`. `transaction` (None for stateless sends) is the
    one to report a failure to, through `TransactionLayer.transport_error`."""

    message: Message
    dest: Hashable
    reliable: bool
    transaction: Transaction | None = None


@dataclass(frozen=True, slots=True)
class RequestReceived:
    """A request no transaction absorbed: a new request (create a server transaction with
    `TransactionLayer.create_server` or answer statelessly), a CANCEL (see
    `find_invite_server`), or an ACK for a 2xx."""

    request: Request
    source: Hashable


@dataclass(frozen=True, slots=True)
class ResponseReceived:
    transaction: ClientTransaction
    response: Response


@dataclass(frozen=True, slots=True)
class StrayResponse:
    """A response matching no client transaction (§18.1.2: normally discarded; a 2xx to an
    INVITE after Timer M may still deserve an ACK from the UAC core)."""

    response: Response
    source: Hashable


@dataclass(frozen=True, slots=True)
class Terminated:
    transaction: Transaction
    reason: EndReason


@dataclass(frozen=True, slots=True)
class TransportFailed:
    """RFC 6026: a send failed in Accepted; the transaction lives on, the TU is told."""

    transaction: Transaction


@dataclass(frozen=True, slots=True)
class AckTimedOut:
    """§13.3.1.4: a 2xx went unacknowledged for 64*T1; the TU should end the call (BYE)."""

    response: Response
    dest: Hashable


Action = Send | RequestReceived | ResponseReceived | StrayResponse | Terminated | \
    TransportFailed | AckTimedOut

Table = Mapping[Enum, Mapping[Event, Enum]]

# --- building the requests the transaction layer sends itself -----------------------------


def _copied(request: Request, names: Iterable[str]) -> list[tuple[str, str]]:
    return [(name, value) for name in names for value in request.headers.values(name)]


def _sibling(request: Request, method: str, to: str, extra: Iterable[tuple[str, str]] = ()
             ) -> Request:
    """A request that shares `request`'s transaction identity: same Request-URI, Call-ID,
    From, CSeq number and Route set; the top Via only (§17.1.1.3, §9.1)."""
    headers = Headers()
    headers.add("Via", str(request.top_via))
    for name, value in _copied(request, ("Max-Forwards",)) or [("Max-Forwards", "70")]:
        headers.add(name, value)
    headers.add("From", str(request.from_))
    headers.add("To", to)
    headers.add("Call-ID", request.call_id)
    headers.add("CSeq", f"{request.cseq.number} {method}")
    for name, value in [*_copied(request, ("Route",)), *extra]:
        headers.add(name, value)
    return Request(method, request.uri, headers, b"")


def make_non2xx_ack(invite: Request, response: Response) -> Request:
    """§17.1.1.3: the ACK for a 300-699 answer, sent by the client transaction itself; its
    To carries the response's tag."""
    return _sibling(invite, "ACK", str(response.to))


def make_cancel(invite: Request, headers: Iterable[tuple[str, str]] = ()) -> Request:
    """§9.1: CANCEL for a pending INVITE; `headers` may add e.g. a Reason (RFC 3326)."""
    return _sibling(invite, "CANCEL", str(invite.to), headers)


# --- matching ------------------------------------------------------------------------------


def branch_of(message: Message) -> str:
    try:
        branch = message.top_via.branch
    except ParseError:  # no Via at all: matches nothing
        return ""
    return branch or ""


def client_key(message: Message) -> tuple[str, str]:
    """§17.1.3: a response belongs to the client transaction whose request carried the same
    top Via branch and the same method (CSeq method for responses)."""
    method = message.cseq.method if isinstance(message, Response) else message.method
    return (branch_of(message), method)


def server_key(request: Request) -> Hashable:
    """§17.2.3: branch + sent-by + method, with ACK looking for its INVITE. A branch without
    the magic cookie comes from an RFC 2543 element: match on Request-URI, From tag,
    Call-ID, CSeq number and top Via instead (the To tag is left out so that an ACK, which
    carries the tag of our answer, finds the INVITE that had none)."""
    method = "INVITE" if request.method == "ACK" else request.method
    via = request.top_via
    branch = branch_of(request)
    if branch.startswith(MAGIC_COOKIE):
        return ("3261", branch, via.host.lower(), via.port, method)
    return ("2543", str(request.uri), request.from_tag, request.call_id,
            request.cseq.number, str(via), method)


def is_reliable(request: Request) -> bool:
    """The transport a request came over, as its top Via says (§18.2.1)."""
    return request.top_via.transport.upper() in RELIABLE_TRANSPORTS


def answer_key(message: Message) -> tuple[str, int, str | None, str | None]:
    """What ties an ACK to the 2xx it acknowledges: the dialog and the CSeq number."""
    return (message.call_id, message.cseq.number, message.from_tag, message.to_tag)
