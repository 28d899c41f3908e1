"""Header fields: the case-insensitive multi-map and the typed views (RFC 3261 §7.3, §20)."""

from __future__ import annotations

import pytest

from firmware.sip.errors import ParseError
from firmware.sip.headers import (
    AuthHeader,
    CSeq,
    Headers,
    NameAddr,
    Via,
    canonical_name,
    header_key,
    split_list,
)
from firmware.sip.uri import AbsoluteUri, SipUri


# --- Names --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("compact", "full"),
    [
        ("i", "Call-ID"), ("m", "Contact"), ("e", "Content-Encoding"), ("l", "Content-Length"),
        ("c", "Content-Type"), ("f", "From"), ("s", "Subject"), ("k", "Supported"),
        ("t", "To"), ("v", "Via"), ("o", "Event"), ("u", "Allow-Events"), ("r", "Refer-To"),
        ("b", "Referred-By"), ("x", "Session-Expires"), ("y", "Identity"),
    ],
)  # fmt: skip
def test_compact_forms_become_full_names(compact: str, full: str) -> None:
    for spelling in (compact, compact.upper()):
        assert canonical_name(spelling) == full
        assert header_key(spelling) == full.lower()
    headers = Headers([(compact, "x")])
    assert list(headers) == [(full, "x")]
    assert headers.get(full.upper()) == "x"


def test_names_are_case_insensitive_and_keep_a_canonical_spelling() -> None:
    headers = Headers([("cALL-iD", "abc"), ("X-Custom-Thing", "1"), ("x-custom-thing", "2")])
    assert list(headers) == [("Call-ID", "abc"), ("X-Custom-Thing", "1"), ("x-custom-thing", "2")]
    assert headers.get("call-id") == headers.get("i") == "abc"
    assert headers.get_all("X-CUSTOM-THING") == ["1", "2"]
    assert "CALL-ID" in headers and "Via" not in headers
    assert headers.count("x-custom-thing") == 2


def test_add_set_remove_keep_order() -> None:
    headers = Headers([("Via", "a"), ("To", "t"), ("Via", "b"), ("From", "f")])
    headers.set("v", "c")  # replaces both Vias, at the place of the first
    assert list(headers) == [("Via", "c"), ("To", "t"), ("From", "f")]
    headers.add("Via", "d")
    assert headers.values("Via") == ["c", "d"]
    headers.remove("VIA")
    assert list(headers) == [("To", "t"), ("From", "f")]
    headers.set("Subject", "  hello  ")
    assert list(headers)[-1] == ("Subject", "hello")
    assert len(headers) == 3


@pytest.mark.parametrize(
    ("name", "value"),
    [("Bad Name", "x"), ("", "x"), ("To:", "x"), ("X", "a\r\nInjected: yes"), ("X", "a\nb")],
)
def test_header_injection_is_a_programming_error(name: str, value: str) -> None:
    with pytest.raises(ValueError):
        Headers().add(name, value)


def test_list_headers_split_outside_quotes_and_brackets() -> None:
    headers = Headers(
        [
            ("Contact", '"Doe, John" <sip:j@a.example;x=1,2>, <sip:k@b.example>'),
            ("m", "sip:l@c.example"),
            ("Allow", "INVITE,ACK , BYE,"),
            ("Date", "Sat, 13 Nov 2010 23:29:00 GMT"),
            ("Authorization", 'Digest username="a", realm="b"'),
        ]
    )
    assert headers.get_all("Contact") == [
        '"Doe, John" <sip:j@a.example;x=1,2>',
        "<sip:k@b.example>",
        "sip:l@c.example",
    ]
    assert headers.get("Contact") == '"Doe, John" <sip:j@a.example;x=1,2>, <sip:k@b.example>'
    assert headers.get_all("Allow") == ["INVITE", "ACK", "BYE"]
    assert headers.get_all("Date") == ["Sat, 13 Nov 2010 23:29:00 GMT"]  # not a list
    assert headers.get_all("Authorization") == ['Digest username="a", realm="b"']


def test_split_list_refuses_unbalanced_quotes() -> None:
    assert split_list('"a\\", b", c') == ['"a\\", b"', "c"]
    assert split_list("a,,b", keep_empty=True) == ["a", "", "b"]
    with pytest.raises(ParseError):
        split_list('"unterminated, x')
    with pytest.raises(ParseError):
        split_list("<sip:unterminated, x")


def test_parsed_views_are_memoised_until_the_field_changes() -> None:
    calls = []

    def count(values: list[str]) -> list[str]:
        calls.append(values)
        return values

    headers = Headers([("To", "a"), ("From", "b")])
    assert headers.parsed("to", count) == ["a"]
    assert headers.parsed("t", count) == ["a"]
    assert len(calls) == 1
    headers.set("From", "c")  # another field: the memo of To stays
    assert headers.parsed("To", count) == ["a"] and len(calls) == 1
    headers.set("To", "z")
    assert headers.parsed("To", count) == ["z"] and len(calls) == 2
    copy = headers.copy()
    copy.add("To", "y")
    assert headers.parsed("To", count) == ["z"]  # the copy's change is its own
    assert copy.parsed("To", count) == ["z", "y"]
    assert copy != headers and copy.copy() == copy


# --- Via ----------------------------------------------------------------------------------
def test_via_fields_and_rport() -> None:
    via = Via.parse("SIP/2.0/udp PC33.Example.com:5060;branch=z9hG4bK776;rport;received=[::1]")
    assert (via.protocol, via.transport, via.host, via.port) == (
        "SIP/2.0", "UDP", "pc33.example.com", 5060,
    )  # fmt: skip
    assert via.branch == "z9hG4bK776"
    assert via.wants_rport and via.rport is None
    assert via.received == "[::1]"
    answered = via.with_param("received", "192.0.2.7").with_param("rport", "4000")
    assert answered.rport == 4000 and answered.received == "192.0.2.7"
    assert str(answered) == (
        "SIP/2.0/UDP pc33.example.com:5060;branch=z9hG4bK776;received=192.0.2.7;rport=4000"
    )
    assert Via.parse(str(answered)) == answered


def test_via_with_whitespace_everywhere_the_grammar_allows() -> None:
    via = Via.parse("SIP / 2.0 / TCP   host.example.com : 5061 ; branch = z9hG4bKx ; ttl=16")
    assert (via.transport, via.host, via.port, via.branch, via.ttl) == (
        "TCP", "host.example.com", 5061, "z9hG4bKx", 16,
    )  # fmt: skip


def test_via_numbers_that_are_not_numbers() -> None:
    via = Via.parse('SIP/2.0/UDP h.example;rport="\u00b2";ttl=999;maddr=224.0.1.75')
    assert (via.rport, via.ttl, via.maddr) == (None, None, "224.0.1.75")
    assert via.wants_rport


def test_via_list_and_bare_ipv6_received() -> None:
    vias = Via.parse_list(["SIP/2.0/UDP a.example;received=2001:db8::9, SIP/2.0/TLS b.example"])
    assert [(v.host, v.received) for v in vias] == [
        ("a.example", "2001:db8::9"),
        ("b.example", None),
    ]
    assert vias[0].maddr is None


@pytest.mark.parametrize(
    "text",
    [
        "SIP/2.0/UDP",  # no sent-by
        "SIP/2.0 UDP host",
        "SIP/2.0/UDP host;;",  # RFC 4475 §3.1.2.1
        "SIP/2.0/UDP host;branch=",
        "SIP/2.0/UDP host:70000",
        "SIP/2.0/UDP host junk",
    ],
)
def test_bad_vias(text: str) -> None:
    with pytest.raises(ParseError):
        Via.parse(text)
    with pytest.raises(ParseError):
        Via.parse_list([f"SIP/2.0/UDP ok.example, {text}"])


def test_empty_via_list_item_is_refused() -> None:
    with pytest.raises(ParseError):
        Via.parse_list(["SIP/2.0/UDP a.example,,SIP/2.0/UDP b.example"])


# --- name-addr / addr-spec ----------------------------------------------------------------
def test_name_addr_forms() -> None:
    quoted = NameAddr.parse('"A. G. Bell" <sip:agb@bell-telephone.com> ;tag=a48s')
    assert (quoted.display_name, quoted.tag) == ("A. G. Bell", "a48s")
    tokens = NameAddr.parse("Anonymous   User <sip:c8oqz84zk7z@privacy.org>;tag=hyh8")
    assert tokens.display_name == "Anonymous   User"
    bare = NameAddr.parse("<sip:bob@biloxi.com>")
    assert bare.display_name is None and bare.params == ()
    spec = NameAddr.parse("sip:+12125551212@phone2net.com;tag=887s;user=phone")
    assert spec.uri == SipUri(user="+12125551212", host="phone2net.com")  # §20.10
    assert spec.params == (("tag", "887s"), ("user", "phone"))
    assert NameAddr.parse("tel:+15551234").uri == AbsoluteUri("tel", "+15551234")


def test_name_addr_renders_in_name_addr_form() -> None:
    spec = NameAddr.parse("sip:a@b.example;tag=1")
    assert str(spec) == "<sip:a@b.example>;tag=1"
    named = NameAddr(uri=SipUri(host="b.example"), display_name='Say "hi" \\ bye')
    assert str(named) == '"Say \\"hi\\" \\\\ bye" <sip:b.example>'
    assert NameAddr.parse(str(named)) == named
    assert str(named.with_tag("x9")) == '"Say \\"hi\\" \\\\ bye" <sip:b.example>;tag=x9'


def test_contact_params_keep_quoted_values() -> None:
    contact = NameAddr.parse(
        '<sip:alice@192.0.2.4>;+sip.instance="<urn:uuid:00000000-0000-1000-8000-000A95A0E128>"'
        ";expires=3600;q=0.7"
    )
    assert contact.param("+sip.instance") == "<urn:uuid:00000000-0000-1000-8000-000A95A0E128>"
    assert contact.param("EXPIRES") == "3600" and contact.param("q") == "0.7"
    assert str(contact).endswith('+sip.instance="<urn:uuid:00000000-0000-1000-8000-000A95A0E128>"'
                                 ";expires=3600;q=0.7")  # fmt: skip


def test_set_parameters_are_quoted_when_they_must_be() -> None:
    contact = NameAddr.parse("<sip:a@b.example>")
    tricky = contact.with_param("note", 'x;y="z", w').with_param("expires", "60")
    assert str(tricky) == '<sip:a@b.example>;note="x;y=\\"z\\", w";expires=60'
    assert tricky.param("note") == 'x;y="z", w'
    assert NameAddr.parse(str(tricky)) == tricky
    with pytest.raises(ValueError):
        contact.with_param("bad name", "1")
    via = Via.parse("SIP/2.0/UDP h.example").with_param("received", "2001:db8::1")
    assert str(via) == "SIP/2.0/UDP h.example;received=2001:db8::1"


def test_contact_list() -> None:
    contacts = NameAddr.parse_list(['"Mr. Watson" <sip:watson@worcester.bell.com>;q=0.7, '
                                    "<mailto:watson@bell.com>;q=0.1"])  # fmt: skip
    assert [c.param("q") for c in contacts] == ["0.7", "0.1"]
    assert contacts[1].uri == AbsoluteUri("mailto", "watson@bell.com")


@pytest.mark.parametrize(
    "text",
    [
        '"Mr. J. User <sip:j.user@example.com>',  # RFC 4475 §3.1.2.6
        "Bell, Alexander <sip:a.g.bell@example.com>;tag=43",  # RFC 4475 §3.1.2.15
        "sip:user@example.com?Route=%3Csip:sip.example.com%3E",  # RFC 4475 §3.1.2.13
        '"Joe" <sip:joe@example.org>;;;;',  # RFC 4475 §3.1.2.1
        "<sip:joe@example.org",
        "<sip:joe@example.org>junk",
        "<>",
        "",
        "   ",
    ],
)
def test_bad_addresses(text: str) -> None:
    with pytest.raises(ParseError):
        NameAddr.parse(text)


# --- CSeq ---------------------------------------------------------------------------------
def test_cseq() -> None:
    assert CSeq.parse("0009   INVITE") == CSeq(9, "INVITE")
    assert CSeq.parse(" 2147483647 BYE ") == CSeq(2**31 - 1, "BYE")
    assert str(CSeq(101, "ACK")) == "101 ACK"
    for bad in ("2147483648 INVITE", "1 ", "INVITE", "-1 INVITE", "1 IN VITE", "9" * 5000 + " A"):
        with pytest.raises(ParseError):
            CSeq.parse(bad)


# --- Authentication -----------------------------------------------------------------------
def test_digest_credentials_round_trip() -> None:
    text = (
        'Digest username="bob", realm="biloxi.com", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093",'
        ' uri="sip:bob@biloxi.com", qop=auth, nc=00000001, cnonce="0a4f113b",'
        ' response="6629fae49393a05397450978507c4ef1", opaque="5ccc069c403ebaf9f0171e9517f40e41",'
        " algorithm=MD5"
    )
    auth = AuthHeader.parse(text)
    assert auth.scheme == "Digest"
    assert auth.param("URI") == "sip:bob@biloxi.com"
    assert auth.param("nc") == "00000001" and auth.param("qop") == "auth"
    assert str(auth) == text  # the wire form of each value (token or quoted) is kept
    assert AuthHeader.parse(str(auth)) == auth


def test_challenge_quotes_qop() -> None:
    challenge = AuthHeader.challenge(
        "Digest", {"realm": "pbx", "nonce": "abc", "qop": "auth", "algorithm": "SHA-256"}
    )
    assert str(challenge) == 'Digest realm="pbx", nonce="abc", qop="auth", algorithm=SHA-256'
    credentials = AuthHeader.credentials("Digest", {"username": 'a"b', "qop": "auth"})
    assert str(credentials) == 'Digest username="a\\"b", qop=auth'
    assert AuthHeader.parse(str(credentials)).param("username") == 'a"b'


@pytest.mark.parametrize(
    "text", ["", "Digest realm", 'Digest realm="x",', 'Digest realm="x" nonce="y"', "Digest =x"]
)
def test_bad_auth_headers(text: str) -> None:
    with pytest.raises(ParseError):
        AuthHeader.parse(text)
