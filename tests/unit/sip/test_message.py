"""Whole messages over datagrams: parsing, serialising, responses and validation (RFC 3261 §7,
§8.1.1, §8.2.6, §18.3, §20)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from firmware.sip.errors import ParseError
from firmware.sip.headers import CSeq, Headers, NameAddr
from firmware.sip.message import (
    MAX_HEADER_FIELDS,
    MAX_MESSAGE_BYTES,
    Request,
    Response,
    make_response,
    parse_message,
    validate_request,
    validate_response,
)
from firmware.sip.uri import SipUri

from .corpus import INVITE, SDP


def parse_request(data: bytes) -> Request:
    message = parse_message(data)
    assert isinstance(message, Request)
    return message


def test_typical_invite() -> None:
    m = parse_request(INVITE)
    assert m.method == "INVITE" and m.version == "SIP/2.0"
    assert m.uri == SipUri(user="bob", host="biloxi.example.com")
    assert m.top_via.branch == "z9hG4bK776asdhds" and m.top_via.wants_rport
    assert m.top_via.port == 5060 and m.top_via.transport == "UDP"
    assert (m.from_.display_name, m.from_tag) == ("Alice", "1928301774")
    assert (m.to.display_name, m.to_tag) == ("Bob", None)
    assert m.call_id == "a84b4c76e66710@pc33.atlanta.example.com"
    assert m.cseq == CSeq(314159, "INVITE")
    assert m.max_forwards == 70
    assert m.content_type == "application/sdp"
    contacts = m.contacts
    assert contacts != "*" and contacts[0].uri.param("transport") == "udp"
    assert m.headers.get_all("Allow")[-1] == "INFO"
    assert m.body == SDP
    validate_request(m)


def test_canonical_message_serialises_byte_exact() -> None:
    assert bytes(parse_message(INVITE)) == INVITE


def test_round_trip_gives_equal_fields() -> None:
    first = parse_request(INVITE)
    second = parse_request(bytes(first))
    assert second == first
    assert (second.uri, second.cseq, second.from_, second.to, second.vias) == (
        first.uri, first.cseq, first.from_, first.to, first.vias,
    )  # fmt: skip


def test_built_request_serialises_canonically() -> None:
    request = Request(
        "OPTIONS",
        SipUri(user="100", host="192.0.2.1", port=5062),
        Headers(
            [
                ("v", "SIP/2.0/UDP 192.0.2.2:5060;branch=z9hG4bKabc"),
                ("t", "<sip:100@192.0.2.1>"),
                ("f", "<sip:pbx@192.0.2.2>;tag=x1"),
                ("i", "call-1"),
                ("CSeq", "1 OPTIONS"),
                ("Max-Forwards", "70"),
                ("Content-Length", "999"),  # always rewritten from the body
            ]
        ),
    )
    assert bytes(request) == (
        b"OPTIONS sip:100@192.0.2.1:5062 SIP/2.0\r\n"
        b"Via: SIP/2.0/UDP 192.0.2.2:5060;branch=z9hG4bKabc\r\n"
        b"To: <sip:100@192.0.2.1>\r\n"
        b"From: <sip:pbx@192.0.2.2>;tag=x1\r\n"
        b"Call-ID: call-1\r\n"
        b"CSeq: 1 OPTIONS\r\n"
        b"Max-Forwards: 70\r\n"
        b"Content-Length: 0\r\n"
        b"\r\n"
    )
    request.body = b"hello"
    assert bytes(request).endswith(b"Content-Length: 5\r\n\r\nhello")


def test_compact_forms_and_odd_spacing() -> None:
    data = (
        b"\r\n\r\n"  # CRLFs before the start line are ignored (§7.5)
        b"BYE sip:a@b.example SIP/2.0\r\n"
        b"v : SIP/2.0/TCP c.example;branch=z9hG4bK1\r\n"
        b"t:<sip:a@b.example>;tag=2\r\n"
        b"f:\t<sip:c@c.example>;tag=3\r\n"
        b"i:   x@y  \r\n"
        b"CSEQ:7 BYE\r\n"
        b"max-forwards:70\r\n"
        b"l:0\r\n"
        b"\r\n"
    )
    m = parse_request(data)
    assert [name for name, _ in m.headers] == [
        "Via", "To", "From", "Call-ID", "CSeq", "Max-Forwards", "Content-Length",
    ]  # fmt: skip
    assert m.call_id == "x@y"
    assert (m.to_tag, m.from_tag, m.cseq.number) == ("2", "3", 7)
    validate_request(m)


def test_folded_lines_are_unfolded() -> None:
    data = (
        b"OPTIONS sip:a@b.example SIP/2.0\r\n"
        b"Via: SIP/2.0/UDP c.example\r\n"
        b"  ;branch=z9hG4bK1\r\n"
        b"Subject: I know you're there,\r\n"
        b"\tpick up the phone\r\n"
        b"         and talk to me!\r\n"
        b"Content-Length: 0\r\n"
        b"\r\n"
    )
    m = parse_request(data)
    assert m.top_via.branch == "z9hG4bK1"
    assert m.headers.get("Subject") == "I know you're there, pick up the phone and talk to me!"
    assert b"\r\n\t" not in bytes(m) and b"\r\n " not in bytes(m)


def test_multi_value_headers_across_fields() -> None:
    data = (
        b"INVITE sip:a@b.example SIP/2.0\r\n"
        b"Via: SIP/2.0/UDP p1.example;branch=z9hG4bK1, SIP/2.0/UDP p2.example;branch=z9hG4bK2\r\n"
        b"Via: SIP/2.0/UDP p3.example;branch=z9hG4bK3\r\n"
        b"Record-Route: <sip:p1.example;lr>, <sip:p2.example;lr>\r\n"
        b"Route: <sip:r1.example;lr>\r\n"
        b"Route: <sip:r2.example;lr>\r\n"
        b"Content-Length: 0\r\n\r\n"
    )
    m = parse_request(data)
    assert [v.host for v in m.vias] == ["p1.example", "p2.example", "p3.example"]
    assert [r.uri.host for r in m.record_routes] == ["p1.example", "p2.example"]
    assert [r.uri.host for r in m.routes] == ["r1.example", "r2.example"]
    assert len(m.headers.get_all("Via")) == 3 and len(m.headers.values("Via")) == 2


def test_contact_wildcard() -> None:
    data = INVITE.replace(b"INVITE sip", b"REGISTER sip").replace(b"314159 INVITE", b"1 REGISTER")
    data = data.replace(b"Contact: <sip:alice@pc33.atlanta.example.com:5060;transport=udp>",
                        b"Contact: *")  # fmt: skip
    assert parse_request(data).contacts == "*"


def test_response_views() -> None:
    data = (
        b"SIP/2.0 180 Ringing\r\n"
        b"Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bKnashds8;received=192.0.2.1\r\n"
        b"To: Bob <sip:bob@biloxi.example.com>;tag=a6c85cf\r\n"
        b"From: Alice <sip:alice@atlanta.example.com>;tag=1928301774\r\n"
        b"Call-ID: a84b4c76e66710\r\n"
        b"Contact: <sip:bob@192.0.2.4>\r\n"
        b"CSeq: 314159 INVITE\r\n"
        b"Content-Length: 0\r\n\r\n"
    )
    m = parse_message(data)
    assert isinstance(m, Response)
    assert (m.status, m.reason, m.is_provisional) == (180, "Ringing", True)
    assert (m.to_tag, m.top_via.received) == ("a6c85cf", "192.0.2.1")
    validate_response(m)
    assert bytes(m) == data


# --- Datagram framing (§18.3) -------------------------------------------------------------
def test_body_is_cut_to_content_length_and_the_rest_discarded() -> None:
    m = parse_request(INVITE + b"trailing junk that is not ours")
    assert m.body == SDP


def test_without_content_length_the_body_is_the_rest_of_the_datagram() -> None:
    data = INVITE.replace(b"Content-Length: 238\r\n", b"")
    m = parse_request(data)
    assert m.body == SDP
    assert b"Content-Length: 238\r\n" in bytes(m)  # written back, and right


@pytest.mark.parametrize(
    ("change", "status", "message"),
    [
        ((b"Content-Length: 238", b"Content-Length: 239"), 400,
         "Content-Length 239 exceeds the 238 body bytes"),
        ((b"Content-Length: 238", b"Content-Length: 0x10"), 400, "malformed Content-Length '0x10'"),
        ((b"Content-Length: 238", b"Content-Length: " + b"9" * 5000), 400,
         "Content-Length 99999999999999999999... exceeds the 238 body bytes"),
        ((b"SIP/2.0\r\n", b"SIP/2.1\r\n"), 505, "unsupported SIP version 'SIP/2.1'"),
        ((b"CSeq: 314159 INVITE", b"CSeq: 314159 BYE"), 400,
         "CSeq method 'BYE' does not match request method 'INVITE'"),
        ((b"Max-Forwards: 70", b"Max-Forwards: 256"), 400, "malformed Max-Forwards '256'"),
        ((b"Call-ID: a84b", b"Call-ID: a 84b"), 400,
         "malformed Call-ID 'a 84b4c76e66710@pc33.atlanta.example.com'"),
        ((b"\r\nMax-Forwards", b"\r\nMax Forwards"), 400, "malformed header name 'Max Forwards'"),
        ((b"\r\nMax-Forwards: 70", b"\r\nMax-Forwards 70"), 400,
         "malformed header field 'Max-Forwards 70'"),
        ((b"Max-Forwards: 70", b"Max-Forwards: 7\n0"), 400, "CR or LF outside a CRLF line break"),
        ((b"\r\n\r\nv=0", b"\r\nv=0"), 400, "header section not terminated by an empty line"),
        ((b"INVITE sip:bob@", b"INVITE sip:bob@@"), 400,
         "malformed URI 'sip:bob@@biloxi.example.com'"),
    ],
)  # fmt: skip
def test_refusals(change: tuple[bytes, bytes], status: int, message: str) -> None:
    data = INVITE.replace(*change)
    assert data != INVITE
    with pytest.raises(ParseError) as caught:
        parse_message(data)
    assert (caught.value.status, str(caught.value)) == (status, message)


def test_bad_core_field_is_refused_even_when_nobody_asked_for_it() -> None:
    with pytest.raises(ParseError, match="malformed Via"):
        parse_message(INVITE.replace(b"Via: SIP/2.0/UDP", b"Via: SIP/2.0/"))
    with pytest.raises(ParseError, match="display name"):
        parse_message(INVITE.replace(b"To: Bob <", b"To: Bob, Jr <"))


def test_other_fields_fail_only_when_read() -> None:
    m = parse_request(INVITE.replace(b"Contact: <sip:alice@", b"Contact: <sip:alice@@"))
    with pytest.raises(ParseError):
        m.contacts  # noqa: B018


def test_oversize_datagram() -> None:
    data = INVITE.replace(b"\r\n\r\n", b"\r\nX-Pad: " + b"x" * MAX_MESSAGE_BYTES + b"\r\n\r\n")
    with pytest.raises(ParseError) as caught:
        parse_message(data)
    assert caught.value.status == 513


def test_too_many_header_fields() -> None:
    pad = b"X-Pad: 1\r\n" * MAX_HEADER_FIELDS
    with pytest.raises(ParseError) as caught:
        parse_message(INVITE.replace(b"\r\n\r\n", b"\r\n" + pad + b"\r\n"))
    assert (caught.value.status, str(caught.value)) == (513, "more than 256 header fields")


@pytest.mark.parametrize(
    ("data", "text"),
    [
        (b"SIP/2.0 099 Too Low\r\n\r\n", "status code 99 out of range"),
        (b"SIP/2.0 700 Too High\r\n\r\n", "status code 700 out of range"),
        (b"SIP/2.0 2000 OK\r\n\r\n", "malformed Status-Line 'SIP/2.0 2000 OK'"),
        (b"SIP/2.0 200 \x01\r\n\r\n", "malformed Status-Line 'SIP/2.0 200 \\x01'"),
    ],
)
def test_bad_status_lines(data: bytes, text: str) -> None:
    with pytest.raises(ParseError) as caught:
        parse_message(data)
    assert str(caught.value) == text


def test_non_utf8_bytes_are_kept() -> None:
    data = INVITE.replace(b"User-Agent: Grandstream", b"User-Agent: Gr\xe4ndstream")
    m = parse_request(data)
    assert bytes(m) == data


# --- Validation (§8.1.1, RFC 4475 §3.3) ---------------------------------------------------
def test_validation_sees_fields_changed_after_parsing() -> None:
    m = parse_request(INVITE)
    m.headers.set("CSeq", "1 BYE")
    with pytest.raises(ParseError, match="does not match"):
        validate_request(m)
    m.headers.set("CSeq", "1 INVITE")
    m.headers.remove("Call-ID")
    with pytest.raises(ParseError, match="missing mandatory header fields: Call-ID"):
        validate_request(m)


def test_response_validation() -> None:
    response = Response(200, "OK", Headers([("Via", "SIP/2.0/UDP h.example;branch=z9hG4bK1")]))
    with pytest.raises(ParseError) as caught:
        validate_response(response)
    assert str(caught.value) == "missing mandatory header fields: To, From, CSeq, Call-ID"


def test_missing_views_say_which_field() -> None:
    m = Request("OPTIONS", SipUri(host="a.example"))
    for view, name in (("call_id", "Call-ID"), ("cseq", "CSeq"), ("from_", "From"),
                       ("to", "To"), ("top_via", "Via")):  # fmt: skip
        with pytest.raises(ParseError, match=f"missing {name} header field"):
            getattr(m, view)
    assert (m.vias, m.max_forwards, m.content_type, m.contacts) == ([], None, None, [])


# --- make_response (§8.2.6) ---------------------------------------------------------------
PROXIED = INVITE.replace(
    b"Via: SIP/2.0/UDP pc33",
    b"Via: SIP/2.0/UDP proxy.example;branch=z9hG4bKp1, SIP/2.0/TCP edge.example;branch=z9hG4bKe\r\n"
    b"Timestamp: 54\r\n"
    b"Via: SIP/2.0/UDP pc33",
)


def test_response_copies_via_from_to_call_id_cseq() -> None:
    request = parse_request(PROXIED)
    response = make_response(request, 180, to_tag="a6c85cf")
    assert bytes(response) == (
        b"SIP/2.0 180 Ringing\r\n"
        b"Via: SIP/2.0/UDP proxy.example;branch=z9hG4bKp1, SIP/2.0/TCP edge.example;branch="
        b"z9hG4bKe\r\n"
        b"Via: SIP/2.0/UDP pc33.atlanta.example.com:5060;branch=z9hG4bK776asdhds;rport\r\n"
        b'From: "Alice" <sip:alice@atlanta.example.com>;tag=1928301774\r\n'
        b"To: Bob <sip:bob@biloxi.example.com>;tag=a6c85cf\r\n"
        b"Call-ID: a84b4c76e66710@pc33.atlanta.example.com\r\n"
        b"CSeq: 314159 INVITE\r\n"
        b"Content-Length: 0\r\n"
        b"\r\n"
    )
    assert response.to_tag == "a6c85cf" and len(response.vias) == 3


def test_trying_echoes_timestamp_and_keeps_to_without_tag() -> None:
    response = make_response(parse_request(PROXIED), 100)
    assert response.reason == "Trying"
    assert response.headers.get("Timestamp") == "54"
    assert response.to_tag is None


def test_existing_to_tag_is_kept_and_extra_headers_follow() -> None:
    data = PROXIED.replace(b"To: Bob <sip:bob@biloxi.example.com>",
                           b"To: Bob <sip:bob@biloxi.example.com>;tag=old")  # fmt: skip
    response = make_response(
        parse_request(data), 486, to_tag="new", headers=[("Retry-After", "60")]
    )
    assert response.to_tag == "old"
    assert response.reason == "Busy Here"
    assert list(response.headers)[-1] == ("Retry-After", "60")
    assert "Timestamp" not in response.headers


@pytest.mark.parametrize(
    "build",
    [
        lambda: Request("BAD METHOD", SipUri(host="a.example")),
        lambda: Request("INVITE\r\nX: y", SipUri(host="a.example")),
        lambda: Response(200, "OK\r\nX-Injected: yes"),
        lambda: Response(1000, "Huge"),
    ],
)
def test_start_lines_cannot_be_injected(build: Callable[[], object]) -> None:
    with pytest.raises(ValueError):
        build()


def test_reason_phrases() -> None:
    request = parse_request(INVITE)
    assert make_response(request, 200).reason == "OK"
    assert make_response(request, 480).reason == "Temporarily Unavailable"
    assert make_response(request, 499).reason == "Client Error"
    assert make_response(request, 603, "Go away").reason == "Go away"


def test_response_to_an_addr_spec_to_gets_a_header_tag() -> None:
    data = INVITE.replace(b"To: Bob <sip:bob@biloxi.example.com>", b"To: sip:bob@biloxi.com")
    response = make_response(parse_request(data), 200, to_tag="t1")
    assert response.headers.get("To") == "sip:bob@biloxi.com;tag=t1"
    assert response.to == NameAddr(uri=SipUri(user="bob", host="biloxi.com"),
                                   params=(("tag", "t1"),))  # fmt: skip
    again = parse_message(bytes(response))
    assert isinstance(again, Response) and again.to_tag == "t1"
