"""A channel: one call leg between the box and a device (an analog line, later SIP, DECT).

Everything above this layer treats every kind alike. The engine side asks a channel to
show call progress (`indicate`), to ring (`ring`, for legs the box places), and to clear
(`hangup`); the device side reports `answer` and `device_hangup`. A leg's destination runs
as its `session` task, which a device-side hang-up cancels (DESIGN.md: applications are
cancelled when the caller hangs up).

A call lasts while its legs are bridged: to each other, to a third party after a transfer,
or to a sound (hold music, a park slot). A session waits `until_alone`: when its leg is in
no bridge at all, the call is over for it.
"""

from __future__ import annotations

import abc
import asyncio
import enum
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from firmware.logs import call_event
from firmware.media.frames import Frame

if TYPE_CHECKING:
    from firmware.engine.bridges import Bridge


class ChannelState(enum.Enum):
    DOWN = "down"
    RINGING = "ringing"
    UP = "up"
    HELD = "held"
    GONE = "gone"


class Cause(enum.Enum):
    """Why a call attempt or a call ended (named after their ITU-T Q.850 causes)."""

    NORMAL_CLEARING = "normal-clearing"  # someone hung up
    USER_BUSY = "user-busy"
    UNALLOCATED_NUMBER = "unallocated-number"  # no such number
    NO_ANSWER = "no-answer"
    ANSWERED_ELSEWHERE = "answered-elsewhere"  # another device of the extension took it
    CONGESTION = "congestion"  # no route or no resources
    CALL_BARRED = "call-barred"  # this caller may not call this number (an outside line)
    FAILURE = "failure"  # the box failed this call (a crash); the box goes on


@dataclass(frozen=True, slots=True)
class Party:
    """Who is on a leg, as caller ID shows it."""

    number: str | None
    name: str | None


class Channel(abc.ABC):
    def __init__(self, name: str, party: Party) -> None:
        self.name = name
        self.party = party
        self.state = ChannelState.DOWN
        self.cause: Cause | None = None
        self.answered = asyncio.Event()
        self.gone = asyncio.Event()
        self._bridge: Bridge | None = None
        self._alone = asyncio.Event()
        self._alone.set()
        self._joined = asyncio.Event()
        self.session: asyncio.Task[object] | None = None
        # An office phone (an analog port, a phone that authenticated as an extension), not
        # a call from outside: only these may use the office's outside lines.
        self.internal = False
        # A transfer's caller rings its target at most this long, then comes back.
        self.ring_limit_s: float | None = None
        # A semi-attended transfer: whoever this leg was calling goes to `handed_to` on
        # answering (the transferrer hung up while the target rang).
        self.handed_to: Channel | None = None
        self.forwards = 0  # how often a forward sent this call on (loops end)
        self.forwarded_by: str | None = None  # the extension whose forward sent it on
        self.recall_to: Any = None  # the phone a parked or transferred call comes back to
        self.presented: Party | None = None  # who phones it rings see, if not `party`
        # While an application (a menu, voicemail) listens: the keys the caller presses.
        self.keys: asyncio.Queue[str] | None = None

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name} {self.state.value}>"

    @property
    def bridge(self) -> Bridge | None:
        return self._bridge

    @bridge.setter
    def bridge(self, bridge: Bridge | None) -> None:
        self._bridge = bridge
        if bridge is None:
            self._alone.set()
            self._joined.clear()
        else:
            self._alone.clear()
            self._joined.set()

    def partner(self) -> Channel | None:
        """Who this leg talks to in a two-party call (None: alone, held, in a 3-way)."""
        bridge = self._bridge
        return bridge.other(self) if bridge is not None else None

    async def until_bridged(self) -> None:
        """Until this leg is in a bridge (its caller's session joins an answered leg a
        moment after the answer), or gone."""
        while self._bridge is None and not self.gone.is_set():
            waits = [asyncio.ensure_future(self._joined.wait()),
                     asyncio.ensure_future(self.gone.wait())]
            try:
                await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for wait in waits:
                    wait.cancel()

    async def until_alone(self) -> None:
        """Until this leg is in no bridge, or gone. A leg moved from one bridge to another
        (a transfer, hold) is never alone in between: bridges swap without an `await`."""
        while self._bridge is not None and not self.gone.is_set():
            waits = [asyncio.ensure_future(self._alone.wait()),
                     asyncio.ensure_future(self.gone.wait())]
            try:
                await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for wait in waits:
                    wait.cancel()

    # -- keys for applications ------------------------------------------------------------

    def listen_keys(self) -> asyncio.Queue[str]:
        """From now on the keys the caller presses (DTMF, RFC 4733, pulses) go to the queue
        returned, not to the other party or the in-call codes; until `stop_keys`."""
        self.keys = asyncio.Queue()
        return self.keys

    def stop_keys(self) -> None:
        self.keys = None

    def key_pressed(self, key: str) -> bool:
        """The device reports a key; True if an application took it."""
        if self.keys is None:
            return False
        self.keys.put_nowait(key)
        return True

    # -- engine side -------------------------------------------------------------------

    @abc.abstractmethod
    def indicate(self, tone: str | None) -> None:
        """Let the device hear call progress ('ringback', 'busy', ...); None stops it."""

    def progress(self) -> None:  # noqa: B027 - a default: most kinds have nothing to do
        """The caller is about to hear the far end before it answers (early media): a SIP
        phone that called gets 183 with the box's SDP. An analog line hears it anyway."""

    def accept(self) -> None:  # noqa: B027 - a default: most kinds have nothing to do
        """The box answers this leg, which called in (a SIP phone gets its 200 OK). An
        analog line that dialled out is connected already: nothing to do."""

    @abc.abstractmethod
    def ring(self, caller: Party) -> None:
        """Alert the device of a call from `caller` (legs the box places)."""

    @abc.abstractmethod
    def deliver(self, frame: Frame) -> None:
        """Audio for the device, from whatever this leg is bridged to."""

    def show_connected(self, party: Party) -> None:  # noqa: B027 - most kinds cannot
        """The call was joined with someone else (a transfer): show `party` on the phone's
        display, where the phone can be told mid-call (SIP phones)."""

    def hangup(self, cause: Cause = Cause.NORMAL_CLEARING) -> None:
        """The box clears this leg; the device is told."""
        if self._finish(cause):
            self._release(cause)

    # -- device side -------------------------------------------------------------------

    def answer(self) -> None:
        if self.state is ChannelState.RINGING:
            self.state = ChannelState.UP
            self.answered.set()
            call_event("answer", channel=self.name)

    def device_hangup(self, cause: Cause = Cause.NORMAL_CLEARING) -> None:
        """The device hung up: the leg ends and its session is cancelled."""
        if self._finish(cause) and self.session is not None:
            self.session.cancel()

    @abc.abstractmethod
    def _release(self, cause: Cause) -> None:
        """Tell the device that the box cleared the leg."""

    def _finish(self, cause: Cause) -> bool:
        if self.state is ChannelState.GONE:
            return False
        self.state = ChannelState.GONE
        self.cause = cause
        self.gone.set()
        if self.bridge is not None:
            self.bridge.leave(self)
        call_event("hangup", channel=self.name, cause=cause.value)
        return True
