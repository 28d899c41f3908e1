"""The SIP transport shell: the only module that touches SIP sockets (UDP and TCP).

Bytes come in, parsed messages go up to one callback with the address they came from;
bytes to send come down with an address. UDP is read with `add_reader` and drained until
`BlockingIOError` (DESIGN.md performance budget: one wake-up, many datagrams). TCP uses
Content-Length framing (RFC 3261 §18.3) through `StreamParser`; a connection is keyed by
the peer's address so requests and responses for that peer go back over it. A message for
a TCP peer with no connection opens one (the box's own requests to a trunk over TCP), the
messages sent meanwhile wait for it; if it cannot be opened they are lost like datagrams,
and the transaction's timers end the request.

Bad input costs a log line and, where the message can be answered, one error response
(RFC 3261 §21.4.1 400 and friends); on TCP a framing error also closes the connection.
Limits sit next to their reasons below.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import socket
from collections.abc import Callable
from dataclasses import dataclass

from firmware.sip.errors import ParseError
from firmware.sip.message import Request, Response, StreamParser, parse_message
from firmware.sip.salvage import salvage_response

log = logging.getLogger(__name__)

MAX_DATAGRAM = 65535  # the largest UDP payload; bigger messages must use TCP (§18.1.1)
MAX_TCP_CONNECTIONS = 256  # a small office has tens of phones; the rest is an attack
TCP_IDLE_S = 600.0  # phones keep TCP alive with CRLF pings or re-REGISTER well within this
PORT_TRIES = 20  # port 0: UDP picks a free port, which TCP may hold for another program
TCP_CONNECT_S = 10.0  # a provider that does not accept a connection within this is down
SOCKET_BUFFER = 1 << 20  # room for a burst of datagrams while the loop is busy
UDP_BATCH = 256
# The fields every layer above reads to match or answer a message (§8.1.1 less Max-Forwards,
# which RFC 2543 peers omit). The parser leaves a missing one to raise where it is read,
# which would be inside the transaction layer, so a message without one stops here; no
# answer can reach its sender either (§8.2.6.2 copies all five).
REQUIRED_FIELDS = ("Via", "From", "To", "Call-ID", "CSeq")


@dataclass(frozen=True, slots=True)
class Address:
    """Where a message came from or goes to."""

    transport: str  # "UDP" | "TCP"
    host: str
    port: int

    def __str__(self) -> str:
        return f"{self.transport.lower()}:{self.host}:{self.port}"


Message = Request | Response
Receiver = Callable[[Message, Address], None]


@dataclass(slots=True)
class TransportStats:
    received: int = 0
    sent: int = 0
    parse_errors: int = 0
    send_errors: int = 0


class SipTransport:
    def __init__(self, receiver: Receiver, banned: Callable[[str], bool] | None = None) -> None:
        self._receiver = receiver
        self._banned = banned or (lambda _host: False)
        self._udp: socket.socket | None = None
        self._tcp_server: asyncio.AbstractServer | None = None
        self._connections: dict[Address, _TcpConnection] = {}
        self._connecting: dict[Address, list[bytes]] = {}  # waiting for the connection
        self._openers: set[asyncio.Task[None]] = set()
        self.stats = TransportStats()
        self.local: tuple[str, int] | None = None

    async def start(self, host: str, port: int) -> tuple[str, int]:
        """Listen on UDP and TCP at host:port (port 0: any free port, the same for both)."""
        loop = asyncio.get_running_loop()
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        for attempt in range(PORT_TRIES if port == 0 else 1):
            udp = socket.socket(family, socket.SOCK_DGRAM)
            udp.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, SOCKET_BUFFER)
            udp.bind((host, port))
            udp.setblocking(False)
            bound_port = udp.getsockname()[1]
            try:
                self._tcp_server = await loop.create_server(
                    lambda: _TcpConnection(self), host, bound_port, reuse_address=True)
            except OSError:
                udp.close()
                if port != 0 or attempt == PORT_TRIES - 1:
                    raise
                continue  # the free UDP port is taken on TCP: another one
            break
        self._udp = udp
        loop.add_reader(udp.fileno(), self._drain_udp)
        self.local = (host, bound_port)
        return self.local

    async def stop(self) -> None:
        if self._udp is not None:
            asyncio.get_running_loop().remove_reader(self._udp.fileno())
            self._udp.close()
            self._udp = None
        for opener in list(self._openers):
            opener.cancel()
        if self._tcp_server is not None:
            self._tcp_server.close()
            for conn in list(self._connections.values()):
                conn.close()
            await self._tcp_server.wait_closed()
            self._tcp_server = None

    def send(self, message: Message | bytes, dest: Address) -> None:
        data = message if isinstance(message, bytes) else bytes(message)
        if dest.transport == "TCP":
            conn = self._connections.get(dest)
            if conn is None:
                self._connect(dest, data)
                return
            conn.write(data)
        else:
            if self._udp is None:
                return
            try:
                self._udp.sendto(data, (dest.host, dest.port))
            except OSError as exc:
                # A full buffer or an unreachable peer loses this datagram; SIP retransmits.
                self.stats.send_errors += 1
                if exc.errno not in (errno.EAGAIN, errno.ECONNREFUSED):
                    log.warning("send to %s failed: %s", dest, exc)
                return
        self.stats.sent += 1

    def _connect(self, dest: Address, data: bytes) -> None:
        waiting = self._connecting.get(dest)
        if waiting is not None:
            waiting.append(data)
            return
        if self._tcp_server is None or \
                len(self._connections) + len(self._connecting) >= MAX_TCP_CONNECTIONS:
            self.stats.send_errors += 1
            return
        self._connecting[dest] = [data]
        opener = asyncio.get_running_loop().create_task(self._open(dest))
        self._openers.add(opener)
        opener.add_done_callback(self._openers.discard)

    async def _open(self, dest: Address) -> None:
        loop = asyncio.get_running_loop()
        try:
            await asyncio.wait_for(loop.create_connection(
                lambda: _TcpConnection(self), dest.host, dest.port), TCP_CONNECT_S)
        except (OSError, TimeoutError) as exc:
            lost = self._connecting.pop(dest, [])
            self.stats.send_errors += len(lost)
            log.warning("cannot connect to %s: %s; %d message(s) lost", dest, exc or "timeout",
                        len(lost))
            return
        waiting = self._connecting.pop(dest, [])
        conn = self._connections.get(dest)
        for data in waiting if conn is not None else ():
            conn.write(data)  # type: ignore[union-attr]
            self.stats.sent += 1

    def _drain_udp(self) -> None:
        udp = self._udp
        if udp is None:
            return
        # Many datagrams per wake-up, but not unboundedly: a flood must leave the loop time
        # for audio and timers (the reader fires again at once if more are waiting).
        for _ in range(UDP_BATCH):
            try:
                data, peer = udp.recvfrom(MAX_DATAGRAM)
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:  # e.g. ICMP port unreachable reported on a later read
                if udp.fileno() < 0:
                    return  # closed by what the last message set off (the box stopping)
                log.debug("udp read: %s", exc)
                continue
            if self._banned(peer[0]):
                continue  # a banned source costs one read and one lookup
            self._datagram(data, Address("UDP", peer[0], peer[1]))

    def _datagram(self, data: bytes, source: Address) -> None:
        if not data.strip(b"\r\n"):
            return  # a CRLF keep-alive (RFC 5626 §3.5.1)
        try:
            message = parse_message(data)
        except ParseError as exc:
            self._reject(data, source, exc)
            return
        self._deliver(message, source)

    def _deliver(self, message: Message, source: Address) -> None:
        missing = [name for name in REQUIRED_FIELDS if name not in message.headers]
        if missing:
            error = ParseError(f"missing mandatory header fields: {', '.join(missing)}")
            self._reject(b"", source, error)
            return
        self.stats.received += 1
        self._receiver(message, source)

    def _reject(self, data: bytes, source: Address, exc: ParseError) -> None:
        self.stats.parse_errors += 1
        # The error quotes the peer's text: only its status at INFO, the rest for debugging.
        log.info("bad SIP message from %s: answered %d", source, exc.status)
        log.debug("bad SIP message from %s: %s", source, exc)
        response = salvage_response(exc.raw or data, exc.status, str(exc))
        if response is not None:
            self.send(response, source)


class _TcpConnection(asyncio.Protocol):
    def __init__(self, transport: SipTransport) -> None:
        self._owner = transport
        self._parser = StreamParser()
        self._tcp: asyncio.Transport | None = None
        self._address: Address | None = None
        self._idle: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._tcp = transport
        host, port = transport.get_extra_info("peername")[:2]
        self._address = Address("TCP", host, port)
        if self._owner._banned(host):
            transport.abort()
            return
        if len(self._owner._connections) >= MAX_TCP_CONNECTIONS:
            log.warning("too many TCP connections; refusing %s", self._address)
            transport.abort()
            return
        self._owner._connections[self._address] = self
        self._touch()

    def data_received(self, data: bytes) -> None:
        assert self._address is not None
        if self._owner._banned(self._address.host):
            # Banned since it connected (for failed logins on this very connection, say): a
            # stream cannot skip one message, so the connection goes, its bytes unparsed.
            if self._tcp is not None:
                self._tcp.abort()
            return
        self._touch()
        try:
            messages = self._parser.feed(data)
        except ParseError as exc:
            self._owner._reject(data, self._address, exc)
            self.close()
            return
        for message in messages:
            self._owner._deliver(message, self._address)
        error = self._parser.error  # a bad message after good ones in the same chunk
        if error is not None:
            self._owner._reject(b"", self._address, error)
            self.close()

    def connection_lost(self, exc: Exception | None) -> None:
        if self._idle is not None:
            self._idle.cancel()
        if self._address is not None and self._owner._connections.get(self._address) is self:
            del self._owner._connections[self._address]

    def write(self, data: bytes) -> None:
        if self._tcp is not None and not self._tcp.is_closing():
            self._tcp.write(data)
            self._touch()

    def close(self) -> None:
        if self._tcp is not None:
            self._tcp.close()

    def _touch(self) -> None:
        if self._idle is not None:
            self._idle.cancel()
        if self._tcp is not None:
            self._idle = asyncio.get_running_loop().call_later(TCP_IDLE_S, self.close)
