"""SIP phones transfer calls with their TRANSFER key: REFER (RFC 3515), Replaces (RFC 3891).

Judged by what the people hear and see: who rings with whose caller ID, who talks to whom
afterwards, and what the transferring phone is told (202, NOTIFYs with message/sipfrag, the
end of its calls). Same office as test_sip_calls: 101-103 analog, 201-203 softphones.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import re
from collections.abc import Awaitable, Callable

import pytest

from firmware.engine.channel import Party
from firmware.engine.features.transfer import transferred_party
from firmware.sip.headers import NameAddr
from firmware.sip.message import Request, Response
from firmware.sip.refer import Replaces, SipFrag
from tests.integration.harness import Harness, wait
from tests.integration.test_flash import hears_music, talking
from tests.integration.test_sip_calls import (
    SECRETS,
    answered_call,
    incoming_call,
    office,
    second_address,
    softphones,
    talk,
)
from tests.integration.test_transfer_traces import GOLDEN, normalise
from tests.integration.test_trunks import MAIN_NUMBER, answered_outside_call
from tests.integration.test_trunks import office as trunk_office
from tests.sipphone import Address, Call, SipPhone
from tools.phone.handset import VirtualPhone

TRANSFER_RING_S = 30.0  # [features] transfer_ring_s default
BYE_WAIT_S = 4.0  # docs/sip.md: a phone that does not hang up after the transfer gets BYE
RING_S = 8.0  # long enough for a ring and the caller ID after it (US: 2 s on, 4 s off)


async def talks_with(call: Call, analog: VirtualPhone) -> None:
    sip_heard, analog_heard = await talk(call, analog)
    assert analog_heard == pytest.approx([700], abs=10)
    assert sip_heard == pytest.approx(1000, abs=10)


async def sip_talks_with_sip(a: Call, b: Call) -> None:
    a.play_tone(700)
    b.play_tone(1100)
    await wait(2)
    assert a.heard_hz() == pytest.approx(1100, abs=10)
    assert b.heard_hz() == pytest.approx(700, abs=10)


async def rung_by(analog: VirtualPhone) -> str | None:
    """The caller-ID number an analog phone shows while it rings (None: not ringing)."""
    await wait(RING_S)
    heard = await analog.listen(RING_S - 0.5)
    if not heard.ring_cadence_ms:
        return None
    return heard.callerid["number"] if heard.callerid is not None else ""


async def analog_calls_sip(analog: VirtualPhone, sip: SipPhone) -> Call:
    call = await incoming_call(analog, sip)
    await call.answer()
    await wait(0.5)
    return call


def assert_sipfrag_notify(notify: Request, refer_cseq: int, final: bool) -> None:
    assert notify.headers.get("Event") == f"refer;id={refer_cseq}"
    assert (notify.headers.get("Content-Type") or "").startswith("message/sipfrag")
    state = notify.headers.get("Subscription-State") or ""
    assert state.startswith("terminated" if final else "active")


def refer_cseq(call: Call) -> int:
    """The CSeq number of the REFER the phone sent last in `call`."""
    assert call.dialog is not None and call.dialog.local_cseq is not None
    return call.dialog.local_cseq


# ---------------------------------------------------------------------------------------------
# 1. blind transfer


async def test_a_sip_phone_blind_transfers_an_analog_caller_to_an_analog_colleague() -> None:
    async with office() as (harness, box), softphones(box, "201") as [sp]:
        p101, p102 = await harness.phones("101", "102")
        call = await analog_calls_sip(p101, sp)
        await talks_with(call, p101)

        accepted = await call.refer("102")
        assert accepted is not None and accepted.status == 202
        assert accepted.headers.get("Contact")  # a 2xx to a target refresh has one
        assert (await call.notified()) == SipFrag(200, "OK")
        assert [f.status for f in call.sipfrags] == [100, 200]
        cseq = refer_cseq(call)
        assert_sipfrag_notify(call.notifies[0], cseq, final=False)
        assert_sipfrag_notify(call.notifies[1], cseq, final=True)
        bye = await call.hangup()  # what a phone does after the 200 sipfrag
        assert bye is not None and bye.status == 200

        assert await rung_by(p102) == "101"  # the original caller, not the transferrer
        assert (await p101.listen(12)).tone == "ringback"
        await p102.offhook()
        await wait(1)
        await talking(p101, p102)
        assert len([c for c in sp.calls if c.incoming]) == 1  # 201 is out of it


async def test_a_sip_phone_that_called_transfers_the_analog_phone_to_another_sip_phone() -> None:
    async with office() as (harness, box), softphones(box, "201", "202") as [sp201, sp202]:
        p101 = await harness.phone("101")
        call = await answered_call(sp201, p101)
        assert (await call.refer("202")) is not None
        assert (await call.notified()).status == 200
        await call.hangup()

        incoming = await sp202.wait_incoming()
        await incoming.answer()
        await wait(0.5)
        await talks_with(incoming, p101)
        await p101.onhook()
        assert await incoming.ended() == "bye"


async def test_a_transferred_analog_phone_that_was_called_shows_its_own_number() -> None:
    async with office() as (harness, box), softphones(box, "201", "202") as [sp201, sp202]:
        p101 = await harness.phone("101")
        call = await answered_call(sp201, p101)
        await call.refer("202")
        incoming = await sp202.wait_incoming()
        assert incoming.caller.uri.user == "101"  # type: ignore[union-attr]


async def test_a_transferred_sip_phone_that_was_called_shows_its_number_and_name() -> None:
    async with office() as (harness, box), softphones(box, "201", "202") as [sp201, sp202]:
        p101 = await harness.phone("101")
        placed = await sp201.call("202")
        received = await sp202.wait_incoming()
        await received.answer()
        await placed.answered()
        assert (await placed.refer("101")) is not None  # 201 sends 202 on to 101
        assert (await placed.notified()).status == 200
        await wait(RING_S)
        heard = await p101.listen(RING_S - 0.5)
        assert heard.callerid is not None
        # ... and, as the analog flash does, who transferred it: "201>Soft 202"
        shown = transferred_party(Party("202", "Soft 202"), by="201")
        assert (heard.callerid["number"], heard.callerid["name"]) == \
            (shown.number, (shown.name or "")[:15])


async def test_sip_to_sip_a_softphone_transfers_its_caller_to_an_analog_phone() -> None:
    async with office() as (harness, box), softphones(box, "201", "202") as [sp201, sp202]:
        p101 = await harness.phone("101")
        placed = await sp201.call("202")
        received = await sp202.wait_incoming()
        await received.answer()
        await placed.answered()
        await sip_talks_with_sip(placed, received)

        assert (await received.refer("101")) is not None  # 202 sends 201 on to 101
        assert (await received.notified()).status == 200
        await received.hangup()
        assert await rung_by(p101) == "201"
        await p101.offhook()
        await wait(1)
        await talks_with(placed, p101)
        assert placed.state == "up"  # 201's own call went on throughout


async def test_a_phone_that_does_not_hang_up_after_the_transfer_gets_a_bye() -> None:
    async with office() as (harness, box), softphones(box, "201") as [sp]:
        p101, p102 = await harness.phones("101", "102")
        call = await analog_calls_sip(p101, sp)
        await call.refer("102")
        await call.notified()
        done_at = sp.now()
        assert await call.ended(within=BYE_WAIT_S + 2) == "bye"
        assert sp.now() - done_at == pytest.approx(BYE_WAIT_S, abs=0.5)
        assert await rung_by(p102) == "101"


async def test_a_blind_transfer_nobody_answers_rings_the_sip_phone_again() -> None:
    async with office() as (harness, box), softphones(box, "201") as [sp]:
        p101, p103 = await harness.phones("101", "103")
        call = await analog_calls_sip(p101, sp)
        await call.refer("103")
        assert (await call.notified()).status == 200  # blind: done once the box took it
        await call.hangup()
        assert await rung_by(p103) == "101"

        back = await sp.wait_incoming(within=TRANSFER_RING_S + 5)
        assert back.caller.uri.user == "101"  # type: ignore[union-attr]
        assert not (await p103.status())["ringing"]
        await back.answer()
        await wait(0.5)
        await talks_with(back, p101)


async def test_a_blind_transfer_to_a_number_that_does_not_exist_comes_back_at_once() -> None:
    async with office() as (harness, box), softphones(box, "201") as [sp]:
        p101 = await harness.phone("101")
        call = await analog_calls_sip(p101, sp)
        assert (await call.refer("999")) is not None
        await call.notified()
        await call.hangup()
        back = await sp.wait_incoming(within=5)
        assert back.caller.uri.user == "101"  # type: ignore[union-attr]


# ---------------------------------------------------------------------------------------------
# 2. attended transfer


async def test_attended_transfer_joins_the_analog_caller_and_the_analog_colleague() -> None:
    async with office() as (harness, box), softphones(box, "201") as [sp]:
        p101, p102 = await harness.phones("101", "102")
        first = await analog_calls_sip(p101, sp)
        await first.hold()  # what a phone does before it dials the colleague
        await wait(2)
        assert hears_music(await p101.recording(2.0))
        consult = await answered_call(sp, p102)
        await talks_with(consult, p102)  # 101 does not hear the consultation

        accepted = await first.refer_replaces(consult)
        assert accepted is not None and accepted.status == 202
        assert (await first.notified()) == SipFrag(200, "OK")
        assert await consult.ended() == "bye"  # the box ends the dialog that was replaced
        await first.hangup()
        await wait(1)
        await talking(p101, p102)
        await p102.onhook()
        await wait(3)
        assert (await p101.listen(3)).tone == "congestion"


async def test_attended_transfer_between_a_sip_phone_and_an_analog_phone() -> None:
    async with office() as (harness, box), softphones(box, "201", "202") as [sp201, sp202]:
        p101 = await harness.phone("101")
        placed = await sp202.call("201")  # 202 calls 201 ...
        first = await sp201.wait_incoming()
        await first.answer()
        await placed.answered()
        consult = await answered_call(sp201, p101)  # ... 201 asks 101, then joins them
        assert (await first.refer_replaces(consult)) is not None
        assert (await first.notified()).status == 200
        assert await consult.ended() == "bye"
        # 201 does not hang up: the box does, after a while
        assert await first.ended(within=BYE_WAIT_S + 2) == "bye"
        await talks_with(placed, p101)


async def test_attended_transfer_of_two_sip_phones_relays_their_audio() -> None:
    async with office() as (_, box), softphones(box, "201", "202", "104") as [sp201, sp202,
                                                                             sp104]:
        placed = await sp202.call("201")
        first = await sp201.wait_incoming()
        await first.answer()
        await placed.answered()
        consult = await sp201.call("104")  # 104's analog phone rings too; its softphone answers
        at_104 = await sp104.wait_incoming()
        await at_104.answer()
        await consult.answered()
        await sip_talks_with_sip(consult, at_104)
        assert (await first.refer_replaces(consult)) is not None
        assert (await first.notified()).status == 200
        await first.hangup()
        assert await consult.ended() == "bye"
        await sip_talks_with_sip(placed, at_104)
        await placed.hangup()
        assert await at_104.ended() == "bye"


DESK_PHONE_ALLOW = "INVITE, ACK, CANCEL, BYE, OPTIONS, REFER, NOTIFY, UPDATE"


async def test_after_an_attended_transfer_the_colleague_s_display_shows_the_caller() -> None:
    async with office() as (_, box), softphones(box, "201", "202", "104",
                                                allow=DESK_PHONE_ALLOW) as [sp201, sp202,
                                                                            sp104]:
        placed = await sp202.call("201")
        first = await sp201.wait_incoming()
        await first.answer()
        await placed.answered()
        consult = await sp201.call("104")
        at_104 = await sp104.wait_incoming()
        await at_104.answer()
        await consult.answered()
        assert at_104.caller.uri.user == "201"  # while consulting: the transferrer
        assert (await first.refer_replaces(consult)) is not None
        assert (await first.notified()).status == 200
        await wait(1)
        assert at_104.shown, "104's phone was not told who it talks to now"
        shown = at_104.shown[-1]
        assert shown.uri.user == "202"  # the original caller's number ...
        assert shown.display_name == "201>Soft 202"  # ... named, and who transferred it
        assert placed.shown and placed.shown[-1].uri.user == "104"  # ... and the caller's


async def test_an_analog_transferrer_updates_the_sip_colleague_s_display_too() -> None:
    async with office() as (harness, box), softphones(box, "201", "202",
                                                      allow=DESK_PHONE_ALLOW) as [sp201, sp202]:
        p101 = await harness.phone("101")
        first = await answered_call(sp201, p101)  # 201 calls 101, who flashes and asks 202
        await p101.flash()
        await wait(1)
        await p101.dial("202")
        consult = await sp202.wait_incoming()
        await consult.answer()
        await wait(1)
        await p101.onhook()  # 101 hangs up: 201 and 202 talk
        await wait(1)
        assert consult.shown and consult.shown[-1].uri.user == "201"
        assert consult.shown[-1].display_name == "101>Soft 201"
        await sip_talks_with_sip(first, consult)


async def test_a_phone_that_does_not_allow_update_is_not_sent_one() -> None:
    async with office() as (_, box), softphones(box, "201", "202", "104") as [sp201, sp202,
                                                                             sp104]:
        placed = await sp202.call("201")
        first = await sp201.wait_incoming()
        await first.answer()
        await placed.answered()
        consult = await sp201.call("104")
        at_104 = await sp104.wait_incoming()
        await at_104.answer()
        await consult.answered()
        assert (await first.refer_replaces(consult)) is not None
        await wait(1)
        assert not any(isinstance(m, Request) and m.method == "UPDATE" for m in sp104.received)
        await sip_talks_with_sip(placed, at_104)


async def test_a_transfer_while_the_colleague_still_rings_sends_the_caller_there() -> None:
    async with office() as (harness, box), softphones(box, "201") as [sp]:
        p101, p102 = await harness.phones("101", "102")
        first = await analog_calls_sip(p101, sp)
        await first.hold()
        consult = await sp.call("102")
        await consult.response(180)  # an early dialog: the phone may transfer now
        await wait(1)
        assert (await first.refer_replaces(consult)) is not None
        assert (await first.notified()).status == 200
        assert await consult.ended() == "487"  # the phone's own ringing call is over
        await first.hangup()
        assert await rung_by(p102) == "101"
        await p102.offhook()
        await wait(1)
        await talking(p101, p102)


# ---------------------------------------------------------------------------------------------
# 3. an INVITE with Replaces (RFC 3891)


async def test_an_invite_with_replaces_takes_over_the_call_of_another_phone() -> None:
    async with office() as (harness, box), softphones(box, "201", "202") as [sp201, sp202]:
        p101 = await harness.phone("101")
        call = await analog_calls_sip(p101, sp201)
        taken = await sp202.call("101", headers=[("Replaces", str(call.replaces()))])
        ok = await taken.answered()
        assert ok.status == 200
        assert await call.ended() == "bye"
        await wait(0.5)
        await talks_with(taken, p101)


async def test_an_invite_replacing_no_call_is_refused_481() -> None:
    async with office() as (harness, box), softphones(box, "201", "202") as [sp201, sp202]:
        p101 = await harness.phone("101")
        call = await analog_calls_sip(p101, sp201)
        wrong = Replaces(call.replaces().call_id, to_tag="not-the-tag", from_tag="nor-this")
        attempt = await sp202.call("101", headers=[("Replaces", str(wrong))])
        assert (await attempt.final()).status == 481
        early = dataclasses.replace(call.replaces(), early_only=True)
        attempt = await sp202.call("101", headers=[("Replaces", str(early))])
        assert (await attempt.final()).status == 486  # confirmed, but early-only asked
        assert call.state == "up"
        await talks_with(call, p101)


# ---------------------------------------------------------------------------------------------
# 4. what a REFER gets wrong


async def test_refers_the_box_will_not_do_are_refused_and_the_call_goes_on() -> None:
    async with office() as (harness, box), softphones(box, "201") as [sp]:
        p101 = await harness.phone("101")
        call = await analog_calls_sip(p101, sp)
        refused = [
            (await call.refer("sip:102@elsewhere.example"), 403),  # not this box
            (await call.refer("tel:+15125550100"), 403),  # not a SIP URI
            (await call.send_refer("<sip:102@"), 400),  # cannot be read
            (await call.send_refer("<sip:127.0.0.1>"), 400),  # no number
        ]
        for response, status in refused:
            assert response is not None and response.status == status, response
        # No Refer-To at all, and two of them: 400 (RFC 3515 §2.4.1: exactly one).
        assert call.dialog is not None
        for count in (0, 2):
            request = call.dialog.new_request(
                "REFER", headers=[("Refer-To", "<sip:102@127.0.0.1>")] * count,
                sent_by=sp.sent_by)
            response = await sp.request(request)
            assert response is not None and response.status == 400
        assert call.notifies == []
        assert call.state == "up"
        await talks_with(call, p101)


async def test_a_refer_outside_a_call_is_refused() -> None:
    async with office() as (_, box), softphones(box, "201") as [sp]:
        uri = sp._box_uri("102")
        outside = sp._request("REFER", uri, NameAddr(uri=uri),
                              headers=[("Refer-To", f"<{uri}>")])
        response = await sp.request(outside)
        assert response is not None and response.status == 405
        assert "REFER" in (response.headers.get("Allow") or "")
        # A dialog the box does not know: 481 (RFC 3261 §12.2.2).
        unknown = sp._request("REFER", uri, NameAddr(uri=uri).with_tag("no-such-dialog"),
                              headers=[("Refer-To", f"<{uri}>")])
        response = await sp.request(unknown)
        assert response is not None and response.status == 481


async def test_a_refer_from_the_provider_of_an_outside_call_is_refused() -> None:
    async with trunk_office() as here:
        call, analog = await answered_outside_call(here, MAIN_NUMBER, "101")
        response = await call.refer("102")
        assert response is not None and response.status == 403  # no office phone
        assert isinstance(analog, VirtualPhone)
        await talks_with(call, analog)  # the outside call goes on


async def test_a_refer_from_another_address_is_refused() -> None:
    async with office() as (harness, box), softphones(box, "201") as [sp], \
            SipPhone(box, "201", SECRETS["201"], host=second_address()) as intruder:
        p101 = await harness.phone("101")
        call = await analog_calls_sip(p101, sp)
        assert call.dialog is not None
        forged = call.dialog.new_request(
            "REFER", headers=[("Refer-To", f"<{sp._box_uri('102')}>")],
            sent_by=intruder.sent_by)
        response = await intruder.request(forged)
        assert response is not None and response.status == 403
        await talks_with(call, p101)


async def test_a_phone_cannot_join_another_phone_s_call() -> None:
    async with office() as (harness, box), softphones(box, "201", "202") as [sp201, sp202]:
        p101, p102 = await harness.phones("101", "102")
        mine = await analog_calls_sip(p101, sp201)
        theirs = await answered_call(sp202, p102)
        response = await mine.refer_replaces(theirs)
        assert response is not None and response.status == 403
        assert theirs.state == "up" and mine.state == "up"
        await talks_with(theirs, p102)


async def test_refer_sub_false_gets_no_notify() -> None:
    async with office() as (harness, box), softphones(box, "201") as [sp]:
        p101, p102 = await harness.phones("101", "102")
        call = await analog_calls_sip(p101, sp)
        accepted = await call.refer("102", refer_sub=False)
        assert isinstance(accepted, Response) and accepted.status == 202
        assert accepted.headers.get("Refer-Sub") == "false"  # RFC 4488 §4
        await call.hangup()
        assert await rung_by(p102) == "101"
        assert call.notifies == []


# ---------------------------------------------------------------------------------------------
# 5. golden traces: every call event of a REFER transfer, reviewed (UPDATE_GOLDEN=1 writes)

_PORT = re.compile(r"(127\.0\.0\.1):\d+")


async def refer_blind(harness: Harness, box: Address) -> None:
    async with softphones(box, "201") as [sp]:
        p101, p102 = await harness.phones("101", "102")
        call = await analog_calls_sip(p101, sp)
        await call.refer("102")
        await call.notified()
        await call.hangup()
        await wait(2)
        await p102.offhook()
        await wait(1)


async def refer_attended(harness: Harness, box: Address) -> None:
    async with softphones(box, "201") as [sp]:
        p101, p102 = await harness.phones("101", "102")
        first = await analog_calls_sip(p101, sp)
        await first.hold()
        consult = await answered_call(sp, p102)
        await first.refer_replaces(consult)
        await first.notified()
        await first.hangup()
        await wait(1)


TRACES: dict[str, Callable[[Harness, Address], Awaitable[None]]] = {
    "blind": refer_blind, "attended": refer_attended,
}


@pytest.mark.parametrize("name", list(TRACES))
async def test_refer_trace(name: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="pbx.call")
    async with office() as (harness, box):
        await TRACES[name](harness, box)
    lines = normalise([_PORT.sub(r"\1:PORT", r.getMessage()) for r in caplog.records
                       if r.name == "pbx.call" and "event=rtp " not in r.getMessage()])
    golden = GOLDEN / f"refer-{name}.txt"
    if os.environ.get("UPDATE_GOLDEN"):
        golden.write_text("\n".join(lines) + "\n")
    assert golden.exists(), f"no golden trace yet: run with UPDATE_GOLDEN=1 and review {golden}"
    assert lines == golden.read_text().splitlines()
