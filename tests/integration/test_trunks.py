"""The office's SIP trunk: registering to the provider, calls in by number, calls out by
route, and the toll-fraud rules. Judged by what the provider, the office's phones and the
installer see; everything runs in fake time.

The provider is `tests.sipprovider.FakeProvider` on 127.0.0.2 (the office's phones are on
127.0.0.1, so the box can tell them apart by address, as it does on a real network).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import pytest

from firmware.engine.trunks import TrunkState
from tests.integration.harness import SIP_SECTION, Harness, running_box, tones_heard, wait
from tests.integration.test_sip_calls import second_address
from tests.sipphone import Call, SipPhone
from tests.sipprovider import CALLER, FakeProvider

ACCOUNT, PASSWORD = "office-1", "provider-password"
MAIN_NUMBER, DESK_NUMBER = "+15125550100", "+15125550101"  # the office's DIDs
SOFT_SECRET = "secret-of-201"


def office_toml(provider_port: int, *, password: str = PASSWORD, trunk_extra: str = "",
                route_extra: str = "", features: str = "") -> str:
    return "\n".join([
        '[site]\ncountry = "us"\ntimezone = "UTC"\nname = "Acme Dental"\n',
        SIP_SECTION,
        '[analog]\nring_timeout_s = 20\n',
        f'[features]\n{features}',
        *(f'[[extension]]\nnumber = "10{n}"\nname = "Desk {n}"\ndevices = ["fxs:{n}"]\n'
          for n in (1, 2)),
        f'[[extension]]\nnumber = "201"\nname = "Soft 201"\ndevices = ["sip"]\n'
        f'secret = "{SOFT_SECRET}"\n',
        f'[[trunk]]\nname = "provider"\nhost = "127.0.0.2:{provider_port}"\n'
        f'username = "{ACCOUNT}"\nsecret = "{password}"\ncaller_id = "{MAIN_NUMBER}"\n'
        f'{trunk_extra}',
        f'[trunk.inbound]\n"{MAIN_NUMBER}" = "101"\n"{DESK_NUMBER}" = "102"\n',
        '[[route]]\nprefix = "9"\ntrunk = "provider"\n'
        'allow = ["NXXNXXXXXX", "1NXXNXXXXXX", "911", "X."]\nprepend = "+1"\n'
        f'{route_extra}',
    ])


@dataclass
class Office:
    harness: Harness
    provider: FakeProvider

    @property
    def box(self) -> tuple[str, int]:
        assert self.harness.box.sip is not None
        return self.harness.box.sip.address

    @property
    def trunk_state(self) -> dict[str, object]:
        trunks = self.harness.box.engine.snapshot()["trunks"]  # type: ignore[union-attr]
        return trunks["provider"]  # type: ignore[no-any-return]


@asynccontextmanager
async def office(*, password: str = PASSWORD, trunk_extra: str = "", route_extra: str = "",
                 register: bool = True, features: str = "") -> AsyncIterator[Office]:
    host = second_address()
    async with FakeProvider(("127.0.0.1", 0), ACCOUNT, PASSWORD, host=host) as provider:
        toml = office_toml(provider.port, password=password, trunk_extra=trunk_extra,
                           route_extra=route_extra, features=features)
        async with running_box(toml) as harness:
            assert harness.box.sip is not None
            provider.box = harness.box.sip.address
            here = Office(harness, provider)
            if register:
                await provider.registered()
                await wait(0.1)
            yield here


async def answered_outside_call(here: Office, did: str, who: str) -> tuple[Call, object]:
    """Someone outside calls `did`; the analog phone `who` rings and answers."""
    phone = await here.harness.phone(who)
    call = await here.provider.call(did)
    await call.response(180)
    await wait(1)
    await phone.offhook()
    await call.answered()
    await wait(0.5)
    return call, phone


async def outgoing_call(here: Office, dial: str, who: str = "101") -> Call:
    """The analog phone `who` dials `dial`; the provider is offered the call."""
    phone = await here.harness.phone(who)
    await phone.offhook()
    await wait(1)
    await phone.dial(dial)
    return await here.provider.wait_incoming()


# ---------------------------------------------------------------------------------------------
# registration


async def test_the_box_registers_to_the_provider_with_the_account_credentials() -> None:
    async with office() as here:
        register = here.provider.registrations[0]
        assert register.to.uri.user == ACCOUNT  # type: ignore[union-attr]
        assert "Authorization" in dict(register.headers)  # the 401 was answered
        assert ACCOUNT in (register.headers.get("Contact") or "")
        assert here.trunk_state["state"] == TrunkState.REGISTERED.value
        assert PASSWORD not in str(register)  # digest: the password never travels
        info = await here.harness.client.request("info")  # what `phone info` shows
        assert info["published"]["trunks"]["provider"]["state"] == "registered"


async def test_the_registration_is_refreshed_before_it_expires() -> None:
    async with office(trunk_extra="expires_s = 120\n") as here:
        first_at = here.provider.now()
        await here.provider.registered(2, within=200)
        refreshed_after = here.provider.now() - first_at
        assert 60 <= refreshed_after < 120  # before the 120 s granted run out
        await here.provider.registered(3, within=200)
        assert here.trunk_state["state"] == "registered"


async def test_a_wrong_password_shows_why_and_is_not_retried_in_a_tight_loop() -> None:
    async with office(password="not-the-password", register=False) as here:
        await here.provider.until(lambda: here.provider.refused, what="a refused REGISTER")
        await wait(1)
        assert here.trunk_state["state"] == "failed"
        assert "password" in str(here.trunk_state["problem"])
        await wait(600)
        attempts = len(here.provider.refused)
        assert 2 <= attempts <= 8  # retried with growing pauses: 30, 60, 120, 300 s ...
        assert not here.provider.registrations


async def test_a_provider_that_wants_longer_registrations_gets_them() -> None:
    host = second_address()
    async with FakeProvider(("127.0.0.1", 0), ACCOUNT, PASSWORD, host=host) as provider:
        provider.min_expires = 1800
        async with running_box(office_toml(provider.port)) as harness:
            assert harness.box.sip is not None
            provider.box = harness.box.sip.address
            accepted = await provider.registered()
            assert accepted.headers.get("Expires") == "1800"  # raised after 423


async def test_a_provider_that_never_answers_leaves_the_trunk_failed_and_retrying() -> None:
    # A port where nothing listens: the REGISTER goes unanswered until Timer F (32 s).
    async with running_box(office_toml(9)) as harness:
        await wait(40)
        trunks = harness.box.engine.snapshot()["trunks"]  # type: ignore[union-attr]
        assert trunks["provider"]["state"] == "failed"
        assert trunks["provider"]["problem"] == "no answer from the provider"


async def test_removing_the_trunk_from_the_config_unregisters_it() -> None:
    async with office() as here:
        box = here.harness.box
        without = office_toml(here.provider.port).split("[[trunk]]")[0]
        path = box.state_dir / "office.toml"
        path.write_text(without)
        assert box.reload(path)
        await here.provider.registered(2)
        assert here.provider.registrations[1].headers.get("Expires") == "0"
        assert box.engine.snapshot()["trunks"] == {}  # type: ignore[union-attr]


# ---------------------------------------------------------------------------------------------
# calls in


async def test_an_outside_call_rings_the_extension_its_number_leads_to_with_caller_id() -> None:
    async with office() as here:
        p101, p102 = await here.harness.phones("101", "102")
        call = await here.provider.call(DESK_NUMBER)
        await call.response(180)
        assert 401 not in call.statuses  # the provider is known by its address
        await wait(8)
        ringing = await p102.listen(2)
        assert ringing.ring_cadence_ms[:2] == [2000, 4000]
        assert not (await p101.status())["ringing"]
        assert ringing.callerid is not None and ringing.callerid["number"] == CALLER

        await p102.offhook()
        await call.answered()
        call.play_tone(700)
        await p102.say_tone(1000, 3000)
        await wait(2)
        assert (await p102.listen(1)).freqs == pytest.approx([700], abs=10)
        assert call.heard_hz() == pytest.approx(1000, abs=10)
        await p102.onhook()
        assert await call.ended() == "bye"


async def test_an_outside_caller_who_hangs_up_first_leaves_the_office_phone_cleared() -> None:
    async with office() as here:
        call, phone = await answered_outside_call(here, MAIN_NUMBER, "101")
        bye = await call.hangup()
        assert bye is not None and bye.status == 200
        await wait(2)
        assert (await phone.listen(3)).tone == "congestion"  # type: ignore[attr-defined]


async def test_an_outside_call_nobody_answers_goes_to_the_operator() -> None:
    async with office(features='operator = "101"\n') as here:
        p101 = await here.harness.phone("101")
        call = await here.provider.call(DESK_NUMBER)  # to 102, who does not answer
        await wait(21)  # 102's ring time
        await wait(7)
        ringing = await p101.listen(2)
        assert ringing.ring_cadence_ms, "the operator's phone did not ring"
        assert ringing.callerid is not None and ringing.callerid["number"] == CALLER
        await p101.offhook()
        assert (await call.answered()).status == 200


async def test_a_call_to_a_number_the_office_does_not_have_is_refused() -> None:
    async with office() as here:
        call = await here.provider.call("+15125550999")
        assert (await call.final()).status == 404


async def test_calls_to_other_numbers_go_to_the_default_destination() -> None:
    async with office(trunk_extra='inbound_default = "201"\n') as here, \
            SipPhone(here.box, "201", SOFT_SECRET) as soft:
        assert (await soft.register()) is not None
        call = await here.provider.call("+15125550999")
        incoming = await soft.wait_incoming()
        assert incoming.caller.uri.user == CALLER  # type: ignore[union-attr]
        await incoming.answer()
        assert (await call.answered()).status == 200


async def test_an_outside_caller_cannot_dial_out_through_the_office() -> None:
    # Toll fraud: a call from the provider "to" 9 + a number is not an office phone calling.
    async with office() as here:
        call = await here.provider.call("95125550199")
        assert (await call.final()).status == 404
        await wait(2)
        assert not [c for c in here.provider.calls if c.incoming]


# ---------------------------------------------------------------------------------------------
# calls out


async def test_an_analog_phone_dials_9_and_a_number_and_talks_to_the_outside() -> None:
    async with office() as here:
        p101 = await here.harness.phone("101")
        out = await outgoing_call(here, "95125550199")
        assert out.invite.uri.user == "+15125550199"  # type: ignore[union-attr]
        assert "Proxy-Authorization" in dict(out.invite.headers)  # the 407 was answered
        assert out.caller.uri.user == MAIN_NUMBER  # type: ignore[union-attr]
        assert out.caller.display_name == "Acme Dental"
        out.ring()
        await wait(7)
        assert (await p101.listen(7)).tone == "ringback"
        await out.answer()
        await wait(0.5)
        out.play_tone(700)
        await p101.say_tone(1000, 3000)
        await wait(2)
        assert (await p101.listen(1)).freqs == pytest.approx([700], abs=10)
        assert out.heard_hz() == pytest.approx(1000, abs=10)
        await p101.onhook()
        assert await out.ended() == "bye"


async def test_the_caller_hears_the_network_s_announcement_before_an_answer() -> None:
    async with office() as here:
        p101 = await here.harness.phone("101")
        out = await outgoing_call(here, "95125550199")
        here.provider.early_media(out)  # 183 with SDP ...
        out.play_tone(950)  # ... and the network's own tones or announcement
        await wait(3)
        assert (await p101.listen(2)).freqs == pytest.approx([950], abs=10)  # not ringback
        out.reject(404)  # the announcement said it: no such number
        assert (await tones_heard(p101, 5))[-2:] == ["sit", "congestion"]


async def test_early_media_reaches_a_sip_caller_and_the_call_goes_on_when_answered() -> None:
    async with office() as here, SipPhone(here.box, "201", SOFT_SECRET) as soft:
        assert (await soft.register()) is not None
        call = await soft.call("95125550199")
        out = await here.provider.wait_incoming()
        here.provider.early_media(out)
        out.play_tone(950)
        progress = await call.response(183)
        assert progress.body  # the box's SDP: the phone plays what comes
        await wait(2)
        assert call.heard_hz() == pytest.approx(950, abs=10)
        await out.answer()
        assert (await call.answered()).status == 200
        call.play_tone(700)
        out.play_tone(1000)
        await wait(2)
        assert out.heard_hz() == pytest.approx(700, abs=10)
        assert call.heard_hz() == pytest.approx(1000, abs=10)
        await call.hangup()
        assert await out.ended() == "bye"


async def test_an_extension_with_its_own_number_calls_out_with_it() -> None:
    async with office() as here:
        out = await outgoing_call(here, "95125550199", who="102")
        assert out.caller.uri.user == DESK_NUMBER  # type: ignore[union-attr]


async def test_a_sip_phone_calls_out_through_the_trunk() -> None:
    async with office() as here, SipPhone(here.box, "201", SOFT_SECRET) as soft:
        assert (await soft.register()) is not None
        call = await soft.call("915125550199")
        out = await here.provider.wait_incoming()
        assert out.invite.uri.user == "+115125550199"  # type: ignore[union-attr]
        await out.answer()
        assert (await call.answered()).status == 200
        call.play_tone(700)
        out.play_tone(1000)
        await wait(2)
        assert out.heard_hz() == pytest.approx(700, abs=10)
        assert call.heard_hz() == pytest.approx(1000, abs=10)
        await call.hangup()
        assert await out.ended() == "bye"


async def test_a_busy_outside_number_gives_busy_tone() -> None:
    async with office() as here:
        p101 = await here.harness.phone("101")
        out = await outgoing_call(here, "95125550199")
        out.reject(486)
        await wait(2)
        assert (await p101.listen(3)).tone == "busy"


async def test_hanging_up_while_the_outside_number_rings_cancels_it() -> None:
    async with office() as here:
        p101 = await here.harness.phone("101")
        out = await outgoing_call(here, "95125550199")
        out.ring()
        await wait(2)
        await p101.onhook()
        assert await out.ended() == "cancel"


async def test_international_numbers_are_refused_unless_the_route_allows_them() -> None:
    async with office() as here, SipPhone(here.box, "201", SOFT_SECRET) as soft:
        assert (await soft.register()) is not None
        call = await soft.call("9011441632960000")
        assert (await call.final()).status == 403
        p101 = await here.harness.phone("101")
        await p101.offhook()
        await wait(1)
        await p101.dial("9011441632960000#")
        assert (await tones_heard(p101, 9))[-2:] == ["sit", "congestion"]
        assert not [c for c in here.provider.calls if c.incoming]


async def test_a_route_that_allows_international_calls_lets_them_out() -> None:
    async with office(route_extra="international = true\n") as here:
        out = await outgoing_call(here, "9011441632960000#")
        assert out.invite.uri.user == "+1011441632960000"  # type: ignore[union-attr]


async def test_numbers_outside_the_allowed_patterns_are_refused() -> None:
    toml_allow = 'allow = ["NXXNXXXXXX", "1NXXNXXXXXX", "911", "X."]'
    async with office() as here, SipPhone(here.box, "201", SOFT_SECRET) as soft:
        assert (await soft.register()) is not None
        box = here.harness.box
        path = box.state_dir / "office.toml"
        path.write_text(office_toml(here.provider.port).replace(
            toml_allow, 'allow = ["NXXNXXXXXX", "911"]'))
        assert box.reload(path)
        call = await soft.call("919005550199")  # 1-900: not in the patterns
        assert (await call.final()).status == 403
        call = await soft.call("9911")
        out = await here.provider.wait_incoming()
        assert out.invite.uri.user == "+1911"  # type: ignore[union-attr]


async def test_a_stranger_cannot_call_out_through_the_trunk() -> None:
    async with office() as here, \
            SipPhone(here.box, "201", "a-guessed-secret", host="127.0.0.3") as stranger:
        call = await stranger.call("95125550199")
        assert (await call.final()).status == 403  # challenged, and the guess is wrong
        await wait(2)
        assert not [c for c in here.provider.calls if c.incoming]
