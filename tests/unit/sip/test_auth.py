"""Digest authentication: the RFC worked examples, server and client back to back, nonces.

Expected responses are the ones printed in RFC 2069 §2.4, RFC 2617 §3.5 and RFC 7616 §3.9.1
(password "Circle of Life" with a lowercase "of" there, per verified erratum 4495).
"""

from __future__ import annotations

import contextlib
import hmac
from collections.abc import Callable
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from firmware.sip import auth
from firmware.sip.auth import (
    Algorithm,
    AuthError,
    AuthResult,
    Challenge,
    Credentials,
    DigestServer,
    NonceKeeper,
    NonceState,
    client_credentials,
    digest_response,
    select_challenge,
)

SECRET = bytes(range(32))
REALM = "pbx.example"
URI = "sip:pbx.example"
USERS = {"201": "s3cret-201", "202": "an0ther"}
T0 = 1000.0


def server(
    *algorithms: Algorithm, lifetime_s: float = 300.0, max_tracked: int = 2048
) -> DigestServer:
    keeper = NonceKeeper(SECRET, lifetime_s, max_tracked=max_tracked)
    return DigestServer(REALM, keeper, algorithms or (Algorithm.SHA256, Algorithm.MD5))


def login(
    srv: DigestServer,
    username: str = "201",
    password: str = "s3cret-201",
    *,
    algorithm: Algorithm = Algorithm.SHA256,
    now: float = T0,
    nc: int = 1,
    method: str = "REGISTER",
    uri: str = URI,
) -> Credentials:
    challenge = next(c for c in srv.challenges(now) if c.algorithm is algorithm)
    return client_credentials(challenge, method, uri, username, password, cnonce="0a4f113b", nc=nc)


def verify(
    srv: DigestServer, creds: Credentials, now: float = T0, method: str = "REGISTER"
) -> AuthResult:
    return srv.verify(method, creds, USERS.get, now, request_uri=URI)


# ---------------------------------------------------------------------------------------------
# The RFC examples


RFC2617_CHALLENGE = (
    'Digest realm="testrealm@host.com", qop="auth,auth-int", '
    'nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41"'
)
RFC2617_AUTHORIZATION = """Digest username="Mufasa",
                 realm="testrealm@host.com",
                 nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093",
                 uri="/dir/index.html",
                 qop=auth,
                 nc=00000001,
                 cnonce="0a4f113b",
                 response="6629fae49393a05397450978507c4ef1",
                 opaque="5ccc069c403ebaf9f0171e9517f40e41\""""


def test_rfc_2617_section_3_5_example() -> None:
    challenge = Challenge.parse(RFC2617_CHALLENGE)
    assert challenge.algorithm is Algorithm.MD5  # absent means MD5
    assert challenge.qop == ("auth", "auth-int")
    creds = client_credentials(
        challenge, "GET", "/dir/index.html", "Mufasa", "Circle Of Life", cnonce="0a4f113b"
    )
    assert creds.response == "6629fae49393a05397450978507c4ef1"
    assert creds.qop == "auth" and creds.nc == "00000001"
    assert creds.opaque == "5ccc069c403ebaf9f0171e9517f40e41"
    parsed = Credentials.parse(RFC2617_AUTHORIZATION)
    assert parsed == creds


def test_rfc_2069_example_without_qop() -> None:
    # RFC 2069 §2.4: no qop, so no nc/cnonce; RFC 3261 §22.4 keeps this working for clients.
    challenge = Challenge.parse(
        'Digest realm="testrealm@host.com", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", '
        'opaque="5ccc069c403ebaf9f0171e9517f40e41"'
    )
    assert challenge.qop == ()
    creds = client_credentials(
        challenge, "GET", "/dir/index.html", "Mufasa", "CircleOfLife", cnonce="unused"
    )
    assert creds.response == "1949323746fe6a43ef61f9606e7febea"
    assert creds.qop is None and creds.nc is None and creds.cnonce is None
    assert "qop=" not in creds.header_value() and "nc=" not in creds.header_value()


RFC7616_NONCE = "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v"
RFC7616_OPAQUE = "FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"
RFC7616_CNONCE = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ"


@pytest.mark.parametrize(
    ("algorithm", "token", "response"),
    [
        (Algorithm.MD5, "MD5", "8ca523f5e9506fed4657c9700eebdbec"),
        (
            Algorithm.SHA256,
            "SHA-256",
            "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1",
        ),
    ],
)
def test_rfc_7616_section_3_9_1_examples(algorithm: Algorithm, token: str, response: str) -> None:
    # The challenge exactly as the RFC prints it, folded over lines.
    challenge = Challenge.parse(f"""Digest
       realm="http-auth@example.org",
       qop="auth, auth-int",
       algorithm={token},
       nonce="{RFC7616_NONCE}",
       opaque="{RFC7616_OPAQUE}\"""")
    assert challenge == Challenge(
        "http-auth@example.org", RFC7616_NONCE, algorithm, ("auth", "auth-int"), RFC7616_OPAQUE
    )
    creds = client_credentials(
        challenge, "GET", "/dir/index.html", "Mufasa", "Circle of Life", cnonce=RFC7616_CNONCE
    )
    assert creds.response == response
    authorization = Credentials.parse(f"""Digest username="Mufasa",
       realm="http-auth@example.org",
       uri="/dir/index.html",
       algorithm={token},
       nonce="{RFC7616_NONCE}",
       nc=00000001,
       cnonce="{RFC7616_CNONCE}",
       qop=auth,
       response="{response}",
       opaque="{RFC7616_OPAQUE}\"""")
    assert authorization == creds
    assert (
        digest_response(
            algorithm,
            username="Mufasa",
            realm="http-auth@example.org",
            password="Circle of Life",
            method="GET",
            uri="/dir/index.html",
            nonce=RFC7616_NONCE,
            qop="auth",
            nc="00000001",
            cnonce=RFC7616_CNONCE,
        )
        == response
    )


# ---------------------------------------------------------------------------------------------
# Server and client back to back


@pytest.mark.parametrize("algorithm", list(Algorithm))
def test_round_trip_for_each_algorithm(algorithm: Algorithm) -> None:
    srv = server()
    creds = login(srv, algorithm=algorithm)
    # Through the wire format and back, as a real request would carry it.
    assert verify(srv, Credentials.parse(creds.header_value())) is AuthResult.OK


def test_challenges_come_in_the_configured_order_on_one_nonce() -> None:
    # Clients answer the first challenge they support (RFC 8760 §2.4); some old ones
    # (baresip 1.0) give up when the first is SHA-256, so the order is the installer's.
    md5_first = server(Algorithm.MD5, Algorithm.SHA256).challenges(T0)
    assert [c.algorithm for c in md5_first] == [Algorithm.MD5, Algorithm.SHA256]
    srv = server(Algorithm.SHA256, Algorithm.MD5)
    first, second = srv.challenges(T0)
    assert (first.algorithm, second.algorithm) == (Algorithm.SHA256, Algorithm.MD5)
    assert first.nonce == second.nonce and first.realm == REALM
    assert first.qop == ("auth",) and not first.stale
    assert first.header_value() == (
        f'Digest realm="pbx.example", nonce="{first.nonce}", algorithm=SHA-256, qop="auth"'
    )
    assert all(c.stale for c in srv.challenges(T0, stale=True))
    assert srv.challenges(T0)[0].nonce != first.nonce  # every challenge gets a fresh nonce
    assert [c.algorithm for c in server(Algorithm.MD5).challenges(T0)] == [Algorithm.MD5]


def test_wrong_password_and_unknown_user_look_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    real_h, real_compare = auth._h, hmac.compare_digest

    def counting_h(algorithm: Algorithm, text: str) -> str:
        calls.append("hash")
        return real_h(algorithm, text)

    def counting_compare(a: bytes, b: bytes) -> bool:
        calls.append("compare")
        return bool(real_compare(a, b))

    monkeypatch.setattr(auth, "_h", counting_h)
    monkeypatch.setattr(hmac, "compare_digest", counting_compare)
    srv = server()
    traces, results = [], []
    for username, password in [("201", "wrong"), ("999", "wrong"), ("999", "s3cret-201")]:
        creds = login(srv, username, password)
        calls.clear()
        results.append(verify(srv, creds))
        traces.append(list(calls))
    assert results == [AuthResult.FAILED] * 3
    assert traces[0] == traces[1] == traces[2]
    assert traces[0].count("hash") == 3  # HA1, HA2, response: the dummy password is hashed too


def test_stale_nonce_is_stale_not_failed() -> None:
    srv = server(lifetime_s=300.0)
    creds = login(srv, now=T0)
    assert verify(srv, creds, now=T0 + 300.0) is AuthResult.OK
    late = login(srv, now=T0)
    assert verify(srv, late, now=T0 + 300.5) is AuthResult.STALE
    # A stale nonce with the wrong password is a failure (RFC 7616 §3.3: stale only when the
    # digest is right).
    assert verify(srv, login(srv, password="nope", now=T0), now=T0 + 301) is AuthResult.FAILED


def test_tampered_or_foreign_nonce_fails() -> None:
    srv = server()
    good = login(srv)
    nonce = good.nonce
    flipped = nonce[:10] + ("A" if nonce[10] != "A" else "B") + nonce[11:]
    for bad_nonce in [flipped, nonce[:-1], nonce + "x", "dcd98b7102dd2f0e8b11d0f600bfb0c093", ""]:
        creds = client_credentials(
            Challenge(REALM, bad_nonce, Algorithm.SHA256),
            "REGISTER",
            URI,
            "201",
            "s3cret-201",
            cnonce="x",
        )
        assert verify(srv, creds) is AuthResult.FAILED, bad_nonce
    keeper = NonceKeeper(SECRET)
    ours = keeper.issue(T0, realm=REALM)
    assert keeper.check(ours, T0, realm=REALM) is NonceState.VALID
    other_boot = NonceKeeper(bytes(32)).issue(T0, realm=REALM)
    assert keeper.check(other_boot, T0, realm=REALM) is NonceState.BAD
    assert keeper.check(ours, T0, realm="other") is NonceState.BAD
    assert keeper.check(ours, T0 - 5.0, realm=REALM) is NonceState.BAD  # from the future


def test_nc_replay_is_rejected() -> None:
    srv = server()
    first = login(srv, nc=1)
    assert verify(srv, first) is AuthResult.OK
    assert verify(srv, first) is AuthResult.FAILED  # the same request again
    challenge = Challenge(REALM, first.nonce, Algorithm.SHA256)

    def with_nc(nc: int) -> Credentials:
        return client_credentials(
            challenge, "REGISTER", URI, "201", "s3cret-201", cnonce="c", nc=nc
        )

    assert verify(srv, with_nc(3)) is AuthResult.OK  # counting up, gaps allowed
    assert verify(srv, with_nc(2)) is AuthResult.FAILED  # lower than seen
    assert verify(srv, with_nc(4)) is AuthResult.OK


def test_a_failed_guess_does_not_burn_the_clients_nc() -> None:
    srv = server()
    challenge = srv.challenges(T0)[0]
    guess = client_credentials(challenge, "REGISTER", URI, "201", "guess", cnonce="c", nc=0xFFFF)
    assert verify(srv, guess) is AuthResult.FAILED
    real = client_credentials(challenge, "REGISTER", URI, "201", "s3cret-201", cnonce="c", nc=1)
    assert verify(srv, real) is AuthResult.OK


def test_realm_uri_method_algorithm_and_qop_mismatches_fail() -> None:
    srv = server()
    nonce = srv.challenges(T0)[0].nonce
    cases = {
        "realm": Challenge("elsewhere", nonce, Algorithm.SHA256),
        "no qop (RFC 2069 style)": Challenge(REALM, nonce, Algorithm.SHA256, qop=()),
    }
    for name, challenge in cases.items():
        creds = client_credentials(challenge, "REGISTER", URI, "201", "s3cret-201", cnonce="c")
        assert verify(srv, creds) is AuthResult.FAILED, name
    creds = login(srv, uri="sip:other.example")
    assert verify(srv, creds) is AuthResult.FAILED  # uri is not the Request-URI
    assert (
        srv.verify("REGISTER", login(srv), USERS.get, T0, request_uri="sip:x") is AuthResult.FAILED
    )
    assert verify(srv, login(srv), method="INVITE") is AuthResult.FAILED  # signed for REGISTER
    md5_only = server(Algorithm.MD5)
    challenge = Challenge(REALM, md5_only.challenges(T0)[0].nonce, Algorithm.SHA256)
    creds = client_credentials(challenge, "REGISTER", URI, "201", "s3cret-201", cnonce="c")
    assert verify(md5_only, creds) is AuthResult.FAILED  # an algorithm we did not offer


def test_nonce_lru_forgets_safely() -> None:
    keeper = NonceKeeper(SECRET, 300.0, max_tracked=2)
    a, b, c = (keeper.issue(T0, realm=REALM) for _ in range(3))
    for nonce in (a, b, c):  # a falls out of the LRU while still fresh
        assert keeper.check(nonce, T0, nc=1, realm=REALM) is NonceState.VALID
    assert keeper.check(a, T0, nc=1, realm=REALM) is NonceState.STALE  # a replay cannot slip in
    assert keeper.check(a, T0, nc=2, realm=REALM) is NonceState.STALE  # nor a fresh count
    assert keeper.check(c, T0, nc=1, realm=REALM) is NonceState.BAD  # still tracked
    d = keeper.issue(T0, realm=REALM)
    assert keeper.check(d, T0, nc=1, realm=REALM) is NonceState.VALID  # newer than the floor


def test_evicting_an_expired_nonce_raises_no_floor() -> None:
    keeper = NonceKeeper(SECRET, 10.0, max_tracked=1)
    old = keeper.issue(T0)
    fresh = keeper.issue(T0 + 20)
    assert keeper.check(old, T0, nc=1) is NonceState.VALID
    unused = keeper.issue(T0 + 20)
    assert keeper.check(fresh, T0 + 20, nc=1) is NonceState.VALID  # evicts `old`, expired by now
    assert keeper.check(unused, T0 + 20, nc=1) is NonceState.VALID


def test_an_evicted_nonce_is_answered_stale_by_the_server() -> None:
    srv = server(max_tracked=1)
    first, second = login(srv), login(srv)
    assert verify(srv, first) is AuthResult.OK
    assert verify(srv, second) is AuthResult.OK  # evicts first's nonce while fresh
    challenge = Challenge(REALM, first.nonce, Algorithm.SHA256)
    again = client_credentials(challenge, "REGISTER", URI, "201", "s3cret-201", cnonce="c", nc=2)
    assert verify(srv, again) is AuthResult.STALE


def test_short_secret_is_refused() -> None:
    with pytest.raises(ValueError, match="16 bytes"):
        NonceKeeper(b"short")


# ---------------------------------------------------------------------------------------------
# Header values


def test_challenge_round_trip_with_quoted_commas_and_escaped_quotes() -> None:
    challenge = Challenge(
        realm='Office, "Main" \\ branch',
        nonce="n,o=n ce",
        algorithm=Algorithm.SHA256,
        qop=("auth", "auth-int"),
        opaque='x"y',
        stale=True,
    )
    value = challenge.header_value()
    assert value == (
        'Digest realm="Office, \\"Main\\" \\\\ branch", nonce="n,o=n ce", algorithm=SHA-256, '
        'qop="auth,auth-int", opaque="x\\"y", stale=true'
    )
    assert Challenge.parse(value) == challenge


def test_credentials_round_trip_with_quoted_commas_and_escaped_quotes() -> None:
    creds = client_credentials(
        Challenge('a "realm", really', "nonce", Algorithm.MD5, opaque=""),
        "INVITE",
        "sip:+4930123@trunk.example;user=phone",
        'we\\ird, "user"',
        "pw",
        cnonce='c"n,once',
        nc=255,
    )
    assert creds.nc == "000000ff" and creds.opaque == ""
    assert Credentials.parse(creds.header_value()) == creds


def test_lenient_parsing() -> None:
    challenge = Challenge.parse(
        'digest  realm = "r" ,, nonce="n",stale=TRUE, domain="sip:a sip:b", algorithm="md5",'
    )
    assert challenge == Challenge("r", "n", Algorithm.MD5, (), None, stale=True)
    creds = Credentials.parse(
        'Digest username="u", realm="r", nonce="n", uri="sip:r", qop="auth", nc=0000000A, '
        'cnonce="c", response="' + "AB" * 16 + '"'
    )
    assert creds.response == "ab" * 16 and creds.nc == "0000000a" and creds.qop == "auth"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "the header value does not start with an auth scheme"),
        ('Basic realm="r"', "not a Digest header: scheme 'Basic'"),
        ('Digest nonce="n"', "no realm in the challenge"),
        ('Digest realm="r"', "no nonce in the challenge"),
        ('Digest realm="r, nonce="n"', "expected ',' after parameter 'realm'"),
        ('Digest realm="r", nonce="n', "unterminated quoted string"),
        ('Digest realm="r", realm="s", nonce="n"', "parameter 'realm' appears twice"),
        ('Digest realm="r", nonce', "parameter 'nonce' has no '='"),
        ('Digest realm="r", nonce=', "parameter 'nonce' has no value"),
        ('Digest realm="r", ="n"', "expected a parameter name at offset 18"),
        ('Digest realm="r\x00", nonce="n"', "parameter 'realm' holds a control character"),
        (
            'Digest realm="r", nonce="n", algorithm=MD5-sess',
            "unsupported digest algorithm 'MD5-sess'",
        ),
        (
            'Digest realm="r", nonce="n", algorithm=SHA-512-256',
            "unsupported digest algorithm 'SHA-512-256'",
        ),
    ],
)
def test_malformed_challenges(value: str, message: str) -> None:
    with pytest.raises(AuthError) as caught:
        Challenge.parse(value)
    assert str(caught.value) == message
    assert caught.value.status == 400


GOOD = 'username="u", realm="r", nonce="n", uri="sip:r", cnonce="c"'


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (f"Digest {GOOD}, qop=auth, nc=00000001", "no response in the credentials"),
        (f'Digest {GOOD}, response="abc"', "response is not a 32-digit hex MD5 digest"),
        (
            f'Digest {GOOD}, algorithm=SHA-256, response="{"0" * 32}"',
            "response is not a 64-digit hex SHA-256 digest",
        ),
        (f'Digest {GOOD}, response="{"g" * 32}"', "response is not a 32-digit hex MD5 digest"),
        (
            f'Digest {GOOD}, response="{"0" * 32}", qop=auth',
            "credentials with qop need nc and cnonce",
        ),
        (f'Digest {GOOD}, response="{"0" * 32}", qop=auth, nc=1', "nc is not 8 hex digits"),
        (f'Digest {GOOD}, response="{"0" * 32}", qop="a b", nc=00000001', "qop is not a token"),
        (
            f'Digest realm="r", nonce="n", uri="u", response="{"0" * 32}"',
            "no username in the credentials",
        ),
    ],
)
def test_malformed_credentials(value: str, message: str) -> None:
    with pytest.raises(AuthError) as caught:
        Credentials.parse(value)
    assert str(caught.value) == message


def test_header_values_refuse_control_characters() -> None:
    with pytest.raises(AuthError, match="control character"):
        Challenge("r\r\nVia: evil", "n").header_value()
    creds = client_credentials(Challenge("r", "n"), "REGISTER", "sip:r", "u", "p", cnonce="c")
    with pytest.raises(AuthError, match="control character"):
        replace(creds, username="u\nX: y").header_value()


# ---------------------------------------------------------------------------------------------
# The client side


def test_select_challenge_takes_the_first_supported() -> None:
    values = [
        'Digest realm="r", nonce="n", algorithm=SHA-512-256, qop="auth"',
        'Digest realm="r", nonce="n", algorithm=SHA-256, qop="auth-int"',
        'Digest realm="r", nonce="n", algorithm=SHA-256, qop="auth"',
        'Digest realm="r", nonce="n", algorithm=MD5, qop="auth"',
    ]
    assert select_challenge(values).algorithm is Algorithm.SHA256
    assert select_challenge(values[3:]).algorithm is Algorithm.MD5
    assert select_challenge(['Digest realm="r", nonce="n"']).qop == ()
    with pytest.raises(AuthError, match="no Digest challenge"):
        select_challenge([*values[:2], 'Basic realm="r"', "garbage"])


def test_client_refuses_auth_int_only_and_bad_nc() -> None:
    with pytest.raises(AuthError, match="only qop 'auth-int'"):
        client_credentials(
            Challenge("r", "n", qop=("auth-int",)), "REGISTER", "u", "a", "b", cnonce="c"
        )
    for nc in (0, 2**32):
        with pytest.raises(AuthError, match="out of range"):
            client_credentials(Challenge("r", "n"), "REGISTER", "u", "a", "b", cnonce="c", nc=nc)


# ---------------------------------------------------------------------------------------------
# Fuzzing


def _never_raises_but_auth_error(parse: Callable[[str], object], value: str) -> None:
    with contextlib.suppress(AuthError):
        parse(value)


PIECES = st.one_of(
    st.text(max_size=20),
    st.sampled_from(
        [
            "Digest ",
            "digest",
            "realm=",
            "nonce=",
            "response=",
            "uri=",
            "username=",
            "qop=auth",
            "nc=00000001",
            "cnonce=",
            "algorithm=MD5",
            "algorithm=SHA-256",
            '"',
            '\\"',
            "\\",
            ",",
            " ",
            "=",
            "stale=true",
            '"' + "a" * 32 + '"',
            "\r\n ",
        ]
    ),
)


@settings(max_examples=500)
@given(st.lists(PIECES, max_size=16).map("".join))
def test_random_header_values_raise_only_auth_error(value: str) -> None:
    _never_raises_but_auth_error(Challenge.parse, value)
    _never_raises_but_auth_error(Credentials.parse, value)
    _never_raises_but_auth_error(lambda v: select_challenge([v]), value)


@settings(max_examples=300)
@given(st.text(max_size=60))
def test_random_nonces_are_bad_not_errors(nonce: str) -> None:
    keeper = NonceKeeper(SECRET)
    assert keeper.check(nonce, T0) is NonceState.BAD
    assert keeper.check(nonce, T0, nc=1) is NonceState.BAD


@settings(max_examples=300)
@given(st.text(max_size=40), st.text(max_size=40), st.text(max_size=40))
def test_verify_of_random_credentials_never_raises(username: str, uri: str, cnonce: str) -> None:
    srv = server()
    challenge = srv.challenges(T0)[0]
    try:
        value = client_credentials(
            challenge, "REGISTER", uri, username, "pw", cnonce=cnonce
        ).header_value()
        creds = Credentials.parse(value)
    except AuthError:
        return  # a control character: refused on the way out
    assert creds.username == username and creds.uri == uri and creds.cnonce == cnonce
    assert srv.verify("REGISTER", creds, lambda _: None, T0, request_uri=uri) is AuthResult.FAILED


PRINTABLE = st.text(st.characters(blacklist_categories=("Cc", "Cs")), max_size=30)


@settings(max_examples=300)
@given(
    PRINTABLE,
    PRINTABLE,
    st.sampled_from(list(Algorithm)),
    st.lists(st.sampled_from(["auth", "auth-int", "x-tok"]), max_size=3, unique=True),
    st.one_of(st.none(), PRINTABLE),
    st.booleans(),
)
def test_challenge_round_trips(
    realm: str, nonce: str, algorithm: Algorithm, qop: list[str], opaque: str | None, stale: bool
) -> None:
    challenge = Challenge(realm, nonce, algorithm, tuple(qop), opaque, stale)
    assert Challenge.parse(challenge.header_value()) == challenge
