"""Shared data of the SIP message-layer tests: the RFC 4475 corpus and a typical INVITE."""

from __future__ import annotations

import contextlib
from pathlib import Path

from firmware.sip.errors import ParseError
from firmware.sip.headers import CSeq, NameAddr, Via
from firmware.sip.message import Request, Response
from firmware.sip.uri import SipUri

RFC4475 = Path(__file__).resolve().parents[2] / "data" / "rfc4475"


def torture(name: str) -> bytes:
    """The bytes of one RFC 4475 message, by its short name ("wsinv", "clerr"...)."""
    (path,) = RFC4475.glob(f"*-{name}.dat")
    return path.read_bytes()


def torture_names() -> list[str]:
    return sorted(p.stem.partition("-")[2] for p in RFC4475.glob("*.dat"))


# A typical INVITE from a desk phone, written in the canonical form our serialiser uses
# (full header names, "Name: value", Content-Length right), so it must round-trip byte-exact.
SDP = (
    b"v=0\r\n"
    b"o=alice 2890844526 2890844526 IN IP4 192.0.2.10\r\n"
    b"s=-\r\n"
    b"c=IN IP4 192.0.2.10\r\n"
    b"t=0 0\r\n"
    b"m=audio 49170 RTP/AVP 0 8 101\r\n"
    b"a=rtpmap:0 PCMU/8000\r\n"
    b"a=rtpmap:8 PCMA/8000\r\n"
    b"a=rtpmap:101 telephone-event/8000\r\n"
    b"a=fmtp:101 0-16\r\n"
    b"a=ptime:20\r\n"
    b"a=sendrecv\r\n"
)
INVITE = (
    b"INVITE sip:bob@biloxi.example.com SIP/2.0\r\n"
    b"Via: SIP/2.0/UDP pc33.atlanta.example.com:5060;branch=z9hG4bK776asdhds;rport\r\n"
    b"Max-Forwards: 70\r\n"
    b"To: Bob <sip:bob@biloxi.example.com>\r\n"
    b'From: "Alice" <sip:alice@atlanta.example.com>;tag=1928301774\r\n'
    b"Call-ID: a84b4c76e66710@pc33.atlanta.example.com\r\n"
    b"CSeq: 314159 INVITE\r\n"
    b"Contact: <sip:alice@pc33.atlanta.example.com:5060;transport=udp>\r\n"
    b"Allow: INVITE, ACK, CANCEL, BYE, REFER, OPTIONS, NOTIFY, INFO\r\n"
    b"Supported: replaces, timer\r\n"
    b"User-Agent: Grandstream GXP2170 1.0.11.23\r\n"
    b"Content-Type: application/sdp\r\n"
    b"Content-Length: 238\r\n"
    b"\r\n"
) + SDP
assert len(SDP) == 238


def exercise(message: Request | Response) -> None:
    """Touch every view and serialise: only ParseError may come out (never a crash), and
    every typed view that parses re-serialises to text that parses to the same view."""
    views = (
        "vias", "top_via", "from_", "to", "from_tag", "to_tag", "call_id", "cseq",
        "max_forwards", "content_type", "contacts", "routes", "record_routes",
    )  # fmt: skip
    for view in views:
        try:
            value = getattr(message, view)
        except ParseError:
            continue
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, NameAddr | Via | CSeq):
                touch(item)
    for name in ("Via", "Contact", "Route", "Allow", "Accept", "Supported"):
        with contextlib.suppress(ParseError):
            message.headers.get_all(name)
    bytes(message)


def touch(view: object) -> None:
    """Read every property of a typed view; it must re-serialise to an equal view."""
    if isinstance(view, Via):
        (view.branch, view.received, view.maddr, view.ttl, view.rport, view.wants_rport)  # noqa: B018
    if isinstance(view, Via | NameAddr):
        for name, _ in view.params:
            view.param(name)
    if isinstance(view, NameAddr):
        view.tag  # noqa: B018
        if isinstance(view.uri, SipUri):
            for name, _ in view.uri.params:
                view.uri.param(name)
            assert SipUri.parse(str(view.uri)) == view.uri
    assert type(view).parse(str(view)) == view  # type: ignore[attr-defined]
