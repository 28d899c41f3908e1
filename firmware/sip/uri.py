"""SIP and SIPS URIs (RFC 3261 §19.1, grammar §25.1) and the other absolute URIs SIP carries.

Theory of operation
-------------------
A SIP URI has the general form (§19.1.1)

    sip:user:password@host:port;uri-parameters?headers

Parsing is done at fixed delimiters, never character by character in Python:

1. the scheme is what precedes the first ':'; anything but sip/sips is an absoluteURI
   (tel:, http:, urn:...). `parse_uri` returns those as `AbsoluteUri`; `SipUri.parse`
   refuses them with status 416 (Unsupported URI Scheme, §8.2.2.1);
2. the first '@' ends the userinfo: no part after it may contain a bare '@' (paramchar and
   hvalue exclude it), so the split is unambiguous even though `user` may hold ';', '?'
   and '/' (RFC 4475 §3.1.1.9 "semiuri"); the first ':' of the userinfo starts the password;
3. one compiled regex takes host, port, the parameter run and the header run apart; each
   parameter and header is then checked against its ABNF by `fullmatch`.

Escapes: `user`, `password`, parameter names and values and header names and values are
stored *unescaped* (`%41` -> `A`, `%00` -> NUL, RFC 4475 §3.1.1.3/§3.1.1.4); bytes that are
not UTF-8 survive as surrogate escapes, so nothing is lost. `str()` re-escapes exactly the
characters the grammar does not allow in that component, with upper-case hex: that is the
canonical form. One deviation: §19.1.4 says an escaped *reserved* character is not the same as
the bare one (`a%3Bb` differs from `a;b`); we store both as `a;b`. No real peer relies on it.

Normalisation on parse: scheme, host and parameter names are lower-cased (they compare
case-insensitively, §19.1.4); an IPv6 host is kept in brackets, in its compressed form.

Comparison (`SipUri.matches`) follows §19.1.4: userinfo case-sensitive after unescaping, host
case-insensitive, an explicit port never equals an omitted one, parameters present in both
must agree (case-insensitively), user/ttl/method/maddr/transport present in only one never
match (transport per the §19.1.4 examples), other one-sided parameters are ignored, and URI
headers must be present in both and equal.

Leniency: hostnames follow §25.1 except that a top label may start with a digit (so IPv4
needs no separate rule; a dotted quad out of range is merely a hostname that will not resolve).
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import quote, unquote

from firmware.sip.errors import ParseError

__all__ = [
    "HOST_PATTERN",
    "AbsoluteUri",
    "SipUri",
    "Uri",
    "canonical_host",
    "parse_uri",
    "show",
]


def show(text: str, limit: int = 60) -> str:
    """A short repr of peer text for error messages (never the whole of a long value)."""
    return repr(text if len(text) <= limit else text[:limit] + "...")


# --- Grammar (RFC 3261 §25.1) --------------------------------------------------------------
#   alphanum = ALPHA / DIGIT
#   mark = "-" / "_" / "." / "!" / "~" / "*" / "'" / "(" / ")"
#   unreserved = alphanum / mark
#   escaped = "%" HEXDIG HEXDIG
_UNRESERVED = r"A-Za-z0-9\-_.!~*'()"
#   user = 1*( unreserved / escaped / user-unreserved )
#   user-unreserved = "&" / "=" / "+" / "$" / "," / ";" / "?" / "/"
_USER_CHARS = _UNRESERVED + r"&=+$,;?/"
#   password = *( unreserved / escaped / "&" / "=" / "+" / "$" / "," )
_PASSWORD_CHARS = _UNRESERVED + r"&=+$,"
#   paramchar = param-unreserved / unreserved / escaped
#   param-unreserved = "[" / "]" / "/" / ":" / "&" / "+" / "$"
_PARAM_CHARS = _UNRESERVED + r"\[\]/:&+$"
#   hname = 1*( hnv-unreserved / unreserved / escaped )
#   hvalue = *( hnv-unreserved / unreserved / escaped )
#   hnv-unreserved = "[" / "]" / "/" / "?" / ":" / "+" / "$"
_HEADER_CHARS = _UNRESERVED + r"\[\]/?:+$"


def _escaped_run(chars: str) -> str:
    """`*( [chars] / escaped )` unrolled as `[c]* (escaped [c]*)*` so sre loops tightly."""
    return rf"[{chars}]*+(?:%[0-9A-Fa-f]{{2}}[{chars}]*+)*+"


#   uri-parameter = transport-param / user-param / method-param / ttl-param / maddr-param
#                   / lr-param / other-param          (all of the form pname [ "=" pvalue ])
#   other-param = pname [ "=" pvalue ];  pname = 1*paramchar;  pvalue = 1*paramchar
_PARAM_RUN = _escaped_run(_PARAM_CHARS)
_URI_PARAM = re.compile(rf"({_PARAM_RUN})(?:=({_PARAM_RUN}))?")
#   header = hname "=" hvalue
_HEADER_RUN = _escaped_run(_HEADER_CHARS)
_URI_HEADER = re.compile(rf"({_HEADER_RUN})=({_HEADER_RUN})")

#   host = hostname / IPv4address / IPv6reference
#   hostname = *( domainlabel "." ) toplabel [ "." ]
#   domainlabel = alphanum / alphanum *( alphanum / "-" ) alphanum
#   toplabel = ALPHA / ALPHA *( alphanum / "-" ) alphanum   (leniency: any alphanum first)
#   IPv4address = 1*3DIGIT "." 1*3DIGIT "." 1*3DIGIT "." 1*3DIGIT
#   IPv6reference = "[" IPv6address "]"        (checked by the ipaddress module)
_LABEL = r"[A-Za-z0-9]++(?:-++[A-Za-z0-9]++)*+"
HOST_PATTERN = rf"\[[0-9A-Fa-f:.]+\]|(?:{_LABEL}\.)*{_LABEL}\.?"
#   SIP-URI = "sip:" [ userinfo ] hostport uri-parameters [ headers ]
#   SIPS-URI = "sips:" [ userinfo ] hostport uri-parameters [ headers ]
#   userinfo = ( user / telephone-subscriber ) [ ":" password ] "@"
#   hostport = host [ ":" port ];  port = 1*DIGIT
#   uri-parameters = *( ";" uri-parameter);  headers = "?" header *( "&" header )
# The user and password runs are possessive: no bare '@' can follow them except the one that
# ends the userinfo, so when it is missing the group fails at once (no backtracking) and the
# text is read as a hostport. Parameters and headers are split here and checked one by one.
_SIP_URI = re.compile(
    rf"([Ss][Ii][Pp][Ss]?):"
    rf"(?:({_escaped_run(_USER_CHARS)})(?::({_escaped_run(_PASSWORD_CHARS)}))?@)?"
    rf"({HOST_PATTERN})(?::([0-9]{{1,5}}))?((?:;[^;?]*)*)(?:\?(.*))?",
    re.DOTALL,
)

#   absoluteURI = scheme ":" ( hier-part / opaque-part )
#   scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )
#   uric = reserved / unreserved / escaped
#   reserved = ";" / "/" / "?" / ":" / "@" / "&" / "=" / "+" / "$" / ","
_ABSOLUTE_URI = re.compile(
    rf"([A-Za-z][A-Za-z0-9+\-.]*):((?=.)(?:{_escaped_run(_UNRESERVED + r';/?:@&=+$,')}))",
    re.DOTALL,
)

# quote() never escapes ALPHA / DIGIT / "_.-~"; these are the rest of each component's set.
_USER_SAFE = "!*'()&=+$,;?/"
_PASSWORD_SAFE = "!*'()&=+$,"
_PARAM_SAFE = "!*'()[]/:&+$"
_HEADER_SAFE = "!*'()[]/?:+$"
_USER_BARE = re.compile(rf"[{_USER_CHARS}]*")
_PASSWORD_BARE = re.compile(rf"[{_PASSWORD_CHARS}]*")
_PARAM_BARE = re.compile(rf"[{_PARAM_CHARS}]+")
_HEADER_BARE = re.compile(rf"[{_HEADER_CHARS}]*")


def _unescape(text: str) -> str:
    # unquote() returns at once when there is no '%'.
    return unquote(text, errors="surrogateescape")


def _escape(text: str, bare: re.Pattern[str], safe: str) -> str:
    if bare.fullmatch(text):
        return text
    return quote(text, safe=safe, errors="surrogateescape")


def canonical_host(host: str) -> str:
    """Lower-case a hostname; compress an IPv6 reference (kept in brackets)."""
    if host[0] != "[":  # grammar: a host is never empty
        return host.lower()
    try:
        return f"[{ipaddress.IPv6Address(host[1:-1]).compressed}]"
    except ValueError:
        raise ParseError(f"malformed IPv6 reference {show(host)}") from None


# §19.1.4: these parameters never match when present in only one of the URIs.
_MUST_BE_IN_BOTH = ("user", "ttl", "method", "maddr", "transport")


@dataclass(frozen=True, slots=True, kw_only=True)
class SipUri:
    """A sip: or sips: URI. Build with keywords; `parse` validates, the constructor trusts."""

    scheme: str = "sip"
    user: str | None = None
    password: str | None = None
    host: str
    port: int | None = None
    params: tuple[tuple[str, str | None], ...] = ()
    headers: tuple[tuple[str, str], ...] = ()
    _text: str | None = field(default=None, init=False, repr=False, compare=False, hash=False)

    @classmethod
    def parse(cls, text: str) -> SipUri:
        """Parse a SIP/SIPS URI; ParseError(416) for another valid scheme, 400 if malformed."""
        m = _SIP_URI.fullmatch(text)
        if m is None:
            raise _refusal(text)
        return _build(m, text)

    def __str__(self) -> str:
        text = self._text
        if text is None:
            text = self._render()
            object.__setattr__(self, "_text", text)  # memo on a frozen instance
        return text

    def _render(self) -> str:
        parts = [self.scheme, ":"]
        if self.user:  # an empty user cannot be written (§19.1.1); it is no user
            parts.append(_escape(self.user, _USER_BARE, _USER_SAFE))
            if self.password is not None:
                parts += (":", _escape(self.password, _PASSWORD_BARE, _PASSWORD_SAFE))
            parts.append("@")
        parts.append(self.host)
        if self.port is not None:
            parts.append(f":{self.port}")
        for name, value in self.params:
            parts += (";", _escape(name, _PARAM_BARE, _PARAM_SAFE))
            if value:  # pvalue = 1*paramchar: an empty value is written as a flag
                parts += ("=", _escape(value, _PARAM_BARE, _PARAM_SAFE))
        separator = "?"
        for name, value in self.headers:
            parts += (separator, _escape(name, _HEADER_BARE, _HEADER_SAFE), "=")
            parts.append(_escape(value, _HEADER_BARE, _HEADER_SAFE))
            separator = "&"
        return "".join(parts)

    @property
    def hostport(self) -> str:
        return self.host if self.port is None else f"{self.host}:{self.port}"

    def param(self, name: str) -> str | None:
        """The value of parameter `name` (case-insensitive): None if absent, "" for a flag
        such as `lr` that is present without a value."""
        name = name.lower()
        for key, value in self.params:
            if key == name:
                return "" if value is None else value
        return None

    def has_param(self, name: str) -> bool:
        return self.param(name) is not None

    def with_(self, **changes: Any) -> SipUri:
        """A copy with fields replaced, e.g. `uri.with_(host="192.0.2.1", port=5062)`."""
        return replace(self, **changes)

    def with_param(self, name: str, value: str | None = None) -> SipUri:
        """A copy with parameter `name` set (replacing any present), `None` for a flag."""
        name = name.lower()
        kept = tuple(p for p in self.params if p[0] != name)
        return replace(self, params=(*kept, (name, value)))

    def without_params(self, *names: str) -> SipUri:
        drop = {n.lower() for n in names}
        return replace(self, params=tuple(p for p in self.params if p[0] not in drop))

    def matches(self, other: object) -> bool:
        """URI equivalence per RFC 3261 §19.1.4 (see the module docstring)."""
        if not isinstance(other, SipUri):
            return False
        if (self.scheme, self.user, self.password, self.host, self.port) != (
            other.scheme,
            other.user,
            other.password,
            other.host,
            other.port,
        ):
            return False
        mine, theirs = _folded(self.params), _folded(other.params)
        for name in mine.keys() & theirs.keys():
            if mine[name] != theirs[name]:
                return False
        for name in _MUST_BE_IN_BOTH:
            if (name in mine) != (name in theirs):
                return False
        headers = {(n.lower(), v) for n, v in self.headers}
        return headers == {(n.lower(), v) for n, v in other.headers}


def _build(m: re.Match[str], text: str) -> SipUri:
    scheme, user, password, host, port, params, headers = m.groups()
    if user is not None:
        if not user:  # §19.1.1: if the @ sign is present, the user field MUST NOT be empty
            raise ParseError(f"empty user part in URI {show(text)}")
        if "%" in user:
            user = _unescape(user)
        if password is not None and "%" in password:
            password = _unescape(password)
    return SipUri(
        scheme=scheme.lower(),
        user=user,
        password=password,
        host=host.lower() if host[0] != "[" else canonical_host(host),
        port=None if port is None else _port(port, text),
        params=_parse_params(params, text) if params else (),
        headers=_parse_headers(headers, text) if headers is not None else (),
    )


def _refusal(text: str) -> ParseError:
    """Why `text` is not a SIP URI: another scheme (416) or plain malformation (400)."""
    scheme = text.partition(":")[0].lower()
    if scheme not in ("sip", "sips") and _ABSOLUTE_URI.fullmatch(text):
        return ParseError(f"unsupported URI scheme {show(scheme)}", 416)
    return ParseError(f"malformed URI {show(text)}")


def _port(text: str, uri: str) -> int:
    port = int(text)
    if port > 65535:
        raise ParseError(f"port out of range in URI {show(uri)}")
    return port


def _folded(params: tuple[tuple[str, str | None], ...]) -> dict[str, str | None]:
    return {name: None if value is None else value.lower() for name, value in params}


def _parse_params(text: str, uri: str) -> tuple[tuple[str, str | None], ...]:
    out: list[tuple[str, str | None]] = []
    for item in text[1:].split(";"):
        m = _URI_PARAM.fullmatch(item)
        if m is None or not m[1] or m[2] == "":  # pname and pvalue are 1*paramchar
            raise ParseError(f"malformed URI parameter {show(item)} in {show(uri)}")
        value = m[2]
        name = m[1] if "%" not in m[1] else _unescape(m[1])
        if value is not None and "%" in value:
            value = _unescape(value)
        out.append((name.lower(), value))
    return tuple(out)


def _parse_headers(text: str, uri: str) -> tuple[tuple[str, str], ...]:
    out: list[tuple[str, str]] = []
    for item in text.split("&"):
        m = _URI_HEADER.fullmatch(item)
        if m is None or not m[1]:
            raise ParseError(f"malformed URI header {show(item)} in {show(uri)}")
        out.append((_unescape(m[1]), _unescape(m[2])))
    return tuple(out)


@dataclass(frozen=True, slots=True)
class AbsoluteUri:
    """A URI of another scheme (tel:, urn:, http:...), kept as received after the colon.

    SIP lets these appear in the Request-URI and in To/From/Contact (RFC 3261 §19, RFC 4475
    §3.3.2-§3.3.4); deciding whether to serve them (416) is the application's business.
    """

    scheme: str
    rest: str

    @classmethod
    def parse(cls, text: str) -> AbsoluteUri:
        m = _ABSOLUTE_URI.fullmatch(text)
        if m is None:
            raise ParseError(f"malformed URI {show(text)}")
        return cls(m[1].lower(), m[2])

    def __str__(self) -> str:
        return f"{self.scheme}:{self.rest}"

    def matches(self, other: object) -> bool:
        """Plain equality; scheme-specific rules (RFC 3966 for tel:) are not applied."""
        return isinstance(other, AbsoluteUri) and (self.scheme, self.rest) == (
            other.scheme,
            other.rest,
        )


Uri = SipUri | AbsoluteUri


def parse_uri(text: str) -> SipUri | AbsoluteUri:
    """Parse any URI SIP allows in a Request-URI or name-addr: SipUri or AbsoluteUri."""
    m = _SIP_URI.fullmatch(text)
    if m is not None:
        return _build(m, text)
    if text[:4].lower() == "sip:" or text[:5].lower() == "sips:":
        raise ParseError(f"malformed URI {show(text)}")
    return AbsoluteUri.parse(text)
