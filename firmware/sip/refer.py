"""What a call transfer puts on the wire: Refer-To, Replaces, the refer event's sipfrag.

Theory of operation
-------------------
A phone's TRANSFER key sends REFER in its call (RFC 3515). Its Refer-To names where the
other party should go; for an attended transfer the URI carries, as a URI header, the
Replaces of the phone's second call (RFC 3891 §6.1, RFC 5589 §7):

    Refer-To: <sip:103@pbx.example>                                         blind
    Refer-To: <sip:103@pbx.example?Replaces=a1%40h%3Bto-tag%3D7%3Bfrom-tag%3D9>   attended
    Replaces: a1@h;to-tag=7;from-tag=9           the same, as a header of an INVITE

The REFER's recipient reports how it goes in NOTIFYs of the implicit subscription
(RFC 3515 §2.4.4-2.4.7): `Event: refer;id=<CSeq of the REFER>`, a Subscription-State, and
a message/sipfrag body (RFC 3420) whose first line is a status line (`SIP/2.0 200 OK`).
A REFER with `Refer-Sub: false` (RFC 4488) asks for no subscription and no NOTIFY.

Grammar (RFC 3515 §2.1, RFC 3891 §6.1):

    Refer-To        = ("Refer-To" / "r") HCOLON ( name-addr / addr-spec ) *(SEMI generic-param)
    Replaces        = "Replaces" HCOLON callid *(SEMI replaces-param)
    replaces-param  = to-tag / from-tag / early-flag / generic-param
    to-tag          = "to-tag" EQUAL token
    from-tag        = "from-tag" EQUAL token
    early-flag      = "early-only"

Which tag is which: both tags name the dialog as its *recipient* sees it, to-tag being
the recipient's own (RFC 3891 §3). Malformed input raises `ParseError` (400).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from firmware.sip.errors import ParseError
from firmware.sip.headers import TOKEN_RE, NameAddr, parse_params
from firmware.sip.message import Request
from firmware.sip.uri import AbsoluteUri, SipUri, show

__all__ = [
    "REFER_EVENT", "SIPFRAG", "ReferTo", "Replaces", "SipFrag", "notify_headers",
    "wants_subscription",
]

SIPFRAG = "message/sipfrag;version=2.0"  # RFC 3515 §2.4.5
REFER_EVENT = "refer"
# How long the implicit subscription lasts while it is active (RFC 3515 §2.4.4 leaves the
# duration to the notifier); the box ends it with its final NOTIFY long before.
SUBSCRIPTION_S = 60

# callid = word [ "@" word ] (RFC 3261 §25.1); a word holds no ';', so the first one ends it.
_WORD = r"""[A-Za-z0-9\-.!%*_+`'~()<>:\\"/\[\]?{}]++"""
_CALL_ID = re.compile(rf"[ \t]*({_WORD}(?:@{_WORD})?)")
_STATUS_LINE = re.compile(r"SIP/2\.0 ([1-6][0-9][0-9])(?: ([^\r\n]*))?")


@dataclass(frozen=True, slots=True)
class Replaces:
    """The dialog an INVITE (or a transfer) is to take the place of."""

    call_id: str
    to_tag: str
    from_tag: str
    early_only: bool = False

    @classmethod
    def parse(cls, text: str) -> Replaces:
        m = _CALL_ID.match(text)
        if m is None:
            raise ParseError(f"malformed Replaces {show(text)}")
        params = dict(parse_params(text.rstrip(" \t"), m.end(), "Replaces"))
        to_tag, from_tag = params.get("to-tag"), params.get("from-tag")
        for name, tag in (("to-tag", to_tag), ("from-tag", from_tag)):
            if tag is None or TOKEN_RE.fullmatch(tag) is None:  # both are mandatory (§6.1)
                raise ParseError(f"Replaces without a valid {name}: {show(text)}")
        assert to_tag is not None and from_tag is not None
        return cls(m[1], to_tag, from_tag, "early-only" in params)

    def __str__(self) -> str:
        early = ";early-only" if self.early_only else ""
        return f"{self.call_id};to-tag={self.to_tag};from-tag={self.from_tag}{early}"


@dataclass(frozen=True, slots=True)
class ReferTo:
    """Where a REFER sends the other party; `uri` without its URI headers."""

    uri: SipUri | AbsoluteUri
    replaces: Replaces | None = None

    @classmethod
    def parse(cls, text: str) -> ReferTo:
        uri = NameAddr.parse(text).uri
        if not isinstance(uri, SipUri):
            return cls(uri)
        embedded = [value for name, value in uri.headers if name.lower() == "replaces"]
        if len(embedded) > 1:
            raise ParseError(f"Refer-To with more than one Replaces: {show(text)}")
        replaces = Replaces.parse(embedded[0]) if embedded else None
        return cls(uri.with_(headers=()), replaces)

    @classmethod
    def of(cls, request: Request) -> ReferTo:
        """The Refer-To of a REFER: exactly one (RFC 3515 §2.4.1), else 400."""
        values = request.headers.get_all("Refer-To")
        if len(values) != 1:
            raise ParseError(f"a REFER needs exactly one Refer-To, not {len(values)}")
        return cls.parse(values[0])

    def __str__(self) -> str:
        uri = self.uri
        if self.replaces is not None and isinstance(uri, SipUri):
            uri = uri.with_(headers=(("Replaces", str(self.replaces)),))
        return f"<{uri}>"


@dataclass(frozen=True, slots=True)
class SipFrag:
    """A message/sipfrag body as the refer event uses it: one status line (RFC 3420)."""

    status: int
    reason: str

    @classmethod
    def parse(cls, body: bytes) -> SipFrag:
        line = body.split(b"\r\n", 1)[0].split(b"\n", 1)[0]
        m = _STATUS_LINE.fullmatch(line.decode("utf-8", "replace"))
        if m is None:
            raise ParseError(f"sipfrag without a status line: {show(repr(body[:60]))}")
        return cls(int(m[1]), m[2] or "")

    def __bytes__(self) -> bytes:
        return f"SIP/2.0 {self.status} {self.reason}\r\n".encode()


def wants_subscription(refer: Request) -> bool:
    """False when the REFER says `Refer-Sub: false` (RFC 4488 §4): no NOTIFY then."""
    value = refer.headers.get("Refer-Sub")
    return value is None or value.strip(" \t").lower() != "false"


def notify_headers(refer: Request, final: bool) -> list[tuple[str, str]]:
    """Event and Subscription-State of a NOTIFY about `refer`. The id (its CSeq number)
    tells several REFERs of one dialog apart (RFC 3515 §2.4.6)."""
    state = "terminated;reason=noresource" if final else f"active;expires={SUBSCRIPTION_S}"
    return [("Event", f"{REFER_EVENT};id={refer.cseq.number}"),
            ("Subscription-State", state)]
