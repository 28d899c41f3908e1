"""SIP transactions (RFC 3261 §17, amended by RFC 6026), sans-I/O.

Theory of operation
-------------------
A transaction is one request and the responses to it.  Four machines do the work:

    ClientInviteTransaction     §17.1.1  Calling, Proceeding, Completed, Accepted   timers A B D M
    ClientNonInviteTransaction  §17.1.2  Trying, Proceeding, Completed             timers E F K
    ServerInviteTransaction     §17.2.1  Proceeding, Completed, Confirmed, Accepted timers G H I L
    ServerNonInviteTransaction  §17.2.2  Trying, Proceeding, Completed             timer J

Each is a table `{state: {event: next_state}}` (`TABLE` on the class).  An input is turned
into an `Event`, looked up in the row of the current state and only then acted on; an event
with no entry is a bug in the caller (the TU answering twice, a CANCEL before any
provisional response), so it raises `TransactionError` and leaves the machine in
`State.ERROR`, where every further event raises too.  Anything the network can send
(late or duplicated responses, stray ACKs) has an entry in every live state, so a remote
peer can never push a machine into `ERROR`.

Nothing here reads a clock or touches a socket.  Every input carries `now` (seconds, any
monotonic origin); a machine keeps its running timers as absolute deadlines, reports the
earliest through `next_deadline()` and fires whatever is due in `on_timer(now)`.  A timer
of zero length (D, I, J, K on reliable transports) fires inside the call that started it,
so a TCP transaction passes straight through Completed.  Outputs are lists of actions:
`Send` for the shell to put on the wire, and events for the transaction user (TU):
`RequestReceived`, `ResponseReceived`, `StrayResponse`, `Terminated`, `TransportFailed`,
`AckTimedOut`.

Retransmission (unreliable transports only, §17.1.1.2, §17.1.2.2, §17.2.1):
  A  INVITE request:        T1, 2*T1, 4*T1 ... (no cap) until B = 64*T1
  E  non-INVITE request:    T1, 2*T1 ... capped at T2; T2 once a 1xx has arrived; F = 64*T1
  G  non-2xx INVITE answer: T1, 2*T1 ... capped at T2 until ACK or H = 64*T1
Wait states absorbing late copies: D >= 32 s (UDP) or 0 (TCP) after a non-2xx ACK;
K = T4 / 0; I = T4 / 0; J = 64*T1 / 0.

RFC 6026 "Accepted": a 2xx ends neither INVITE transaction at once.  The client waits in
Accepted for Timer M (64*T1) passing every 2xx retransmission up, because the TU must ACK
each one (§13.2.2.4); the server waits in Accepted for Timer L (64*T1), absorbing INVITE
retransmissions and handing any ACK that matches it to the TU.  The 2xx itself is
retransmitted end to end by the UAS core until the ACK arrives (§13.3.1.4: G-like
schedule T1..T2, give up after 64*T1, then the TU should send BYE).  `TransactionLayer`
does that for the TU with one `AnswerRetransmission` machine per 2xx, on every transport,
since a proxy further on may use UDP.

`TransactionLayer` is the table of live transactions, keyed as §17.1.3 (responses: top
Via branch + CSeq method) and §17.2.3 (requests: branch + sent-by + method, ACK looking up
INVITE; requests whose branch lacks the magic cookie fall back to the RFC 2543 fields).
It removes a transaction as soon as it terminates (§17.1.1.2: "destroyed immediately").
The shell keeps a single `loop.call_at(layer.next_deadline())` and calls
`layer.on_timer(now)` when it fires.

What stays with the TU: creating a server transaction for each `RequestReceived` it wants to
answer statefully (`create_server`, then `respond`); CANCEL (answer it on its own
transaction, find the INVITE with `find_invite_server`, answer that 487); the ACK for a 2xx
(built by the dialog layer, sent with a plain `Send`, again for every 2xx copy); and
ignoring an ACK that matches none of its dialogs.  Addresses are opaque to this module:
`Send.dest` is what the TU passed to `send_request`, or for a server transaction the source
of its request (applying §18.2.2 / RFC 3581 to it is the shell's business).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass
from enum import Enum
from functools import partial
from typing import ClassVar

from firmware.sip.errors import ParseError, SipError
from firmware.sip.headers import Headers
from firmware.sip.message import Request, Response, make_response

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

# --- shared machinery ----------------------------------------------------------------------


class Machine:
    """A table-driven state machine with absolute-deadline timers."""

    TABLE: ClassVar[Table]
    ERROR_STATE: ClassVar[Enum] = State.ERROR

    def __init__(self, state: Enum, timers: TimerSettings) -> None:
        self.state = state
        self.timers = timers
        self._deadlines: dict[Event, float] = {}

    def next_deadline(self) -> float | None:
        return min(self._deadlines.values(), default=None)

    def on_timer(self, now: float) -> list[Action]:
        """Fire every timer due at `now`, earliest first."""
        actions: list[Action] = []
        while self._deadlines:
            event, due = min(self._deadlines.items(), key=lambda item: item[1])
            if due > now:
                break
            del self._deadlines[event]
            actions += self._fire(event, now)
        return actions

    def _fire(self, event: Event, now: float, message: Message | None = None) -> list[Action]:
        previous = self._move(event)
        return self._act(event, previous, message, now)

    def _move(self, event: Event) -> Enum:
        nxt = self.TABLE[self.state].get(event)
        if nxt is None:
            previous, self.state = self.state, self.ERROR_STATE
            self._deadlines.clear()
            raise TransactionError(
                f"{type(self).__name__}: {event.value} is not allowed in state {previous.value}")
        previous, self.state = self.state, nxt
        return previous

    def _act(self, event: Event, previous: Enum, message: Message | None,
             now: float) -> list[Action]:
        raise NotImplementedError

    def _arm(self, timer: Event, now: float, delay: float) -> None:
        self._deadlines[timer] = now + delay

    def _disarm(self, *timers: Event) -> None:
        for timer in timers:
            self._deadlines.pop(timer, None)


_ENDINGS: dict[Event, EndReason] = {
    Event.TIMER_B: EndReason.TIMEOUT,
    Event.TIMER_F: EndReason.TIMEOUT,
    Event.TIMER_H: EndReason.TIMEOUT,
    Event.TIMER_CANCEL: EndReason.TIMEOUT,
    Event.TRANSPORT_ERROR: EndReason.TRANSPORT_ERROR,
}


class Transaction(Machine):
    """What the four machines share: the request, the peer, the transport kind."""

    INITIAL: ClassVar[State]

    def __init__(self, request: Request, peer: Hashable, *, reliable: bool,
                 timers: TimerSettings) -> None:
        super().__init__(self.INITIAL, timers)
        self.request = request
        self.peer = peer
        self.reliable = reliable
        self.branch: str = _branch_of(request)
        self.method: str = request.method
        self.key: Hashable = None  # set by TransactionLayer

    @property
    def done(self) -> bool:
        return self.state in (State.TERMINATED, State.ERROR)

    def transport_error(self, now: float) -> list[Action]:
        """The shell failed to send one of this transaction's messages (§18.4)."""
        return self._fire(Event.TRANSPORT_ERROR, now)

    def _fire(self, event: Event, now: float, message: Message | None = None) -> list[Action]:
        actions = super()._fire(event, now, message)
        if self.state is State.TERMINATED:
            self._deadlines.clear()
            actions.append(Terminated(self, _ENDINGS.get(event, EndReason.NORMAL)))
        return actions

    def _send(self, message: Message) -> Send:
        return Send(message, self.peer, self.reliable, self)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.method} {self.branch} {self.state.value}>"


def _classify(status: int, provisional: Event, success: Event, failure: Event) -> Event:
    if not 100 <= status <= 699:
        raise TransactionError(f"status {status} is outside 100-699")
    if status < 200:
        return provisional
    return success if status < 300 else failure


# --- client transactions -------------------------------------------------------------------


class ClientTransaction(Transaction):
    def receive(self, response: Response, now: float) -> list[Action]:
        """A response matched to this transaction (§17.1.3)."""
        event = _classify(response.status, Event.PROVISIONAL, Event.SUCCESS, Event.FAILURE)
        return self._fire(event, now, response) + self.on_timer(now)

    def _deliver(self, response: Message | None) -> ResponseReceived:
        assert isinstance(response, Response)
        return ResponseReceived(self, response)


S, E = State, Event


class ClientInviteTransaction(ClientTransaction):
    """§17.1.1 with RFC 6026 §8.4 (Accepted, Timer M).

    Timer B guards Calling only; after a 1xx the INVITE waits for the callee, and the TU
    ends the wait with CANCEL (`TransactionLayer.cancel`), after which §9.1 gives the final
    response 64*T1 to arrive (`TIMER_CANCEL`).
    """

    INITIAL = S.CALLING
    TABLE: ClassVar[Table] = {
        S.CALLING: {
            E.TIMER_A: S.CALLING, E.TIMER_B: S.TERMINATED, E.PROVISIONAL: S.PROCEEDING,
            E.SUCCESS: S.ACCEPTED, E.FAILURE: S.COMPLETED, E.TRANSPORT_ERROR: S.TERMINATED,
        },
        S.PROCEEDING: {
            E.PROVISIONAL: S.PROCEEDING, E.SUCCESS: S.ACCEPTED, E.FAILURE: S.COMPLETED,
            E.CANCEL_SENT: S.PROCEEDING, E.TIMER_CANCEL: S.TERMINATED,
            E.TRANSPORT_ERROR: S.TERMINATED,
        },
        S.COMPLETED: {
            E.PROVISIONAL: S.COMPLETED, E.SUCCESS: S.COMPLETED, E.FAILURE: S.COMPLETED,
            E.TIMER_D: S.TERMINATED, E.TRANSPORT_ERROR: S.TERMINATED,
        },
        S.ACCEPTED: {
            E.PROVISIONAL: S.ACCEPTED, E.SUCCESS: S.ACCEPTED, E.FAILURE: S.ACCEPTED,
            E.TIMER_M: S.TERMINATED,
        },
        S.TERMINATED: {},
        S.ERROR: {},
    }

    def __init__(self, request: Request, peer: Hashable, *, reliable: bool, now: float,
                 timers: TimerSettings = TimerSettings()) -> None:
        super().__init__(request, peer, reliable=reliable, timers=timers)
        self.ack: Request | None = None
        self._interval = timers.t1
        if not reliable:
            self._arm(E.TIMER_A, now, self._interval)
        self._arm(E.TIMER_B, now, timers.timeout)

    def start(self) -> list[Action]:
        return [self._send(self.request)]

    def cancel_sent(self, now: float) -> list[Action]:
        """The TU sent a CANCEL for this INVITE (only legal in Proceeding, §9.1)."""
        return self._fire(E.CANCEL_SENT, now)

    def _act(self, event: Event, previous: Enum, message: Message | None,
             now: float) -> list[Action]:
        waiting = previous in (S.CALLING, S.PROCEEDING)
        if event is E.TIMER_A:
            self._interval *= 2  # §17.1.1.2: doubles, no cap; B ends it
            self._arm(E.TIMER_A, now, self._interval)
            return [self._send(self.request)]
        if event is E.PROVISIONAL:
            self._disarm(E.TIMER_A, E.TIMER_B)
            return [self._deliver(message)] if waiting else []
        if event is E.SUCCESS:
            if waiting:
                self._deadlines.clear()
                self._arm(E.TIMER_M, now, self.timers.timeout)
            # Accepted: every 2xx copy goes up, the TU ACKs each (§13.2.2.4). In Completed a
            # 2xx can only come from another fork; the TU may ACK and BYE it.
            return [self._deliver(message)]
        if event is E.FAILURE:
            if waiting:
                assert isinstance(message, Response)
                self._deadlines.clear()
                self.ack = make_non2xx_ack(self.request, message)
                self._arm(E.TIMER_D, now, self.timers.wait_d(self.reliable))
                return [self._send(self.ack), self._deliver(message)]
            if previous is S.COMPLETED and self.ack is not None:
                return [self._send(self.ack)]  # the ACK was lost: send it again
            return []  # RFC 6026: non-2xx in Accepted is discarded
        if event is E.CANCEL_SENT:
            self._arm(E.TIMER_CANCEL, now, self.timers.timeout)
        return []


class ClientNonInviteTransaction(ClientTransaction):
    """§17.1.2: any final response completes it; E keeps retransmitting through a 1xx."""

    INITIAL = S.TRYING
    TABLE: ClassVar[Table] = {
        S.TRYING: {
            E.TIMER_E: S.TRYING, E.TIMER_F: S.TERMINATED, E.PROVISIONAL: S.PROCEEDING,
            E.SUCCESS: S.COMPLETED, E.FAILURE: S.COMPLETED, E.TRANSPORT_ERROR: S.TERMINATED,
        },
        S.PROCEEDING: {
            E.TIMER_E: S.PROCEEDING, E.TIMER_F: S.TERMINATED, E.PROVISIONAL: S.PROCEEDING,
            E.SUCCESS: S.COMPLETED, E.FAILURE: S.COMPLETED, E.TRANSPORT_ERROR: S.TERMINATED,
        },
        S.COMPLETED: {
            E.PROVISIONAL: S.COMPLETED, E.SUCCESS: S.COMPLETED, E.FAILURE: S.COMPLETED,
            E.TIMER_K: S.TERMINATED,
        },
        S.TERMINATED: {},
        S.ERROR: {},
    }

    def __init__(self, request: Request, peer: Hashable, *, reliable: bool, now: float,
                 timers: TimerSettings = TimerSettings()) -> None:
        if request.method in ("INVITE", "ACK"):
            raise TransactionError(f"{request.method} does not use a non-INVITE transaction")
        super().__init__(request, peer, reliable=reliable, timers=timers)
        self._interval = timers.t1
        if not reliable:
            self._arm(E.TIMER_E, now, self._interval)
        self._arm(E.TIMER_F, now, timers.timeout)

    def start(self) -> list[Action]:
        return [self._send(self.request)]

    def _act(self, event: Event, previous: Enum, message: Message | None,
             now: float) -> list[Action]:
        waiting = previous in (S.TRYING, S.PROCEEDING)
        if event is E.TIMER_E:
            if self.state is S.PROCEEDING:
                self._interval = self.timers.t2
            else:
                self._interval = min(2 * self._interval, self.timers.t2)
            self._arm(E.TIMER_E, now, self._interval)
            return [self._send(self.request)]
        if event is E.PROVISIONAL:
            return [self._deliver(message)] if waiting else []
        if event in (E.SUCCESS, E.FAILURE) and waiting:
            self._deadlines.clear()
            self._arm(E.TIMER_K, now, 0.0 if self.reliable else self.timers.t4)
            return [self._deliver(message)]
        return []  # retransmitted finals in Completed are absorbed


# --- server transactions -------------------------------------------------------------------


class ServerTransaction(Transaction):
    def __init__(self, request: Request, peer: Hashable, *, reliable: bool,
                 timers: TimerSettings) -> None:
        super().__init__(request, peer, reliable=reliable, timers=timers)
        self.last_response: Response | None = None
        self._source: Hashable = peer

    def receive(self, request: Request, now: float, source: Hashable = None) -> list[Action]:
        """A retransmission of the request, or (INVITE) an ACK, matched per §17.2.3.
        `source` is where it came from (default: the transaction's peer)."""
        self._source = self.peer if source is None else source
        event = E.ACK if request.method == "ACK" else E.REQUEST
        return self._fire(event, now, request) + self.on_timer(now)

    def respond(self, response: Response, now: float) -> list[Action]:
        """The TU's response to the request."""
        if response.cseq.method != self.method:
            raise TransactionError(
                f"response for {response.cseq.method} on a {self.method} transaction")
        event = _classify(response.status, E.RESPOND_PROVISIONAL, E.RESPOND_SUCCESS,
                          E.RESPOND_FAILURE)
        return self._fire(event, now, response) + self.on_timer(now)

    def _sent(self, message: Message | None) -> Send:
        assert isinstance(message, Response)
        self.last_response = message
        return self._send(message)

    def _resend_last(self) -> list[Action]:
        return [] if self.last_response is None else [self._send(self.last_response)]


class ServerInviteTransaction(ServerTransaction):
    """§17.2.1 with RFC 6026 §7.1 (Accepted, Timer L)."""

    INITIAL = S.PROCEEDING
    TABLE: ClassVar[Table] = {
        S.PROCEEDING: {
            E.REQUEST: S.PROCEEDING, E.ACK: S.PROCEEDING, E.TIMER_TRYING: S.PROCEEDING,
            E.RESPOND_PROVISIONAL: S.PROCEEDING, E.RESPOND_SUCCESS: S.ACCEPTED,
            E.RESPOND_FAILURE: S.COMPLETED, E.TRANSPORT_ERROR: S.TERMINATED,
        },
        S.COMPLETED: {
            E.REQUEST: S.COMPLETED, E.ACK: S.CONFIRMED, E.TIMER_G: S.COMPLETED,
            E.TIMER_H: S.TERMINATED, E.TRANSPORT_ERROR: S.TERMINATED,
        },
        S.CONFIRMED: {E.REQUEST: S.CONFIRMED, E.ACK: S.CONFIRMED, E.TIMER_I: S.TERMINATED},
        S.ACCEPTED: {
            E.REQUEST: S.ACCEPTED, E.ACK: S.ACCEPTED, E.RESPOND_SUCCESS: S.ACCEPTED,
            E.TIMER_L: S.TERMINATED, E.TRANSPORT_ERROR: S.ACCEPTED,
        },
        S.TERMINATED: {},
        S.ERROR: {},
    }

    def __init__(self, request: Request, peer: Hashable, *, reliable: bool, now: float,
                 timers: TimerSettings = TimerSettings()) -> None:
        if request.method != "INVITE":
            raise TransactionError(f"{request.method} is not an INVITE")
        super().__init__(request, peer, reliable=reliable, timers=timers)
        self._interval = timers.t1
        self._arm(E.TIMER_TRYING, now, timers.trying)

    def _act(self, event: Event, previous: Enum, message: Message | None,
             now: float) -> list[Action]:
        if event is E.TIMER_TRYING:
            return [self._sent(make_response(self.request, 100))]
        if event is E.REQUEST:
            # Proceeding: the latest provisional; Completed: the final (§17.2.1).
            # Confirmed and Accepted absorb (RFC 6026: the TU retransmits the 2xx itself).
            return self._resend_last() if previous in (S.PROCEEDING, S.COMPLETED) else []
        if event is E.ACK:
            if previous is S.COMPLETED:
                self._deadlines.clear()
                self._arm(E.TIMER_I, now, 0.0 if self.reliable else self.timers.t4)
            elif previous is S.ACCEPTED:
                assert isinstance(message, Request)
                return [RequestReceived(message, self._source)]
            return []
        if event is E.RESPOND_PROVISIONAL:
            self._disarm(E.TIMER_TRYING)
            return [self._sent(message)]
        if event is E.RESPOND_SUCCESS:
            if previous is S.PROCEEDING:
                self._deadlines.clear()
                self._arm(E.TIMER_L, now, self.timers.timeout)
            return [self._sent(message)]
        if event is E.RESPOND_FAILURE:
            self._deadlines.clear()
            if not self.reliable:
                self._arm(E.TIMER_G, now, self._interval)
            self._arm(E.TIMER_H, now, self.timers.timeout)
            return [self._sent(message)]
        if event is E.TIMER_G:
            self._interval = min(2 * self._interval, self.timers.t2)
            self._arm(E.TIMER_G, now, self._interval)
            return self._resend_last()
        if event is E.TRANSPORT_ERROR and self.state is S.ACCEPTED:
            return [TransportFailed(self)]
        return []


class ServerNonInviteTransaction(ServerTransaction):
    """§17.2.2: the TU answers; retransmitted requests get the last response again."""

    INITIAL = S.TRYING
    TABLE: ClassVar[Table] = {
        S.TRYING: {
            E.REQUEST: S.TRYING, E.RESPOND_PROVISIONAL: S.PROCEEDING,
            E.RESPOND_SUCCESS: S.COMPLETED, E.RESPOND_FAILURE: S.COMPLETED,
            E.TRANSPORT_ERROR: S.TERMINATED,
        },
        S.PROCEEDING: {
            E.REQUEST: S.PROCEEDING, E.RESPOND_PROVISIONAL: S.PROCEEDING,
            E.RESPOND_SUCCESS: S.COMPLETED, E.RESPOND_FAILURE: S.COMPLETED,
            E.TRANSPORT_ERROR: S.TERMINATED,
        },
        S.COMPLETED: {E.REQUEST: S.COMPLETED, E.TIMER_J: S.TERMINATED,
                      E.TRANSPORT_ERROR: S.TERMINATED},
        S.TERMINATED: {},
        S.ERROR: {},
    }

    def __init__(self, request: Request, peer: Hashable, *, reliable: bool, now: float,
                 timers: TimerSettings = TimerSettings()) -> None:
        if request.method in ("INVITE", "ACK"):
            raise TransactionError(f"{request.method} does not use a non-INVITE transaction")
        super().__init__(request, peer, reliable=reliable, timers=timers)

    def _act(self, event: Event, previous: Enum, message: Message | None,
             now: float) -> list[Action]:
        if event is E.REQUEST:
            return self._resend_last()  # nothing yet in Trying: absorbed
        if event is E.RESPOND_PROVISIONAL:
            return [self._sent(message)]
        if event in (E.RESPOND_SUCCESS, E.RESPOND_FAILURE):
            self._arm(E.TIMER_J, now, 0.0 if self.reliable else self.timers.timeout)
            return [self._sent(message)]
        return []


# --- the UAS core's 2xx retransmission (§13.3.1.4) ----------------------------------------


class AnswerState(Enum):
    WAITING = "waiting for ACK"
    ACKNOWLEDGED = "acknowledged"
    ABANDONED = "abandoned"
    ERROR = "error"


class AnswerRetransmission(Machine):
    """Resend a 2xx to INVITE at T1, 2*T1 ... capped at T2 until its ACK arrives; give up
    after 64*T1 (`AckTimedOut`: the dialog is confirmed but the TU should send BYE)."""

    ERROR_STATE = AnswerState.ERROR
    TABLE: ClassVar[Table] = {
        AnswerState.WAITING: {
            E.TIMER_G: AnswerState.WAITING, E.ACK: AnswerState.ACKNOWLEDGED,
            E.TIMER_H: AnswerState.ABANDONED,
        },
        AnswerState.ACKNOWLEDGED: {E.ACK: AnswerState.ACKNOWLEDGED},
        AnswerState.ABANDONED: {},
        AnswerState.ERROR: {},
    }

    def __init__(self, response: Response, dest: Hashable, *, reliable: bool, now: float,
                 timers: TimerSettings = TimerSettings()) -> None:
        super().__init__(AnswerState.WAITING, timers)
        self.response = response
        self.dest = dest
        self.reliable = reliable
        self.key = answer_key(response)
        self.transaction: ServerInviteTransaction | None = None  # set by TransactionLayer
        self._interval = timers.t1
        self._arm(E.TIMER_G, now, self._interval)
        self._arm(E.TIMER_H, now, timers.timeout)

    @property
    def done(self) -> bool:
        return self.state is not AnswerState.WAITING

    def acknowledged(self, now: float) -> list[Action]:
        return self._fire(E.ACK, now)

    def _act(self, event: Event, previous: Enum, message: Message | None,
             now: float) -> list[Action]:
        if event is E.TIMER_G:
            self._interval = min(2 * self._interval, self.timers.t2)
            self._arm(E.TIMER_G, now, self._interval)
            return [Send(self.response, self.dest, self.reliable)]
        self._deadlines.clear()
        if event is E.TIMER_H:
            return [AckTimedOut(self.response, self.dest)]
        return []


def answer_key(message: Message) -> tuple[str, int, str | None, str | None]:
    """What ties an ACK to the 2xx it acknowledges: the dialog and the CSeq number."""
    return (message.call_id, message.cseq.number, message.from_tag, message.to_tag)


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


def _branch_of(message: Message) -> str:
    try:
        branch = message.top_via.branch
    except ParseError:  # no Via at all: matches nothing
        return ""
    return branch or ""


def client_key(message: Message) -> tuple[str, str]:
    """§17.1.3: a response belongs to the client transaction whose request carried the same
    top Via branch and the same method (CSeq method for responses)."""
    method = message.cseq.method if isinstance(message, Response) else message.method
    return (_branch_of(message), method)


def server_key(request: Request) -> Hashable:
    """§17.2.3: branch + sent-by + method, with ACK looking for its INVITE. A branch without
    the magic cookie comes from an RFC 2543 element: match on Request-URI, From tag,
    Call-ID, CSeq number and top Via instead (the To tag is left out so that an ACK, which
    carries the tag of our answer, finds the INVITE that had none)."""
    method = "INVITE" if request.method == "ACK" else request.method
    via = request.top_via
    branch = _branch_of(request)
    if branch.startswith(MAGIC_COOKIE):
        return ("3261", branch, via.host.lower(), via.port, method)
    return ("2543", str(request.uri), request.from_tag, request.call_id,
            request.cseq.number, str(via), method)


def is_reliable(request: Request) -> bool:
    """The transport a request came over, as its top Via says (§18.2.1)."""
    return request.top_via.transport.upper() in RELIABLE_TRANSPORTS


# --- the layer -----------------------------------------------------------------------------


class TransactionLayer:
    """All live transactions of one SIP endpoint, plus the 2xx retransmissions of its UAS
    core. Every method returns the actions to carry out, in order."""

    def __init__(self, timers: TimerSettings = TimerSettings()) -> None:
        self.timers = timers
        self._clients: dict[Hashable, ClientTransaction] = {}
        self._servers: dict[Hashable, ServerTransaction] = {}
        self._answers: dict[Hashable, AnswerRetransmission] = {}
        # INVITEs the TU cancelled before any 1xx: the CANCEL waits for one (§9.1)
        self._cancel_pending: dict[ClientInviteTransaction, tuple[tuple[str, str], ...]] = {}

    # -- the TU's requests

    def send_request(self, request: Request, dest: Hashable, reliable: bool, now: float
                     ) -> tuple[ClientTransaction, list[Action]]:
        """Start a client transaction. The request must carry its top Via with a fresh
        branch (`new_branch`). ACK is not a transaction: send it with `Send` directly."""
        if request.method == "ACK":
            raise TransactionError("ACK is sent without a transaction")
        if not _branch_of(request).startswith(MAGIC_COOKIE):
            raise TransactionError("the top Via needs a branch starting with z9hG4bK")
        key = client_key(request)
        if key in self._clients:
            raise TransactionError(f"a client transaction already uses {key}")
        kind = ClientInviteTransaction if request.method == "INVITE" else \
            ClientNonInviteTransaction
        tx = kind(request, dest, reliable=reliable, now=now, timers=self.timers)
        tx.key = key
        self._clients[key] = tx
        return tx, tx.start()

    def cancel(self, invite: ClientInviteTransaction, now: float,
               headers: Iterable[tuple[str, str]] = ()) -> list[Action]:
        """Cancel a pending INVITE (§9.1). Before any 1xx the CANCEL waits for one; once
        the INVITE has a final answer there is nothing to cancel and nothing is sent."""
        if self._clients.get(invite.key) is not invite:
            return []
        if invite.state is S.CALLING:
            self._cancel_pending[invite] = tuple(headers)
            return []
        if invite.state is S.PROCEEDING:
            return self._send_cancel(invite, now, headers)
        return []

    def _send_cancel(self, invite: ClientInviteTransaction, now: float,
                     headers: Iterable[tuple[str, str]]) -> list[Action]:
        self._cancel_pending.pop(invite, None)
        request = make_cancel(invite.request, headers)
        if client_key(request) in self._clients:
            return []  # already cancelled
        _, actions = self.send_request(request, invite.peer, invite.reliable, now)
        return actions + invite.cancel_sent(now)

    # -- the TU's responses

    def create_server(self, request: Request, source: Hashable, now: float, *,
                      reliable: bool | None = None) -> ServerTransaction:
        """Make a server transaction for a new request (after `RequestReceived`).
        `reliable` defaults to what the top Via says."""
        if request.method == "ACK":
            raise TransactionError("ACK does not create a server transaction")
        key = server_key(request)
        if key in self._servers:
            raise TransactionError(f"a server transaction already uses {key}")
        kind = ServerInviteTransaction if request.method == "INVITE" else \
            ServerNonInviteTransaction
        reliable = is_reliable(request) if reliable is None else reliable
        tx = kind(request, source, reliable=reliable, now=now, timers=self.timers)
        tx.key = key
        self._servers[key] = tx
        return tx

    def respond(self, transaction: ServerTransaction, response: Response, now: float
                ) -> list[Action]:
        """Send the TU's response on its server transaction. A 2xx to INVITE also starts
        its end-to-end retransmission until the ACK comes (§13.3.1.4)."""
        actions = self._drive(transaction, lambda: transaction.respond(response, now))
        if (isinstance(transaction, ServerInviteTransaction) and 200 <= response.status < 300
                and answer_key(response) not in self._answers):
            answer = AnswerRetransmission(response, transaction.peer,
                                          reliable=transaction.reliable, now=now,
                                          timers=self.timers)
            answer.transaction = transaction
            self._answers[answer.key] = answer
        return actions

    def find_invite_server(self, cancel: Request) -> ServerInviteTransaction | None:
        """The INVITE server transaction a CANCEL is for (§9.2: same matching as §17.2.3,
        with the method taken as INVITE)."""
        key = server_key(cancel)
        invite_key = (*key[:-1], "INVITE")
        tx = self._servers.get(invite_key)
        return tx if isinstance(tx, ServerInviteTransaction) else None

    # -- the shell's inputs

    def receive(self, message: Message, source: Hashable, now: float) -> list[Action]:
        if isinstance(message, Response):
            return self._receive_response(message, source, now)
        return self._receive_request(message, source, now)

    def _receive_response(self, response: Response, source: Hashable, now: float
                          ) -> list[Action]:
        tx = self._clients.get(client_key(response))
        if tx is None:
            return [StrayResponse(response, source)]
        actions = self._drive(tx, lambda: tx.receive(response, now))
        if tx in self._cancel_pending:
            assert isinstance(tx, ClientInviteTransaction)
            if tx.state is S.PROCEEDING:
                actions += self._send_cancel(tx, now, self._cancel_pending[tx])
            else:
                del self._cancel_pending[tx]  # answered before any 1xx: nothing to cancel
        return actions

    def _receive_request(self, request: Request, source: Hashable, now: float
                         ) -> list[Action]:
        tx = self._servers.get(server_key(request))
        if request.method != "ACK":
            if tx is None:
                return [RequestReceived(request, source)]
            return self._drive(tx, lambda: tx.receive(request, now, source))
        if tx is not None and tx.state is not S.ACCEPTED:
            # the ACK for our non-2xx: absorbed
            return self._drive(tx, lambda: tx.receive(request, now, source))
        # An ACK for a 2xx: it ends the retransmission and goes to the TU (§13.3.1.4).
        answer = self._answers.pop(answer_key(request), None)
        if answer is not None:
            answer.acknowledged(now)
        if tx is not None:
            # Accepted hands it up (RFC 6026 §7.1)
            return self._drive(tx, lambda: tx.receive(request, now, source))
        return [RequestReceived(request, source)]

    def transport_error(self, transaction: Transaction | None, now: float) -> list[Action]:
        """A `Send` failed. Ignored for transactions already gone."""
        if transaction is None or not self._owns(transaction):
            return []
        return self._drive(transaction, lambda: transaction.transport_error(now))

    # -- time

    def _machines(self) -> list[Machine]:
        return [*self._clients.values(), *self._servers.values(), *self._answers.values()]

    def next_deadline(self) -> float | None:
        return min((d for m in self._machines() if (d := m.next_deadline()) is not None),
                   default=None)

    def on_timer(self, now: float) -> list[Action]:
        """Fire everything due at `now`, machines in deadline order. A linear scan: a small
        office has tens of transactions, not thousands."""
        due = [(d, i, m) for i, m in enumerate(self._machines())
               if (d := m.next_deadline()) is not None and d <= now]
        actions: list[Action] = []
        for _, _, machine in sorted(due, key=lambda item: (item[0], item[1])):
            if isinstance(machine, AnswerRetransmission):
                actions += self._answer_timer(machine, now)
            else:
                assert isinstance(machine, Transaction)
                actions += self._drive(machine, partial(machine.on_timer, now))
        return actions

    def _answer_timer(self, answer: AnswerRetransmission, now: float) -> list[Action]:
        actions = answer.on_timer(now)
        if answer.done:
            self._answers.pop(answer.key, None)
        # RFC 6026: while the INVITE server transaction lives, 2xx copies pass through it.
        tx = answer.transaction
        if tx is None or tx.state is not S.ACCEPTED or not self._owns(tx):
            return actions
        out: list[Action] = []
        for action in actions:
            out += tx.respond(answer.response, now) if isinstance(action, Send) else [action]
        return out

    def _drive(self, tx: Transaction, step: Callable[[], list[Action]]) -> list[Action]:
        """Run one input of `tx`; whatever happens (a TU bug raising from the table
        included), a transaction that has ended leaves the table at once."""
        try:
            return step()
        finally:
            self._reap(tx)

    def _owns(self, tx: Transaction) -> bool:
        return self._clients.get(tx.key) is tx or self._servers.get(tx.key) is tx

    def _reap(self, tx: Transaction) -> None:
        if not tx.done:
            return
        table: dict[Hashable, ClientTransaction] | dict[Hashable, ServerTransaction]
        table = self._clients if isinstance(tx, ClientTransaction) else self._servers
        if table.get(tx.key) is tx:
            del table[tx.key]
        if isinstance(tx, ClientInviteTransaction):
            self._cancel_pending.pop(tx, None)

    # -- inspection

    @property
    def transactions(self) -> list[Transaction]:
        return [*self._clients.values(), *self._servers.values()]

    @property
    def answers(self) -> list[AnswerRetransmission]:
        return list(self._answers.values())
