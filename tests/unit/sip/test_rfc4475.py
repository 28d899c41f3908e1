"""RFC 4475 torture messages: every file, with the behaviour the RFC asks of a parser.

§3.1.1 messages are valid: they parse, and the values each section points out come out
right. §3.1.2 messages are invalid: `parse_message` refuses them with the status the RFC
expects, except three the RFC lets an element accept (documented below with what we do).
§3.2-§3.4 messages are for upper layers: they parse, and `validate_request` or the view an
upper layer would use gives the answer the RFC names.
"""

from __future__ import annotations

import pytest

from firmware.sip.errors import FramingError, ParseError
from firmware.sip.headers import AuthHeader, NameAddr
from firmware.sip.message import (
    Request,
    Response,
    StreamParser,
    parse_message,
    validate_request,
    validate_response,
)
from firmware.sip.uri import AbsoluteUri, SipUri

from .corpus import RFC4475, exercise, torture, torture_names


def request(name: str) -> Request:
    message = parse_message(torture(name))
    assert isinstance(message, Request)
    return message


def response(name: str) -> Response:
    message = parse_message(torture(name))
    assert isinstance(message, Response)
    return message


def body_of(name: str) -> bytes:
    return torture(name).partition(b"\r\n\r\n")[2]


SDP_150 = (
    b"v=0\r\no=mhandley 29739 7272939 IN IP4 192.0.2.3\r\ns=-\r\nc=IN IP4 192.0.2.4\r\n"
    b"t=0 0\r\nm=audio 49217 RTP/AVP 0 12\r\nm=video 3227 RTP/AVP 31\r\na=rtpmap:31 LPC\r\n"
)


# --- The corpus itself --------------------------------------------------------------------
def test_corpus_is_the_shared_copy_byte_for_byte() -> None:
    shared = RFC4475.parents[2].parent / "shared" / "testdata" / "rfc4475"
    if not shared.is_dir():
        pytest.skip(f"no shared test data at {shared}")
    names = sorted(p.name for p in shared.iterdir())
    assert names == sorted(p.name for p in RFC4475.iterdir())
    for name in names:
        assert (RFC4475 / name).read_bytes() == (shared / name).read_bytes(), name


def test_every_file_has_a_test_here() -> None:
    assert set(torture_names()) == set(VALID) | set(INVALID) | set(ACCEPTED) | set(UPPER)


@pytest.mark.parametrize("name", torture_names())
def test_nothing_but_parse_error_escapes(name: str) -> None:
    try:
        message = parse_message(torture(name))
    except ParseError:
        return
    exercise(message)
    again = parse_message(bytes(message))  # whatever we accept, we write back readable
    assert bytes(again) == bytes(message)
    assert again.body == message.body


# --- §3.1.1 valid messages ----------------------------------------------------------------
def check_wsinv() -> None:  # 3.1.1.1 A short tortuous INVITE
    m = request("wsinv")
    assert m.method == "INVITE"
    assert str(m.uri) == "sip:vivekg@chair-dnrc.example.com;unknownparam"
    assert m.uri.param("unknownparam") == ""  # flag parameter
    assert m.to.uri == SipUri(user="vivekg", host="chair-dnrc.example.com")
    assert m.to_tag == "1918181833n"  # "TO :\r\n sip:... ;   tag    = 1918181833n"
    assert m.from_.display_name == 'J Rosenberg \\"'  # quoted-pairs \\ and \" resolved
    assert m.from_tag == "98asjd8"  # the tag is on a continuation line
    assert m.max_forwards == 68  # "0068"
    assert (m.cseq.number, m.cseq.method) == (9, "INVITE")  # "0009\r\n  INVITE"
    assert m.call_id == "wsinv.ndaksdj@192.0.2.1"
    assert [(v.transport, v.host, v.branch) for v in m.vias] == [
        ("UDP", "192.0.2.2", "390skdjuw"),  # "SIP  /   2.0\r\n /UDP\r\n    192.0.2.2"
        ("TCP", "spindle.example.com", "z9hG4bK9ikj8"),  # two via-parms in one field
        ("UDP", "192.168.255.111", "z9hG4bK30239"),  # "branch=\r\n z9hG4bK30239"
    ]
    assert all(v.protocol == "SIP/2.0" for v in m.vias)
    assert m.headers.get("Subject") == ""  # "s :" with no value
    assert m.headers.get("NewFangledHeader") == "newfangled value continued newfangled value"
    assert m.headers.get("UnknownHeaderWithUnusualValue") == ";;,,;;,;"
    (route,) = m.routes
    assert route.uri.params == (("lr", None), ("unknownwith", "value"), ("unknown-no-value", None))
    (contact,) = m.contacts  # compact form "m:"
    assert contact.display_name == 'Quoted string ""'
    assert contact.params == (("newparam", "newvalue"), ("secondparam", None), ("q", "0.33"))
    assert m.content_type == "application/sdp"
    assert m.body == SDP_150


def check_intmeth() -> None:  # 3.1.1.2 Wide range of valid characters
    m = request("intmeth")
    method = "!interesting-Method0123456789_*+`.%indeed'~"
    assert m.method == method and m.cseq.method == method and m.cseq.number == 139122385
    assert isinstance(m.uri, SipUri)
    assert m.uri.user == "1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*"
    assert m.uri.password == "&it+has=1,weird!*pas$wo~d_too.(doesn't-it)"
    assert m.uri.host == "example.com"
    assert m.top_via.branch == "z9hG4bK-.!%66*_+`'~"
    assert m.to.display_name == "BEL:\x07 NUL:\x00 DEL:\x7f"  # quoted-pairs of CTLs
    assert NameAddr.parse(str(m.to)) == m.to  # and written back as quoted-pairs
    assert m.to.uri.user == "1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*"
    assert m.from_.display_name == "token1~` token2'+_ token3*%!.-"  # tokens, not quoted
    assert m.from_.param("fromParam''~+*_!.-%") == "работающий"
    assert m.from_tag == "_token~1'+`*%!-."
    assert m.call_id == "intmeth.word%ZK-!.*_+'@word`~)(><:\\/\"][?}{"
    assert m.max_forwards == 255
    value = m.headers.get("extensionHeader-!.%*+_`'~")
    assert value is not None
    assert value.encode() == b"\xef\xbb\xbf\xe5\xa4\xa7\xe5\x81\x9c\xe9\x9b\xbb"


def check_esc01() -> None:  # 3.1.1.3 Valid use of the % escaping mechanism
    m = request("esc01")
    assert isinstance(m.uri, SipUri)
    assert m.uri.user == "sips:user@example.com" and m.uri.host == "example.net"
    assert str(m.uri) == "sip:sips%3Auser%40example.com@example.net"
    assert m.to.uri.user == "user"  # sip:%75se%72@example.com
    assert m.to.uri.matches(SipUri.parse("sip:user@example.com"))
    assert m.from_.uri.user == "I have spaces"
    assert m.call_id == "esc01.239409asdfakjkn23onasd0-3234"  # compact "i:"
    assert m.content_type == "application/sdp"  # compact "C:" (upper case)
    (contact,) = m.contacts
    assert contact.uri.user == "caller"  # cal%6Cer
    assert contact.uri.params == (("lr", None), ("name", "value%41"))  # %6C%72; n%61me=...%25%34%31


def check_escnull() -> None:  # 3.1.1.4 Escaped nulls in URIs
    m = request("escnull")
    assert m.to.uri.user == "null-\x00-null"
    assert m.from_.uri.user == "null-\x00-null"
    assert [c.uri.user for c in m.contacts] == ["\x00", "\x00\x00"]  # two Contact fields
    assert m.body == b""  # "L:0"


def check_esc02() -> None:  # 3.1.1.5 Use of % when it is not an escape
    m = request("esc02")
    assert m.method == "RE%47IST%45R" != "REGISTER"  # % is a token character
    assert m.cseq.method == "RE%47IST%45R"
    assert m.to.display_name == "%Z%45"  # no escapes inside a quoted string
    assert m.top_via.branch == "z9hG4bK209%fzsnel234"
    assert [c.uri.host for c in m.contacts] == ["host1.example.com", "host3.example.com"]
    assert m.headers.get("C%6Fntact") == "<sip:alias2@host2.example.com>"  # not a Contact


def check_lwsdisp() -> None:  # 3.1.1.6 Message with no LWS between display name and <
    m = request("lwsdisp")
    assert m.from_.display_name == "caller"
    assert m.from_.uri == SipUri(user="caller", host="example.com")
    assert m.from_tag == "323"


def check_longreq() -> None:  # 3.1.1.7 Long values in header fields
    m = request("longreq")
    extreme = "extreme" * 10
    assert m.to.display_name == f"I have a user name of {extreme} proportion"
    assert isinstance(m.to.uri, SipUri) and m.to.uri.port == 6000
    assert m.to.uri.param("unknownparam1") == "very" + "long" * 20 + "value"
    assert m.to.uri.param("longparam" + "name" * 25) == "shortvalue"
    assert m.to.uri.param("very" + "long" * 25 + "ParameterNameWithNoValue") == ""
    caller = "amazinglylongcallername" * 5
    assert m.from_.uri.user == caller
    assert m.from_tag == "1" + "298" * 50 + "2424"
    assert m.from_.param("unknownheaderparam" + "name" * 20) == (
        "unknowheaderparam" + "value" * 15
    )
    assert m.from_.param("unknownValueless" + "paramname" * 10) == ""
    assert m.call_id == "longreq.one" + "really" * 20 + "longcallid"
    name = "Unknown-" + "Long" * 20 + "-Name"
    assert m.headers.get(name.upper()) == m.headers.get(name.lower()) is not None
    assert len(m.vias) == 34  # Via, v, V, ViA, "V :", "v  :" ... all one header
    assert [v.host for v in m.vias[:3]] == [f"sip{n}.example.com" for n in (33, 32, 31)]
    last = m.vias[-1]
    assert last.received == "192.0.2.5"
    assert last.branch == "very" + "long" * 50 + "branchvalue"
    (contact,) = m.contacts
    assert contact.uri.user == caller and contact.uri.host == "host5.example.net"
    assert len(m.body) == 150


def check_dblreq() -> None:  # 3.1.1.8 Extra trailing octets in a UDP datagram
    m = request("dblreq")
    assert m.method == "REGISTER"
    assert m.body == b""  # Content-Length: 0; the INVITE after it is discarded (§18.3)
    assert m.call_id == "dblreq.0ha0isndaksdj99sdfafnl3lk233412"  # compact "I:"
    assert (m.cseq.number, m.cseq.method) == (8, "REGISTER")


def check_semiuri() -> None:  # 3.1.1.9 Semicolon-separated parameters in URI user part
    m = request("semiuri")
    assert isinstance(m.uri, SipUri)
    assert m.uri.user == "user;par=u@example.net"
    assert m.uri.host == "example.com" and m.uri.params == ()
    assert m.headers.get_all("Accept") == [
        "application/sdp", "application/pkcs7-mime", "multipart/mixed",
        "multipart/signed", "message/sip", "message/sipfrag",
    ]  # fmt: skip


def check_transports() -> None:  # 3.1.1.10 Varied and unknown transport types
    m = request("transports")
    assert [v.transport for v in m.vias] == ["UDP", "SCTP", "TLS", "UNKNOWN", "TCP"]
    assert [v.host for v in m.vias] == [f"t{n}.example.com" for n in range(1, 6)]


def check_mpart01() -> None:  # 3.1.1.11 Multipart MIME message
    m = request("mpart01")
    assert m.method == "MESSAGE"
    assert len(m.body) == 553
    assert m.body == body_of("mpart01")  # binary, CR LF and all, untouched
    assert m.body.startswith(b"--7a9cbec02ceef655\r\n")
    assert m.body.endswith(b"--7a9cbec02ceef655--\r\n")
    assert m.content_type == "multipart/mixed"
    assert m.headers.get("Content-Type") == "multipart/mixed;boundary=7a9cbec02ceef655"
    assert m.top_via.wants_rport and m.top_via.rport is None


def check_unreason() -> None:  # 3.1.1.12 Unusual reason phrase
    m = response("unreason")
    assert m.status == 200
    assert m.reason == "= 2**3 * 5**2 но сто девяносто девять - простое"
    assert bytes(m).startswith("SIP/2.0 200 = 2**3 * 5**2 но сто".encode())


def check_noreason() -> None:  # 3.1.1.13 Empty reason phrase
    m = response("noreason")
    assert (m.status, m.reason) == (100, "")
    assert bytes(m).startswith(b"SIP/2.0 100 \r\n")  # the SP before the empty phrase stays


VALID = {
    "wsinv": check_wsinv,
    "intmeth": check_intmeth,
    "esc01": check_esc01,
    "escnull": check_escnull,
    "esc02": check_esc02,
    "lwsdisp": check_lwsdisp,
    "longreq": check_longreq,
    "dblreq": check_dblreq,
    "semiuri": check_semiuri,
    "transports": check_transports,
    "mpart01": check_mpart01,
    "unreason": check_unreason,
    "noreason": check_noreason,
}


@pytest.mark.parametrize("name", sorted(VALID))
def test_valid_message(name: str) -> None:
    VALID[name]()
    message = parse_message(torture(name))
    if isinstance(message, Request):
        validate_request(message, uri_schemes=("sip",))
    else:
        validate_response(message)


# --- §3.1.2 invalid messages --------------------------------------------------------------
QUOTBAL = "unterminated quoted display name in '\"Mr. J. User <sip:j.user@example.com>'"
BADDN = (
    "display name is neither tokens nor quoted in 'Bell, Alexander <sip:a.g.bell@example.com>;"
    "tag=43'"
)
BIGCODE = "malformed Status-Line 'SIP/2.0 4294967301 better not break the receiver'"
INVALID = {  # name: (status, message)
    "badinv01": (400, "malformed parameters in Via ';;'"),  # 3.1.2.1 extra ; and ,
    "clerr": (400, "Content-Length 9999 exceeds the 154 body bytes"),  # 3.1.2.2
    "ncl": (400, "malformed Content-Length '-999'"),  # 3.1.2.3
    "scalar02": (400, "CSeq number out of range '36893488147419103232'"),  # 3.1.2.4
    "scalarlg": (400, "CSeq number out of range '9292394834772304023312'"),  # 3.1.2.5 (drop)
    "quotbal": (400, QUOTBAL),  # 3.1.2.6
    "ltgtruri": (400, "malformed URI '<sip:user@example.com>'"),  # 3.1.2.7
    "lwsruri": (400, "malformed Request-Line 'INVITE sip:user@example.com; lr SIP/2.0'"),
    "lwsstart": (400, "malformed Request-Line 'INVITE  sip:user@example.com  SIP/2.0'"),
    "trws": (400, "malformed Request-Line 'OPTIONS sip:remote-target@example.com SIP/2.0  '"),
    "escruri": (400, "Request-URI must not contain headers"),  # 3.1.2.11
    "baddn": (400, BADDN),  # 3.1.2.15
    "badvers": (505, "unsupported SIP version 'SIP/7.0'"),  # 3.1.2.16
    "mismatch01": (400, "CSeq method 'INVITE' does not match request method 'OPTIONS'"),
    "mismatch02": (501, "CSeq method 'INVITE' does not match request method 'NEWMETHOD'"),
    "bigcode": (400, BIGCODE),  # 3.1.2.19: a response, so the shell drops it
}


@pytest.mark.parametrize("name", sorted(INVALID))
def test_invalid_message_is_refused_with_the_status_the_rfc_expects(name: str) -> None:
    status, text = INVALID[name]
    with pytest.raises(ParseError) as caught:
        parse_message(torture(name))
    assert (caught.value.status, str(caught.value)) == (status, text)


# 3.1.2.12-14: the RFC allows an element to be liberal. What we do:
def check_baddate() -> None:
    """3.1.2.12 non-GMT Date: nothing below the application reads Date, so the request
    parses and is valid; the raw value stays available to whoever cares."""
    m = request("baddate")
    validate_request(m)
    assert m.headers.get("Date") == "Fri, 01 Jan 2010 16:00:00 EST"


def check_regbadct() -> None:
    """3.1.2.13 Contact addr-spec with '?' outside <>: Contact is parsed on demand, so the
    message parses; the registrar's read of `contacts` raises ParseError(400) and it answers
    400 (inferring the brackets is not possible in general)."""
    m = request("regbadct")
    validate_request(m)
    with pytest.raises(ParseError) as caught:
        m.contacts  # noqa: B018
    assert caught.value.status == 400
    assert "must be enclosed in <>" in str(caught.value)


def check_badaspec() -> None:
    """3.1.2.14 SP inside <...> of To: unambiguous, so ignored; the request is valid and a
    response copies the To field verbatim anyway (§8.2.6.2)."""
    m = request("badaspec")
    validate_request(m)
    assert m.to.uri == SipUri(user="t.watson", host="example.org")
    assert m.to.display_name == "Watson, Thomas"
    assert m.headers.get("To") == '"Watson, Thomas" < sip:t.watson@example.org >'


ACCEPTED = {"baddate": check_baddate, "regbadct": check_regbadct, "badaspec": check_badaspec}


@pytest.mark.parametrize("name", sorted(ACCEPTED))
def test_liberal_choice(name: str) -> None:
    ACCEPTED[name]()


# --- §3.2-§3.4: for the transaction layer, the application, backward compatibility ------
def check_badbranch() -> None:  # 3.2.1 the magic cookie and nothing else
    m = request("badbranch")
    validate_request(m)
    assert m.top_via.branch == "z9hG4bK"


def check_insuf() -> None:  # 3.3.1 missing required header fields -> 400
    m = request("insuf")
    with pytest.raises(ParseError) as caught:
        validate_request(m)
    assert (caught.value.status, str(caught.value)) == (
        400,
        "missing mandatory header fields: To, From, Call-ID, Max-Forwards",
    )


def check_unkscm() -> None:  # 3.3.2 unknown scheme in the Request-URI -> 416
    m = request("unkscm")
    assert m.uri == AbsoluteUri("nobodyknowsthisscheme", "totallyopaquecontent")
    with pytest.raises(ParseError) as caught:
        validate_request(m)
    assert (caught.value.status, str(caught.value)) == (
        416,
        "unsupported URI scheme 'nobodyknowsthisscheme'",
    )


def check_novelsc() -> None:  # 3.3.3 known but atypical scheme -> 416 here
    m = request("novelsc")
    assert m.uri == AbsoluteUri("soap.beep", "//192.0.2.103:3002")
    assert str(m.uri) == "soap.beep://192.0.2.103:3002"
    with pytest.raises(ParseError) as caught:
        validate_request(m)
    assert caught.value.status == 416


def check_unksm2() -> None:  # 3.3.4 other schemes in To, From, Contact: syntactically fine
    m = request("unksm2")
    validate_request(m)  # a registrar refuses the non-SIP AoR itself (400)
    assert m.to.uri == AbsoluteUri("isbn", "2983792873")
    assert m.from_.uri == AbsoluteUri("http", "//www.example.com")
    assert m.from_tag == "3234233"
    contacts = m.contacts
    assert contacts != "*" and contacts[0].uri == AbsoluteUri("name", "John_Smith")


def check_bext01() -> None:  # 3.3.5 Require / Proxy-Require -> 420 by the UAS
    m = request("bext01")
    assert m.headers.get_all("Require") == ["nothingSupportsThis", "nothingSupportsThisEither"]
    assert m.headers.get_all("Proxy-Require") == [
        "noProxiesSupportThis",
        "norDoAnyProxiesSupportThis",
    ]


def check_invut() -> None:  # 3.3.6 unknown Content-Type -> 415 by the UAS
    m = request("invut")
    assert m.content_type == "application/unknownformat"
    assert m.body == b'<audio>\r\n <pcmu port="443"/>\r\n</audio>\r\n'


def check_regaut01() -> None:  # 3.3.7 unknown authorization scheme
    m = request("regaut01")
    value = m.headers.get("Authorization")
    assert value is not None
    auth = AuthHeader.parse(value)
    assert (auth.scheme, auth.params) == ("NoOneKnowsThisScheme", {"opaque-data": "here"})


def check_multi01() -> None:  # 3.3.8 multiple values in single-value fields -> 400
    m = request("multi01")
    with pytest.raises(ParseError) as caught:
        validate_request(m)
    assert (caught.value.status, str(caught.value)) == (
        400,
        "more than one header field of: To, From, CSeq, Call-ID, Max-Forwards",
    )


def check_mcl01() -> None:  # 3.3.9 conflicting Content-Lengths: an error either way
    m = request("mcl01")
    with pytest.raises(ParseError) as caught:
        validate_request(m)
    assert (caught.value.status, str(caught.value)) == (400, "conflicting Content-Length values")
    with pytest.raises(FramingError):  # on a stream the framing is lost: close
        StreamParser().feed(torture("mcl01"))


def check_bcast() -> None:  # 3.3.10 a 200 whose second Via is a broadcast address
    m = response("bcast")
    validate_response(m)
    assert [v.host for v in m.vias] == ["192.0.2.198", "255.255.255.255"]


def check_zeromf() -> None:  # 3.3.11 Max-Forwards 0: a UAS answers, a proxy says 483
    m = request("zeromf")
    validate_request(m)
    assert m.max_forwards == 0


def check_cparam01() -> None:  # 3.3.12 addr-spec Contact: the parameter is the header's
    contacts = request("cparam01").contacts
    assert contacts != "*"
    assert contacts[0].uri == SipUri(user="+19725552222", host="gw1.example.net")
    assert contacts[0].params == (("unknownparam", None),)


def check_cparam02() -> None:  # 3.3.13 inside <>: the parameter is the URI's
    contacts = request("cparam02").contacts
    assert contacts != "*"
    assert contacts[0].params == ()
    assert contacts[0].uri == SipUri(
        user="+19725552222", host="gw1.example.net", params=(("unknownparam", None),)
    )


def check_regescrt() -> None:  # 3.3.14 escaped header in a Contact URI (compact "M:")
    contacts = request("regescrt").contacts
    assert contacts != "*"
    uri = contacts[0].uri
    assert isinstance(uri, SipUri) and uri.headers == (("Route", "<sip:sip.example.com>"),)
    assert str(uri) == "sip:user@example.com?Route=%3Csip:sip.example.com%3E"


def check_sdp01() -> None:  # 3.3.15 Accept the UAS cannot produce -> 406
    m = request("sdp01")
    assert m.headers.get_all("Accept") == ["text/nobodyKnowsThis"]


def check_inv2543() -> None:  # 3.4.1 RFC 2543 syntax: no branch, no tag, no MF, no length
    m = request("inv2543")
    assert m.top_via.branch is None
    assert m.from_tag is None and m.to_tag is None
    assert m.max_forwards is None
    assert m.body == body_of("inv2543")  # no Content-Length: the rest of the datagram
    assert m.to.param("user") == "phone"  # after an addr-spec: the header's (§20.10)
    with pytest.raises(ParseError) as caught:
        validate_request(m)  # strict §8.1.1 ...
    assert str(caught.value) == "missing mandatory header fields: Max-Forwards"
    validate_request(m, require_max_forwards=False)  # ... or backward compatible


UPPER = {
    "badbranch": check_badbranch,
    "insuf": check_insuf,
    "unkscm": check_unkscm,
    "novelsc": check_novelsc,
    "unksm2": check_unksm2,
    "bext01": check_bext01,
    "invut": check_invut,
    "regaut01": check_regaut01,
    "multi01": check_multi01,
    "mcl01": check_mcl01,
    "bcast": check_bcast,
    "zeromf": check_zeromf,
    "cparam01": check_cparam01,
    "cparam02": check_cparam02,
    "regescrt": check_regescrt,
    "sdp01": check_sdp01,
    "inv2543": check_inv2543,
}


@pytest.mark.parametrize("name", sorted(UPPER))
def test_upper_layer_message_parses(name: str) -> None:
    UPPER[name]()
