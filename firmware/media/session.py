"""RTP sockets: the only module that touches them.

One `RtpSession` per call leg: an even UDP port for RTP (RTCP, on the next port, is read
and counted, not yet answered). Two ways to use a session:

- decoded: every datagram goes to `on_packet(data, arrival)` (the leg decodes, buffers and
  mixes it); `send(data)` sends one packet to the peer;
- relayed: `relay(other)` joins two sessions whose legs share a codec; datagrams are then
  forwarded to the other session's peer as they are, without decoding, in the socket
  callback itself: per packet one `recvfrom`, one check and one `sendto`, no allocation of
  objects, no logging, no `await` (DESIGN.md performance budget). One exception: packets
  whose payload type is `event_pt` (RFC 4733 telephone-events, a few per key pressed) are
  first shown to `on_event(data, arrival)`, which may keep them back (it returns True):
  the keys of an in-call transfer code go to the box, not to the other phone. Telling
  them apart costs an audio packet one length compare.

A leg's outgoing stream may change hands (relayed, then hold music made by the box, then
relayed again): `last_out` keeps the last packet relayed out, and `splice` renumbers
relayed packets into the stream the box made (`firmware.media.splice`).

Symmetric RTP (RFC 4961) for phones behind NAT: we send to the address the peer's packets
come from, latched on the first packet, rather than to the address its SDP claims; once
latched, packets from other addresses are dropped (no one can inject audio into a call).
A new SDP from the peer (re-INVITE) unlatches.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import random
import socket
from collections.abc import Callable

from firmware.media.errors import MediaError
from firmware.media.splice import StreamSplice

log = logging.getLogger(__name__)

MAX_PACKET = 2048  # RTP for G.711 is 172 bytes; a capped read is cheap (DESIGN.md)
BIND_TRIES = 64
SOCKET_BUFFER = 256 * 1024

PacketHandler = Callable[[bytes, float], None]
# Telephone-event packets (RFC 4733 §2.3): header and one block, up to redundant blocks,
# CSRCs or a header extension; G.711 audio (80 bytes and more per 10 ms) is larger.
_EVENT_MIN, _EVENT_MAX = 16, 80


class PortsExhausted(MediaError):
    """No free RTP port pair in the configured range."""


class RtpSession:
    def __init__(
        self,
        host: str,
        ports: tuple[int, int],
        on_packet: PacketHandler | None = None,
    ) -> None:
        self._loop = asyncio.get_running_loop()
        self.on_packet = on_packet
        self.remote: tuple[str, int] | None = None  # where we send
        self._latched = False
        self._relay: RtpSession | None = None
        self.event_pt = -1  # while relaying: the payload type shown to `on_event` (-1: none)
        self.on_event: Callable[[bytes, float], bool] | None = None
        self.last_out: bytes | None = None  # the last packet relayed out to our peer
        self.splice: StreamSplice | None = None  # renumbers what is relayed to our peer
        self.received = 0
        self.sent = 0
        self.dropped = 0
        self._rtp, self._rtcp = _bind_pair(host, ports)
        self.local = self._rtp.getsockname()[:2]
        self._loop.add_reader(self._rtp.fileno(), self._drain)
        self._loop.add_reader(self._rtcp.fileno(), self._drain_rtcp)

    @property
    def port(self) -> int:
        return int(self.local[1])

    def set_remote(self, host: str, port: int) -> None:
        """The peer's address from its SDP; symmetric RTP may correct it."""
        self.remote = (host, port)
        self._latched = False

    def relay(self, other: RtpSession | None) -> None:
        """Forward this session's incoming packets to `other`'s peer (None: stop)."""
        self._relay = other

    def send(self, data: bytes) -> None:
        if self.remote is None:
            return
        try:
            self._rtp.sendto(data, self.remote)
            self.sent += 1
        except OSError as exc:
            self._send_failed(exc)

    def close(self) -> None:
        for sock in (self._rtp, self._rtcp):
            if sock.fileno() >= 0:
                self._loop.remove_reader(sock.fileno())
                sock.close()
        self._relay = None
        self.on_packet = None
        self.on_event = None

    def _drain(self) -> None:
        sock = self._rtp
        while True:
            try:
                data, source = sock.recvfrom(MAX_PACKET)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                if sock.fileno() < 0:
                    return  # closed by what the last packet set off (a hang-up)
                continue  # ICMP errors surface here; the next read goes on
            if source != self.remote:
                if self._latched or not self._may_latch(data):
                    self.dropped += 1
                    continue
                self.remote = source[:2]
            self._latched = True
            self.received += 1
            relay = self._relay
            if relay is not None:
                # Events are small (a 12-byte header, 4-byte blocks), G.711 audio is 172
                # bytes: its packets cost a length compare here, nothing more.
                if _EVENT_MIN <= len(data) <= _EVENT_MAX and data[1] & 0x7F == self.event_pt:
                    on_event = self.on_event
                    if on_event is not None and on_event(data, self._loop.time()):
                        continue  # a key the box took (a transfer code): not relayed
                    relay = self._relay  # (what it did may have ended the relay)
                    if relay is None:
                        continue
                target = relay.remote
                if target is not None:
                    splice = relay.splice
                    if splice is not None:
                        data = splice.rewrite(data)
                    try:
                        relay._rtp.sendto(data, target)
                        relay.sent += 1
                        relay.last_out = data
                    except OSError as exc:
                        relay._send_failed(exc)
                continue
            handler = self.on_packet
            if handler is not None:
                handler(data, self._loop.time())

    def _may_latch(self, data: bytes) -> bool:
        # Only something that looks like RTP may move where we send (version 2, a header).
        return len(data) >= 12 and data[0] >> 6 == 2

    def _drain_rtcp(self) -> None:
        while True:
            try:
                self._rtcp.recvfrom(MAX_PACKET)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                if self._rtcp.fileno() < 0:
                    return
                continue

    def _send_failed(self, exc: OSError) -> None:
        self.dropped += 1
        if exc.errno not in (errno.EAGAIN, errno.ECONNREFUSED):
            log.debug("rtp send to %s failed: %s", self.remote, exc)


def _bind_pair(host: str, ports: tuple[int, int]) -> tuple[socket.socket, socket.socket]:
    """An even RTP port and the odd RTCP port above it, both free, from `ports`."""
    low, high = ports
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    for _ in range(BIND_TRIES):
        port = random.randrange(low + low % 2, high - 1, 2)
        rtp = socket.socket(family, socket.SOCK_DGRAM)
        rtcp = socket.socket(family, socket.SOCK_DGRAM)
        try:
            rtp.bind((host, port))
            rtcp.bind((host, port + 1))
        except OSError:
            rtp.close()
            rtcp.close()
            continue
        for sock in (rtp, rtcp):
            sock.setblocking(False)
        rtp.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, SOCKET_BUFFER)
        return rtp, rtcp
    raise PortsExhausted(f"no free RTP port pair in {low}-{high} after {BIND_TRIES} tries")
