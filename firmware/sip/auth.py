"""SIP digest authentication (RFC 3261 §22, RFC 7616, RFC 8760): registrar and trunk sides.

Theory of operation
-------------------
A server that wants proof of identity answers a request with 401 (407 from a proxy) and a
challenge (RFC 3261 §22.1, §22.4):

    WWW-Authenticate: Digest realm="pbx", nonce="...", algorithm=SHA-256, qop="auth"

The client repeats the request with credentials computed from its password, which itself
never crosses the wire (RFC 7616 §3.4.1-§3.4.3; RFC 2617 §3.2.2.1 for the same with MD5):

    HA1      = H(username ":" realm ":" password)
    HA2      = H(method ":" uri)                          uri: the Request-URI as sent
    response = H(HA1 ":" nonce ":" nc ":" cnonce ":" "auth" ":" HA2)          qop=auth
    response = H(HA1 ":" nonce ":" HA2)                   no qop (RFC 2069, RFC 3261 §22.4)

H is MD5 or SHA-256, written as lowercase hex (RFC 8760 §2 brings SHA-256 to SIP). A server
that supports several algorithms sends one challenge per algorithm, the preferred one first,
and the client uses the first one it supports (RFC 7616 §3.7, RFC 8760 §2.4): we offer
SHA-256 before MD5, and `select_challenge()` does the client's part.

What we do not do, on purpose:

* `qop=auth-int` (a hash of the body): barely used by SIP phones; a challenge that offers only
  auth-int is refused with `AuthError`.
* The `-sess` algorithms (MD5-sess, SHA-256-sess): they exist so a third-party server can
  hand out session keys (RFC 7616 §3.4.2); no phone or trunk we target needs them, and
  `Challenge.parse` refuses them with `AuthError`, so `select_challenge()` skips them.
* `userhash`, SHA-512-256 (hashlib has it only with some OpenSSL builds), and Basic (RFC 3261
  §22.1 forbids it).

Nonces are stateless (`NonceKeeper`): a nonce is base64url(issue time in ms, a counter, and
an HMAC-SHA-256 over both and the realm under a per-boot secret). Checking one needs no table,
so a box restart or a scanner asking for thousands of challenges costs no memory. A nonce
older than `lifetime_s` is *stale*: the client knew the password, so the server answers a new
challenge with `stale=true` and the client retries silently (RFC 7616 §3.3); that is not a
failed login. A nonce of another boot (another secret) or a forged one is simply bad.

Replay (RFC 7616 §3.4 `nc`; its security considerations, §5): with qop=auth a client counts
its requests per nonce in `nc`. The keeper remembers the highest nc accepted per nonce in an
LRU of `max_tracked` nonces (default 2048 entries, about 200 bytes each, so under half a
megabyte); a request whose nc is not above the highest seen is a replay and fails. When a
still-fresh nonce falls out of the LRU, its counter becomes a floor: any untracked nonce
issued at or before it is answered as stale, so the client fetches a new nonce instead of a
replay slipping through.

Enumeration (REFERENCE "Security facts"; sipvicious `svwar`): an unknown user and a wrong
password take the same path. For an unknown user the digest is computed against a dummy
password, compared with `hmac.compare_digest`, and the result is `FAILED` either way.
"""

from __future__ import annotations

import base64
import enum
import hashlib
import hmac
import re
import struct
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

__all__ = [
    "Algorithm",
    "AuthError",
    "AuthResult",
    "Challenge",
    "Credentials",
    "DigestServer",
    "NonceKeeper",
    "NonceState",
    "client_credentials",
    "digest_response",
    "select_challenge",
]


class AuthError(ValueError):
    """A malformed or unusable challenge or credentials header (status hint 400)."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


class Algorithm(enum.Enum):
    """Digest hash algorithms, by their `algorithm=` token (RFC 7616 §6.1 registry)."""

    MD5 = "MD5"
    SHA256 = "SHA-256"

    @property
    def hex_length(self) -> int:
        return 32 if self is Algorithm.MD5 else 64

    @classmethod
    def from_token(cls, token: str) -> Algorithm:
        """The algorithm for a token, case-insensitive (RFC 7616 §3.3); AuthError otherwise."""
        for algorithm in cls:
            if algorithm.value.lower() == token.lower():
                return algorithm
        raise AuthError(f"unsupported digest algorithm {token[:40]!r}")


_HASHLIB_NAMES = {Algorithm.MD5: "md5", Algorithm.SHA256: "sha256"}


def _utf8(text: str) -> bytes:
    try:  # text decoded with surrogateescape hashes as its original bytes
        return text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogatepass")


def _h(algorithm: Algorithm, text: str) -> str:
    name = _HASHLIB_NAMES[algorithm]
    return hashlib.new(name, _utf8(text), usedforsecurity=False).hexdigest()


def digest_response(
    algorithm: Algorithm,
    *,
    username: str,
    realm: str,
    password: str,
    method: str,
    uri: str,
    nonce: str,
    qop: str | None = None,
    nc: str | None = None,
    cnonce: str | None = None,
) -> str:
    """The `response` value (RFC 7616 §3.4.1; without qop, RFC 2617 §3.2.2.1)."""
    ha1 = _h(algorithm, f"{username}:{realm}:{password}")
    ha2 = _h(algorithm, f"{method}:{uri}")
    if qop is None:
        return _h(algorithm, f"{ha1}:{nonce}:{ha2}")
    return _h(algorithm, f"{ha1}:{nonce}:{nc}:{cnonce}:{qop}:{ha2}")


# ---------------------------------------------------------------------------------------------
# Header values
#
#   challenge    = "Digest" LWS digest-cln *(COMMA digest-cln)        (RFC 3261 §25.1)
#   credentials  = "Digest" LWS dig-resp *(COMMA dig-resp)
#   auth-param   = token EQUAL ( token / quoted-string )
#   quoted-string = DQUOTE *(qdtext / quoted-pair) DQUOTE,  quoted-pair = "\" CHAR

_TOKEN = re.compile(r"[A-Za-z0-9\-.!%*_+`'~]+")
_LWS = " \t\r\n"
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")  # CTLs but HTAB: never inside a value
_NC = re.compile(r"[0-9a-fA-F]{8}")
_HEX = re.compile(r"[0-9a-fA-F]+")


def _skip_lws(text: str, i: int) -> int:
    while i < len(text) and text[i] in _LWS:
        i += 1
    return i


def _parse_quoted(text: str, i: int) -> tuple[str, int]:
    """The quoted-string starting at text[i] == '"'; returns (content, index after it)."""
    out: list[str] = []
    i += 1
    while i < len(text):
        char = text[i]
        if char == "\\":
            if i + 1 >= len(text):
                break
            out.append(text[i + 1])
            i += 2
        elif char == '"':
            return "".join(out), i + 1
        else:
            out.append(char)
            i += 1
    raise AuthError("unterminated quoted string")


def _parse_value(text: str, i: int, name: str) -> tuple[str, int]:
    if i < len(text) and text[i] == '"':
        value, i = _parse_quoted(text, i)
    else:  # a token; we are lenient and take anything up to a comma or white space
        start = i
        while i < len(text) and text[i] not in ',"' and text[i] not in _LWS:
            i += 1
        value = text[start:i]
        if not value:
            raise AuthError(f"parameter {name!r} has no value")
    if _CONTROL.search(value):
        raise AuthError(f"parameter {name!r} holds a control character")
    return value, i


def _parse_params(header_value: str) -> tuple[str, dict[str, str]]:
    """Split `<scheme> name=value, name="quoted, value", ...` into scheme and parameters
    (names lowercased). Commas and escaped quotes inside quoted strings are honoured."""
    text = header_value
    i = _skip_lws(text, 0)
    scheme = _TOKEN.match(text, i)
    if scheme is None:
        raise AuthError("the header value does not start with an auth scheme")
    i = scheme.end()
    params: dict[str, str] = {}
    while True:
        i = _skip_lws(text, i)
        while i < len(text) and text[i] == ",":  # empty list elements are allowed (#rule)
            i = _skip_lws(text, i + 1)
        if i >= len(text):
            break
        name_match = _TOKEN.match(text, i)
        if name_match is None:
            raise AuthError(f"expected a parameter name at offset {i}")
        name = name_match[0].lower()
        i = _skip_lws(text, name_match.end())
        if i >= len(text) or text[i] != "=":
            raise AuthError(f"parameter {name!r} has no '='")
        value, i = _parse_value(text, _skip_lws(text, i + 1), name)
        if name in params:
            raise AuthError(f"parameter {name!r} appears twice")
        params[name] = value
        i = _skip_lws(text, i)
        if i < len(text) and text[i] != ",":
            raise AuthError(f"expected ',' after parameter {name!r}")
    return scheme[0], params


def _digest_params(header_value: str) -> dict[str, str]:
    scheme, params = _parse_params(header_value)
    if scheme.lower() != "digest":
        raise AuthError(f"not a Digest header: scheme {scheme[:20]!r}")
    return params


def _quote(value: str) -> str:
    if _CONTROL.search(value):
        raise AuthError("a header parameter cannot hold a control character")
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _required(params: dict[str, str], name: str, what: str) -> str:
    value = params.get(name)
    if value is None:
        raise AuthError(f"no {name} in {what}")
    return value


@dataclass(frozen=True, slots=True)
class Challenge:
    """One `WWW-Authenticate` / `Proxy-Authenticate: Digest ...` value (RFC 7616 §3.3)."""

    realm: str
    nonce: str
    algorithm: Algorithm = Algorithm.MD5
    qop: tuple[str, ...] = ("auth",)
    opaque: str | None = None
    stale: bool = False

    def header_value(self) -> str:
        parts = [
            f"Digest realm={_quote(self.realm)}",
            f"nonce={_quote(self.nonce)}",
            f"algorithm={self.algorithm.value}",
        ]
        if self.qop:
            parts.append(f"qop={_quote(','.join(self.qop))}")
        if self.opaque is not None:
            parts.append(f"opaque={_quote(self.opaque)}")
        if self.stale:
            parts.append("stale=true")
        return ", ".join(parts)

    @classmethod
    def parse(cls, header_value: str) -> Challenge:
        """Parse a challenge; an absent algorithm means MD5, an absent qop means RFC 2069
        style (no qop). Raises AuthError, also for algorithms we do not support."""
        params = _digest_params(header_value)
        qop = tuple(q.strip() for q in params.get("qop", "").split(",") if q.strip())
        return cls(
            realm=_required(params, "realm", "the challenge"),
            nonce=_required(params, "nonce", "the challenge"),
            algorithm=Algorithm.from_token(params.get("algorithm", "MD5")),
            qop=qop,
            opaque=params.get("opaque"),
            stale=params.get("stale", "").lower() == "true",
        )


@dataclass(frozen=True, slots=True)
class Credentials:
    """One `Authorization` / `Proxy-Authorization: Digest ...` value (RFC 7616 §3.4).
    `qop`, `nc` and `cnonce` are None only for RFC 2069 style answers without qop."""

    username: str
    realm: str
    nonce: str
    uri: str
    response: str
    algorithm: Algorithm = Algorithm.MD5
    qop: str | None = None
    nc: str | None = None  # 8 hex digits (RFC 7616 §3.4)
    cnonce: str | None = None
    opaque: str | None = None

    def header_value(self) -> str:
        parts = [
            f"Digest username={_quote(self.username)}",
            f"realm={_quote(self.realm)}",
            f"nonce={_quote(self.nonce)}",
            f"uri={_quote(self.uri)}",
            f"response={_quote(self.response)}",
            f"algorithm={self.algorithm.value}",
        ]
        if self.cnonce is not None:
            parts.append(f"cnonce={_quote(self.cnonce)}")
        if self.opaque is not None:
            parts.append(f"opaque={_quote(self.opaque)}")
        if self.qop is not None:  # message-qop and nonce-count are tokens, not quoted
            parts.append(f"qop={_checked_token(self.qop, 'qop')}")
        if self.nc is not None:
            parts.append(f"nc={_checked_token(self.nc, 'nc')}")
        return ", ".join(parts)

    @classmethod
    def parse(cls, header_value: str) -> Credentials:
        """Parse credentials; raises AuthError naming what is missing or malformed."""
        params = _digest_params(header_value)
        algorithm = Algorithm.from_token(params.get("algorithm", "MD5"))
        response = _required(params, "response", "the credentials").lower()
        if len(response) != algorithm.hex_length or not _HEX.fullmatch(response):
            raise AuthError(
                f"response is not a {algorithm.hex_length}-digit hex {algorithm.value} digest"
            )
        qop, nc, cnonce = params.get("qop"), params.get("nc"), params.get("cnonce")
        if qop is not None:
            if not _TOKEN.fullmatch(qop):
                raise AuthError("qop is not a token")
            if nc is None or cnonce is None:  # RFC 7616 §3.4: both MUST come with qop
                raise AuthError("credentials with qop need nc and cnonce")
        if nc is not None and not _NC.fullmatch(nc):
            raise AuthError("nc is not 8 hex digits")
        return cls(
            username=_required(params, "username", "the credentials"),
            realm=_required(params, "realm", "the credentials"),
            nonce=_required(params, "nonce", "the credentials"),
            uri=_required(params, "uri", "the credentials"),
            response=response,
            algorithm=algorithm,
            qop=qop,
            nc=nc.lower() if nc is not None else None,
            cnonce=cnonce,
            opaque=params.get("opaque"),
        )


def _checked_token(value: str, name: str) -> str:
    if not _TOKEN.fullmatch(value):
        raise AuthError(f"{name} is not a token: {value[:20]!r}")
    return value


# ---------------------------------------------------------------------------------------------
# Nonces


class NonceState(enum.Enum):
    VALID = "valid"
    STALE = "stale"  # ours but expired (or forgotten): re-challenge with stale=true
    BAD = "bad"  # not ours, of another boot, tampered with, or a replayed nc


_NONCE = re.compile(r"[A-Za-z0-9_-]{43}")  # base64url of 32 bytes, unpadded
_NONCE_HEAD = struct.Struct(">qQ")  # issue time in ms (signed), counter
_MAC_BYTES = 16
_FUTURE_SLACK_S = 1.0  # a nonce "issued" later than now is not ours


class NonceKeeper:
    """Issues and checks stateless nonces; remembers nc per nonce in a bounded LRU."""

    def __init__(
        self, secret: bytes, lifetime_s: float = 300.0, *, max_tracked: int = 2048
    ) -> None:
        if len(secret) < 16:
            raise ValueError("the nonce secret needs at least 16 bytes")
        self._secret = secret
        self.lifetime_s = lifetime_s
        self._max_tracked = max_tracked
        self._counter = 0
        # nonce -> (highest nc accepted, counter, issue time ms), least recently used first
        self._seen: OrderedDict[str, tuple[int, int, int]] = OrderedDict()
        self._floor = -1  # untracked nonces with a counter <= this may have been evicted

    def _mac(self, head: bytes, realm: str) -> bytes:
        message = b"sip-digest-nonce\x00" + head + _utf8(realm)
        return hmac.new(self._secret, message, hashlib.sha256).digest()[:_MAC_BYTES]

    def issue(self, now: float, *, realm: str = "") -> str:
        self._counter += 1
        head = _NONCE_HEAD.pack(int(now * 1000), self._counter)
        return base64.urlsafe_b64encode(head + self._mac(head, realm)).decode().rstrip("=")

    def _open(self, nonce: str, realm: str) -> tuple[int, int] | None:
        """(issue time ms, counter) of a nonce we issued for `realm`, else None."""
        if not _NONCE.fullmatch(nonce):
            return None
        raw = base64.urlsafe_b64decode(nonce + "=")
        head, mac = raw[: _NONCE_HEAD.size], raw[_NONCE_HEAD.size :]
        if not hmac.compare_digest(mac, self._mac(head, realm)):
            return None
        issued_ms, counter = _NONCE_HEAD.unpack(head)
        return issued_ms, counter

    def check(
        self, nonce: str, now: float, *, nc: int | None = None, realm: str = ""
    ) -> NonceState:
        """Whether `nonce` is ours, fresh and (given `nc`) not replayed.

        With `nc` the nc is also *recorded* as the highest seen, so pass it only once the
        digest has been verified: a wrong guess must not burn the real client's counter.
        """
        opened = self._open(nonce, realm)
        if opened is None:
            return NonceState.BAD
        issued_ms, counter = opened
        age = now - issued_ms / 1000
        if age < -_FUTURE_SLACK_S:
            return NonceState.BAD
        if age > self.lifetime_s:
            return NonceState.STALE
        if nc is None:
            return NonceState.VALID
        return self._record(nonce, nc, counter, issued_ms, now)

    def _record(self, nonce: str, nc: int, counter: int, issued_ms: int, now: float) -> NonceState:
        seen = self._seen.get(nonce)
        if seen is None and counter <= self._floor:
            return NonceState.STALE  # we may have forgotten its nc: make the client start over
        if nc < 1 or (seen is not None and nc <= seen[0]):
            return NonceState.BAD
        self._seen[nonce] = (nc, counter, issued_ms)
        self._seen.move_to_end(nonce)
        while len(self._seen) > self._max_tracked:
            _, (_, old_counter, old_issued_ms) = self._seen.popitem(last=False)
            if now - old_issued_ms / 1000 <= self.lifetime_s:  # still usable: keep it safe
                self._floor = max(self._floor, old_counter)
        return NonceState.VALID


# ---------------------------------------------------------------------------------------------
# Server (registrar, UAS) and client (trunk registration, outbound INVITE)


class AuthResult(enum.Enum):
    OK = "ok"
    STALE = "stale"  # right password, expired nonce: challenge again with stale=true
    FAILED = "failed"  # wrong password, unknown user, or bad realm/uri/nonce/nc: one answer


# Never anybody's password: `password_for` returning None already means FAILED.
_DUMMY_PASSWORD = "\x00no such user\x00"


class DigestServer:
    """Challenges requests and verifies their credentials for one realm."""

    def __init__(
        self,
        realm: str,
        nonces: NonceKeeper,
        algorithms: Iterable[Algorithm] = (Algorithm.SHA256, Algorithm.MD5),
    ) -> None:
        # Offered in the order given: clients answer the first challenge they support
        # (RFC 8760 §2.4), and some old ones give up if the first is one they do not know.
        self.algorithms = tuple(dict.fromkeys(algorithms))
        if not self.algorithms:
            raise ValueError("a digest server needs at least one algorithm")
        self.realm = realm
        self._nonces = nonces

    def challenges(self, now: float, stale: bool = False) -> list[Challenge]:
        """One challenge per algorithm, strongest first (RFC 7616 §3.7, RFC 8760 §2.4), all
        on one fresh nonce; each goes in its own WWW-Authenticate header (RFC 3261 §7.3.1
        forbids folding these into one)."""
        nonce = self._nonces.issue(now, realm=self.realm)
        return [
            Challenge(self.realm, nonce, algorithm, stale=stale) for algorithm in self.algorithms
        ]

    def verify(
        self,
        method: str,
        credentials: Credentials,
        password_for: Callable[[str], str | None],
        now: float,
        *,
        request_uri: str,
    ) -> AuthResult:
        """Check `credentials` sent with a `method` request to `request_uri`.

        Every request runs the same steps, so an unknown user cannot be told from a wrong
        password by the result or by the time taken. `request_uri` must equal the uri
        parameter character for character: the server must make sure the credentials were
        computed for the resource requested (RFC 2617 §3.2.2.5, RFC 7616 §3.4.6), or a
        response captured for one request could be replayed against another.
        """
        c = credentials
        ok = c.realm == self.realm and c.uri == request_uri and c.algorithm in self.algorithms
        nc = int(c.nc, 16) if c.nc is not None and _NC.fullmatch(c.nc) else None
        ok = ok and c.qop == "auth" and nc is not None and c.cnonce is not None
        password = password_for(c.username)
        if password is None:
            ok, password = False, _DUMMY_PASSWORD
        expected = digest_response(
            c.algorithm,
            username=c.username,
            realm=self.realm,
            password=password,
            method=method,
            uri=c.uri,
            nonce=c.nonce,
            qop="auth",
            nc=c.nc,
            cnonce=c.cnonce,
        )
        ok = hmac.compare_digest(expected.encode(), _utf8(c.response.lower())) and ok
        state = self._nonces.check(c.nonce, now, realm=self.realm)
        if not ok or state is NonceState.BAD:
            return AuthResult.FAILED
        if state is NonceState.STALE:
            return AuthResult.STALE
        replay = self._nonces.check(c.nonce, now, nc=nc, realm=self.realm)
        if replay is NonceState.STALE:
            return AuthResult.STALE
        return AuthResult.OK if replay is NonceState.VALID else AuthResult.FAILED


def select_challenge(header_values: Iterable[str]) -> Challenge:
    """The challenge a client should answer: the first Digest value whose algorithm and qop
    we support, in the order received (RFC 7616 §3.7, RFC 8760 §2.4)."""
    for value in header_values:
        try:
            challenge = Challenge.parse(value)
        except AuthError:
            continue
        if not challenge.qop or "auth" in challenge.qop:
            return challenge
    raise AuthError("no Digest challenge with a supported algorithm and qop")


def client_credentials(
    challenge: Challenge,
    method: str,
    uri: str,
    username: str,
    password: str,
    *,
    cnonce: str,
    nc: int = 1,
) -> Credentials:
    """Answer `challenge` for a `method` request to `uri` (the Request-URI, RFC 3261 §22.4).

    `cnonce` comes from the caller (random, e.g. `secrets.token_urlsafe(16)`); `nc` counts
    the requests sent with this nonce, from 1. A challenge without qop is answered the
    RFC 2069 way, as RFC 3261 §22.4 still requires of a client.
    """
    if not 1 <= nc <= 0xFFFFFFFF:
        raise AuthError(f"nc {nc} is out of range 1..ffffffff")
    qop: str | None = None
    if "auth" in challenge.qop:
        qop = "auth"
    elif challenge.qop:
        raise AuthError(f"the challenge offers only qop {','.join(challenge.qop)!r}")
    nc_text = f"{nc:08x}" if qop else None
    response = digest_response(
        challenge.algorithm,
        username=username,
        realm=challenge.realm,
        password=password,
        method=method,
        uri=uri,
        nonce=challenge.nonce,
        qop=qop,
        nc=nc_text,
        cnonce=cnonce if qop else None,
    )
    return Credentials(
        username=username,
        realm=challenge.realm,
        nonce=challenge.nonce,
        uri=uri,
        response=response,
        algorithm=challenge.algorithm,
        qop=qop,
        nc=nc_text,
        cnonce=cnonce if qop else None,
        opaque=challenge.opaque,
    )
