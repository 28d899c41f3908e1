"""The table-driven machine under every SIP transaction (RFC 3261 §17), sans-I/O.

Each transaction machine is a table `{state: {event: next_state}}` (`TABLE` on the class).
An input is turned into an `Event`, looked up in the row of the current state and only then
acted on; an event with no entry is a bug in the caller (the TU answering twice, a CANCEL
before any provisional response), so it raises `TransactionError` and leaves the machine in
`State.ERROR`, where every further event raises too.  Anything the network can send (late
or duplicated responses, stray ACKs) has an entry in every live state, so a remote peer can
never push a machine into `ERROR`.

Nothing here reads a clock or touches a socket.  Every input carries `now` (seconds, any
monotonic origin); a machine keeps its running timers as absolute deadlines, reports the
earliest through `next_deadline()` and fires whatever is due in `on_timer(now)`.  A timer
of zero length (D, I, J, K on reliable transports) fires inside the call that started it,
so a TCP transaction passes straight through Completed.

`Machine` is that engine; `Transaction` adds what the four transactions share (the request,
the peer, the transport kind, and the `Terminated` report when one ends).
"""

from __future__ import annotations

from collections.abc import Hashable
from enum import Enum
from typing import ClassVar

from firmware.sip.message import Request
from firmware.sip.transaction_common import (
    Action,
    EndReason,
    Event,
    Message,
    Send,
    State,
    Table,
    Terminated,
    TimerSettings,
    TransactionError,
    branch_of,
)


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
        self.branch: str = branch_of(request)
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


def classify(status: int, provisional: Event, success: Event, failure: Event) -> Event:
    """The event a response status stands for: 1xx, 2xx or 300-699."""
    if not 100 <= status <= 699:
        raise TransactionError(f"status {status} is outside 100-699")
    if status < 200:
        return provisional
    return success if status < 300 else failure
