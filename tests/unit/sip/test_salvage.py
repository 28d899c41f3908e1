"""A request the parser refuses still gets an error response, when it can find its way back."""

from __future__ import annotations

from firmware.sip.message import Response, parse_message
from firmware.sip.salvage import salvage_response

BROKEN = (
    b"INVITE sip:201@pbx.local SIP/2.0\r\n"
    b"v: SIP/2.0/UDP 192.0.2.7:5062;branch=z9hG4bK776;rport\r\n"
    b"Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK1\r\n"
    b"f: <sip:101@pbx.local>;tag=abc\r\n"
    b"To: <sip:201@pbx.local>\r\n"
    b"i: call-1@192.0.2.7\r\n"
    b"CSeq: 1 INVITE\r\n"
    b"Max-Forwards: seventy\r\n"  # what made the parser refuse it
    b"Content-Length: 0\r\n\r\n"
)


def test_the_error_response_copies_what_routes_it_back() -> None:
    raw = salvage_response(BROKEN, 400, "bad Max-Forwards 'seventy'")
    assert raw is not None
    response = parse_message(raw)
    assert isinstance(response, Response)
    assert response.status == 400
    assert response.reason == "bad Max-Forwards 'seventy'"
    assert [v.branch for v in response.vias] == ["z9hG4bK776", "z9hG4bK1"]
    assert response.call_id == "call-1@192.0.2.7"
    assert response.from_tag == "abc"
    assert (response.cseq.number, response.cseq.method) == (1, "INVITE")


def test_no_answer_for_acks_responses_or_requests_missing_a_route_back() -> None:
    assert salvage_response(BROKEN.replace(b"INVITE sip", b"ACK sip", 1), 400, "x") is None
    assert salvage_response(b"SIP/2.0 200 OK\r\nVia: x\r\n\r\n", 400, "x") is None
    assert salvage_response(BROKEN.replace(b"i: call-1@192.0.2.7\r\n", b""), 400, "x") is None
    assert salvage_response(b"\x00\xff garbage", 400, "x") is None


def test_a_hostile_reason_cannot_inject_headers() -> None:
    raw = salvage_response(BROKEN, 400, "bad\r\nContact: <sip:evil@x>\r\n\x00")
    assert raw is not None
    assert b"evil" in raw.split(b"\r\n")[0]
    assert b"\r\nContact:" not in raw
