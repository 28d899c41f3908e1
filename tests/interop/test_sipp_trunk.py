"""SIPp (Debian's sip-tester) as the office's SIP provider, the far end of a [[trunk]]: the
box registers to it, calls out through it and takes calls from it; judged by what a
provider sees (the messages in SIPp's trace), SIPp's call counts and the box's log.

SIPp runs on 127.0.0.2 and the box on 127.0.0.1, so the box tells its provider from its
phones by address, as on a real network. Each test starts with the provider's registrar
scenario (the box registers as soon as it boots); a call scenario then takes over the same
port. Like test_sipp.py these are plain (synchronous) tests in real time, every wait is
for a condition (a process exit, a box log line, a bound socket), never a pause.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.integration.harness import SIP_SECTION
from tests.integration.test_sip_calls import second_address
from tests.interop.test_baresip import phone
from tests.interop.test_sipp import REASON, Message, Outcome, Phones, free_udp_port, one_good_call
from tests.livebox import LiveBox, start_box

pytestmark = [pytest.mark.interop, pytest.mark.skipif(REASON is not None, reason=REASON or "")]

ACCOUNT, PASSWORD = "office-1", "provider-password"  # the office's account at the provider
REALM = "provider.test"  # the realm the provider's scenarios challenge with
MAIN_NUMBER, DIRECT_NUMBER = "+15125550100", "+15125550102"  # the office's numbers (DIDs)
CALLER = "+15125550123"  # someone outside, calling the office
OUTSIDE = "5125550199"  # a number an office phone calls, after the route's prefix 9
SOFT_SECRET = "secret-of-201"


def office_toml(provider: str, port: int, password: str) -> str:
    """An office with an analog phone (101), a SIP phone (201) and the trunk to SIPp."""
    return "\n".join([
        '[site]\ncountry = "us"\ntimezone = "UTC"\nname = "Acme Dental"\n',
        SIP_SECTION,
        '[[extension]]\nnumber = "101"\nname = "Desk 1"\ndevices = ["fxs:1"]\n',
        f'[[extension]]\nnumber = "201"\nname = "Soft 201"\ndevices = ["sip"]\n'
        f'secret = "{SOFT_SECRET}"\n',
        f'[[trunk]]\nname = "provider"\nhost = "{provider}:{port}"\n'
        f'username = "{ACCOUNT}"\nsecret = "{password}"\ncaller_id = "{MAIN_NUMBER}"\n',
        f'[trunk.inbound]\n"{MAIN_NUMBER}" = "101"\n"{DIRECT_NUMBER}" = "201"\n',
        # No open-ended pattern: a ten-digit number goes out at its last digit.
        '[[route]]\nprefix = "9"\ntrunk = "provider"\n'
        'allow = ["NXXNXXXXXX", "1NXXNXXXXXX", "911"]\nprepend = "+1"\n',
    ])


def digest_params(header: str) -> dict[str, str]:
    """The parameters of a Digest header value (quoted or not)."""
    pairs = re.findall(r'(\w+)=(?:"([^"]*)"|([^\s,]+))', header)
    return {name.lower(): quoted or token for name, quoted, token in pairs}


def assert_digest(request: Message, header: str, password: str) -> None:
    """`request` answers our challenge with the account's credentials: MD5 with qop=auth,
    RFC 2617 §3.2.2.1, computed here rather than by the box's own code."""
    method = request.start.split()[0]
    p = digest_params(request.header(header))
    assert (p["username"], p["realm"], p["qop"]) == (ACCOUNT, REALM, "auth")
    assert request.start.split()[1] == p["uri"]  # §22.4: the Request-URI, as sent

    def md5(text: str) -> str:
        return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()

    ha1 = md5(f"{ACCOUNT}:{REALM}:{password}")
    ha2 = md5(f"{method}:{p['uri']}")
    expected = md5(f"{ha1}:{p['nonce']}:{p['nc']}:{p['cnonce']}:auth:{ha2}")
    assert p["response"] == expected, f"{header} does not hold the account's password"


def logged(box: LiveBox, needle: str) -> str:
    """The box's log line with `needle`, whether already read (the trunk may register
    before the box reports ready) or still to come."""
    return next((line for line in box.log if needle in line), None) or box.wait_for_log(needle)


@pytest.fixture
def phones(tmp_path: Path) -> Iterator[Phones]:
    started = Phones(tmp_path)
    try:
        yield started
    finally:
        started.stop()


@pytest.fixture
def provider() -> str:
    return second_address()  # skips, saying why, where 127.0.0.2 cannot be bound


@contextmanager
def office(phones: Phones, provider: str, password: str = PASSWORD
           ) -> Iterator[tuple[LiveBox, int, Outcome]]:
    """A box whose trunk has registered (or tried to) with SIPp's registrar scenario: the
    box, the provider's SIP port and what the registrar saw."""
    port = free_udp_port()
    registrar = phones.start("provider-register", "provider_register.xml",
                             "-key", "account", ACCOUNT, "-key", "password", PASSWORD,
                             port=port, host=provider)
    registrar.wait_listening()  # before the box boots: it registers at once
    with start_box(office=office_toml(provider, port, password)) as box:
        yield box, port, one_good_call(registrar)


def test_the_box_registers_its_trunk_answering_the_provider_s_challenge(
        phones: Phones, provider: str) -> None:
    with office(phones, provider) as (box, port, seen):
        assert [m.status for m in seen.sent] == [401, 200]
        first, second = seen.received
        assert first.start == second.start == f"REGISTER sip:{provider}:{port} SIP/2.0"
        assert ACCOUNT in first.header("To") and ACCOUNT in first.header("Contact")
        assert_digest(second, "Authorization", PASSWORD)
        assert PASSWORD not in second.header("Authorization")  # digest: never the password
        logged(box, "event=trunk trunk=provider state=registered")


def test_a_wrong_trunk_password_is_refused_and_the_box_says_so(
        phones: Phones, provider: str) -> None:
    with office(phones, provider, password="not-the-password") as (box, _port, seen):
        assert [m.status for m in seen.sent] == [401, 403]  # verifyauth said no
        line = logged(box, "event=trunk trunk=provider state=failed")
        assert 'problem="the provider refused the user name or password"' in line
        assert "state=registered" not in "".join(box.log)


def test_an_analog_phone_calls_out_through_the_provider(
        phones: Phones, provider: str) -> None:
    with office(phones, provider) as (box, port, _registered):
        logged(box, "event=trunk trunk=provider state=registered")
        far_end = phones.start("provider-outbound", "provider_outbound.xml",
                               port=port, host=provider)
        far_end.wait_listening()
        phone(box, "101", "offhook")
        phone(box, "101", "dial", "9" + OUTSIDE)
        # Answered: the phone and the trunk leg are joined; then the office hangs up.
        assert "b=trunk:provider/" in box.wait_for_log("event=bridge a=fxs:1/")
        phone(box, "101", "onhook")
        seen = one_good_call(far_end)
        assert "by=box" in box.wait_for_log("event=bye channel=trunk:provider/")
    assert seen.requests == ["INVITE", "ACK", "INVITE", "ACK", "BYE"]
    first, second = (m for m in seen.received if m.start.startswith("INVITE "))
    # The route's prepend (+1) before the number dialled after its prefix (9).
    assert first.start == second.start == f"INVITE sip:+1{OUTSIDE}@{provider}:{port} SIP/2.0"
    assert_digest(second, "Proxy-Authorization", PASSWORD)
    assert MAIN_NUMBER in second.header("From") and "Acme Dental" in second.header("From")


def test_a_call_from_the_provider_rings_the_sip_phone_its_number_leads_to(
        phones: Phones, provider: str) -> None:
    with office(phones, provider) as (box, port, _registered):
        logged(box, "event=trunk trunk=provider state=registered")
        # 201 registers from the port its UAS then listens on: the box calls it there.
        callee_port = free_udp_port()
        phones.register(box, "201", SOFT_SECRET, port=callee_port)
        callee = phones.start("uas-201", "uas.xml", "-key", "callee", "201", port=callee_port)
        callee.wait_listening()
        caller = phones.start("provider-inbound", "provider_inbound.xml", "-key", "caller",
                              CALLER, "-s", DIRECT_NUMBER, "-d", "500",
                              box=box, port=port, host=provider)
        placed = one_good_call(caller)
        answered = one_good_call(callee)
        # Both legs PCMU: relayed untouched; the provider hung up.
        assert "kind=relay" in box.wait_for_log("event=bridge a=trunk:provider/")
        assert "by=phone" in box.wait_for_log("event=bye channel=trunk:provider/")
    assert [s for s in placed.statuses if s != 100] == [180, 200, 200]  # ... BYE's 200
    assert answered.requests == ["INVITE", "ACK", "BYE"]
    assert CALLER in answered.received[0].header("From")  # the outside caller's number
