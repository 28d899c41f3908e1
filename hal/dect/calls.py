"""One handset's call on the base, as a state table (the host's view of it).

    IDLE        no call
    SETUP       the host asked the module to ring the handset (CALL_ESTABLISH sent)
    ALERTING    the handset rings (the module said CALL_PROGRESS ringing)
    CALLING     the handset placed a call; the host has not answered it yet
    CONNECTED   talking: the voice is on the PCM bus

A call the host releases is over for the handset at once (IDLE: it may be rung again); the
host keeps the released call instance aside until the module confirms (`hal.dect.host`).
`step` moves a call by one event and returns the new state. An event the table has no row
for raises HandsetStateError and leaves the call where it was; `reset` (the module
restarted, the link broke) takes any call back to IDLE.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from hal.dect.errors import HandsetStateError


class CallState(enum.Enum):
    IDLE = "idle"
    SETUP = "setup"
    ALERTING = "alerting"
    CALLING = "calling"
    CONNECTED = "connected"


class CallEvent(enum.Enum):
    HOST_RING = "host-ring"  # the host sends CALL_ESTABLISH to the handset
    HOST_ANSWER = "host-answer"  # the host answers the handset's call
    HOST_RELEASE = "host-release"
    MODULE_SETUP = "module-setup"  # the handset places a call
    MODULE_ALERTING = "module-alerting"
    MODULE_ANSWER = "module-answer"  # the handset answered
    MODULE_RELEASE = "module-release"  # the handset's side ended the call


S, E = CallState, CallEvent

TABLE: dict[CallState, dict[CallEvent, CallState]] = {
    S.IDLE: {E.HOST_RING: S.SETUP, E.MODULE_SETUP: S.CALLING},
    S.SETUP: {E.MODULE_ALERTING: S.ALERTING, E.MODULE_ANSWER: S.CONNECTED,
              E.MODULE_RELEASE: S.IDLE, E.HOST_RELEASE: S.IDLE},
    S.ALERTING: {E.MODULE_ANSWER: S.CONNECTED, E.MODULE_RELEASE: S.IDLE,
                 E.HOST_RELEASE: S.IDLE},
    S.CALLING: {E.HOST_ANSWER: S.CONNECTED, E.MODULE_RELEASE: S.IDLE,
                E.HOST_RELEASE: S.IDLE},
    S.CONNECTED: {E.MODULE_RELEASE: S.IDLE, E.HOST_RELEASE: S.IDLE},
}


@dataclass(slots=True)
class HandsetCall:
    handset: int
    state: CallState = CallState.IDLE
    instance: int | None = None  # the CMBS call instance while there is a call

    @property
    def busy(self) -> bool:
        return self.state is not CallState.IDLE

    def step(self, event: CallEvent) -> CallState:
        next_state = TABLE[self.state].get(event)
        if next_state is None:
            raise HandsetStateError(
                f"handset {self.handset}: {event.value} cannot happen in {self.state.value}")
        self.state = next_state
        if next_state is CallState.IDLE:
            self.instance = None
        return next_state

    def reset(self) -> None:
        self.state = CallState.IDLE
        self.instance = None
