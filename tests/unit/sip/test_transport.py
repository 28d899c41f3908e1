"""The SIP transport over real sockets on 127.0.0.1: what goes up, what comes back.

UDP and TCP as a phone uses them: datagrams and connections from ordinary client sockets to
a `SipTransport` listening on port 0. Where the point is that *nothing* comes back, a
sentinel follows the datagram under test: a malformed request the transport answers with
400. Its answer arriving first proves the datagram before it was handled and answered by
nothing (loopback keeps the order).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import socket
from collections.abc import AsyncIterator, Iterator

import pytest

from firmware.sip.message import Request, Response, make_response, parse_message
from firmware.sip.transport import Address, SipTransport

HOST = "127.0.0.1"
OTHER_HOST = "127.0.0.2"  # also loopback on Linux: a second source address
WAIT = 5.0  # fake seconds (looptime); loopback answers take microseconds of real time


def sip(*lines: str, body: str = "") -> bytes:
    return ("\r\n".join(lines) + "\r\n\r\n" + body).encode()


def request(method: str = "OPTIONS", *, call_id: str = "c1@phone", transport: str = "UDP",
            port: int = 5060, body: str = "", extra: tuple[str, ...] = (),
            content_length: int | None = None) -> bytes:
    length = len(body.encode()) if content_length is None else content_length
    return sip(
        f"{method} sip:100@{HOST} SIP/2.0",
        f"Via: SIP/2.0/{transport} {HOST}:{port};branch=z9hG4bK-{call_id.replace('@', '.')}",
        "Max-Forwards: 70",
        "From: <sip:201@pbx.example>;tag=a1",
        "To: <sip:100@pbx.example>",
        f"Call-ID: {call_id}",
        f"CSeq: 1 {method}",
        *extra,
        *([] if content_length == -1 else [f"Content-Length: {length}"]),
        body=body,
    )


def malformed(call_id: str, method: str = "OPTIONS") -> bytes:
    """A request the parser refuses (Content-Length beyond the body) but can answer."""
    return request(method, call_id=call_id, content_length=10)


class Box:
    """A `SipTransport` on 127.0.0.1 and everything it delivered."""

    def __init__(self) -> None:
        self.delivered: asyncio.Queue[tuple[Request | Response, Address]] = asyncio.Queue()
        self.banned_hosts: set[str] = set()
        self.transport = SipTransport(lambda message, source: self.delivered.put_nowait(
            (message, source)), lambda host: host in self.banned_hosts)
        self.port = 0

    async def next(self) -> tuple[Request | Response, Address]:
        return await asyncio.wait_for(self.delivered.get(), WAIT)


@pytest.fixture
async def box() -> AsyncIterator[Box]:
    b = Box()
    _, b.port = await b.transport.start(HOST, 0)
    yield b
    await b.transport.stop()


Sockets = list[socket.socket]


@pytest.fixture
def udp() -> Iterator[Sockets]:
    """Opened client sockets, closed after the test."""
    sockets: list[socket.socket] = []
    yield sockets
    for s in sockets:
        s.close()


def client(sockets: Sockets, host: str = HOST) -> socket.socket:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setblocking(False)
    s.bind((host, 0))
    sockets.append(s)
    return s


async def answer(sock: socket.socket) -> Response:
    data, _ = await asyncio.wait_for(asyncio.get_running_loop().sock_recvfrom(sock, 65535), WAIT)
    response = parse_message(data)
    assert isinstance(response, Response)
    return response


# ---------------------------------------------------------------------------------------------
# UDP


async def test_a_datagram_is_delivered_parsed_with_its_source(box: Box, udp: Sockets) -> None:
    phone = client(udp)
    phone.sendto(request(call_id="hello@phone"), (HOST, box.port))
    message, source = await box.next()
    assert isinstance(message, Request)
    assert (message.method, message.call_id) == ("OPTIONS", "hello@phone")
    assert source == Address("UDP", HOST, phone.getsockname()[1])
    assert box.transport.stats.received == 1


async def test_a_response_is_delivered_too(box: Box, udp: Sockets) -> None:
    phone = client(udp)
    phone.sendto(sip("SIP/2.0 200 OK", "Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKx",
                     "From: <sip:pbx@pbx.example>;tag=b", "To: <sip:201@pbx.example>;tag=c",
                     "Call-ID: q1@pbx", "CSeq: 7 OPTIONS", "Content-Length: 0"),
                 (HOST, box.port))
    message, _ = await box.next()
    assert isinstance(message, Response)
    assert (message.status, message.cseq.number) == (200, 7)


async def test_a_malformed_request_is_answered_400_to_its_sender(box: Box, udp: Sockets) -> None:
    phone = client(udp)
    phone.sendto(malformed("bad@phone"), (HOST, box.port))
    response = await answer(phone)
    assert response.status == 400
    assert response.call_id == "bad@phone"
    assert str(response.cseq) == "1 OPTIONS"
    assert box.delivered.empty()
    assert box.transport.stats.parse_errors == 1


@pytest.mark.parametrize("datagram", [
    pytest.param(sip("SIP/2.0 200 OK", "Via: SIP/2.0/UDP 127.0.0.1;branch=z9hG4bKr",
                     "From: <sip:a@b>;tag=1", "To: <sip:c@d>", "Call-ID: r@x", "CSeq: 1 BYE",
                     "Content-Length: 10"), id="malformed response"),
    pytest.param(malformed("ack@phone", "ACK"), id="malformed ACK"),
    pytest.param(request(call_id="x").replace(b"Call-ID: x\r\n", b""),
                 id="request without Call-ID"),
    pytest.param(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + bytes(40), id="TLS hello"),
    pytest.param(b"GET / HTTP/1.1\r\nHost: box\r\n\r\n", id="HTTP"),
])
async def test_what_cannot_be_answered_gets_nothing_back(box: Box, udp: Sockets,
                                                         datagram: bytes) -> None:
    phone = client(udp)
    phone.sendto(datagram, (HOST, box.port))
    phone.sendto(malformed("sentinel@phone"), (HOST, box.port))
    assert (await answer(phone)).call_id == "sentinel@phone"
    assert box.delivered.empty()


async def test_crlf_keep_alives_are_ignored(box: Box, udp: Sockets) -> None:
    phone = client(udp)
    for ping in (b"\r\n\r\n", b"\r\n"):
        phone.sendto(ping, (HOST, box.port))
    phone.sendto(malformed("sentinel@phone"), (HOST, box.port))
    assert (await answer(phone)).call_id == "sentinel@phone"
    assert box.delivered.empty()
    assert box.transport.stats.parse_errors == 1  # the sentinel only


async def test_a_banned_source_is_dropped_before_parsing(box: Box, udp: Sockets) -> None:
    box.banned_hosts.add(OTHER_HOST)
    scanner, phone = client(udp, OTHER_HOST), client(udp)
    scanner.sendto(malformed("scan@scanner"), (HOST, box.port))  # would earn a 400
    scanner.sendto(request(call_id="scan2@scanner"), (HOST, box.port))  # would be delivered
    phone.sendto(request(call_id="ok@phone"), (HOST, box.port))
    message, source = await box.next()
    assert message.call_id == "ok@phone"
    assert source.host == HOST
    assert box.delivered.empty()
    assert box.transport.stats.parse_errors == 0
    with pytest.raises(BlockingIOError):
        scanner.recvfrom(65535)  # nothing was sent back to it


# ---------------------------------------------------------------------------------------------
# TCP


async def connect(box: Box) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    reader, writer = await asyncio.open_connection(HOST, box.port)
    writer.transport.get_extra_info("socket").setsockopt(
        socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return reader, writer


async def read_message(reader: asyncio.StreamReader) -> Response:
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), WAIT)
    response = parse_message(head)
    assert isinstance(response, Response)
    return response


async def closed_by_box(reader: asyncio.StreamReader) -> bool:
    try:
        rest = await asyncio.wait_for(reader.read(), WAIT)
    except ConnectionResetError:
        return True
    return rest == b""


async def close(writer: asyncio.StreamWriter) -> None:
    writer.close()
    with contextlib.suppress(ConnectionError):  # the box may have reset it first
        await writer.wait_closed()


async def test_tcp_two_messages_in_one_segment_are_both_delivered(box: Box) -> None:
    _, writer = await connect(box)
    writer.write(request(call_id="one", transport="TCP")
                 + request("MESSAGE", call_id="two", transport="TCP", body="hello",
                           extra=("Content-Type: text/plain",)))
    first, source = await box.next()
    second, source2 = await box.next()
    assert (first.call_id, second.call_id) == ("one", "two")
    assert second.body == b"hello"
    assert source == source2 == Address("TCP", HOST, writer.get_extra_info("sockname")[1])
    await close(writer)


async def test_tcp_a_message_split_across_segments_is_delivered_once_whole(box: Box) -> None:
    _, writer = await connect(box)
    data = b"\r\n\r\n" + request("MESSAGE", call_id="split", transport="TCP", body="hello",
                                 extra=("Content-Type: text/plain",))
    blank = data.index(b"\r\n\r\n", 4) + 4
    cuts = [0, 2, 30, blank - 1, blank, blank + 2, len(data)]  # keep-alive, head, body
    for start, end in itertools.pairwise(cuts):
        assert box.delivered.empty()
        writer.write(data[start:end])
        await asyncio.sleep(0.01)  # the box reads each piece on its own
    message, _ = await box.next()
    assert (message.call_id, message.body) == ("split", b"hello")
    assert box.delivered.empty()
    await close(writer)


async def test_tcp_a_framing_error_is_answered_400_and_closes(box: Box) -> None:
    reader, writer = await connect(box)
    writer.write(request(call_id="good", transport="TCP")
                 + request(call_id="unframed", transport="TCP", content_length=-1))
    message, _ = await box.next()
    assert message.call_id == "good"
    response = await read_message(reader)
    assert (response.status, response.call_id) == (400, "unframed")
    assert await closed_by_box(reader)
    assert box.delivered.empty()
    await close(writer)


async def test_tcp_an_answer_goes_back_over_the_same_connection(box: Box) -> None:
    reader, writer = await connect(box)
    writer.write(request(call_id="ask", transport="TCP"))
    message, source = await box.next()
    assert isinstance(message, Request)
    box.transport.send(make_response(message, 200), Address("TCP", HOST, source.port))
    response = await read_message(reader)
    assert (response.status, response.call_id) == (200, "ask")
    await close(writer)


async def test_tcp_a_message_missing_a_mandatory_field_is_dropped_alone(box: Box) -> None:
    _, writer = await connect(box)
    no_call_id = request(call_id="x", transport="TCP").replace(b"Call-ID: x\r\n", b"")
    writer.write(no_call_id + request(call_id="next", transport="TCP"))
    message, _ = await box.next()
    assert message.call_id == "next"  # framing was intact: the connection carries on
    assert box.delivered.empty()
    assert box.transport.stats.parse_errors == 1
    await close(writer)


async def test_tcp_from_a_banned_source_is_refused(box: Box) -> None:
    box.banned_hosts.add(HOST)
    reader, writer = await connect(box)
    writer.write(request(call_id="scan", transport="TCP"))
    assert await closed_by_box(reader)
    assert box.delivered.empty()
    await close(writer)


async def test_tcp_a_source_banned_while_connected_is_cut_off(box: Box) -> None:
    reader, writer = await connect(box)
    writer.write(request(call_id="guess1", transport="TCP"))
    await box.next()
    box.banned_hosts.add(HOST)  # the guard banned it after failed logins on this connection
    writer.write(request(call_id="guess2", transport="TCP"))
    assert await closed_by_box(reader)
    assert box.delivered.empty()
    assert box.transport.stats.parse_errors == 0
    await close(writer)


async def test_tcp_a_request_to_a_peer_without_a_connection_opens_one(box: Box) -> None:
    # The box calling a SIP trunk over TCP: it connects, sends, and hears the answer on it.
    accepted: asyncio.Queue[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = \
        asyncio.Queue()
    server = await asyncio.start_server(lambda r, w: accepted.put_nowait((r, w)), HOST, 0)
    port = server.sockets[0].getsockname()[1]
    provider = Address("TCP", HOST, port)
    async with server:
        first = parse_message(request(call_id="one", transport="TCP"))
        second = parse_message(request(call_id="two", transport="TCP"))
        assert isinstance(first, Request) and isinstance(second, Request)
        box.transport.send(first, provider)
        box.transport.send(second, provider)  # before the connection is up: it waits
        reader, writer = await asyncio.wait_for(accepted.get(), WAIT)
        got = [parse_message(await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), WAIT))
               for _ in range(2)]
        assert [m.call_id for m in got] == ["one", "two"]
        writer.write(bytes(make_response(first, 200)))
        await writer.drain()
        answer, source = await box.next()
        assert (answer.call_id, source) == ("one", provider)
        assert accepted.empty()  # one connection for both
        await close(writer)


async def test_tcp_a_peer_that_refuses_the_connection_costs_the_message_only(box: Box) -> None:
    with socket.socket() as unused:
        unused.bind((HOST, 0))
        port = unused.getsockname()[1]  # bound, not listening: connections are refused
        message = parse_message(request(call_id="lost", transport="TCP"))
        box.transport.send(message, Address("TCP", HOST, port))
        for _ in range(100):
            if box.transport.stats.send_errors:
                break
            await asyncio.sleep(0.01)
    assert box.transport.stats.send_errors == 1
