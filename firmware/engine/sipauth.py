"""Digest authentication of phones' requests (REGISTER, INVITE) for the engine.

Wraps `firmware.sip.auth` with the extensions' secrets and the guard. Outcomes:
no credentials -> challenge (not a failure); stale nonce -> challenge with stale=true;
anything that does not verify -> FORBIDDEN, the same for an unknown extension and a wrong
password, and one failure counted against the source address.
"""

from __future__ import annotations

import enum
import os
from dataclasses import dataclass, field

from firmware.engine.guard import Guard
from firmware.sip.auth import (
    Algorithm,
    AuthError,
    AuthResult,
    Credentials,
    DigestServer,
    NonceKeeper,
)
from firmware.sip.errors import ParseError
from firmware.sip.message import Request
from firmware.sip.uri import SipUri


class Verdict(enum.Enum):
    OK = "ok"
    CHALLENGE = "challenge"
    FORBIDDEN = "forbidden"


@dataclass(frozen=True, slots=True)
class AuthOutcome:
    verdict: Verdict
    user: str | None = None
    challenge_headers: list[tuple[str, str]] = field(default_factory=list)


class Authenticator:
    def __init__(self, realm: str, secrets: dict[str, str], guard: Guard,
                 algorithms: tuple[str, ...] = ("MD5",)) -> None:
        self.realm = realm
        self.secrets = secrets
        self.guard = guard
        self._digest = DigestServer(realm, NonceKeeper(os.urandom(32)),
                                    [Algorithm.from_token(a) for a in algorithms])

    def check(self, request: Request, source_ip: str, now: float,
              header: str = "Authorization") -> AuthOutcome:
        value = request.headers.get(header)
        if value is None:
            return self._challenge(now, header, stale=False)
        try:
            credentials = Credentials.parse(value)
            request_uri = _credential_uri(credentials.uri, request)
        except (AuthError, ParseError):
            return self._fail(source_ip, now)
        result = self._digest.verify(request.method, credentials, self.secrets.get, now,
                                     request_uri=request_uri)
        if result is AuthResult.STALE:
            return self._challenge(now, header, stale=True)
        if result is not AuthResult.OK:
            return self._fail(source_ip, now)
        return AuthOutcome(Verdict.OK, user=credentials.username)

    def _challenge(self, now: float, header: str, stale: bool) -> AuthOutcome:
        name = "Proxy-Authenticate" if header == "Proxy-Authorization" else "WWW-Authenticate"
        headers = [(name, c.header_value()) for c in self._digest.challenges(now, stale=stale)]
        return AuthOutcome(Verdict.CHALLENGE, challenge_headers=headers)

    def _fail(self, source_ip: str, now: float) -> AuthOutcome:
        self.guard.failed(source_ip, now)
        return AuthOutcome(Verdict.FORBIDDEN)


def _credential_uri(uri: str, request: Request) -> str:
    """The uri the credentials were computed for, if it names the requested resource.

    Phones write the Request-URI into the digest as they sent it; it may differ from our
    re-serialisation only in form (case of the host, parameter order), so compare parsed."""
    if uri == str(request.uri):
        return uri
    if SipUri.parse(uri) == request.uri:
        return uri
    return str(request.uri)
