"""The registrar as a phone and an installer see it (RFC 3261 §10, digest auth §22).

Every REGISTER is written as text and parsed, and every 401 is answered the way a phone
answers it (`client_credentials`, the nonce count going up by one per request), so each
test reads like a capture: what the phone sent, what the box answered, which phones the
box would ring afterwards (`bindings`).
"""

from __future__ import annotations

import pytest

from firmware.engine.guard import Guard
from firmware.engine.registrar import MAX_BINDINGS, Registrar
from firmware.engine.sipauth import Authenticator
from firmware.sip.auth import Algorithm, Challenge, client_credentials
from firmware.sip.message import Request, Response, parse_message
from firmware.sip.transport import Address

REALM = "pbx.example"
SECRETS = {"201": "s3cret-201", "202": "an0ther-202"}
DESK = Address("UDP", "192.0.2.10", 5060)
T0 = 1000.0


def registrar() -> Registrar:
    return Registrar(Authenticator(REALM, dict(SECRETS), Guard()))


class Phone:
    """The REGISTER side of a SIP phone: one Call-ID, CSeq counting up, and a 401 answered
    with the credentials of `username` (the extension itself unless told otherwise)."""

    def __init__(self, box: Registrar, ext: str = "201", *, password: str | None = None,
                 username: str | None = None, source: Address = DESK,
                 call_id: str | None = None) -> None:
        self.box = box
        self.ext = ext
        self.username = username or ext
        self.password = SECRETS.get(self.username, "guess") if password is None else password
        self.source = source
        self.call_id = call_id or f"reg-{ext}-{source.port}@{source.host}"
        self.cseq = 0
        self.challenge: Challenge | None = None
        self.nc = 0

    @property
    def contact(self) -> str:
        return f"<sip:{self.ext}@{self.source.host}:{self.source.port}>"

    def request(self, *, contacts: list[str] | None = None, expires: int | None = None,
                cseq: int | None = None) -> Request:
        self.cseq = self.cseq + 1 if cseq is None else cseq
        lines = [
            f"REGISTER sip:{REALM} SIP/2.0",
            f"Via: SIP/2.0/UDP {self.source.host}:{self.source.port}"
            f";branch=z9hG4bK{self.call_id.split('@')[0]}-{self.cseq}",
            "Max-Forwards: 70",
            f"From: <sip:{self.ext}@{REALM}>;tag=ph{self.ext}",
            f"To: <sip:{self.ext}@{REALM}>",
            f"Call-ID: {self.call_id}",
            f"CSeq: {self.cseq} REGISTER",
            *(f"Contact: {c}" for c in ([self.contact] if contacts is None else contacts)),
        ]
        if expires is not None:
            lines.append(f"Expires: {expires}")
        if self.challenge is not None:
            self.nc += 1
            credentials = client_credentials(self.challenge, "REGISTER", f"sip:{REALM}",
                                             self.username, self.password,
                                             cnonce=f"cn{self.nc}", nc=self.nc)
            lines.append(f"Authorization: {credentials.header_value()}")
        lines += ["User-Agent: TestPhone/1.0", "Content-Length: 0", "", ""]
        message = parse_message("\r\n".join(lines).encode())
        assert isinstance(message, Request)
        return message

    def send(self, now: float, *, contacts: list[str] | None = None,
             expires: int | None = None, cseq: int | None = None) -> Response:
        """One REGISTER, one answer; a 401's challenge is kept for the next request."""
        request = self.request(contacts=contacts, expires=expires, cseq=cseq)
        response = self.box.register(request, self.source, now)
        if response.status == 401:
            self.challenge = challenge_of(response)
            self.nc = 0
        return response

    def register(self, now: float, *, contacts: list[str] | None = None,
                 expires: int | None = None) -> Response:
        """What a phone does: send, and on 401 send again with credentials."""
        response = self.send(now, contacts=contacts, expires=expires)
        if response.status == 401:
            response = self.send(now, contacts=contacts, expires=expires)
        return response


def challenge_of(response: Response) -> Challenge:
    values = response.headers.values("WWW-Authenticate")
    assert len(values) == 1, values
    return Challenge.parse(values[0])


def expires_listed(response: Response) -> dict[str, int]:
    """The bindings a 200 lists: contact URI -> seconds left (§10.3 step 8)."""
    listed = {}
    for value in response.headers.values("Contact"):
        uri, _, params = value.partition(">")
        expires = dict(p.split("=", 1) for p in params.split(";") if "=" in p)["expires"]
        listed[uri.lstrip("<")] = int(expires)
    return listed


def header_names(response: Response) -> list[str]:
    return [name for _, name, _ in response.headers.fields()]


# ---------------------------------------------------------------------------------------------
# Authentication


def test_a_first_register_is_challenged_with_md5_digest_and_is_no_failure() -> None:
    box = registrar()
    phone = Phone(box)
    for attempt in range(10):  # far more than the guard's 5: challenges are not failures
        response = Phone(box, call_id=f"try{attempt}@192.0.2.10").send(T0 + attempt)
        assert response.status == 401
        challenge = challenge_of(response)
        assert challenge.algorithm is Algorithm.MD5
        assert challenge.realm == REALM
        assert challenge.qop == ("auth",)
        assert not challenge.stale
    assert not box.auth.guard.banned(DESK.host, T0 + 10)
    assert box.bindings("201", T0 + 10) == []
    assert phone.register(T0 + 10).status == 200


def test_right_credentials_bind_the_contact_with_its_expiry() -> None:
    box = registrar()
    response = Phone(box).register(T0)
    assert response.status == 200
    assert expires_listed(response) == {"sip:201@192.0.2.10:5060": 3600}
    (binding,) = box.bindings("201", T0)
    assert str(binding.contact.uri) == "sip:201@192.0.2.10:5060"
    assert binding.source == DESK
    assert binding.user_agent == "TestPhone/1.0"


def test_a_wrong_password_and_an_unknown_extension_get_the_same_403() -> None:
    box = registrar()
    wrong = Phone(box, "201", password="s3cret-202").register(T0)
    unknown = Phone(box, "299", password="s3cret-201").register(T0)
    assert wrong.status == unknown.status == 403
    assert wrong.reason == unknown.reason
    assert header_names(wrong) == header_names(unknown)
    assert box.bindings("201", T0) == box.bindings("299", T0) == []


def test_five_refused_registers_ban_the_source() -> None:
    box = registrar()
    for attempt in range(5):
        assert not box.auth.guard.banned(DESK.host, T0)
        phone = Phone(box, "201", password=f"guess{attempt}", call_id=f"g{attempt}@x")
        assert phone.register(T0).status == 403
    assert box.auth.guard.banned(DESK.host, T0)


def test_registering_another_extensions_aor_with_ones_own_credentials_is_forbidden() -> None:
    box = registrar()
    response = Phone(box, "202", username="201").register(T0)
    assert response.status == 403
    assert box.bindings("202", T0) == []
    assert box.bindings("201", T0) == []


def test_a_stale_nonce_is_challenged_again_with_stale_true() -> None:
    box = registrar()
    phone = Phone(box)
    assert phone.register(T0).status == 200
    assert phone.send(T0 + 299).status == 200  # the same nonce, next nc: still fresh
    response = phone.send(T0 + 301)  # nonces live 300 s
    assert response.status == 401
    assert challenge_of(response).stale
    assert phone.send(T0 + 301).status == 200  # the phone answers the new nonce at once
    assert not box.auth.guard.banned(DESK.host, T0 + 301)


# ---------------------------------------------------------------------------------------------
# Expiry (§10.2.1.1, §10.3 steps 7-8)


def test_the_contact_expires_param_wins_over_the_expires_header() -> None:
    box = registrar()
    contact = "<sip:201@192.0.2.10:5060>;expires=120"
    response = Phone(box).register(T0, contacts=[contact], expires=600)
    assert response.status == 200
    assert expires_listed(response) == {"sip:201@192.0.2.10:5060": 120}


def test_the_expires_header_applies_to_contacts_without_a_param() -> None:
    response = Phone(registrar()).register(T0, expires=300)
    assert expires_listed(response) == {"sip:201@192.0.2.10:5060": 300}


def test_without_any_expires_a_binding_lasts_an_hour() -> None:
    response = Phone(registrar()).register(T0)
    assert expires_listed(response) == {"sip:201@192.0.2.10:5060": 3600}


@pytest.mark.parametrize(("contact", "expires"), [
    ("<sip:201@192.0.2.10:5060>", 86400),
    ("<sip:201@192.0.2.10:5060>;expires=7200", None),
])
def test_a_longer_expiry_is_capped_at_an_hour(contact: str, expires: int | None) -> None:
    box = registrar()
    response = Phone(box).register(T0, contacts=[contact], expires=expires)
    assert response.status == 200
    assert expires_listed(response) == {"sip:201@192.0.2.10:5060": 3600}
    assert box.bindings("201", T0 + 3599) != []
    assert box.bindings("201", T0 + 3600) == []


def test_an_expiry_below_a_minute_is_refused_with_min_expires() -> None:
    box = registrar()
    phone = Phone(box)
    response = phone.register(T0, expires=59)
    assert response.status == 423
    assert response.headers.get("Min-Expires") == "60"
    assert box.bindings("201", T0) == []
    assert phone.register(T0, expires=60).status == 200


def test_a_binding_lapses_when_its_time_is_up_unless_refreshed() -> None:
    box = registrar()
    desk = Phone(box)
    soft = Phone(box, source=Address("UDP", "192.0.2.11", 5062))
    assert desk.register(T0, expires=120).status == 200
    assert soft.register(T0, expires=300).status == 200
    assert len(box.bindings("201", T0 + 119)) == 2
    (left,) = box.bindings("201", T0 + 120)
    assert left.source == soft.source
    assert soft.register(T0 + 250, expires=300).status == 200  # a refresh
    assert [b.source for b in box.bindings("201", T0 + 500)] == [soft.source]
    assert box.bindings("201", T0 + 550) == []


# ---------------------------------------------------------------------------------------------
# Removing bindings, ordering, limits (§10.3)


def test_contact_star_with_expires_0_removes_every_binding() -> None:
    box = registrar()
    assert Phone(box).register(T0).status == 200
    soft = Phone(box, source=Address("UDP", "192.0.2.11", 5062))
    assert soft.register(T0).status == 200
    assert len(box.bindings("201", T0)) == 2
    response = soft.register(T0 + 1, contacts=["*"], expires=0)
    assert response.status == 200
    assert box.bindings("201", T0 + 1) == []


@pytest.mark.parametrize("expires", [None, 3600])
def test_contact_star_without_expires_0_is_a_bad_request(expires: int | None) -> None:
    box = registrar()
    phone = Phone(box)
    assert phone.register(T0).status == 200
    assert phone.register(T0 + 1, contacts=["*"], expires=expires).status == 400
    assert len(box.bindings("201", T0 + 1)) == 1


def test_a_contact_with_expires_0_removes_that_binding_only() -> None:
    box = registrar()
    desk = Phone(box)
    soft = Phone(box, source=Address("UDP", "192.0.2.11", 5062))
    assert desk.register(T0).status == 200
    assert soft.register(T0).status == 200
    response = desk.register(T0 + 1, expires=0)
    assert response.status == 200
    assert [b.source for b in box.bindings("201", T0 + 1)] == [soft.source]
    assert list(expires_listed(response)) == ["sip:201@192.0.2.11:5062"]


def test_an_older_cseq_on_the_same_call_id_is_refused_with_500() -> None:
    box = registrar()
    phone = Phone(box)
    assert phone.register(T0, expires=600).status == 200  # CSeq 1 challenged, CSeq 2 bound
    response = phone.send(T0 + 1, cseq=1, expires=1200)
    assert response.status == 500
    (binding,) = box.bindings("201", T0 + 1)
    assert binding.expires_at == T0 + 600  # the late request changed nothing
    assert phone.send(T0 + 2, cseq=3, expires=1200).status == 200
    rebooted = Phone(box, call_id="after-reboot@192.0.2.10")  # new Call-ID: CSeq starts over
    assert rebooted.register(T0 + 3).status == 200


def test_an_extension_holds_at_most_ten_bindings() -> None:
    box = registrar()
    phones = [Phone(box, source=Address("UDP", "192.0.2.10", 5060 + i))
              for i in range(MAX_BINDINGS + 1)]
    for phone in phones[:MAX_BINDINGS]:
        assert phone.register(T0).status == 200
    assert phones[MAX_BINDINGS].register(T0).status == 403
    assert len(box.bindings("201", T0)) == MAX_BINDINGS
    assert phones[0].register(T0 + 1).status == 200  # refreshing one is not adding one


def test_expired_bindings_leave_room_for_new_ones() -> None:
    box = registrar()
    for i in range(MAX_BINDINGS):
        phone = Phone(box, source=Address("UDP", "192.0.2.10", 5060 + i))
        assert phone.register(T0, expires=60).status == 200
    assert box.bindings("201", T0 + 61) == []
    # The softphone restarted on a new port after all the others went away.
    newcomer = Phone(box, source=Address("UDP", "192.0.2.10", 6000))
    assert newcomer.register(T0 + 61).status == 200


def test_a_refused_register_changes_no_binding() -> None:
    box = registrar()
    phone = Phone(box)
    response = phone.register(T0, contacts=["<sip:201@192.0.2.10:5060>",
                                            "<sip:201@192.0.2.10:5070>;expires=30"])
    assert response.status == 423
    assert box.bindings("201", T0) == []


def test_an_older_cseq_cannot_remove_a_binding_either() -> None:
    box = registrar()
    phone = Phone(box)
    assert phone.register(T0).status == 200  # bound at CSeq 2
    assert phone.send(T0 + 1, cseq=1, expires=0).status == 500
    assert len(box.bindings("201", T0 + 1)) == 1
