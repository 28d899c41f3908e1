"""SIP header fields: the ordered multi-map `Headers` and typed views of the fields we read.

Theory of operation
-------------------
A SIP header section is an ordered list of `name: value` fields (RFC 3261 §7.3). Names are
case-insensitive and many have a one-letter compact form (§7.3.3, plus the extensions in
`_COMPACT`); we store every field as (key, name, value) where `key` is the lower-case full
name used for lookups and `name` is the full canonical spelling written back on the wire
(unknown names keep their spelling). Values are kept as the strings received (after the
message layer unfolded LWS and trimmed the ends) and are parsed only when somebody asks:
`Headers.parsed()` memoises a typed view per field name until that name is modified.

Several fields of one name are equivalent to one field with a comma-separated list, for the
headers whose grammar is a list (§7.3.1): `get_all()` splits those at commas outside quoted
strings and <...>. Authorization, WWW-Authenticate and Date hold commas that are not list
separators and are never split.

Typed views are frozen dataclasses with `parse(text)` and `__str__` (principle 5): `Via`
(§20.42, RFC 3581 rport), `NameAddr` for From/To/Contact/Route (§20.10, §25.1), `CSeq`
(§20.16) and `AuthHeader` for the digest challenge/credential fields (§25.1, RFC 7616).
Header parameter values are kept as on the wire (a quoted-string keeps its quotes) so that a
view re-serialises faithfully; `param()` returns them unquoted.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

from firmware.sip.errors import ParseError
from firmware.sip.uri import HOST_PATTERN, AbsoluteUri, SipUri, canonical_host, parse_uri, show

__all__ = [
    "WIRE_NAMES",
    "AuthHeader",
    "CSeq",
    "Headers",
    "NameAddr",
    "Via",
    "canonical_name",
    "header_key",
    "split_list",
]

T = TypeVar("T")

# --- Grammar (RFC 3261 §25.1); LWS has been unfolded to SP/HTAB by the message layer ---------
#   token = 1*(alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~" )
TOKEN = r"[A-Za-z0-9\-.!%*_+`'~]++"
TOKEN_RE = re.compile(TOKEN)
#   quoted-string = SWS DQUOTE *(qdtext / quoted-pair ) DQUOTE
#   qdtext = LWS / %x21 / %x23-5B / %x5D-7E / UTF8-NONASCII
#   quoted-pair = "\" (%x00-09 / %x0B-0C / %x0E-7F)
QUOTED = r'"(?:[^"\\\x00-\x08\x0a-\x1f\x7f]|\\[\x00-\x09\x0b\x0c\x0e-\x7f])*+"'
#   generic-param = token [ EQUAL gen-value ];  gen-value = token / host / quoted-string
#   SEMI = SWS ";" SWS;  EQUAL = SWS "=" SWS
#   (host here also admits a bare IPv6address, as in via-received)
_GEN_VALUE = rf"{QUOTED}|[0-9A-Fa-f.]*+:[0-9A-Fa-f:.]*+|\[[0-9A-Fa-f:.]+\]|{TOKEN}"
_PARAM = re.compile(rf"[ \t]*;[ \t]*({TOKEN})(?:[ \t]*=[ \t]*({_GEN_VALUE}))?")
_WS = re.compile(r"[ \t]*")
_QUOTED_PAIR = re.compile(r"\\(.)", re.DOTALL)

Params = tuple[tuple[str, str | None], ...]


def unquote(value: str) -> str:
    """The content of a quoted-string (quotes removed, quoted-pairs resolved); tokens as-is."""
    if len(value) >= 2 and value[0] == '"' and value[-1] == '"':
        inner = value[1:-1]
        return _QUOTED_PAIR.sub(r"\1", inner) if "\\" in inner else inner
    return value


_NEEDS_PAIR = re.compile(r'[\\"\x00-\x08\x0b\x0c\x0e-\x1f\x7f]')
_GEN_VALUE_RE = re.compile(_GEN_VALUE)


def quote(text: str) -> str:
    """A quoted-string holding `text`: '"', '\\' and control characters become quoted-pairs;
    CR and LF, which no quoted-pair can carry, become SP."""
    text = _NEEDS_PAIR.sub(r"\\\g<0>", text.replace("\r", " ").replace("\n", " "))
    return f'"{text}"'


def parse_params(text: str, pos: int, what: str) -> Params:
    """`*( SEMI generic-param )` from `pos` to the end of `text`; names lower-cased."""
    if pos == len(text):
        return ()
    out: list[tuple[str, str | None]] = []
    match = _PARAM.match
    while (m := match(text, pos)) is not None:
        out.append((m[1].lower(), m[2]))
        pos = m.end()
    if _WS.match(text, pos).end() != len(text):  # type: ignore[union-attr]
        raise ParseError(f"malformed parameters in {what} {show(text[pos:])}")
    return tuple(out)


def render_params(params: Params) -> str:
    return "".join(f";{n}" if v is None else f";{n}={v}" for n, v in params)


def _param(params: Params, name: str) -> str | None:
    name = name.lower()
    for key, value in params:
        if key == name:
            return "" if value is None else unquote(value)
    return None


def _with_param(params: Params, name: str, value: str | None) -> Params:
    """Set `name`; a value that is not a token, host or quoted-string is quoted."""
    name = name.lower()
    if TOKEN_RE.fullmatch(name) is None:
        raise ValueError(f"parameter name is not a token: {name!r}")
    if value is not None and _GEN_VALUE_RE.fullmatch(value) is None:
        value = quote(value)
    return (*(p for p in params if p[0] != name), (name, value))


# --- Names --------------------------------------------------------------------------------
_FULL_NAMES = (
    "Accept", "Accept-Contact", "Accept-Encoding", "Accept-Language", "Alert-Info", "Allow",
    "Allow-Events", "Authentication-Info", "Authorization", "Call-ID", "Call-Info", "Contact",
    "Content-Disposition", "Content-Encoding", "Content-Language", "Content-Length", "Content-Type",
    "CSeq", "Date", "Error-Info", "Event", "Expires", "From", "Identity", "Identity-Info",
    "In-Reply-To", "Max-Forwards", "MIME-Version", "Min-Expires", "Min-SE", "Organization",
    "P-Asserted-Identity", "P-Preferred-Identity", "Path", "Priority", "Privacy",
    "Proxy-Authenticate", "Proxy-Authorization", "Proxy-Require", "RAck", "Reason", "Record-Route",
    "Refer-Sub", "Refer-To", "Referred-By", "Reject-Contact", "Replaces", "Reply-To",
    "Request-Disposition", "Require", "Retry-After", "Route", "RSeq", "Server", "Service-Route",
    "Session-Expires", "SIP-ETag", "SIP-If-Match", "Subject", "Subscription-State", "Supported",
    "Timestamp", "To", "Unsupported", "User-Agent", "Via", "Warning", "WWW-Authenticate",
)
# RFC 3261 §7.3.3 (c e f i k l m s t v), RFC 3265 (o u), RFC 3515 (r), RFC 3892 (b),
# RFC 4028 (x), RFC 4474 (y n), RFC 3841 (a j d).
_COMPACT = {
    "a": "Accept-Contact", "b": "Referred-By", "c": "Content-Type", "d": "Request-Disposition",
    "e": "Content-Encoding", "f": "From", "i": "Call-ID", "j": "Reject-Contact",
    "k": "Supported", "l": "Content-Length", "m": "Contact", "n": "Identity-Info",
    "o": "Event", "r": "Refer-To", "s": "Subject", "t": "To", "u": "Allow-Events",
    "v": "Via", "x": "Session-Expires", "y": "Identity",
}  # fmt: skip
_DISPLAY = {name.lower(): name for name in _FULL_NAMES}
_KEYS: dict[str, str] = {}
for _name in _FULL_NAMES:
    _KEYS[_name] = _KEYS[_name.lower()] = _name.lower()
for _letter, _name in _COMPACT.items():
    _KEYS[_letter] = _KEYS[_letter.upper()] = _name.lower()
# Spellings seen on the wire -> (key, name to write): one dict probe per field when parsing.
WIRE_NAMES = {spelling: (key, _DISPLAY[key]) for spelling, key in _KEYS.items()}
# Headers whose grammar is a comma-separated list (§7.3.1), so that fields may be combined.
_LIST_KEYS = frozenset({
    "accept", "accept-contact", "accept-encoding", "accept-language", "alert-info", "allow",
    "allow-events", "call-info", "contact", "content-encoding", "content-language", "error-info",
    "in-reply-to", "path", "p-asserted-identity", "p-preferred-identity", "proxy-require", "reason",
    "record-route", "reject-contact", "request-disposition", "require", "route", "service-route",
    "supported", "unsupported", "via", "warning",
})


def header_key(name: str) -> str:
    """The lookup key of a header name: its full name, lower-cased (`v`, `VIA` -> `via`)."""
    key = _KEYS.get(name)
    if key is None:
        lowered = name.lower()
        key = _KEYS.get(lowered, lowered)
    return key


def canonical_name(name: str) -> str:
    """The spelling we write: full canonical name for known headers, else `name` itself."""
    return _DISPLAY.get(header_key(name), name)


_LIST_SCAN = re.compile(r'"(?:[^"\\]|\\.)*+"|<[^>]*+>|[^",<]++|(,)|(["<])', re.DOTALL)


def split_list(value: str, keep_empty: bool = False) -> list[str]:
    """Split a list header value at commas outside quoted strings and <...> (§7.3.1)."""
    if '"' not in value and "<" not in value:
        items = value.split(",")
    else:
        items, start = [], 0
        for m in _LIST_SCAN.finditer(value):
            if m[1]:
                items.append(value[start : m.start()])
                start = m.end()
            elif m[2]:
                raise ParseError(f"unbalanced {m[2]!r} in {show(value)}")
        items.append(value[start:])
    stripped = [item.strip(" \t") for item in items]
    return stripped if keep_empty else [item for item in stripped if item]


class Headers:
    """Ordered, case-insensitive multi-map of header fields; compact names normalised."""

    __slots__ = ("_cache", "_items")

    def __init__(self, fields: Iterable[tuple[str, str]] = ()) -> None:
        self._items: list[tuple[str, str, str]] = []  # (key, name, value)
        self._cache: dict[str, dict[Callable[..., Any], Any]] = {}
        for name, value in fields:
            self.add(name, value)

    @classmethod
    def from_wire(cls, items: list[tuple[str, str, str]]) -> Headers:
        """Adopt (key, name, value) triples the message parser already validated."""
        headers = cls.__new__(cls)
        headers._items = items
        headers._cache = {}
        return headers

    @staticmethod
    def _field(name: str, value: str) -> tuple[str, str, str]:
        if TOKEN_RE.fullmatch(name) is None:
            raise ValueError(f"header name is not a token: {name!r}")
        if "\r" in value or "\n" in value:
            raise ValueError(f"header value holds CR or LF: {value!r}")
        key = header_key(name)
        return key, _DISPLAY.get(key, name), value.strip(" \t")

    def get(self, name: str) -> str | None:
        """The value of the first field called `name` (a list field is not split)."""
        key = header_key(name)
        for k, _, value in self._items:
            if k == key:
                return value
        return None

    def values(self, name: str) -> list[str]:
        """The value of every field called `name`, in order, not split."""
        key = header_key(name)
        return [value for k, _, value in self._items if k == key]

    def get_all(self, name: str) -> list[str]:
        """Every value of `name`; fields of list headers are split at top-level commas."""
        key = header_key(name)
        values = [value for k, _, value in self._items if k == key]
        if key not in _LIST_KEYS:
            return values
        return [item for value in values for item in split_list(value)]

    def count(self, name: str) -> int:
        key = header_key(name)
        return sum(1 for k, _, _ in self._items if k == key)

    def add(self, name: str, value: str) -> None:
        item = self._field(name, value)
        self._cache.pop(item[0], None)
        self._items.append(item)

    def set(self, name: str, value: str) -> None:
        """Replace every field called `name` by one, where the first was (else at the end)."""
        item = self._field(name, value)
        key = item[0]
        self._cache.pop(key, None)
        items = self._items
        for i, (k, _, _) in enumerate(items):
            if k == key:
                self._items = [*items[:i], item, *(f for f in items[i + 1 :] if f[0] != key)]
                return
        items.append(item)

    def remove(self, name: str) -> None:
        key = header_key(name)
        self._cache.pop(key, None)
        self._items = [f for f in self._items if f[0] != key]

    def parsed(self, name: str, parse: Callable[[list[str]], T]) -> T:
        """`parse(values(name))`, memoised until a field called `name` changes."""
        key = header_key(name)
        views = self._cache.get(key)
        if views is None:
            views = self._cache[key] = {}
        elif parse in views:
            return views[parse]  # type: ignore[no-any-return]
        result = views[parse] = parse([value for k, _, value in self._items if k == key])
        return result

    def memoise(self, parsers: dict[str, Callable[[list[str]], Any]]) -> None:
        """`parsed()` for every present field whose key is in `parsers`, in one pass."""
        groups: dict[str, list[str]] = {}
        for key, _, value in self._items:
            if key in parsers:
                values = groups.get(key)
                if values is None:
                    groups[key] = [value]
                else:
                    values.append(value)
        cache = self._cache
        for key, values in groups.items():
            parse = parsers[key]
            views = cache.get(key)
            if views is None:
                cache[key] = {parse: parse(values)}
            elif parse not in views:
                views[parse] = parse(values)

    def copy(self) -> Headers:
        headers = Headers.from_wire(list(self._items))
        headers._cache = {key: dict(views) for key, views in self._cache.items()}
        return headers

    def fields(self) -> list[tuple[str, str, str]]:
        """The (key, name, value) triples, in order (a copy)."""
        return list(self._items)

    def __contains__(self, name: object) -> bool:
        if not isinstance(name, str):
            return False
        key = header_key(name)
        return any(k == key for k, _, _ in self._items)

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return ((name, value) for _, name, value in self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Headers):
            return NotImplemented
        return [(k, v) for k, _, v in self._items] == [(k, v) for k, _, v in other._items]

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Headers({[(n, v) for _, n, v in self._items]!r})"


# --- Via (§20.42, §18.2.1, RFC 3581) -------------------------------------------------------
#   via-parm = sent-protocol LWS sent-by *( SEMI via-params )
#   sent-protocol = protocol-name SLASH protocol-version SLASH transport
#   protocol-name = "SIP" / token;  protocol-version = token
#   transport = "UDP" / "TCP" / "TLS" / "SCTP" / other-transport   (other-transport = token)
#   sent-by = host [ COLON port ];  SLASH = SWS "/" SWS;  COLON = SWS ":" SWS
#   via-params = via-ttl / via-maddr / via-received / via-branch / response-port / via-extension
_VIA = re.compile(
    rf"[ \t]*({TOKEN})[ \t]*/[ \t]*({TOKEN})[ \t]*/[ \t]*({TOKEN})[ \t]+"
    rf"({HOST_PATTERN})(?:[ \t]*:[ \t]*([0-9]{{1,5}}))?"
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Via:
    """One via-parm. `params` keep wire order; names lower-case, values as received."""

    protocol: str = "SIP/2.0"
    transport: str
    host: str
    port: int | None = None
    params: Params = ()

    @classmethod
    def parse(cls, text: str) -> Via:
        m = _VIA.match(text)
        if m is None:
            raise ParseError(f"malformed Via {show(text)}")
        name, version, transport, host, port_text = m.groups()
        port = int(port_text) if port_text is not None else None
        if port is not None and port > 65535:
            raise ParseError(f"port out of range in Via {show(text)}")
        return cls(
            protocol=f"{name.upper()}/{version}",
            transport=transport.upper(),
            host=canonical_host(host),
            port=port,
            params=parse_params(text, m.end(), "Via"),
        )

    @classmethod
    def parse_list(cls, values: Iterable[str]) -> list[Via]:
        """Every via-parm of the given Via field values, top first (empty items refused)."""
        vias = []
        for value in values:
            for item in split_list(value, keep_empty=True):
                if not item:
                    raise ParseError(f"empty Via value in {show(value)}")
                vias.append(cls.parse(item))
        return vias

    def __str__(self) -> str:
        sent_by = self.host if self.port is None else f"{self.host}:{self.port}"
        return f"{self.protocol}/{self.transport} {sent_by}{render_params(self.params)}"

    def param(self, name: str) -> str | None:
        """Unquoted value; "" for a flag (such as a bare `rport`); None if absent."""
        return _param(self.params, name)

    def with_param(self, name: str, value: str | None = None) -> Via:
        """A copy with `name` set (None: a flag), e.g. `received` and `rport` (RFC 3581 §4)."""
        return replace(self, params=_with_param(self.params, name, value))

    @property
    def branch(self) -> str | None:
        return self.param("branch")

    @property
    def received(self) -> str | None:
        return self.param("received")

    @property
    def maddr(self) -> str | None:
        return self.param("maddr")

    @property
    def ttl(self) -> int | None:
        """via-ttl = "ttl" EQUAL ttl;  ttl = 1*3DIGIT ; 0 to 255 (None if absent or bad)."""
        return _number(self.param("ttl"), 255)

    @property
    def rport(self) -> int | None:
        """The port filled in by the server (RFC 3581 §4); None when absent or a bare flag."""
        return _number(self.param("rport"), 65535)

    @property
    def wants_rport(self) -> bool:
        """The client asked for symmetric response routing (`;rport`, RFC 3581 §3)."""
        return self.param("rport") is not None


_DIGITS = re.compile(r"[0-9]{1,5}")


def _number(value: str | None, largest: int) -> int | None:
    if value is None or _DIGITS.fullmatch(value) is None or int(value) > largest:
        return None
    return int(value)


# --- name-addr / addr-spec (§20.10, §25.1) --------------------------------------------------
#   (name-addr / addr-spec) *( SEMI generic-param )
#   name-addr = [ display-name ] LAQUOT addr-spec RAQUOT;  LAQUOT = SWS "<";  RAQUOT = ">" SWS
#   display-name = *(token LWS) / quoted-string
# RFC 4475 §3.1.1.6: the LWS between the last token and "<" may be absent.
_NAME_ADDR_HEAD = re.compile(rf"[ \t]*(?:({QUOTED})|({TOKEN}(?:[ \t]+{TOKEN})*+))?[ \t]*<")
_ADDR_SPEC = re.compile(r"[ \t]*([^; \t]+)")


@dataclass(frozen=True, slots=True, kw_only=True)
class NameAddr:
    """A From/To/Contact/Route value: display name (unquoted), URI and header parameters.

    Without <...>, parameters after the URI belong to the header, not to the URI (§20.10):
    `sip:a@b;tag=x` has tag x. `str()` always writes the name-addr form.
    """

    uri: SipUri | AbsoluteUri
    display_name: str | None = None
    params: Params = ()

    @classmethod
    def parse(cls, text: str) -> NameAddr:
        m = _NAME_ADDR_HEAD.match(text)
        if m is not None:
            quoted, tokens = m.groups()
            display = unquote(quoted) if quoted is not None else tokens
            close = text.find(">", m.end())
            if close < 0:
                raise ParseError(f"missing '>' in {show(text)}")
            # RFC 4475 §3.1.2.14: SP inside <...> is not allowed but is unambiguous; ignored.
            uri = parse_uri(text[m.end() : close].strip(" \t"))
            pos = close + 1
        else:
            if text.lstrip(" \t").startswith('"'):
                raise ParseError(f"unterminated quoted display name in {show(text)}")
            if "<" in text.partition(";")[0]:
                raise ParseError(f"display name is neither tokens nor quoted in {show(text)}")
            a = _ADDR_SPEC.match(text)
            if a is None:
                raise ParseError(f"missing address in {show(text)}")
            if "?" in a[1] or "," in a[1]:
                # §20: a URI holding ',', ';' or '?' must use the name-addr form (<...>).
                raise ParseError(f"URI with '?' or ',' must be enclosed in <> in {show(text)}")
            uri, display, pos = parse_uri(a[1]), None, a.end()
        return cls(uri=uri, display_name=display, params=parse_params(text, pos, "address"))

    @classmethod
    def parse_list(cls, values: Iterable[str]) -> list[NameAddr]:
        """Every address of the given Contact/Route/Record-Route field values, in order."""
        out = []
        for value in values:
            for item in split_list(value, keep_empty=True):
                if not item:
                    raise ParseError(f"empty address in list {show(value)}")
                out.append(cls.parse(item))
        return out

    def __str__(self) -> str:
        text = f"<{self.uri}>{render_params(self.params)}"
        return text if self.display_name is None else f"{quote(self.display_name)} {text}"

    def param(self, name: str) -> str | None:
        """Unquoted value; "" for a flag; None if absent."""
        return _param(self.params, name)

    def with_param(self, name: str, value: str | None = None) -> NameAddr:
        return replace(self, params=_with_param(self.params, name, value))

    @property
    def tag(self) -> str | None:
        return self.param("tag")

    def with_tag(self, tag: str) -> NameAddr:
        return self.with_param("tag", tag)


# --- CSeq (§20.16, §8.1.1.5) --------------------------------------------------------------
#   CSeq = "CSeq" HCOLON 1*DIGIT LWS Method;  Method = ... / extension-method (= token)
_CSEQ = re.compile(rf"[ \t]*0*([0-9]+)[ \t]+({TOKEN})[ \t]*")
_MAX_CSEQ = 2**31 - 1  # §8.1.1.5: "MUST be less than 2**31"


@dataclass(frozen=True, slots=True)
class CSeq:
    number: int
    method: str

    @classmethod
    def parse(cls, text: str) -> CSeq:
        m = _CSEQ.fullmatch(text)
        if m is None:
            raise ParseError(f"malformed CSeq {show(text)}")
        digits = m[1]
        if len(digits) > 10 or int(digits) > _MAX_CSEQ:  # length first: no huge int()
            raise ParseError(f"CSeq number out of range {show(digits)}")
        return cls(int(digits), m[2])

    def __str__(self) -> str:
        return f"{self.number} {self.method}"


# --- Digest challenge and credentials (§20.27, §20.44, §25.1; RFC 7616) --------------------
#   challenge = ("Digest" LWS digest-cln *(COMMA digest-cln)) / other-challenge
#   other-challenge = auth-scheme LWS auth-param *(COMMA auth-param)
#   credentials = ("Digest" LWS digest-response) / other-response
#   auth-param = auth-param-name EQUAL ( token / quoted-string );  auth-param-name = token
_AUTH_SCHEME = re.compile(rf"[ \t]*({TOKEN})(?:[ \t]+|[ \t]*$)")
_AUTH_PARAM = re.compile(rf"({TOKEN})[ \t]*=[ \t]*({QUOTED}|{TOKEN})[ \t]*(?:(,)[ \t]*|$)")
# Which parameters the grammar writes as bare tokens (all others are quoted-strings).
_CHALLENGE_TOKENS = frozenset({"algorithm", "stale"})  # qop-options is quoted in a challenge
_CREDENTIAL_TOKENS = frozenset({"algorithm", "nc", "qop"})


@dataclass(frozen=True, slots=True)
class AuthHeader:
    """`scheme` and its auth-params (names lower-case, values unquoted); `tokens` names the
    parameters written bare, every other one is written as a quoted-string."""

    scheme: str
    params: dict[str, str] = field(default_factory=dict)
    tokens: frozenset[str] = _CREDENTIAL_TOKENS

    @classmethod
    def parse(cls, text: str) -> AuthHeader:
        m = _AUTH_SCHEME.match(text)
        if m is None:
            raise ParseError(f"malformed authentication scheme in {show(text)}")
        params: dict[str, str] = {}
        tokens = set()
        pos, end, comma = m.end(), len(text), None
        while pos < end:
            p = _AUTH_PARAM.match(text, pos)
            if p is None:
                raise ParseError(f"malformed auth-param in {show(text[pos:])}")
            name, value, comma = p[1].lower(), p[2], p[3]
            if value[0] != '"':
                tokens.add(name)
            params[name] = unquote(value)
            pos = p.end()
        if comma:
            raise ParseError(f"trailing comma in {show(text)}")
        return cls(m[1], params, frozenset(tokens))

    @classmethod
    def challenge(cls, scheme: str, params: dict[str, str]) -> AuthHeader:
        """For WWW-Authenticate / Proxy-Authenticate (qop quoted, §25.1 qop-options)."""
        return cls(scheme, dict(params), _CHALLENGE_TOKENS)

    @classmethod
    def credentials(cls, scheme: str, params: dict[str, str]) -> AuthHeader:
        """For Authorization / Proxy-Authorization (algorithm, nc, qop bare)."""
        return cls(scheme, dict(params), _CREDENTIAL_TOKENS)

    def param(self, name: str) -> str | None:
        return self.params.get(name.lower())

    def __str__(self) -> str:
        rendered = []
        for name, value in self.params.items():
            bare = name in self.tokens and TOKEN_RE.fullmatch(value) is not None
            rendered.append(f"{name}={value if bare else quote(value)}")
        return f"{self.scheme} {', '.join(rendered)}" if rendered else self.scheme
