"""A fake CMBS DECT module on a pseudo-terminal, for the UART backend's tests.

It sits on the master side of a pty (the backend opens the slave's path with pyserial, as
it opens /dev/serial0 on a box) and answers as our model of the module does
(`hal.dect.cmbs`): the start-up handshake with checksum negotiation, the pairing window,
handsets registering and deleted, paging, calls both ways, keypad keys, releases, voice on
PCM timeslots (`hal.dect.voice.FrameQueues`). The handsets are driven like a person
would (`press_talk`, `dial`, `press_end`, `walk_away`), and the module can misbehave:
garbage on the line, a frame with a broken checksum, a restart in the middle of a call.
It checks what the host sends with the same strictness, and keeps it (`received`).
"""

from __future__ import annotations

import asyncio
import itertools
import os
import time
import tty
from dataclasses import dataclass

from hal.audio import Frame
from hal.dect import ies
from hal.dect.backend import UartDectBase
from hal.dect.cmbs import (
    CAPABILITY_CHECKSUM,
    COMMAND_BASE,
    CallProgress,
    Command,
    Event,
    HandsetState,
    IeType,
    RegClose,
    ReleaseCode,
    pcm_timeslot,
)
from hal.dect.codec import Frame as Message
from hal.dect.codec import FrameDecoder
from hal.dect.voice import FrameQueues

FLUSH_S = 5.0  # real seconds: a pty that has not delivered by then is broken
QUIET_TURNS = 5  # loop turns with nothing in flight before the exchange counts as over


@dataclass
class FakeHandset:
    number: int
    name: str = ""
    in_range: bool = True
    instance: int | None = None
    ringing: bool = False
    talking: bool = False  # the call is connected
    voice: bool = False  # the host put the call on the PCM bus
    caller: tuple[str, str] | None = None  # (number, name) shown while ringing
    keys_sent: str = ""


class FakeCmbsModule:
    def __init__(self, loop: asyncio.AbstractEventLoop, slots: int = 4,
                 paired: tuple[int, ...] = (), checksum: bool = True) -> None:
        self.loop = loop
        self.voice = FrameQueues(slots)
        self.handsets: dict[int, FakeHandset] = {n: FakeHandset(n) for n in paired}
        self.slots = slots
        self.supports_checksum = checksum
        self.checksums = False
        self.registration_open = False
        self.paging = False
        self.received: list[Message] = []
        self.decoder = FrameDecoder()
        self._corrupt_next = False
        self.sent_bytes = 0
        self.received_bytes = 0
        self._seq = itertools.count()
        self._instances = itertools.count(1)
        self._window: asyncio.TimerHandle | None = None
        self.master, self._slave = os.openpty()
        tty.setraw(self.master)
        tty.setraw(self._slave)
        os.set_blocking(self.master, False)
        self.device = os.ttyname(self._slave)
        loop.add_reader(self.master, self._readable)

    def close(self) -> None:
        self.loop.remove_reader(self.master)
        if self._window is not None:
            self._window.cancel()
        os.close(self.master)
        os.close(self._slave)

    def got(self, event: Event) -> list[Message]:
        """Frames of `event` the host sent."""
        return [m for m in self.received if m.message_id == event]

    # -- the people with the handsets ----------------------------------------------------

    def register_handset(self, name: str = "") -> int:
        assert self.registration_open, "the host has not opened the registration window"
        number = next(n for n in range(1, self.slots + 1) if n not in self.handsets)
        self.handsets[number] = FakeHandset(number, name)
        self._send(Event.HS_REGISTERED, ies.handset_info(number, HandsetState.REGISTERED))
        self._close_window(RegClose.HANDSET_REGISTERED)
        return number

    def press_talk(self, n: int) -> None:
        h = self.handsets[n]
        if h.ringing:
            h.ringing, h.talking = False, True
            self._send(Event.CALL_ANSWER, ies.call_instance(self._instance(h)))
        else:
            self._call(h, "")

    def dial(self, n: int, keys: str) -> None:
        h = self.handsets[n]
        if h.instance is None:
            self._call(h, keys)  # block dialling: the number, then talk
        else:
            h.keys_sent += keys
            self._send(Event.CALL_INBANDINFO, ies.call_instance(h.instance), ies.keypad(keys))

    def press_end(self, n: int) -> None:
        h = self.handsets[n]
        code = ReleaseCode.BUSY if h.ringing else ReleaseCode.NORMAL
        self._release(h, code)

    def walk_away(self, n: int) -> None:
        h = self.handsets[n]
        h.in_range = False
        self._release(h, ReleaseCode.NOT_IN_RANGE)

    def says(self, n: int, frame: Frame) -> None:
        h = self.handsets[n]
        if h.voice:
            self.voice.module_write(pcm_timeslot(n), frame)

    def hears(self, n: int) -> Frame | None:
        h = self.handsets[n]
        return self.voice.module_read(pcm_timeslot(n)) if h.voice else None

    # -- misbehaving -------------------------------------------------------------------

    def inject(self, data: bytes) -> None:
        self._write(data)

    def corrupt_next_frame(self) -> None:
        self._corrupt_next = True

    def restart(self, noise: bytes = b"\x00\xff boot \x00") -> None:
        """The module resets: calls gone without a word, then TARGET_UP once booted."""
        for h in self.handsets.values():
            h.instance, h.ringing, h.talking, h.voice, h.caller = None, False, False, False, None
        self.registration_open = False
        self.checksums = False
        self.decoder.require_checksum = False
        self.inject(noise)
        self._send(Event.TARGET_UP)

    # -- what the host says --------------------------------------------------------------

    def _readable(self) -> None:
        try:
            data = os.read(self.master, 4096)
        except (BlockingIOError, OSError):
            return
        self.received_bytes += len(data)
        for frame in self.decoder.feed(data, self.loop.time()):
            self.received.append(frame)
            self._handle(frame)

    def _handle(self, m: Message) -> None:
        found = ies.Ies(m.params)
        mid = m.message_id
        if mid == COMMAND_BASE | Command.HELLO:
            self._command(Command.HELLO_RPLY)
        elif mid == COMMAND_BASE | Command.CAPABILITIES:
            wanted = int.from_bytes(m.params[:4], "little")
            mask = wanted & CAPABILITY_CHECKSUM if self.supports_checksum else 0
            self._command(Command.CAPABILITIES_RPLY, ies.capabilities(mask))
            self.checksums = bool(mask)
            self.decoder.require_checksum = self.checksums
        elif mid == Event.SYS_START:
            self._send(Event.SYS_START_RES, ies.response(True))
        elif mid == Event.HS_SUBSCRIBED_LIST_GET:
            listed = [ies.subscribed_handset(n, h.name) for n, h in sorted(self.handsets.items())]
            self._send(Event.HS_SUBSCRIBED_LIST_GET_RES, ies.response(True), *listed)
        elif mid == Event.CORD_OPENREG:
            self._open_window(ies.read_integer(found))
        elif mid == Event.CORD_CLOSEREG:
            self._close_window(None)
            self._send(Event.CORD_CLOSEREG_RES, ies.response(True))
        elif mid == Event.HS_PAGE_START:
            self.paging = True
            self._send(Event.HS_PAGE_START_RES, ies.response(True))
        elif mid == Event.HS_DELETE:
            self._delete(ies.read_handsets(found))
        elif mid == Event.CALL_ESTABLISH:
            self._incoming(found)
        else:
            self._in_call(mid, found)

    def _in_call(self, mid: int, found: ies.Ies) -> None:
        h = self._by_instance(ies.read_call_instance(found)) \
            if found.has(IeType.CALLINSTANCE) else None
        if mid == Event.CALL_ANSWER and h is not None:
            h.talking = True
        elif mid == Event.CALL_RELEASE:
            if h is not None:
                self._hang_up(h)
            self._send(Event.CALL_RELEASECOMPLETE,
                       ies.call_instance(ies.read_call_instance(found)))
        elif mid in (Event.CHANNEL_START, Event.CHANNEL_STOP):
            instance, _timeslot = ies.read_media_channel(found)
            h = self._by_instance(instance)
            if h is not None:
                h.voice = mid == Event.CHANNEL_START
            done = Event.CHANNEL_START_RES if mid == Event.CHANNEL_START \
                else Event.CHANNEL_STOP_RES
            self._send(done, ies.response(h is not None))

    def _incoming(self, found: ies.Ies) -> None:
        instance = ies.read_call_instance(found)
        called = ies.read_party(found, IeType.CALLEDPARTY)
        h = self.handsets.get(int(called)) if called.isdigit() else None
        if h is None or not h.in_range:
            self._send(Event.CALL_RELEASE, ies.call_instance(instance),
                       ies.release_reason(ReleaseCode.NOT_IN_RANGE))
            return
        if h.instance is not None:
            self._send(Event.CALL_RELEASE, ies.call_instance(instance),
                       ies.release_reason(ReleaseCode.BUSY))
            return
        h.instance, h.ringing = instance, True
        h.caller = (ies.read_party(found, IeType.CALLERPARTY), ies.read_name(found))
        self._send(Event.CALL_PROGRESS, ies.call_instance(instance),
                   ies.call_progress(CallProgress.RINGING))

    def _delete(self, mask: int) -> None:
        self._send(Event.HS_DELETE_RES, ies.response(True))
        for n in [n for n in self.handsets if mask & (1 << (n - 1))]:
            del self.handsets[n]
            self._send(Event.HS_REGISTERED, ies.handset_info(n, HandsetState.DELETED))

    def _open_window(self, seconds: int) -> None:
        self.registration_open = True
        if self._window is not None:
            self._window.cancel()
        self._window = self.loop.call_later(seconds, self._close_window, RegClose.TIMEOUT)
        self._send(Event.CORD_OPENREG_RES, ies.response(True))

    def _close_window(self, reason: RegClose | None) -> None:
        was_open, self.registration_open = self.registration_open, False
        if self._window is not None:
            self._window.cancel()
            self._window = None
        if was_open and reason is not None:
            self._send(Event.CORD_CLOSEREG, ies.reg_close_reason(reason))

    # -- helpers ------------------------------------------------------------------------

    def _call(self, h: FakeHandset, digits: str) -> None:
        assert h.in_range and h.instance is None
        h.instance = next(self._instances)
        self._send(Event.CALL_ESTABLISH, ies.call_instance(h.instance),
                   ies.caller_party(str(h.number)), ies.called_party(digits))

    def _release(self, h: FakeHandset, code: ReleaseCode) -> None:
        if h.instance is None:
            return
        instance = h.instance
        self._hang_up(h)
        self._send(Event.CALL_RELEASE, ies.call_instance(instance), ies.release_reason(code))

    @staticmethod
    def _hang_up(h: FakeHandset) -> None:
        h.instance, h.ringing, h.talking, h.voice, h.caller = None, False, False, False, None

    def _instance(self, h: FakeHandset) -> int:
        assert h.instance is not None
        return h.instance

    def _by_instance(self, instance: int) -> FakeHandset | None:
        return next((h for h in self.handsets.values() if h.instance == instance), None)

    def _send(self, event: Event, *items: ies.Ie) -> None:
        frame = bytes(Message(event, ies.params(*items), next(self._seq) & 0xFFFF,
                              self.checksums))
        if self._corrupt_next and len(frame) > 17:  # line noise in the first IE's value
            self._corrupt_next = False
            frame = frame[:16] + bytes((frame[16] ^ 0x5A,)) + frame[17:]
        self._write(frame)

    def _command(self, command: Command, payload: bytes = b"") -> None:
        self._write(bytes(Message(COMMAND_BASE | command, payload, next(self._seq) & 0xFFFF)))

    def _write(self, data: bytes) -> None:
        os.write(self.master, data)  # a few hundred bytes: the pty always takes them
        self.sent_bytes += len(data)

    async def flushed(self, base: UartDectBase) -> None:
        """Until every byte either side wrote has been read by the other, and what that
        set off has run. A pty hands bytes over through a kernel worker, a little later:
        without this, fake time could jump past a time-out while bytes are on the way.
        The loop spins meanwhile (fake time stands still), for at most FLUSH_S."""
        give_up = time.monotonic() + FLUSH_S
        quiet = 0
        while quiet < QUIET_TURNS:
            stats = base.stats()
            balanced = (stats["sent_bytes"] == self.received_bytes
                        and stats["received_bytes"] == self.sent_bytes)
            quiet = quiet + 1 if balanced else 0
            if time.monotonic() > give_up:
                raise AssertionError(f"bytes stuck on the pty: {stats}, module sent "
                                     f"{self.sent_bytes} and received {self.received_bytes}")
            await asyncio.sleep(0)
