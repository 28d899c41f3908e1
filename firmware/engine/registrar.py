"""The registrar: where each extension's SIP phones are (RFC 3261 §10).

A REGISTER must authenticate as the extension it registers (the user part of To). Each
Contact becomes a binding with an expiry; the box later sends that extension's calls to
every binding, to the address the REGISTER came from (a phone behind NAT is reachable only
there, RFC 3581). `Contact: *` with `Expires: 0` removes them all. Time is an argument.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from firmware.engine.sipauth import Authenticator, Verdict
from firmware.logs import call_event
from firmware.sip.errors import ParseError
from firmware.sip.headers import NameAddr
from firmware.sip.message import Request, Response, make_response
from firmware.sip.transport import Address

log = logging.getLogger(__name__)

MIN_EXPIRES = 60  # shorter refreshes only load the box (423 Interval Too Brief, §10.3.7)
MAX_EXPIRES = 3600
DEFAULT_EXPIRES = 3600
MAX_BINDINGS = 10  # per extension: a desk phone, a softphone, a DECT base ... not a botnet


@dataclass(frozen=True, slots=True)
class Binding:
    extension: str
    contact: NameAddr
    source: Address
    expires_at: float
    call_id: str
    cseq: int
    user_agent: str | None


class Registrar:
    def __init__(self, auth: Authenticator) -> None:
        self.auth = auth
        self._bindings: dict[str, dict[str, Binding]] = {}

    def bindings(self, extension: str, now: float) -> list[Binding]:
        live = [b for b in self._bindings.get(extension, {}).values() if b.expires_at > now]
        return sorted(live, key=lambda b: -b.expires_at)

    def all_bindings(self, now: float) -> list[Binding]:
        return [b for bindings in self._bindings.values() for b in bindings.values()
                if b.expires_at > now]

    def register(self, request: Request, source: Address, now: float) -> Response:
        outcome = self.auth.check(request, source.host, now)
        if outcome.verdict is Verdict.CHALLENGE:
            return make_response(request, 401, headers=outcome.challenge_headers)
        extension = getattr(request.to.uri, "user", None)
        if outcome.verdict is Verdict.FORBIDDEN or outcome.user != extension:
            if outcome.verdict is Verdict.OK:  # right password, someone else's extension
                self.auth.guard.failed(source.host, now)
            call_event("register-refused", source=str(source), ext=extension)
            return make_response(request, 403)
        assert extension is not None
        try:
            contacts = request.contacts
        except ParseError as exc:
            return make_response(request, exc.status, str(exc))
        header_expires = _int(request.headers.get("Expires"))
        current = self._bindings.setdefault(extension, {})
        for key in [k for k, b in current.items() if b.expires_at <= now]:
            del current[key]  # expired bindings neither ring nor count against the limit
        if contacts == "*":
            if header_expires != 0:
                return make_response(request, 400, "Contact * needs Expires: 0")
            current.clear()
            call_event("unregister", ext=extension, source=str(source))
            return make_response(request, 200)
        # Check every contact before changing any: a REGISTER succeeds or fails whole
        # (§10.3 step 7).
        changes: list[tuple[str, NameAddr, int]] = []
        for contact in contacts:
            expires = _int(contact.param("expires"))
            expires = header_expires if expires is None else expires
            expires = DEFAULT_EXPIRES if expires is None else expires
            if 0 < expires < MIN_EXPIRES or expires < 0:
                return make_response(request, 423, headers=[("Min-Expires", str(MIN_EXPIRES))])
            key = str(contact.uri)
            old = current.get(key)
            if old is not None and old.call_id == request.call_id and \
                    old.cseq >= request.cseq.number:
                return make_response(request, 500, "Out of order REGISTER")  # §10.3 step 7
            changes.append((key, contact, expires))
        added = {key for key, _, expires in changes if expires and key not in current}
        if len(current) + len(added) > MAX_BINDINGS:
            return make_response(request, 403, f"At most {MAX_BINDINGS} registrations")
        for key, contact, expires in changes:
            if expires == 0:
                current.pop(key, None)
                continue
            current[key] = Binding(extension, contact, source,
                                   now + min(expires, MAX_EXPIRES), request.call_id,
                                   request.cseq.number, request.headers.get("User-Agent"))
        call_event("register", ext=extension, source=str(source), contacts=len(current))
        listed = [(b.contact.with_param("expires", str(round(b.expires_at - now))))
                  for b in self.bindings(extension, now)]
        return make_response(request, 200, headers=[("Contact", str(c)) for c in listed])

    def expire(self, now: float) -> None:
        for extension, bindings in self._bindings.items():
            for key in [k for k, b in bindings.items() if b.expires_at <= now]:
                del bindings[key]
                call_event("registration-expired", ext=extension)


def _int(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        return None
