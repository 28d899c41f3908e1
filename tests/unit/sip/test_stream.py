"""Stream framing (TCP/TLS): Content-Length is the only message boundary (RFC 3261 §18.3)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from firmware.sip.errors import FramingError, ParseError
from firmware.sip.message import MAX_MESSAGE_BYTES, Request, Response, StreamParser, parse_message

from .corpus import INVITE, SDP, torture

RINGING = (
    b"SIP/2.0 180 Ringing\r\n"
    b"Via: SIP/2.0/TCP pc33.atlanta.example.com;branch=z9hG4bKnashds8\r\n"
    b"To: Bob <sip:bob@biloxi.example.com>;tag=a6c85cf\r\n"
    b"From: Alice <sip:alice@atlanta.example.com>;tag=1928301774\r\n"
    b"Call-ID: a84b4c76e66710\r\n"
    b"CSeq: 314159 INVITE\r\n"
    b"Content-Length: 0\r\n"
    b"\r\n"
)
# A body that itself holds an empty line: only Content-Length can tell where it ends.
MESSAGE = (
    b"MESSAGE sip:bob@biloxi.example.com SIP/2.0\r\n"
    b"Via: SIP/2.0/TCP pc33.atlanta.example.com;branch=z9hG4bK9\r\n"
    b"To: <sip:bob@biloxi.example.com>\r\n"
    b"From: <sip:alice@atlanta.example.com>;tag=5\r\n"
    b"Call-ID: m1\r\n"
    b"CSeq: 1 MESSAGE\r\n"
    b"Max-Forwards: 70\r\n"
    b"Content-Type: text/plain\r\n"
    b"l: 14\r\n"
    b"\r\n"
    b"one\r\n\r\nSIP/2.0"
)
KEEPALIVE = b"\r\n\r\n"  # RFC 5626 §3.5.1 double-CRLF ping


def same(a: Request | Response, b: Request | Response) -> bool:
    return type(a) is type(b) and bytes(a) == bytes(b)


def test_fed_byte_by_byte() -> None:
    parser = StreamParser()
    for byte in INVITE[:-1]:
        assert parser.feed(bytes([byte])) == []
    (message,) = parser.feed(INVITE[-1:])
    assert same(message, parse_message(INVITE))
    assert isinstance(message, Request) and message.body == SDP


def test_two_messages_in_one_chunk_and_keepalives_between() -> None:
    parser = StreamParser()
    messages = parser.feed(KEEPALIVE + INVITE + KEEPALIVE + KEEPALIVE + RINGING + KEEPALIVE)
    assert [type(m) for m in messages] == [Request, Response]
    assert same(messages[0], parse_message(INVITE)) and same(messages[1], parse_message(RINGING))
    assert parser.feed(b"\r") == [] and parser.feed(b"\n") == []  # a keep-alive split in two
    assert parser.error is None


def test_body_with_an_empty_line_inside() -> None:
    parser = StreamParser()
    first, second = parser.feed(MESSAGE + RINGING)
    assert first.body == b"one\r\n\r\nSIP/2.0"
    assert isinstance(second, Response) and second.status == 180


@settings(deadline=None)
@given(
    st.lists(st.sampled_from([INVITE, RINGING, MESSAGE, KEEPALIVE]), min_size=1, max_size=6),
    st.data(),
)
def test_any_chunking_gives_the_same_messages(parts: list[bytes], data: st.DataObject) -> None:
    stream = b"".join(parts)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=12)))
    parser = StreamParser()
    received: list[Request | Response] = []
    start = 0
    for cut in [*cuts, len(stream)]:
        received += parser.feed(stream[start:cut])
        start = cut
    expected = [parse_message(part) for part in parts if part != KEEPALIVE]
    assert len(received) == len(expected)
    assert all(same(a, b) for a, b in zip(received, expected, strict=True))


@pytest.mark.parametrize(
    ("data", "status", "text"),
    [
        (INVITE.replace(b"Content-Length: 238\r\n", b""), 400,
         "missing Content-Length on a stream transport"),
        (torture("mcl01"), 400, "conflicting Content-Length values"),  # RFC 4475 §3.3.9
        (INVITE.replace(b"Content-Length: 238", b"Content-Length: 65536"), 413,
         "Content-Length 65536 exceeds our limit"),
        (INVITE.replace(b"Content-Length: 238", b"Content-Length: 65000"), 513,
         "message exceeds 65535 bytes"),
    ],
)  # fmt: skip
def test_framing_errors(data: bytes, status: int, text: str) -> None:
    parser = StreamParser()
    with pytest.raises(FramingError) as caught:
        parser.feed(data)
    assert (caught.value.status, str(caught.value)) == (status, text)
    with pytest.raises(FramingError):  # the stream stays broken: close the connection
        parser.feed(RINGING)
    assert parser.error is caught.value


def test_endless_header_section() -> None:
    parser = StreamParser()
    parser.feed(b"INVITE sip:a@b.example SIP/2.0\r\n")
    with pytest.raises(FramingError) as caught:
        for _ in range(MAX_MESSAGE_BYTES // 1000 + 1):
            parser.feed(b"X-Pad: " + b"x" * 991 + b"\r\n")
    assert caught.value.status == 513


@pytest.mark.parametrize(
    ("name", "status", "text"),
    [
        ("ncl", 400, "malformed Content-Length '-999'"),  # RFC 4475 §3.1.2.3
        ("badvers", 505, "unsupported SIP version 'SIP/7.0'"),  # RFC 4475 §3.1.2.16
        ("lwsstart", 400, "malformed Request-Line 'INVITE  sip:user@example.com  SIP/2.0'"),
    ],
)
def test_unreadable_header_section_loses_the_framing(name: str, status: int, text: str) -> None:
    data = torture(name)
    with pytest.raises(FramingError) as caught:
        StreamParser().feed(b"\r\n\r\n" + data)
    assert (caught.value.status, str(caught.value)) == (status, text)
    assert caught.value.raw == data.partition(b"\r\n\r\n")[0] + b"\r\n\r\n"


def test_messages_before_a_bad_one_are_delivered_first() -> None:
    parser = StreamParser()
    bad = RINGING.replace(b"CSeq: 314159 INVITE", b"CSeq: INVITE")
    (good,) = parser.feed(INVITE + bad + RINGING)
    assert same(good, parse_message(INVITE))
    error = parser.error
    assert error is not None and not isinstance(error, FramingError)
    assert (str(error), error.raw) == ("malformed CSeq 'INVITE'", bad)
    with pytest.raises(ParseError, match="malformed CSeq"):
        parser.feed(b"")


def test_clerr_waits_for_the_rest_of_its_body() -> None:  # RFC 4475 §3.1.2.2 on a stream
    parser = StreamParser()
    assert parser.feed(torture("clerr")) == []  # 9999 bytes announced, 154 arrived
    assert parser.error is None
