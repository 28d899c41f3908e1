"""SIP URIs: parsing per RFC 3261 §19.1/§25.1, canonical form, and §19.1.4 comparison."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from firmware.sip.errors import ParseError
from firmware.sip.uri import AbsoluteUri, SipUri, parse_uri


def test_every_component() -> None:
    uri = SipUri.parse("SIPS:alice:secret@Atlanta.Example.COM:5061;Transport=TCP;lr?subject=hi")
    assert uri == SipUri(
        scheme="sips",
        user="alice",
        password="secret",
        host="atlanta.example.com",
        port=5061,
        params=(("transport", "TCP"), ("lr", None)),
        headers=(("subject", "hi"),),
    )
    assert str(uri) == "sips:alice:secret@atlanta.example.com:5061;transport=TCP;lr?subject=hi"
    assert uri.hostport == "atlanta.example.com:5061"


@pytest.mark.parametrize(
    ("text", "host", "port"),
    [
        ("sip:192.0.2.4", "192.0.2.4", None),
        ("sip:alice@192.0.2.4:5070", "192.0.2.4", 5070),
        ("sip:[2001:DB8:0:0::1]:5060", "[2001:db8::1]", 5060),  # compressed, lower-case
        ("sip:[::1]", "[::1]", None),
        ("sip:example.com.", "example.com.", None),  # fully qualified, trailing dot
        ("sip:a-b--c.example", "a-b--c.example", None),
    ],
)
def test_hosts(text: str, host: str, port: int | None) -> None:
    uri = SipUri.parse(text)
    assert (uri.host, uri.port) == (host, port)


def test_user_may_hold_semicolons_and_question_marks() -> None:
    # user-unreserved includes ; ? / & = + $ , (RFC 4475 §3.1.1.9 "semiuri").
    uri = SipUri.parse("sip:user;par=u%40example.net@example.com")
    assert uri.user == "user;par=u@example.net"
    assert uri.params == ()
    assert str(uri) == "sip:user;par=u%40example.net@example.com"


def test_telephone_subscriber_with_password_separator() -> None:
    uri = SipUri.parse("sip:+1-212-555-1212:1234@gateway.com;user=phone")
    assert (uri.user, uri.password, uri.param("user")) == ("+1-212-555-1212", "1234", "phone")


def test_escapes_are_resolved_and_written_back_canonically() -> None:
    uri = SipUri.parse("sip:%61lice%20smith@example.com;Na%6De=v%61l%2f?h%61=%3cx%3e")
    assert uri.user == "alice smith"
    assert uri.params == (("name", "val/"),)
    assert uri.headers == (("ha", "<x>"),)
    # Only what the component's grammar forbids is escaped, with upper-case hex.
    assert str(uri) == "sip:alice%20smith@example.com;name=val/?ha=%3Cx%3E"


def test_non_utf8_escapes_survive_a_round_trip() -> None:
    uri = SipUri.parse("sip:%FF%00@example.com")
    assert str(uri) == "sip:%FF%00@example.com"
    assert SipUri.parse(str(uri)) == uri


def test_flag_parameter_reads_as_empty_string() -> None:
    uri = SipUri.parse("sip:proxy.example.com;lr;maddr=239.255.255.1")
    assert uri.param("LR") == ""
    assert uri.param("maddr") == "239.255.255.1"
    assert uri.param("transport") is None
    assert uri.has_param("lr") and not uri.has_param("ttl")


def test_convenience_copies() -> None:
    uri = SipUri.parse("sip:bob@example.com;transport=udp")
    moved = uri.with_(host="192.0.2.9", port=5062)
    assert str(moved) == "sip:bob@192.0.2.9:5062;transport=udp"
    assert str(uri) == "sip:bob@example.com;transport=udp"  # the original is untouched
    assert str(uri.with_param("transport", "tcp")) == "sip:bob@example.com;transport=tcp"
    assert str(uri.with_param("lr")) == "sip:bob@example.com;transport=udp;lr"
    assert str(uri.without_params("TRANSPORT")) == "sip:bob@example.com"


def test_empty_user_and_values_are_written_so_that_they_parse() -> None:
    uri = SipUri(user="", host="example.com", params=(("lr", ""),))
    assert str(uri) == "sip:example.com;lr"
    assert SipUri.parse(str(uri)).param("lr") == uri.param("lr") == ""


def test_uris_are_hashable_values() -> None:
    a = SipUri.parse("sip:bob@Example.com")
    b = SipUri.parse("sip:bob@example.com")
    str(a)  # the memoised text must not take part in equality or hashing
    assert a == b and hash(a) == hash(b)
    assert len({a, b}) == 1


@pytest.mark.parametrize(
    ("text", "status"),
    [
        ("tel:+15551234567", 416),  # a valid URI of another scheme
        ("http://www.example.com/", 416),
        ("<sip:user@example.com>", 400),  # RFC 4475 §3.1.2.7
        ("sip:user@example.com; lr", 400),  # RFC 4475 §3.1.2.8
        ("sip:", 400),
        ("sip:@example.com", 400),  # '@' present: the user must not be empty
        ("sip:user@", 400),
        ("sip:user@exa mple.com", 400),
        ("sip:user@example.com:99999", 400),
        ("sip:user@example.com;", 400),  # pname = 1*paramchar
        ("sip:user@example.com;lr=", 400),  # pvalue = 1*paramchar
        ("sip:user@example.com?", 400),
        ("sip:us%zzer@example.com", 400),  # escaped = "%" HEXDIG HEXDIG
        ("sip:[::1", 400),
        ("sip:[zz::1]", 400),
        ("sip:a@b@c", 400),
        ("", 400),
    ],
)
def test_refusals(text: str, status: int) -> None:
    with pytest.raises(ParseError) as caught:
        SipUri.parse(text)
    assert caught.value.status == status


def test_parse_uri_takes_any_scheme() -> None:
    assert parse_uri("tel:+15551234567;phone-context=example.com") == AbsoluteUri(
        "tel", "+15551234567;phone-context=example.com"
    )
    assert parse_uri("URN:service:sos") == AbsoluteUri("urn", "service:sos")
    assert isinstance(parse_uri("sip:a@b"), SipUri)
    with pytest.raises(ParseError):
        parse_uri("sip:a b@c")  # looks like SIP: never read as another scheme
    with pytest.raises(ParseError):
        parse_uri("no-colon-here")


# RFC 3261 §19.1.4, the examples given there.
EQUIVALENT = [
    ("sip:%61lice@atlanta.com;transport=TCP", "sip:alice@AtLanTa.CoM;Transport=tcp"),
    ("sip:carol@chicago.com", "sip:carol@chicago.com;newparam=5"),
    ("sip:carol@chicago.com", "sip:carol@chicago.com;security=on"),
    ("sip:carol@chicago.com;newparam=5", "sip:carol@chicago.com;security=on"),
    (
        "sip:biloxi.com;transport=tcp;method=REGISTER?to=sip:bob%40biloxi.com",
        "sip:biloxi.com;method=REGISTER;transport=tcp?to=sip:bob%40biloxi.com",
    ),
    (
        "sip:alice@atlanta.com?subject=project%20x&priority=urgent",
        "sip:alice@atlanta.com?priority=urgent&subject=project%20x",
    ),
]
DIFFERENT = [
    ("SIP:ALICE@AtLanTa.CoM;Transport=udp", "sip:alice@AtLanTa.CoM;Transport=UDP"),  # user
    ("sip:bob@biloxi.com", "sip:bob@biloxi.com:5060"),  # explicit default port
    ("sip:bob@biloxi.com", "sip:bob@biloxi.com;transport=udp"),  # transport
    ("sip:bob@biloxi.com", "sip:bob@biloxi.com:6000;transport=tcp"),
    ("sip:carol@chicago.com", "sip:carol@chicago.com?Subject=next%20meeting"),  # headers
    ("sip:bob@phone21.boxesbybob.com", "sip:bob@192.0.2.4"),  # no DNS in comparison
    ("sip:bob@example.com", "sips:bob@example.com"),
    ("sip:bob@example.com;user=phone", "sip:bob@example.com"),  # user, ttl, method, maddr
    ("sip:bob@example.com;maddr=192.0.2.1", "sip:bob@example.com"),
    ("sip:bob@example.com;lr", "sip:bob@example.com;lr=on"),  # in both: must agree
]


@pytest.mark.parametrize(("a", "b"), EQUIVALENT)
def test_equivalent_uris(a: str, b: str) -> None:
    assert SipUri.parse(a).matches(SipUri.parse(b))
    assert SipUri.parse(b).matches(SipUri.parse(a))


@pytest.mark.parametrize(("a", "b"), DIFFERENT)
def test_different_uris(a: str, b: str) -> None:
    assert not SipUri.parse(a).matches(SipUri.parse(b))
    assert not SipUri.parse(b).matches(SipUri.parse(a))


def test_absolute_uri_matches_itself_only() -> None:
    tel = parse_uri("tel:+15551234567")
    assert tel.matches(parse_uri("TEL:+15551234567"))
    assert not tel.matches(SipUri.parse("sip:+15551234567@example.com"))
    assert not SipUri.parse("sip:a@b").matches(tel)


_USER_TEXT = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=1)


@settings(deadline=None)
@given(
    user=_USER_TEXT,
    password=st.none() | st.text(st.characters(codec="utf-8", exclude_categories=["Cs"])),
    port=st.none() | st.integers(0, 65535),
    value=st.none() | _USER_TEXT,
    header=st.text(st.characters(codec="utf-8", exclude_categories=["Cs"])),
)
def test_any_values_survive_escaping(
    user: str, password: str | None, port: int | None, value: str | None, header: str
) -> None:
    uri = SipUri(
        user=user,
        password=password,
        host="example.com",
        port=port,
        params=(("x", value),),
        headers=(("h", header),),
    )
    again = SipUri.parse(str(uri))
    assert again == uri
    assert str(again) == str(uri)
