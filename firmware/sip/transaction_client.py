"""SIP client transactions (RFC 3261 §17.1, amended by RFC 6026), sans-I/O.

    ClientInviteTransaction     §17.1.1  Calling, Proceeding, Completed, Accepted   timers A B D M
    ClientNonInviteTransaction  §17.1.2  Trying, Proceeding, Completed             timers E F K

Retransmission (unreliable transports only, §17.1.1.2, §17.1.2.2):
  A  INVITE request:        T1, 2*T1, 4*T1 ... (no cap) until B = 64*T1
  E  non-INVITE request:    T1, 2*T1 ... capped at T2; T2 once a 1xx has arrived; F = 64*T1
Wait states absorbing late copies: D >= 32 s (UDP) or 0 (TCP) after a non-2xx ACK;
K = T4 / 0.

RFC 6026 "Accepted": a 2xx does not end the INVITE client transaction at once.  It waits in
Accepted for Timer M (64*T1) passing every 2xx retransmission up, because the TU must ACK
each one (§13.2.2.4).  The ACK for a 300-699 answer is the transaction's own business
(§17.1.1.3, `make_non2xx_ack`) and is sent again for every copy of that answer.

The tables and timers run on `Machine` (`firmware.sip.transaction_machine`).
"""

from __future__ import annotations

from collections.abc import Hashable
from enum import Enum
from typing import ClassVar

from firmware.sip.message import Request, Response
from firmware.sip.transaction_common import (
    DEFAULT_TIMERS,
    Action,
    Event,
    Message,
    ResponseReceived,
    State,
    Table,
    TimerSettings,
    TransactionError,
    make_non2xx_ack,
)
from firmware.sip.transaction_machine import Transaction, classify

S, E = State, Event


class ClientTransaction(Transaction):
    def receive(self, response: Response, now: float) -> list[Action]:
        """A response matched to this transaction (§17.1.3)."""
        event = classify(response.status, Event.PROVISIONAL, Event.SUCCESS, Event.FAILURE)
        return self._fire(event, now, response) + self.on_timer(now)

    def _deliver(self, response: Message | None) -> ResponseReceived:
        assert isinstance(response, Response)
        return ResponseReceived(self, response)


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
                 timers: TimerSettings = DEFAULT_TIMERS) -> None:
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
                 timers: TimerSettings = DEFAULT_TIMERS) -> None:
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
