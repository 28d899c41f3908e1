"""`UartDectBase`: a CMBS module on a serial port, as the `DectBase` the firmware uses.

The shell around the sans-I/O `CmbsHost`: bytes from the port go in, bytes it wants sent
go out, its one deadline is one `loop.call_at`, and its events reach the listener on the
loop a moment later (`call_soon`: never from inside a request the firmware is making). A
port that cannot be opened or fails is reopened every `REOPEN_S`; meanwhile the base is
down and behaves as one whose handsets are out of range. Voice goes through a `VoicePath`
(`hal.dect.voice`), one PCM timeslot per handset.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from hal.audio import Frame
from hal.dect.calls import CallState
from hal.dect.cmbs import pcm_timeslot
from hal.dect.errors import DectRequestError
from hal.dect.events import DectEvent, handset_number, handset_port
from hal.dect.host import CmbsHost
from hal.dect.uart import DectUnavailable, SerialLink, SerialPort, open_serial
from hal.dect.voice import FrameQueues, VoicePath

log = logging.getLogger(__name__)

START_WAIT_S = 3.0  # start() waits this long for the module, then lets the box run on
REOPEN_S = 5.0

Opener = Callable[[str, int], SerialPort]


class UartDectBase:
    def __init__(self, device: str, baud: int, slots: int, loop: asyncio.AbstractEventLoop,
                 voice: VoicePath | None = None, opener: Opener = open_serial) -> None:
        self.device = device
        self.baud = baud
        self.voice: VoicePath = voice if voice is not None else FrameQueues(slots)
        self._loop = loop
        self._opener = opener
        self._host = CmbsHost(slots)
        self._link: SerialLink | None = None
        self._listener: Callable[[DectEvent], None] | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at: float | None = None
        self._reopen: asyncio.TimerHandle | None = None
        self._up = asyncio.Event()
        self._stopped = False
        self._traffic = [0, 0]  # bytes sent, received over links that have closed

    # -- DectBase ---------------------------------------------------------------------

    @property
    def slots(self) -> int:
        return self._host.slots

    def subscribed(self) -> list[str]:
        return [handset_port(n) for n in sorted(self._host.subscribed)]

    @property
    def registration_open(self) -> bool:
        return self._host.registration_open

    def set_listener(self, listener: Callable[[DectEvent], None]) -> None:
        self._listener = listener

    async def start(self) -> None:
        """Open the port and greet the module; wait (a little) for it to come up."""
        self._stopped = False
        self._open()
        try:
            await asyncio.wait_for(self._up.wait(), START_WAIT_S)
        except TimeoutError:
            log.warning("DECT module on %s not up after %.0f s; the box runs on and the "
                        "handsets come up when it answers", self.device, START_WAIT_S)

    async def stop(self) -> None:
        self._stopped = True
        for handle in (self._timer, self._reopen):
            if handle is not None:
                handle.cancel()
        self._timer = self._reopen = None
        self._close_link()

    def open_registration(self, seconds: float) -> None:
        self._host.open_registration(seconds, self._loop.time())
        self._pump()

    def close_registration(self) -> None:
        self._host.close_registration(self._loop.time())
        self._pump()

    def delete_handset(self, handset: str) -> None:
        self._host.delete(_number(handset), self._loop.time())
        self._pump()

    def page(self) -> None:
        self._host.page(self._loop.time())
        self._pump()

    def ring(self, handset: str, number: str | None, name: str | None) -> None:
        self._host.ring(_number(handset), number, name, self._loop.time())
        self._pump()

    def answer(self, handset: str) -> None:
        self._host.answer(_number(handset), self._loop.time())
        self._pump()

    def release(self, handset: str) -> None:
        self._host.release(_number(handset), self._loop.time())
        self._pump()

    def read_frame(self, handset: str) -> Frame | None:
        n = _number(handset)
        if self._host.call_state(n) is not CallState.CONNECTED:
            return None
        return self.voice.read(pcm_timeslot(n))

    def write_frame(self, handset: str, frame: Frame) -> None:
        n = _number(handset)
        if self._host.call_state(n) is CallState.CONNECTED:
            self.voice.write(pcm_timeslot(n), frame)

    # -- what the module is up to (for logs and tests) ----------------------------------

    @property
    def up(self) -> bool:
        return self._host.up

    def stats(self) -> dict[str, Any]:
        d, h = self._host.decoder.stats, self._host.stats
        sent, received = self._traffic
        if self._link is not None:
            sent, received = sent + self._link.sent_bytes, received + self._link.received_bytes
        return {"link": self._host.link.value, "sent_bytes": sent,
                "received_bytes": received, "frames": d.frames,
                "garbage_bytes": d.garbage_bytes, "length_errors": d.length_errors,
                "checksum_errors": d.checksum_errors, "malformed": d.malformed,
                "protocol_errors": h.protocol_errors, "module_restarts": h.module_restarts}

    # -- the shell ----------------------------------------------------------------------

    def _open(self) -> None:
        self._reopen = None
        if self._stopped:
            return
        try:
            port = self._opener(self.device, self.baud)
        except DectUnavailable as exc:
            log.error("%s; trying again in %.0f s", exc, REOPEN_S)
            self._reopen = self._loop.call_later(REOPEN_S, self._open)
            return
        self._link = SerialLink(port, self._loop, self._on_data, self._on_lost)
        self._host.connect(self._loop.time())
        self._pump()

    def _on_data(self, data: bytes) -> None:
        self._host.receive(data, self._loop.time())
        self._pump()

    def _on_lost(self, exc: Exception | None) -> None:
        log.error("DECT module's port %s failed (%s); reopening in %.0f s", self.device,
                  exc or "closed", REOPEN_S)
        self._close_link()
        self._host.link_lost(self._loop.time())
        self._pump()
        if not self._stopped:
            self._reopen = self._loop.call_later(REOPEN_S, self._open)

    def _close_link(self) -> None:
        if self._link is not None:
            self._link.close()
            self._traffic[0] += self._link.sent_bytes
            self._traffic[1] += self._link.received_bytes
            self._link = None

    def _on_timer(self) -> None:
        self._timer = self._timer_at = None
        self._host.on_timer(self._loop.time())
        self._pump()

    def _pump(self) -> None:
        """Send what the host wants sent, hand on its events, re-arm its deadline."""
        data = self._host.data_to_send()
        if data and self._link is not None:
            self._link.write(data)
        for event in self._host.events():
            self._loop.call_soon(self._deliver, event)
        if self._host.up:
            self._up.set()
        else:
            self._up.clear()
        self._arm(self._host.next_deadline())

    def _arm(self, deadline: float | None) -> None:
        if deadline == self._timer_at:
            return
        if self._timer is not None:
            self._timer.cancel()
        self._timer_at = deadline
        self._timer = None if deadline is None else self._loop.call_at(deadline, self._on_timer)

    def _deliver(self, event: DectEvent) -> None:
        if self._listener is not None:
            self._listener(event)


def _number(handset: str) -> int:
    n = handset_number(handset)
    if n is None:
        raise DectRequestError(f"{handset!r} is not a DECT handset (expected dect:N)")
    return n
