"""The base logic: the host's side of a CMBS module, sans-I/O (time is an argument).

Bytes from the module go in (`receive`), bytes for it come out (`data_to_send`), what
happened comes out as `hal.dect.events` (`events`), and `next_deadline` / `on_timer`
drive the time-outs; `hal.dect.backend` is the shell with the UART and the loop.

The link to the module (`LINK`):

    DOWN -connect-> HELLO -HELLO_RPLY-> CAPABILITIES -CAPABILITIES_RPLY-> STARTING
         -SYS_START_RES-> LEARNING -HS_SUBSCRIBED_LIST_GET_RES-> UP

A step not answered within `STEP_TIMEOUT_S` starts again from HELLO (only here, before any
call can exist, does silence cost anything). TARGET_UP at any time means the module
restarted: every call on it is dropped (HandsetReleased, module-reset), the pairing window
is closed, and the start-up runs again; the handsets it still knows are learned afresh and
only the differences reported. Each handset's call is a `hal.dect.calls.HandsetCall`.

Remote trouble never raises: a frame that does not parse is counted by the decoder; an
event the call table has no row for, or one for a call nobody knows, is counted in
`stats.protocol_errors` and dropped. Requests the firmware may not make (ring a busy
handset, a slot that does not exist) raise DectRequestError. Requests that fail only
because the module is not up fail the way a real failure would: a ring ends in
HandsetReleased (out of range), a pairing window in RegistrationClosed ('refused').
"""

from __future__ import annotations

import enum
import itertools
import logging
from dataclasses import dataclass

from hal.dect import ies
from hal.dect.calls import CallEvent, CallState, HandsetCall
from hal.dect.cmbs import (
    ALL_HANDSETS,
    CAPABILITY_CHECKSUM,
    COMMAND_BASE,
    HOST_CALL_BIT,
    CallProgress,
    Command,
    Event,
    IeType,
    RegClose,
    ReleaseCode,
    pcm_timeslot,
)
from hal.dect.codec import PARTIAL_FRAME_S, Frame, FrameDecoder
from hal.dect.errors import DectRequestError, FrameError, HandsetStateError
from hal.dect.events import (
    BASE_PORT,
    DectEvent,
    HandsetAnswered,
    HandsetCalling,
    HandsetKeys,
    HandsetRegistered,
    HandsetReleased,
    HandsetRemoved,
    RegistrationClosed,
    RegistrationOpened,
    ReleaseReason,
    handset_port,
)

log = logging.getLogger(__name__)

STEP_TIMEOUT_S = 2.0  # a start-up step the module does not answer: start again
KEYPAD = frozenset("0123456789*#")
_RELEASE_REASONS = {
    ReleaseCode.BUSY: ReleaseReason.REJECTED,
    ReleaseCode.CALL_REJECTED: ReleaseReason.REJECTED,
    ReleaseCode.NOT_IN_RANGE: ReleaseReason.OUT_OF_RANGE,
}
_CLOSE_REASONS = {RegClose.TIMEOUT: "timeout", RegClose.HOST_REQUEST: "closed",
                  RegClose.HANDSET_REGISTERED: "registered"}


class LinkState(enum.Enum):
    DOWN = "down"
    HELLO = "hello"
    CAPABILITIES = "capabilities"
    STARTING = "starting"
    LEARNING = "learning"
    UP = "up"


L = LinkState
# (state, what the module said) -> next state; each step sends the next request.
LINK: dict[LinkState, dict[int, LinkState]] = {
    L.HELLO: {COMMAND_BASE | Command.HELLO_RPLY: L.CAPABILITIES},
    L.CAPABILITIES: {COMMAND_BASE | Command.CAPABILITIES_RPLY: L.STARTING},
    L.STARTING: {Event.SYS_START_RES: L.LEARNING},
    L.LEARNING: {Event.HS_SUBSCRIBED_LIST_GET_RES: L.UP},
}


@dataclass(slots=True)
class HostStats:
    protocol_errors: int = 0  # events that make no sense for the call or link they name
    module_restarts: int = 0


class CmbsHost:
    def __init__(self, slots: int) -> None:
        self.slots = slots
        self.link = LinkState.DOWN
        self.decoder = FrameDecoder(unchecked=frozenset({Event.TARGET_UP}))
        self.stats = HostStats()
        self.subscribed: dict[int, str] = {}  # handset number -> name, as the module says
        self.registration_open = False
        self._calls = {n: HandsetCall(n) for n in range(1, slots + 1)}
        self._by_instance: dict[int, HandsetCall] = {}
        self._released: set[int] = set()  # instances the host released, not yet confirmed
        self._instances = itertools.count(1)
        self._seq = 0
        self._checksums = False
        self._out = bytearray()
        self._events: list[DectEvent] = []
        self._step_deadline: float | None = None
        self._reg_deadline: float | None = None
        self._reg_seconds = 0.0

    # -- the I/O side ---------------------------------------------------------------

    def connect(self, now: float) -> None:
        """The serial port is open: greet the module."""
        self._start_handshake(now)

    def link_lost(self, now: float) -> None:
        """The serial port failed: every call is gone; wait for `connect` again."""
        self._drop_everything(now)
        self.link = LinkState.DOWN
        self._step_deadline = None

    def receive(self, data: bytes, now: float) -> None:
        for frame in self.decoder.feed(data, now):
            self._handle(frame, now)

    def data_to_send(self) -> bytes:
        out, self._out = bytes(self._out), bytearray()
        return out

    def events(self) -> list[DectEvent]:
        out, self._events = self._events, []
        return out

    def next_deadline(self) -> float | None:
        deadlines = [d for d in (self._step_deadline, self._reg_deadline,
                                 self._partial_deadline()) if d is not None]
        return min(deadlines, default=None)

    def on_timer(self, now: float) -> None:
        for frame in self.decoder.expire(now):
            self._handle(frame, now)
        if self._step_deadline is not None and now >= self._step_deadline:
            log.warning("DECT module did not answer %s; starting again", self.link.value)
            self._start_handshake(now)
        if self._reg_deadline is not None and now >= self._reg_deadline:
            self._close_window(now, "timeout", tell_module=True)

    # -- state ------------------------------------------------------------------------

    @property
    def up(self) -> bool:
        return self.link is LinkState.UP

    def call_state(self, handset: int) -> CallState:
        return self._call(handset).state

    # -- what the firmware asks ---------------------------------------------------------

    def open_registration(self, seconds: float, now: float) -> None:
        if not self.up:
            self._emit(RegistrationClosed(BASE_PORT, now, "refused"))
            return
        self._reg_seconds = seconds
        self._reg_deadline = now + seconds
        self._send(Event.CORD_OPENREG, ies.integer(max(1, round(seconds))))

    def close_registration(self, now: float) -> None:
        if self.registration_open or self._reg_deadline is not None:
            self._close_window(now, "closed", tell_module=True)

    def page(self, now: float) -> None:
        if self.up:
            self._send(Event.HS_PAGE_START, ies.handsets(ALL_HANDSETS))

    def delete(self, handset: int, now: float) -> None:
        if handset not in self.subscribed:
            raise DectRequestError(f"{handset_port(handset)} has no handset to delete")
        if self.up:
            self._send(Event.HS_DELETE, ies.handsets(1 << (handset - 1)))

    def ring(self, handset: int, number: str | None, name: str | None, now: float) -> None:
        call = self._call(handset)
        if handset not in self.subscribed:
            raise DectRequestError(f"{handset_port(handset)} has no handset subscribed")
        if call.busy:
            raise DectRequestError(f"{handset_port(handset)} is busy ({call.state.value})")
        if not self.up:
            self._emit(HandsetReleased(handset_port(handset), now, ReleaseReason.OUT_OF_RANGE))
            return
        call.step(CallEvent.HOST_RING)
        self._own(call, HOST_CALL_BIT | next(self._instances))
        self._send(Event.CALL_ESTABLISH, ies.call_instance(self._instance(call)),
                   ies.called_party(str(handset)), ies.caller_party(number or ""),
                   ies.caller_name(name or ""))

    def answer(self, handset: int, now: float) -> None:
        call = self._call(handset)
        if call.state is not CallState.CALLING:
            raise DectRequestError(f"{handset_port(handset)} is not calling "
                                   f"({call.state.value})")
        call.step(CallEvent.HOST_ANSWER)
        instance = self._instance(call)
        self._send(Event.CALL_ANSWER, ies.call_instance(instance))
        self._start_voice(call)

    def release(self, handset: int, now: float) -> None:
        call = self._call(handset)
        if call.state is CallState.IDLE:
            return  # already over (the handset hung up first): nothing to tell
        instance = self._instance(call)
        connected = call.state is CallState.CONNECTED
        self._forget(call)  # free for a new call at once; the module confirms later
        if not self.up:
            return
        if connected:
            self._send(Event.CHANNEL_STOP, ies.media_channel(instance, pcm_timeslot(handset)))
        self._released.add(instance)
        self._send(Event.CALL_RELEASE, ies.call_instance(instance),
                   ies.release_reason(ReleaseCode.NORMAL))

    # -- what the module says -----------------------------------------------------------

    def _handle(self, frame: Frame, now: float) -> None:
        try:
            if self._link_step(frame, now):
                return
            handler = _HANDLERS.get(frame.message_id)
            if handler is None:
                log.debug("DECT module sent message %#06x; not used", frame.message_id)
                return
            handler(self, ies.Ies(frame.params), now)
        except (FrameError, HandsetStateError) as exc:
            self.stats.protocol_errors += 1
            log.warning("DECT module: %s (message %#06x dropped)", exc, frame.message_id)

    def _link_step(self, frame: Frame, now: float) -> bool:
        if frame.message_id == Event.TARGET_UP:
            self._module_restarted(now)
            return True
        next_link = LINK.get(self.link, {}).get(frame.message_id)
        if next_link is None:
            return False
        self.link = next_link
        self._step_deadline = now + STEP_TIMEOUT_S
        if next_link is LinkState.STARTING:
            self._checksums = _wants_checksum(frame.params)
            self.decoder.require_checksum = self._checksums
            self._send(Event.SYS_START)
        elif next_link is LinkState.CAPABILITIES:
            self._send_command(Command.CAPABILITIES, ies.capabilities(CAPABILITY_CHECKSUM))
        elif next_link is LinkState.LEARNING:
            self._send(Event.HS_SUBSCRIBED_LIST_GET)
        else:
            self._step_deadline = None
            self._learn(ies.read_subscribed(ies.Ies(frame.params)), now)
            log.info("DECT module up: handsets %s", sorted(self.subscribed) or "none")
        return True

    def _on_registered(self, found: ies.Ies, now: float) -> None:
        handset, registered = ies.read_handset_info(found)
        if registered and handset not in self.subscribed:
            self.subscribed[handset] = ""
            self._emit(HandsetRegistered(handset_port(handset), now))
        elif not registered and handset in self.subscribed:
            del self.subscribed[handset]
            self._removed(handset, now)

    def _on_openreg_res(self, found: ies.Ies, now: float) -> None:
        if self._reg_deadline is None:
            return  # closed again before the module confirmed
        if ies.read_ok(found):
            self.registration_open = True
            self._emit(RegistrationOpened(BASE_PORT, now, self._reg_seconds))
        else:
            self._reg_deadline = None
            self._emit(RegistrationClosed(BASE_PORT, now, "refused"))

    def _on_closereg(self, found: ies.Ies, now: float) -> None:
        reason = ies.read_reg_close_reason(found)
        if self.registration_open or self._reg_deadline is not None:
            self._close_window(now, _CLOSE_REASONS.get(reason or 0, "closed"), False)

    def _on_establish(self, found: ies.Ies, now: float) -> None:
        instance = ies.read_call_instance(found)
        caller = ies.read_party(found, IeType.CALLERPARTY)
        digits = _keys(ies.read_party(found, IeType.CALLEDPARTY)) \
            if found.has(IeType.CALLEDPARTY) else ""
        handset = int(caller) if caller.isdigit() else 0
        call = self._calls.get(handset)
        if call is None or handset not in self.subscribed or call.busy:
            self.stats.protocol_errors += 1
            log.warning("DECT handset %r calls while unknown or busy: refused", caller)
            self._released.add(instance)
            self._send(Event.CALL_RELEASE, ies.call_instance(instance),
                       ies.release_reason(ReleaseCode.BUSY))
            return
        call.step(CallEvent.MODULE_SETUP)
        self._own(call, instance)
        self._emit(HandsetCalling(handset_port(handset), now, digits))

    def _on_progress(self, found: ies.Ies, now: float) -> None:
        call = self._by_call(found)
        if ies.read_progress(found) == CallProgress.RINGING and call.state is CallState.SETUP:
            call.step(CallEvent.MODULE_ALERTING)

    def _on_answer(self, found: ies.Ies, now: float) -> None:
        call = self._by_call(found)
        call.step(CallEvent.MODULE_ANSWER)
        self._start_voice(call)
        self._emit(HandsetAnswered(handset_port(call.handset), now))

    def _on_inband(self, found: ies.Ies, now: float) -> None:
        call = self._by_call(found)
        keys = _keys(ies.read_keys(found))
        if keys and call.state in (CallState.CALLING, CallState.CONNECTED):
            self._emit(HandsetKeys(handset_port(call.handset), now, keys))

    def _on_release(self, found: ies.Ies, now: float) -> None:
        instance = ies.read_call_instance(found)
        self._send(Event.CALL_RELEASECOMPLETE, ies.call_instance(instance))
        if instance in self._released:  # both sides hung up at once: its confirmation
            return  # of the host's release is still to come
        call = self._by_call(found)
        call.step(CallEvent.MODULE_RELEASE)
        self._by_instance.pop(instance, None)
        reason = _RELEASE_REASONS.get(ies.read_release_reason(found), ReleaseReason.NORMAL)
        self._emit(HandsetReleased(handset_port(call.handset), now, reason))

    def _on_release_complete(self, found: ies.Ies, now: float) -> None:
        instance = ies.read_call_instance(found)
        if instance not in self._released:
            raise HandsetStateError(f"release of unknown call {instance:#x} confirmed")
        self._released.discard(instance)

    def _on_result(self, found: ies.Ies, now: float) -> None:
        if found.has(IeType.RESPONSE) and not ies.read_ok(found):
            log.warning("DECT module refused a request")

    # -- helpers ------------------------------------------------------------------------

    def _call(self, handset: int) -> HandsetCall:
        call = self._calls.get(handset)
        if call is None:
            raise DectRequestError(f"{handset_port(handset)} is not a slot of this base "
                                   f"(slots 1..{self.slots})")
        return call

    def _by_call(self, found: ies.Ies) -> HandsetCall:
        instance = ies.read_call_instance(found)
        call = self._by_instance.get(instance)
        if call is None:
            raise HandsetStateError(f"no call with instance {instance:#x}")
        return call

    def _own(self, call: HandsetCall, instance: int) -> None:
        call.instance = instance
        self._by_instance[instance] = call

    @staticmethod
    def _instance(call: HandsetCall) -> int:
        assert call.instance is not None  # every state but IDLE has one
        return call.instance

    def _forget(self, call: HandsetCall) -> None:
        if call.instance is not None:
            self._by_instance.pop(call.instance, None)
        call.reset()

    def _start_voice(self, call: HandsetCall) -> None:
        self._send(Event.CHANNEL_START,
                   ies.media_channel(self._instance(call), pcm_timeslot(call.handset)))

    def _removed(self, handset: int, now: float) -> None:
        call = self._calls.get(handset)
        if call is not None and call.busy:
            self._emit(HandsetReleased(handset_port(handset), now, ReleaseReason.REMOVED))
        if call is not None:
            self._forget(call)
        self._emit(HandsetRemoved(handset_port(handset), now))

    def _learn(self, found: dict[int, str], now: float) -> None:
        for handset in sorted(set(self.subscribed) - set(found)):
            del self.subscribed[handset]
            self._removed(handset, now)
        for handset in sorted(set(found) - set(self.subscribed)):
            self._emit(HandsetRegistered(handset_port(handset), now))
        self.subscribed = dict(found)

    def _close_window(self, now: float, reason: str, tell_module: bool) -> None:
        if tell_module and self.up:
            self._send(Event.CORD_CLOSEREG)
        self.registration_open = False
        self._reg_deadline = None
        self._emit(RegistrationClosed(BASE_PORT, now, reason))

    def _drop_everything(self, now: float) -> None:
        for call in self._calls.values():
            if call.busy:
                self._emit(HandsetReleased(handset_port(call.handset), now,
                                           ReleaseReason.MODULE_RESET))
            self._forget(call)
        self._released.clear()
        if self.registration_open or self._reg_deadline is not None:
            self._close_window(now, "module-reset", tell_module=False)

    def _module_restarted(self, now: float) -> None:
        self.stats.module_restarts += 1
        log.warning("DECT module restarted: calls on it dropped; learning its state again")
        self._drop_everything(now)
        self._start_handshake(now)

    def _start_handshake(self, now: float) -> None:
        self._checksums = False
        self.decoder.require_checksum = False
        self.link = LinkState.HELLO
        self._step_deadline = now + STEP_TIMEOUT_S
        self._send_command(Command.HELLO)

    def _partial_deadline(self) -> float | None:
        since = self.decoder.waiting_since
        return None if since is None else since + PARTIAL_FRAME_S

    def _send(self, event: Event, *items: ies.Ie) -> None:
        self._write(Frame(event, ies.params(*items), self._next_seq(), self._checksums))

    def _send_command(self, command: Command, payload: bytes = b"") -> None:
        self._write(Frame(COMMAND_BASE | command, payload, self._next_seq()))

    def _write(self, frame: Frame) -> None:
        self._out += bytes(frame)

    def _next_seq(self) -> int:
        seq, self._seq = self._seq, (self._seq + 1) & 0xFFFF
        return seq

    def _emit(self, event: DectEvent) -> None:
        self._events.append(event)


def _keys(text: str) -> str:
    """The keypad keys in what the module sent (anything else is line noise or a handset's
    own extension of the keypad, and dialled nowhere)."""
    return "".join(key for key in text if key in KEYPAD)


def _wants_checksum(payload: bytes) -> bool:
    return len(payload) >= 4 and bool(int.from_bytes(payload[:4], "little")
                                      & CAPABILITY_CHECKSUM)


_HANDLERS = {
    Event.HS_REGISTERED: CmbsHost._on_registered,
    Event.CORD_OPENREG_RES: CmbsHost._on_openreg_res,
    Event.CORD_CLOSEREG: CmbsHost._on_closereg,
    Event.CALL_ESTABLISH: CmbsHost._on_establish,
    Event.CALL_PROGRESS: CmbsHost._on_progress,
    Event.CALL_ANSWER: CmbsHost._on_answer,
    Event.CALL_INBANDINFO: CmbsHost._on_inband,
    Event.CALL_RELEASE: CmbsHost._on_release,
    Event.CALL_RELEASECOMPLETE: CmbsHost._on_release_complete,
    Event.HS_PAGE_START_RES: CmbsHost._on_result,
    Event.HS_DELETE_RES: CmbsHost._on_result,
    Event.CORD_CLOSEREG_RES: CmbsHost._on_result,
    Event.CHANNEL_START_RES: CmbsHost._on_result,
    Event.CHANNEL_STOP_RES: CmbsHost._on_result,
}
