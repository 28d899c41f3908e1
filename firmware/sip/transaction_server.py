"""SIP server transactions and the UAS core's 2xx retransmission (RFC 3261 §17.2, §13.3.1.4,
amended by RFC 6026), sans-I/O.

    ServerInviteTransaction     §17.2.1  Proceeding, Completed, Confirmed, Accepted timers G H I L
    ServerNonInviteTransaction  §17.2.2  Trying, Proceeding, Completed             timer J
    AnswerRetransmission        §13.3.1.4  a 2xx to INVITE until its ACK          timers G H

Retransmission (unreliable transports only, §17.2.1):
  G  non-2xx INVITE answer: T1, 2*T1 ... capped at T2 until ACK or H = 64*T1
Wait states absorbing late copies: I = T4 / 0; J = 64*T1 / 0.
If the TU has not answered an INVITE within 200 ms, the transaction sends 100 Trying itself.

RFC 6026 "Accepted": a 2xx does not end the INVITE server transaction at once.  It waits in
Accepted for Timer L (64*T1), absorbing INVITE retransmissions and handing any ACK that
matches it to the TU.  The 2xx itself is retransmitted end to end by the UAS core until the
ACK arrives (§13.3.1.4: G-like schedule T1..T2, give up after 64*T1, then the TU should send
BYE): `AnswerRetransmission` does that, one machine per 2xx, on every transport, since a
proxy further on may use UDP.

The tables and timers run on `Machine` (`firmware.sip.transaction_machine`).
"""

from __future__ import annotations

from collections.abc import Hashable
from enum import Enum
from typing import ClassVar

from firmware.sip.message import Request, Response, make_response
from firmware.sip.transaction_common import (
    DEFAULT_TIMERS,
    AckTimedOut,
    Action,
    Event,
    Message,
    RequestReceived,
    Send,
    State,
    Table,
    TimerSettings,
    TransactionError,
    TransportFailed,
    answer_key,
)
from firmware.sip.transaction_machine import Machine, Transaction, classify

S, E = State, Event


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
        event = classify(response.status, E.RESPOND_PROVISIONAL, E.RESPOND_SUCCESS,
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
                 timers: TimerSettings = DEFAULT_TIMERS) -> None:
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
                 timers: TimerSettings = DEFAULT_TIMERS) -> None:
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
                 timers: TimerSettings = DEFAULT_TIMERS) -> None:
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
