"""SIP requests and responses: parsing datagrams and streams, serialising, answering.

Theory of operation
-------------------
A SIP message (RFC 3261 §7) is a start line, header fields, an empty line and a body:

    Request  = Request-Line *( message-header ) CRLF [ message-body ]
    Response = Status-Line  *( message-header ) CRLF [ message-body ]

`parse_message` takes one datagram. It skips CRLFs before the start line (§7.5), finds the
empty line with one `bytes.find`, decodes the header section (UTF-8; undecodable bytes are
kept as surrogate escapes so that nothing is lost), unfolds continuation lines (§7.3.1: a
line starting with SP/HTAB continues the previous one), and splits each field at its first
colon (no token holds one); the usual name spellings, compact forms included, are found with
one dict probe and only unusual ones go through the token regex. No per-character Python
loop anywhere. Values stay strings; only the fields every layer above needs are
parsed at once, both to refuse a bad message at the door and to warm the memo of
`Headers.parsed()`: Via, From, To, CSeq, Call-ID, Max-Forwards. Contact, Route and the rest
are parsed when asked, so their errors surface (as ParseError) in the layer that asks.

Framing (§18.3): in a datagram the body is what follows the empty line, cut to
Content-Length when present; a Content-Length larger than what arrived is an error (400),
extra bytes are discarded (RFC 4475 §3.1.1.8). On a stream (`StreamParser`) Content-Length
is mandatory and is the only way to find the next message, so any doubt about it is a
`FramingError` and the shell closes the connection.

Two checks are separated on purpose. `parse_message` refuses what cannot be read: syntax,
SIP version (505), Content-Length, a CSeq method that contradicts the Request-Line (400, or
501 for an unknown method, RFC 4475 §3.1.2.17-18). `validate_request` refuses what can be
read but is not a valid request (RFC 4475 §3.3): a missing mandatory field (§8.1.1),
duplicated single-valued fields, conflicting Content-Lengths, an unserved URI scheme (416).

Serialisation writes the start line, every field as `Name: value` in order (full names, no
compact forms), and a Content-Length that always matches the body.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import ClassVar, Literal, TypeVar

from firmware.sip.errors import FramingError, ParseError
from firmware.sip.headers import (
    TOKEN,
    TOKEN_RE,
    WIRE_NAMES,
    CSeq,
    Headers,
    NameAddr,
    Via,
    canonical_name,
    header_key,
)
from firmware.sip.uri import AbsoluteUri, SipUri, parse_uri, show

__all__ = [
    "KNOWN_METHODS",
    "MAX_HEADER_FIELDS",
    "MAX_MESSAGE_BYTES",
    "REASON_PHRASES",
    "SIP_VERSION",
    "Request",
    "Response",
    "StreamParser",
    "make_response",
    "parse_message",
    "reason_phrase",
    "validate_request",
    "validate_response",
]

SIP_VERSION = "SIP/2.0"
# UDP's 16-bit length field (RFC 768) bounds a datagram below 64 KiB. Stream messages are held
# to the same bound so that one connection cannot make us buffer without limit; beyond it we
# answer 513 Message Too Large (§21.5.14), or 413 (§21.4.12) when the body alone is the cause.
MAX_MESSAGE_BYTES = 65535
# Real messages carry 10-40 fields (RFC 4475's 3.5 KB "longreq" has 47). Parsing costs about
# a microsecond per field; the cap bounds the work one datagram can cost us.
MAX_HEADER_FIELDS = 256

# RFC 3261 §27.4 plus the methods of the extensions we implement or relay.
KNOWN_METHODS = frozenset({
    "INVITE", "ACK", "BYE", "CANCEL", "OPTIONS", "REGISTER", "PRACK", "SUBSCRIBE", "NOTIFY",
    "PUBLISH", "INFO", "REFER", "MESSAGE", "UPDATE",
})

REASON_PHRASES = {
    100: "Trying", 180: "Ringing", 181: "Call Is Being Forwarded", 182: "Queued",
    183: "Session Progress", 199: "Early Dialog Terminated", 200: "OK", 202: "Accepted",
    204: "No Notification", 300: "Multiple Choices", 301: "Moved Permanently",
    302: "Moved Temporarily", 305: "Use Proxy", 380: "Alternative Service",
    400: "Bad Request", 401: "Unauthorized", 402: "Payment Required", 403: "Forbidden",
    404: "Not Found", 405: "Method Not Allowed", 406: "Not Acceptable",
    407: "Proxy Authentication Required", 408: "Request Timeout", 410: "Gone",
    412: "Conditional Request Failed", 413: "Request Entity Too Large",
    414: "Request-URI Too Long", 415: "Unsupported Media Type", 416: "Unsupported URI Scheme",
    417: "Unknown Resource-Priority", 420: "Bad Extension", 421: "Extension Required",
    422: "Session Interval Too Small", 423: "Interval Too Brief", 428: "Use Identity Header",
    429: "Provide Referrer Identity", 433: "Anonymity Disallowed", 437: "Unsupported Credential",
    439: "First Hop Lacks Outbound Support", 440: "Max-Breadth Exceeded",
    469: "Bad Info Package", 470: "Consent Needed", 480: "Temporarily Unavailable",
    481: "Call/Transaction Does Not Exist", 482: "Loop Detected", 483: "Too Many Hops",
    484: "Address Incomplete", 485: "Ambiguous", 486: "Busy Here", 487: "Request Terminated",
    488: "Not Acceptable Here", 489: "Bad Event", 491: "Request Pending", 493: "Undecipherable",
    494: "Security Agreement Required", 500: "Server Internal Error", 501: "Not Implemented",
    502: "Bad Gateway", 503: "Service Unavailable", 504: "Server Time-out",
    505: "Version Not Supported", 513: "Message Too Large",
    555: "Push Notification Service Not Supported", 580: "Precondition Failure",
    600: "Busy Everywhere", 603: "Decline", 604: "Does Not Exist Anywhere",
    606: "Not Acceptable", 607: "Unwanted", 608: "Rejected",
}  # fmt: skip
T = TypeVar("T")

_CLASS_REASONS = {1: "Progress", 2: "OK", 3: "Redirect", 4: "Client Error", 5: "Server Error"}


class _Message:
    """Views shared by requests and responses; parsed on first use and memoised."""

    __slots__ = ()
    headers: Headers
    body: bytes

    @property
    def vias(self) -> list[Via]:
        return list(self.headers.parsed("Via", _vias))

    @property
    def top_via(self) -> Via:
        vias = self.headers.parsed("Via", _vias)
        if not vias:
            raise ParseError("missing Via header field")
        return vias[0]

    @property
    def from_(self) -> NameAddr:
        return _required(self.headers.parsed("From", _address), "From")

    @property
    def to(self) -> NameAddr:
        return _required(self.headers.parsed("To", _address), "To")

    @property
    def from_tag(self) -> str | None:
        return self.from_.tag

    @property
    def to_tag(self) -> str | None:
        return self.to.tag

    @property
    def call_id(self) -> str:
        return _required(self.headers.parsed("Call-ID", _call_id), "Call-ID")

    @property
    def cseq(self) -> CSeq:
        return _required(self.headers.parsed("CSeq", _cseq), "CSeq")

    @property
    def max_forwards(self) -> int | None:
        """None when absent (RFC 2543 peers, RFC 4475 §3.4.1): a proxy would assume 70."""
        return self.headers.parsed("Max-Forwards", _max_forwards)

    @property
    def content_type(self) -> str | None:
        """The media type, lower-case, without parameters (`application/sdp`)."""
        value = self.headers.get("Content-Type")
        return None if value is None else value.partition(";")[0].strip(" \t").lower()

    @property
    def contacts(self) -> list[NameAddr] | Literal["*"]:
        """Contact addresses in order; "*" for the REGISTER wildcard (§10.2.2)."""
        values = self.headers.values("Contact")
        if len(values) == 1 and values[0] == "*":
            return "*"
        return list(self.headers.parsed("Contact", _addresses))

    @property
    def routes(self) -> list[NameAddr]:
        return list(self.headers.parsed("Route", _addresses))

    @property
    def record_routes(self) -> list[NameAddr]:
        return list(self.headers.parsed("Record-Route", _addresses))

    def _head_lines(self, start_line: str) -> bytes:
        lines = [start_line]
        length = f"Content-Length: {len(self.body)}"
        written = False
        for name, value in self.headers:
            if name == "Content-Length":  # known names are always stored canonically
                if not written:
                    lines.append(length)
                    written = True
            else:
                lines.append(f"{name}: {value}")
        if not written:
            lines.append(length)
        lines += ("", "")
        return "\r\n".join(lines).encode("utf-8", "surrogateescape")


@dataclass(slots=True, eq=True)
class Request(_Message):
    method: str
    uri: SipUri | AbsoluteUri
    headers: Headers = field(default_factory=Headers)
    body: bytes = b""
    version: ClassVar[str] = SIP_VERSION

    def __post_init__(self) -> None:
        if TOKEN_RE.fullmatch(self.method) is None:  # Method = token (§25.1)
            raise ValueError(f"method is not a token: {self.method!r}")

    def __bytes__(self) -> bytes:
        return self._head_lines(f"{self.method} {self.uri} {SIP_VERSION}") + self.body


@dataclass(slots=True, eq=True)
class Response(_Message):
    status: int
    reason: str = ""
    headers: Headers = field(default_factory=Headers)
    body: bytes = b""
    version: ClassVar[str] = SIP_VERSION

    def __post_init__(self) -> None:
        if not 100 <= self.status <= 699 or "\r" in self.reason or "\n" in self.reason:
            raise ValueError(f"bad status line: {self.status} {self.reason!r}")

    def __bytes__(self) -> bytes:
        return self._head_lines(f"{SIP_VERSION} {self.status} {self.reason}") + self.body

    @property
    def is_provisional(self) -> bool:
        return self.status < 200


def _required(value: T | None, name: str) -> T:
    if value is None:
        raise ParseError(f"missing {name} header field")
    return value


# --- Views (memoised through Headers.parsed, so immutable: lists are handed out as copies) --
def _vias(values: list[str]) -> tuple[Via, ...]:
    return tuple(Via.parse_list(values))


def _addresses(values: list[str]) -> tuple[NameAddr, ...]:
    return tuple(NameAddr.parse_list(values))


def _address(values: list[str]) -> NameAddr | None:
    return NameAddr.parse(values[0]) if values else None


def _cseq(values: list[str]) -> CSeq | None:
    return CSeq.parse(values[0]) if values else None


#   Call-ID = ( "Call-ID" / "i" ) HCOLON callid;  callid = word [ "@" word ]
#   word = 1*(alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~" /
#          "(" / ")" / "<" / ">" / ":" / "\" / DQUOTE / "/" / "[" / "]" / "?" / "{" / "}" )
_WORD = r"""[A-Za-z0-9\-.!%*_+`'~()<>:\\"/\[\]?{}]++"""
_CALL_ID = re.compile(rf"{_WORD}(?:@{_WORD})?")


def _call_id(values: list[str]) -> str | None:
    if not values:
        return None
    if _CALL_ID.fullmatch(values[0]) is None:
        raise ParseError(f"malformed Call-ID {show(values[0])}")
    return values[0]


def _max_forwards(values: list[str]) -> int | None:
    """Max-Forwards = "Max-Forwards" HCOLON 1*DIGIT; §20.22: an integer in 0-255."""
    if not values:
        return None
    digits = values[0].lstrip("0") or "0"
    if not digits.isascii() or not digits.isdigit() or len(digits) > 3 or int(digits) > 255:
        raise ParseError(f"malformed Max-Forwards {show(values[0])}")
    return int(digits)


_CORE = {
    "via": _vias,
    "from": _address,
    "to": _address,
    "cseq": _cseq,
    "call-id": _call_id,
    "max-forwards": _max_forwards,
}


# --- Parsing ------------------------------------------------------------------------------
_LEADING_CRLF = re.compile(rb"(?:\r\n)*")
_FOLD = re.compile(r"[ \t]*\r\n[ \t]+")  # §7.3.1 LWS = [*WSP CRLF] 1*WSP -> one SP
#   Request-Line = Method SP Request-URI SP SIP-Version CRLF   (exactly one SP each)
#   SIP-Version = "SIP" "/" 1*DIGIT "." 1*DIGIT                (literal case-insensitive)
_VERSION = r"[Ss][Ii][Pp]/[0-9]+\.[0-9]+"
_REQUEST_LINE = re.compile(rf"({TOKEN}) ([^ \t\r\n]+) ({_VERSION})")
#   Status-Line = SIP-Version SP Status-Code SP Reason-Phrase CRLF;  Status-Code = 3DIGIT
#   Reason-Phrase: we accept any text but CTLs (peers put '[', '"' and worse in it).
_STATUS_LINE = re.compile(rf"({_VERSION}) ([0-9]{{3}})(?: ([^\x00-\x08\x0a-\x1f\x7f]*))?")
_DIGITS = re.compile(r"[0-9]+")


def _parse_head(head: bytes) -> Request | Response:
    """Start line and header fields of one message (the bytes before the empty line)."""
    text = head.decode("utf-8", "surrogateescape")
    if "\r\n " in text or "\r\n\t" in text:
        text = _FOLD.sub(" ", text)
    lines = text.split("\r\n")
    breaks = len(lines) - 1
    if text.count("\r") != breaks or text.count("\n") != breaks:
        raise ParseError("CR or LF outside a CRLF line break")
    if breaks > MAX_HEADER_FIELDS:
        raise ParseError(f"more than {MAX_HEADER_FIELDS} header fields", 513)
    items = []
    known = WIRE_NAMES.get
    for line in lines[1:]:
        # message-header = header-name HCOLON header-value; no token holds ':'.
        name, colon, value = line.partition(":")
        if not colon:
            raise ParseError(f"malformed header field {show(line)}")
        info = known(name) or _name_info(name)
        items.append((info[0], info[1], value.strip(" \t")))
    headers = Headers.from_wire(items)
    start = lines[0]
    if start[:4].upper() == "SIP/":
        r = _STATUS_LINE.fullmatch(start)
        if r is None:
            raise ParseError(f"malformed Status-Line {show(start)}")
        _check_version(r[1])
        status = int(r[2])
        if not 100 <= status <= 699:  # §21; RFC 4475 §3.1.2.19: drop it
            raise ParseError(f"status code {status} out of range")
        return Response(status, r[3] or "", headers)
    q = _REQUEST_LINE.fullmatch(start)
    if q is None:
        raise ParseError(f"malformed Request-Line {show(start)}")
    method, uri_text, version = q.groups()
    _check_version(version)
    uri = parse_uri(uri_text)
    if isinstance(uri, SipUri) and uri.headers:  # §19.1.1 table; RFC 4475 §3.1.2.11
        raise ParseError("Request-URI must not contain headers")
    return Request(method, uri, headers)


def _name_info(name: str) -> tuple[str, str]:
    """(key, name to write) of a header name that is not a usual spelling."""
    name = name.rstrip(" \t")  # HCOLON = *( SP / HTAB ) ":" SWS
    if TOKEN_RE.fullmatch(name) is None:
        raise ParseError(f"malformed header name {show(name)}")
    return header_key(name), canonical_name(name)


def _check_version(version: str) -> None:
    if version.upper() != SIP_VERSION:
        raise ParseError(f"unsupported SIP version {show(version)}", 505)


def _content_lengths(headers: Headers) -> dict[int, str]:
    """Each distinct Content-Length value, as a number and as written."""
    lengths = {}
    for value in headers.values("Content-Length"):
        if _DIGITS.fullmatch(value) is None:
            raise ParseError(f"malformed Content-Length {show(value)}")
        # Anything over 9 digits is beyond any limit of ours; no need for a huge int.
        shown = value if len(value) <= 20 else value[:20] + "..."
        lengths[int(value) if len(value) <= 9 else 10**9] = shown
    return lengths


def _check_core(message: Request | Response) -> None:
    """Parse the fields every upper layer reads (memoised) and the CSeq/method agreement."""
    headers = message.headers
    headers.memoise(_CORE)
    if isinstance(message, Request) and (cseq := headers.parsed("CSeq", _cseq)) is not None:
        method = cseq.method
        if method != message.method:
            status = 400 if message.method in KNOWN_METHODS else 501
            raise ParseError(
                f"CSeq method {show(method)} does not match request method "
                f"{show(message.method)}",
                status,
            )


def parse_message(data: bytes) -> Request | Response:
    """Parse one datagram (UDP). Raises ParseError, with the status to answer a request with."""
    if len(data) > MAX_MESSAGE_BYTES:
        raise ParseError(f"message of {len(data)} bytes exceeds {MAX_MESSAGE_BYTES}", 513)
    start = _LEADING_CRLF.match(data).end()  # type: ignore[union-attr]
    end = data.find(b"\r\n\r\n", start)
    if end < 0:
        raise ParseError("header section not terminated by an empty line")
    message = _parse_head(data[start:end])
    body = data[end + 4 :]
    lengths = _content_lengths(message.headers)
    if len(lengths) == 1:  # several different values: framed as if absent, see validate_*
        ((length, shown),) = lengths.items()
        if length > len(body):
            raise ParseError(f"Content-Length {shown} exceeds the {len(body)} body bytes")
        body = body[:length]
    message.body = body
    _check_core(message)
    return message


class StreamParser:
    """Frames messages out of a byte stream (TCP, TLS) by Content-Length (§18.3).

    `feed()` returns the messages completed by the new bytes, keeping a partial one. CRLFs
    between messages (keep-alives, RFC 5626 §3.5.1) are skipped. Any ParseError ends the
    stream: a FramingError when the boundaries are lost (Content-Length missing, malformed,
    conflicting or too large; a header section that never ends or cannot be read), a plain
    ParseError for a framed message with a bad core field. It is raised, `error` keeps it
    and every later `feed()` raises it again; messages completed before the bad one in the
    same call are returned first, and the error is then only in `error` until the next
    call. `error.raw` holds the offending bytes (for an answer). Close the connection.
    """

    __slots__ = ("_buffer", "_error", "_pending")

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._error: ParseError | None = None
        self._pending: tuple[Request | Response, int, int] | None = None  # message, start, size

    @property
    def error(self) -> ParseError | None:
        return self._error

    def feed(self, data: bytes) -> list[Request | Response]:
        if self._error is not None:
            raise self._error
        self._buffer += data
        messages: list[Request | Response] = []
        try:
            while (message := self._next()) is not None:
                messages.append(message)
        except ParseError as error:
            self._error = error
            self._buffer.clear()
            if not messages:
                raise
        return messages

    def _next(self) -> Request | Response | None:
        buffer = self._buffer
        if self._pending is None:
            skip = _LEADING_CRLF.match(buffer).end()  # type: ignore[union-attr]
            if skip:
                del buffer[:skip]
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                if len(buffer) > MAX_MESSAGE_BYTES:
                    raise FramingError(f"no end of header section in {len(buffer)} bytes", 513)
                return None
            try:
                self._pending = _frame(bytes(buffer[:end]), end + 4)
            except ParseError as error:  # unreadable header section: boundaries are lost
                framing = FramingError(error.message, error.status)
                framing.raw = bytes(buffer[: end + 4])
                raise framing from error
        message, start, length = self._pending
        if len(buffer) < start + length:
            return None
        self._pending = None
        raw = bytes(buffer[: start + length])
        del buffer[: start + length]
        message.body = raw[start:]
        try:
            _check_core(message)
        except ParseError as error:
            error.raw = raw
            raise
        return message


def _frame(head: bytes, start: int) -> tuple[Request | Response, int, int]:
    """The message of a stream header section, where its body starts and its length."""
    message = _parse_head(head)
    lengths = _content_lengths(message.headers)
    if not lengths:
        raise FramingError("missing Content-Length on a stream transport")
    if len(lengths) > 1:
        raise FramingError("conflicting Content-Length values")
    ((length, shown),) = lengths.items()
    if length > MAX_MESSAGE_BYTES:
        raise FramingError(f"Content-Length {shown} exceeds our limit", 413)
    if start + length > MAX_MESSAGE_BYTES:
        raise FramingError(f"message exceeds {MAX_MESSAGE_BYTES} bytes", 513)
    return message, start, length


# --- Validation ---------------------------------------------------------------------------
_MANDATORY = ("To", "From", "CSeq", "Call-ID", "Max-Forwards", "Via")  # §8.1.1
_MANDATORY_2543 = ("To", "From", "CSeq", "Call-ID", "Via")
_SINGLE = ("To", "From", "CSeq", "Call-ID", "Max-Forwards", "Content-Length", "Content-Type")


def _check_fields(message: Request | Response, mandatory: Iterable[str]) -> None:
    headers = message.headers
    missing = [name for name in mandatory if name not in headers]
    if missing:
        raise ParseError(f"missing mandatory header fields: {', '.join(missing)}")
    if len(_content_lengths(headers)) > 1:  # RFC 4475 §3.3.9
        raise ParseError("conflicting Content-Length values")
    repeated = [name for name in _SINGLE if headers.count(name) > 1]
    if repeated:
        raise ParseError(f"more than one header field of: {', '.join(repeated)}")
    _check_core(message)  # the fields may have been set by hand since parsing


def validate_request(
    request: Request,
    *,
    uri_schemes: Iterable[str] = ("sip", "sips"),
    require_max_forwards: bool = True,
) -> None:
    """Raise ParseError unless `request` is a request a UAS can process (§8.1.1, §8.2.2.1).

    `require_max_forwards=False` accepts RFC 2543 peers that omit it (RFC 4475 §3.4.1).
    """
    _check_fields(request, _MANDATORY if require_max_forwards else _MANDATORY_2543)
    if request.uri.scheme not in uri_schemes:  # RFC 4475 §3.3.2, §3.3.3
        raise ParseError(f"unsupported URI scheme {show(request.uri.scheme)}", 416)


def validate_response(response: Response) -> None:
    """Raise ParseError (drop it) unless `response` has what §8.1.3 needs to match it."""
    _check_fields(response, ("To", "From", "CSeq", "Call-ID", "Via"))


# --- Responses ----------------------------------------------------------------------------
def reason_phrase(status: int) -> str:
    return REASON_PHRASES.get(status) or _CLASS_REASONS.get(status // 100, "Global Failure")


def make_response(
    request: Request,
    status: int,
    reason: str | None = None,
    *,
    to_tag: str | None = None,
    headers: Iterable[tuple[str, str]] = (),
) -> Response:
    """A response to `request` per §8.2.6: Via (all, in order), From, To, Call-ID and CSeq
    copied; `to_tag` added to To when it has none (§8.2.6.2); Timestamp echoed in a 100
    (§8.2.6.1); then `headers`. Content-Length is written by `bytes()`."""
    items = []
    wanted = {"from", "to", "call-id", "cseq"}  # the first of each; every Via
    if status == 100:
        wanted.add("timestamp")
    add_tag = to_tag is not None and "To" in request.headers and request.to_tag is None
    for key, name, value in request.headers.fields():
        if key == "via":
            items.append((key, name, value))
        elif key in wanted:
            wanted.discard(key)
            if key == "to" and add_tag:
                value = f"{value};tag={to_tag}"
            items.append((key, name, value))
    items.sort(key=lambda item: _RESPONSE_ORDER.get(item[0], 9))  # stable: Vias keep order
    response = Response(status, reason_phrase(status) if reason is None else reason)
    response.headers = Headers.from_wire(items)
    for name, value in headers:
        response.headers.add(name, value)
    return response


_RESPONSE_ORDER = {"via": 0, "from": 1, "to": 2, "call-id": 3, "cseq": 4, "timestamp": 5}
