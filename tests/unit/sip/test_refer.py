"""REFER's wire formats: Refer-To (RFC 3515), Replaces (RFC 3891), the refer event's sipfrag."""

from __future__ import annotations

import pytest

from firmware.sip.errors import ParseError
from firmware.sip.message import Request, parse_message
from firmware.sip.refer import ReferTo, Replaces, SipFrag, notify_headers, wants_subscription
from firmware.sip.uri import AbsoluteUri, SipUri

# An attended transfer's REFER as a desk phone sends it (RFC 5589 §7.1's shape: the Replaces
# of the consultation call rides in the Refer-To URI, escaped).
RECORDED_REFER = (
    b"REFER sip:192.0.2.10:5060 SIP/2.0\r\n"
    b"Via: SIP/2.0/UDP 192.0.2.55:5062;branch=z9hG4bK-524287-1;rport\r\n"
    b"Max-Forwards: 70\r\n"
    b"From: <sip:201@pbx.example>;tag=31431\r\n"
    b"To: <sip:101@pbx.example>;tag=8aa3bc\r\n"
    b"Call-ID: first-call@192.0.2.55\r\n"
    b"CSeq: 7 REFER\r\n"
    b"Contact: <sip:201@192.0.2.55:5062>\r\n"
    b"r: <sip:102@pbx.example?Replaces=090459243588173445%40a.example%3Bto-tag%3D7553452"
    b"%3Bfrom-tag%3D31431>\r\n"
    b"Referred-By: <sip:201@pbx.example>\r\n"
    b"Content-Length: 0\r\n\r\n"
)


def recorded() -> Request:
    message = parse_message(RECORDED_REFER)
    assert isinstance(message, Request)
    return message


# --- Replaces ------------------------------------------------------------------------------


def test_replaces_names_a_dialog_by_call_id_and_both_tags() -> None:
    r = Replaces.parse("98asjd8@test.com;to-tag=12345;from-tag=54321")
    assert r == Replaces("98asjd8@test.com", "12345", "54321")
    assert str(r) == "98asjd8@test.com;to-tag=12345;from-tag=54321"


def test_replaces_parameters_come_in_any_order_with_space_and_early_only() -> None:
    r = Replaces.parse("abc ; from-tag = 2 ;early-only; to-tag=1;x=y ")
    assert (r.call_id, r.to_tag, r.from_tag, r.early_only) == ("abc", "1", "2", True)
    assert Replaces.parse(str(r)) == r


@pytest.mark.parametrize("text", [
    "",  # no Call-ID
    "abc;to-tag=1",  # both tags are mandatory (RFC 3891 §6.1)
    "abc;from-tag=2",
    "abc;to-tag;from-tag=2",  # a tag without a value
    'abc;to-tag="1";from-tag=2',  # a tag is a token, not a quoted string
    "abc;to-tag=1;from-tag=2 junk",
])
def test_malformed_replaces_is_a_400(text: str) -> None:
    with pytest.raises(ParseError) as refused:
        Replaces.parse(text)
    assert refused.value.status == 400


# --- Refer-To -----------------------------------------------------------------------------


def test_a_blind_refer_to_is_a_uri_and_nothing_more() -> None:
    target = ReferTo.parse("<sip:103@pbx.example>")
    assert target.uri == SipUri(user="103", host="pbx.example")
    assert target.replaces is None
    assert ReferTo.parse("sip:103@pbx.example;user=phone").uri.user == "103"  # addr-spec form


def test_an_attended_refer_to_carries_the_replaces_as_a_uri_header() -> None:
    request = recorded()
    target = ReferTo.of(request)  # the compact form `r` is Refer-To
    assert target.uri == SipUri(user="102", host="pbx.example")  # the header is taken off
    assert target.replaces == Replaces("090459243588173445@a.example", "7553452", "31431")
    assert request.cseq.number == 7


def test_refer_to_round_trips_with_the_replaces_escaped() -> None:
    target = ReferTo(SipUri(user="102", host="127.0.0.1", port=5060),
                     Replaces("a1@h", "box-tag", "phone-tag"))
    text = str(target)
    assert text == ("<sip:102@127.0.0.1:5060?Replaces=a1%40h%3Bto-tag%3Dbox-tag"
                    "%3Bfrom-tag%3Dphone-tag>")
    assert ReferTo.parse(text) == target


def test_refer_to_of_another_scheme_is_read_but_not_a_sip_uri() -> None:
    target = ReferTo.parse("<tel:+15125550100>")
    assert target.uri == AbsoluteUri("tel", "+15125550100")


@pytest.mark.parametrize("text", [
    "<sip:103@",  # unterminated
    "sip:103@pbx.example?Replaces=x",  # a URI with '?' must be in <> (RFC 3261 §20)
    "<sip:102@h?Replaces=a%3Bto-tag%3D1>",  # the Replaces lacks its from-tag
    "<sip:102@h?Replaces=a%3Bto-tag%3D1%3Bfrom-tag%3D2&Replaces=b%3Bto-tag%3D1%3Bfrom-tag%3D2>",
])
def test_malformed_refer_to_is_a_400(text: str) -> None:
    with pytest.raises(ParseError) as refused:
        ReferTo.parse(text)
    assert refused.value.status == 400


@pytest.mark.parametrize("count", [0, 2])
def test_a_refer_needs_exactly_one_refer_to(count: int) -> None:
    head, _, tail = RECORDED_REFER.partition(b"r: ")
    field = b"Refer-To: <sip:103@pbx.example>\r\n"
    data = head + field * count + tail.partition(b"\r\n")[2]
    request = parse_message(data)
    assert isinstance(request, Request)
    with pytest.raises(ParseError):
        ReferTo.of(request)


# --- the refer event ----------------------------------------------------------------------


def test_a_sipfrag_is_a_status_line() -> None:
    assert bytes(SipFrag(100, "Trying")) == b"SIP/2.0 100 Trying\r\n"
    assert SipFrag.parse(b"SIP/2.0 200 OK\r\n") == SipFrag(200, "OK")
    # A sipfrag may go on with header fields (RFC 3420); only its status line matters here.
    assert SipFrag.parse(b"SIP/2.0 603 Declined\r\nContent-Length: 0\r\n") == \
        SipFrag(603, "Declined")
    assert SipFrag.parse(b"SIP/2.0 180 Ringing") == SipFrag(180, "Ringing")


@pytest.mark.parametrize("body", [b"", b"OK", b"SIP/2.0 2000 OK\r\n", b"INVITE sip:a@b SIP/2.0"])
def test_a_body_without_a_status_line_is_no_sipfrag(body: bytes) -> None:
    with pytest.raises(ParseError):
        SipFrag.parse(body)


def test_notify_headers_name_the_refer_and_end_the_subscription_at_the_last() -> None:
    request = recorded()
    assert notify_headers(request, final=False) == [
        ("Event", "refer;id=7"), ("Subscription-State", "active;expires=60")]
    assert notify_headers(request, final=True) == [
        ("Event", "refer;id=7"), ("Subscription-State", "terminated;reason=noresource")]


def test_refer_sub_false_asks_for_no_subscription() -> None:
    request = recorded()
    assert wants_subscription(request)
    request.headers.add("Refer-Sub", "false")
    assert not wants_subscription(request)
    request.headers.set("Refer-Sub", "true")
    assert wants_subscription(request)
