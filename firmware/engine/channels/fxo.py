"""The office's analog phone line on an FXO port: calls that ring in, and calls out.

    state       the line is                     what runs
    IDLE        on-hook, quiet                  nothing (off the media clock)
    INCOMING    ringing; caller ID, then the    the incoming session: wait for caller ID
                call's destination              (or the second ring), then route the
                                                caller to `[fxo."fxo:N"] destination`
    ANSWERED    seized for a call that rang in  the destination (a menu, a phone ...)
    OUTGOING    seized to call out              `firmware.engine.lineout.dial_line`
    IGNORING    still ringing, but the call's   nothing: the rings stop when the outside
                destination gave up on it       caller hangs up

An analog line says little: a caller who gives up before the box answers is known only by
the rings stopping (`RING_GAP_S` without one); a far end that hangs up during a call drops
loop current, or, on many lines, only sounds busy tone (`DisconnectTone`). The line has no
answer supervision: a call out counts as answered once dialled.
"""

from __future__ import annotations

import asyncio
import enum
import itertools
from typing import TYPE_CHECKING, Any

from firmware.engine.channel import Cause, Channel, ChannelState, Party
from firmware.engine.channels.fxo_listen import CallerIdCapture, DisconnectTone
from firmware.logs import call_event
from firmware.media.dtmf import DtmfDetector
from firmware.media.frames import Frame, silence
from firmware.media.player import FrameSource
from hal.events import LineReversal, LoopCurrentLost, RingStarted, RingStopped, TrunkEvent
from hal.interfaces import Trunk

if TYPE_CHECKING:
    from firmware.config import FxoLineConfig
    from firmware.engine.pbx import Engine

# The longest silence between rings of one call: 4 s (US) and a margin. Longer, and the
# outside caller has hung up.
RING_GAP_S = 8.0
# Caller ID is complete ~4 s after the first ring starts (Bell 202: 2 s ring, 0.5 s pause,
# ~1.2 s of data) or before the ring (ETSI); wait at most this long, or to the second ring.
CALLERID_WAIT_S = 6.0

_legs = itertools.count(1)


class LineState(enum.Enum):
    IDLE = "idle"
    INCOMING = "incoming"
    ANSWERED = "answered"
    OUTGOING = "outgoing"
    IGNORING = "ignoring"


class FxoChannel(Channel):
    """A call on the phone line: the outside caller who rang in, or the line dialled out."""

    def __init__(self, port: FxoPort, party: Party, *, inbound: bool) -> None:
        super().__init__(f"{port.name}/{next(_legs)}", party)
        self.port = port
        self.inbound = inbound  # never internal: a call from the line may not go back out

    def indicate(self, tone: str | None) -> None:
        """The exchange plays the outside caller's ringback and tones, not the box."""

    def accept(self) -> None:
        self.port.answer(self)

    def ring(self, caller: Party) -> None:
        """Lines are dialled (`FxoPort.dial`), not rung."""

    def deliver(self, frame: Frame) -> None:
        if self.port.channel is self:
            self.port.peer_frame = frame

    def listen_keys(self) -> asyncio.Queue[str]:
        queue = super().listen_keys()
        self.port.listen_for(queue if self.port.channel is self else None)
        return queue

    def stop_keys(self) -> None:
        super().stop_keys()
        if self.port.channel is self:
            self.port.listen_for(None)

    def _release(self, cause: Cause) -> None:
        self.port.leg_cleared(self)


class FxoPort:
    """The device behind one FXO port, and its media-clock participant."""

    def __init__(self, line: Trunk, engine: Engine, config: FxoLineConfig) -> None:
        self.name = line.name
        self.line = line
        self.engine = engine
        self.config = config
        self.state = LineState.IDLE
        self.channel: FxoChannel | None = None
        self.peer_frame: Frame | None = None
        self._player: FrameSource | None = None
        self._callerid: CallerIdCapture | None = None
        self._disconnect: DisconnectTone | None = None
        self._keys: asyncio.Queue[str] | None = None
        self._detector: DtmfDetector | None = None
        self._task: asyncio.Task[Any] | None = None
        self._second_ring = asyncio.Event()
        self._rings = 0
        self._gone_timer: asyncio.TimerHandle | None = None
        line.set_listener(self._on_event)

    def __repr__(self) -> str:
        return f"<FxoPort {self.name} {self.state.value}>"

    @property
    def available(self) -> bool:
        """Free to call out on."""
        return self.state is LineState.IDLE and not self.line.off_hook

    def reconfigure(self, config: FxoLineConfig) -> None:
        self.config = config

    def destination(self) -> str | None:
        """Where a call that rings in goes: as configured, else the operator, else the
        first extension."""
        office = self.engine.office
        if self.config.destination is not None:
            return self.config.destination
        if office.features.operator is not None:
            return "operator"
        return office.extensions[0].number if office.extensions else None

    def snapshot(self) -> dict[str, Any]:
        return {"state": self.state.value, "seized": self.line.off_hook,
                "caller": self.channel.party.number if self.channel is not None else None}

    # -- what the line does -------------------------------------------------------------

    def _on_event(self, event: TrunkEvent) -> None:
        if isinstance(event, RingStarted):
            self._stop_watching()
            if self.state is LineState.IDLE:
                self._incoming()
            if self.state is LineState.INCOMING:
                self._rings += 1
                if self._rings >= 2:
                    self._second_ring.set()
        elif isinstance(event, LineReversal) and self.state is LineState.IDLE:
            self._incoming()  # ETSI caller ID comes before the first ring
            self._watch_for_gone()  # (a reversal that no ring follows is no call)
        elif isinstance(event, RingStopped) and not self.line.off_hook:
            self._watch_for_gone()
        elif isinstance(event, LoopCurrentLost) and self.line.off_hook:
            self._far_end_gone("loop current dropped")

    def _incoming(self) -> None:
        self.state = LineState.INCOMING
        self._rings = 0
        self._second_ring.clear()
        self._callerid = CallerIdCapture(self.engine.plan)
        self.engine.clock.add(self)
        self._task = self.engine.supervisor.spawn(
            f"call in on {self.name}", self._answer_incoming(), on_crash=self.crashed)

    def _watch_for_gone(self) -> None:
        self._stop_watching()
        loop = asyncio.get_running_loop()
        self._gone_timer = loop.call_later(RING_GAP_S, self._stopped_ringing)

    def _stop_watching(self) -> None:
        if self._gone_timer is not None:
            self._gone_timer.cancel()
            self._gone_timer = None

    def _stopped_ringing(self) -> None:
        """No ring for RING_GAP_S and nobody took the line: the outside caller hung up."""
        self._gone_timer = None
        if self.line.off_hook or self.state not in (LineState.INCOMING, LineState.IGNORING):
            return
        call_event("line-caller-gone", port=self.name)
        channel = self.channel
        if channel is not None:
            channel.device_hangup()
        elif self._task is not None:
            self._task.cancel()
        self._idle()

    def _far_end_gone(self, why: str) -> None:
        call_event("line-far-end-gone", port=self.name, why=why)
        channel = self.channel
        self.line.release()
        if channel is not None:
            channel.device_hangup()
        self._idle()

    async def _answer_incoming(self) -> None:
        party = await self._wait_for_callerid()
        self._callerid = None
        self.engine.clock.discard(self)  # back on the clock when the call is answered
        channel = FxoChannel(self, party, inbound=True)
        self.channel = channel
        channel.session = asyncio.current_task()
        target = self.destination()
        call_event("line-call", port=self.name, caller=party.number, name=party.name,
                   to=target)
        cause = await self.engine.take_outside_call(channel, target)
        channel.hangup(cause)

    async def _wait_for_callerid(self) -> Party:
        """Who calls: the caller ID once decoded; without one by the second ring (or
        CALLERID_WAIT_S), an unknown caller."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + CALLERID_WAIT_S
        while loop.time() < deadline and not self._second_ring.is_set():
            capture = self._callerid
            if capture is not None and capture.caller is not None:
                return capture.caller
            await asyncio.sleep(0.1)
        capture = self._callerid
        return capture.caller if capture is not None and capture.caller is not None \
            else Party(None, None)

    # -- what the engine asks -----------------------------------------------------------

    def answer(self, channel: FxoChannel) -> None:
        """Take the line for `channel` (an incoming call is answered)."""
        if self.channel is not channel or channel.gone.is_set():
            return
        self._stop_watching()
        if not self.line.off_hook:
            self.line.seize()
            call_event("line-answer", port=self.name)
        self.state = LineState.ANSWERED if channel.inbound else LineState.OUTGOING
        channel.state = ChannelState.UP
        self._disconnect = DisconnectTone(self.engine.plan)
        self.engine.clock.add(self)

    def take_line(self) -> FxoChannel:
        """Seize the idle line to call out; the leg is the line's side of the call."""
        if not self.available:
            raise RuntimeError(f"{self.name} is in use")
        leg = FxoChannel(self, Party(None, None), inbound=False)
        self.channel = leg
        self.state = LineState.OUTGOING
        self.line.seize()
        leg.state = ChannelState.RINGING
        self._disconnect = DisconnectTone(self.engine.plan)
        self.engine.clock.add(self)
        return leg

    def play(self, source: FrameSource | None) -> None:
        """Send `source` down the line instead of the other party (DTMF digits)."""
        self._player = source

    def listen_for(self, queue: asyncio.Queue[str] | None) -> None:
        self._keys = queue
        self._detector = DtmfDetector() if queue is not None else None

    def leg_cleared(self, channel: FxoChannel) -> None:
        if self.channel is not channel:
            return
        self.channel = None
        self.peer_frame = None
        self._player = None
        self.listen_for(None)
        if self.line.off_hook:
            self.line.release()
            call_event("line-release", port=self.name)
            self._idle()
        elif self.state is LineState.INCOMING:
            self.state = LineState.IGNORING  # it still rings; nobody here takes it
            self.engine.clock.discard(self)

    def _idle(self) -> None:
        self.state = LineState.IDLE
        self.channel = None
        self._callerid = self._disconnect = None
        self._player = None
        self.peer_frame = None
        self.engine.clock.discard(self)

    def crashed(self, exc: BaseException) -> None:
        channel = self.channel
        if channel is not None:
            channel.hangup(Cause.FAILURE)
        self.line.release()
        self._idle()

    # -- the media clock ------------------------------------------------------------------

    def capture(self) -> None:
        frame = self.line.read_frame()
        if self._callerid is not None and frame is not None and not self.line.off_hook:
            self._callerid.feed(frame)
            return
        if self._disconnect is not None and self._disconnect.feed(frame):
            self._far_end_gone("busy tone")
            return
        if self._detector is not None and self._keys is not None:
            for key in self._detector.feed(silence() if frame is None else frame):
                self._keys.put_nowait(key)
        channel = self.channel
        bridge = channel.bridge if channel is not None else None
        if bridge is not None and channel is not None and frame is not None:
            bridge.forward(channel, frame)

    def render(self) -> None:
        if not self.line.off_hook:
            return
        player = self._player
        if player is not None:
            frame = player.next_frame()
            if player.finished:
                self._player = None
        else:
            frame = self.peer_frame if self.peer_frame is not None else silence()
        self.peer_frame = None
        self.line.write_frame(frame)
