"""SIP transactions (RFC 3261 §17, amended by RFC 6026), sans-I/O: the transaction layer.

Theory of operation
-------------------
A transaction is one request and the responses to it.  Four machines do the work, each a
table `{state: {event: next_state}}` with absolute-deadline timers:

    ClientInviteTransaction     §17.1.1  Calling, Proceeding, Completed, Accepted   timers A B D M
    ClientNonInviteTransaction  §17.1.2  Trying, Proceeding, Completed             timers E F K
    ServerInviteTransaction     §17.2.1  Proceeding, Completed, Confirmed, Accepted timers G H I L
    ServerNonInviteTransaction  §17.2.2  Trying, Proceeding, Completed             timer J

They live in one-job modules, and every public name of theirs is importable from here too:

    transaction_common   timer settings, State/Event enums, actions, matching keys,
                         the non-2xx ACK and CANCEL builders, new_branch
    transaction_machine  Machine (table + deadlines) and the Transaction base
    transaction_client   the two client machines (§17.1)
    transaction_server   the two server machines (§17.2) and AnswerRetransmission (§13.3.1.4)

Nothing here reads a clock or touches a socket.  Every input carries `now`; outputs are lists
of actions: `Send` for the shell to put on the wire, and events for the transaction user
(TU): `RequestReceived`, `ResponseReceived`, `StrayResponse`, `Terminated`,
`TransportFailed`, `AckTimedOut`.

`TransactionLayer` is the table of live transactions, keyed as §17.1.3 (responses: top
Via branch + CSeq method) and §17.2.3 (requests: branch + sent-by + method, ACK looking up
INVITE; requests whose branch lacks the magic cookie fall back to the RFC 2543 fields).
It removes a transaction as soon as it terminates (§17.1.1.2: "destroyed immediately").
It also retransmits every 2xx to INVITE for the TU until its ACK arrives (§13.3.1.4), with
one `AnswerRetransmission` machine per 2xx, on every transport, since a proxy further on may
use UDP.  The shell keeps a single `loop.call_at(layer.next_deadline())` and calls
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

import heapq
import itertools
from collections.abc import Callable, Hashable, Iterable
from functools import partial

from firmware.sip.message import Request, Response
from firmware.sip.transaction_client import (
    ClientInviteTransaction,
    ClientNonInviteTransaction,
    ClientTransaction,
)
from firmware.sip.transaction_common import (
    DEFAULT_TIMERS,
    MAGIC_COOKIE,
    RELIABLE_TRANSPORTS,
    AckTimedOut,
    Action,
    EndReason,
    Event,
    Message,
    RequestReceived,
    ResponseReceived,
    Send,
    State,
    StrayResponse,
    Table,
    Terminated,
    TimerSettings,
    TransactionError,
    TransportFailed,
    answer_key,
    branch_of,
    client_key,
    is_reliable,
    make_cancel,
    make_non2xx_ack,
    new_branch,
    server_key,
)
from firmware.sip.transaction_machine import Machine, Transaction
from firmware.sip.transaction_server import (
    AnswerRetransmission,
    AnswerState,
    ServerInviteTransaction,
    ServerNonInviteTransaction,
    ServerTransaction,
)

__all__ = [
    "MAGIC_COOKIE",
    "RELIABLE_TRANSPORTS",
    "AckTimedOut",
    "Action",
    "AnswerRetransmission",
    "AnswerState",
    "ClientInviteTransaction",
    "ClientNonInviteTransaction",
    "ClientTransaction",
    "EndReason",
    "Event",
    "Machine",
    "Message",
    "RequestReceived",
    "ResponseReceived",
    "Send",
    "ServerInviteTransaction",
    "ServerNonInviteTransaction",
    "ServerTransaction",
    "State",
    "StrayResponse",
    "Table",
    "Terminated",
    "TimerSettings",
    "Transaction",
    "TransactionError",
    "TransactionLayer",
    "TransportFailed",
    "answer_key",
    "client_key",
    "is_reliable",
    "make_cancel",
    "make_non2xx_ack",
    "new_branch",
    "server_key",
]

S, E = State, Event


class TransactionLayer:
    """All live transactions of one SIP endpoint, plus the 2xx retransmissions of its UAS
    core. Every method returns the actions to carry out, in order."""

    def __init__(self, timers: TimerSettings = DEFAULT_TIMERS) -> None:
        self.timers = timers
        self._clients: dict[Hashable, ClientTransaction] = {}
        self._servers: dict[Hashable, ServerTransaction] = {}
        self._answers: dict[Hashable, AnswerRetransmission] = {}
        # INVITEs the TU cancelled before any 1xx: the CANCEL waits for one (§9.1)
        self._cancel_pending: dict[ClientInviteTransaction, tuple[tuple[str, str], ...]] = {}
        # Every machine's next deadline, soonest first. An entry goes stale when its machine
        # moves on or ends; stale ones are dropped when they reach the top. At a few hundred
        # calls a second thousands of transactions live (each for up to 64*T1): a heap keeps
        # "when is the next timer" from scanning them all on every message.
        self._deadlines: list[tuple[float, int, Machine]] = []
        self._pushes = itertools.count()

    # -- the TU's requests

    def send_request(self, request: Request, dest: Hashable, reliable: bool, now: float
                     ) -> tuple[ClientTransaction, list[Action]]:
        """Start a client transaction. The request must carry its top Via with a fresh
        branch (`new_branch`). ACK is not a transaction: send it with `Send` directly."""
        if request.method == "ACK":
            raise TransactionError("ACK is sent without a transaction")
        if not branch_of(request).startswith(MAGIC_COOKIE):
            raise TransactionError("the top Via needs a branch starting with z9hG4bK")
        key = client_key(request)
        if key in self._clients:
            raise TransactionError(f"a client transaction already uses {key}")
        kind = ClientInviteTransaction if request.method == "INVITE" else \
            ClientNonInviteTransaction
        tx = kind(request, dest, reliable=reliable, now=now, timers=self.timers)
        tx.key = key
        self._clients[key] = tx
        actions = tx.start()
        self._schedule(tx)
        return tx, actions

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
        actions += invite.cancel_sent(now)
        self._schedule(invite)
        return actions

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
        self._schedule(tx)
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
            self._schedule(answer)
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

    def _schedule(self, machine: Machine) -> None:
        deadline = machine.next_deadline()
        if deadline is not None:
            heapq.heappush(self._deadlines, (deadline, next(self._pushes), machine))

    def _current(self, deadline: float, machine: Machine) -> bool:
        """Is this heap entry still the machine's next deadline, the machine still live?"""
        if isinstance(machine, AnswerRetransmission):
            live = self._answers.get(machine.key) is machine
        else:
            assert isinstance(machine, Transaction)
            live = self._owns(machine)
        return live and machine.next_deadline() == deadline

    def next_deadline(self) -> float | None:
        heap = self._deadlines
        while heap:
            deadline, _, machine = heap[0]
            if self._current(deadline, machine):
                return deadline
            heapq.heappop(heap)
        return None

    def on_timer(self, now: float) -> list[Action]:
        """Fire everything due at `now`, machines in deadline order."""
        heap = self._deadlines
        due: list[Machine] = []
        while heap and heap[0][0] <= now:
            deadline, _, machine = heapq.heappop(heap)
            if self._current(deadline, machine) and all(m is not machine for m in due):
                due.append(machine)
        actions: list[Action] = []
        for machine in due:
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
        else:
            self._schedule(answer)
        # RFC 6026: while the INVITE server transaction lives, 2xx copies pass through it.
        tx = answer.transaction
        if tx is None or tx.state is not S.ACCEPTED or not self._owns(tx):
            return actions
        out: list[Action] = []
        for action in actions:
            out += tx.respond(answer.response, now) if isinstance(action, Send) else [action]
        self._schedule(tx)
        return out

    def _drive(self, tx: Transaction, step: Callable[[], list[Action]]) -> list[Action]:
        """Run one input of `tx`; whatever happens (a TU bug raising from the table
        included), a transaction that has ended leaves the table at once."""
        try:
            return step()
        finally:
            self._reap(tx)
            if not tx.done:
                self._schedule(tx)

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
