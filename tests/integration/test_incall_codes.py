"""Transfer codes keyed in a call (firmware/engine/features/incall.py): ## + number, and
*2 + number with *3/*4/*5/*6; keyed by a SIP phone as RFC 4733 digits (its audio decoded,
or relayed SIP-to-SIP), and by an analog phone as DTMF, without a flash. Fake time, virtual
board, the in-process test phone."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest

from firmware.media.dtmf import DtmfDetector
from tests.integration.calls import hears_music, in_call, talking
from tests.integration.harness import Harness, running_box, wait
from tests.sipphone import Call, SipPhone, dominant_hz
from tools.phone.handset import VirtualPhone

OFFICE = "\n".join([
    '[site]\ncountry = "us"\ntimezone = "UTC"\n',
    '[sip]\nlisten = "127.0.0.1:0"\n',
    *(f'[[extension]]\nnumber = "10{n}"\nname = "Desk {n}"\ndevices = ["fxs:{n}"]\n'
      for n in (1, 2, 3, 4)),
    *(f'[[extension]]\nnumber = "{n}"\nname = "Soft {n}"\ndevices = ["sip"]\n'
      f'secret = "secret-of-{n}"\n' for n in ("201", "202")),
])


@asynccontextmanager
async def sip_call_from_101() -> AsyncIterator[tuple[Harness, VirtualPhone, Call]]:
    """101 (analog) calls 201 (the SIP phone), which answers."""
    async with running_box(OFFICE) as box:
        assert box.box.sip is not None
        async with SipPhone(box.box.sip.address, "201", "secret-of-201") as soft:
            assert (await soft.register()) is not None
            p101 = await box.phone("101")
            await p101.offhook()
            await wait(1)
            await wait(await p101.dial("201") / 1000 + 0.5)
            call = await soft.wait_incoming()
            await call.answer()
            await wait(1)
            yield box, p101, call


async def test_hash_hash_and_a_number_sends_the_caller_there() -> None:
    async with sip_call_from_101() as (box, p101, call):
        p102 = await box.phone("102")
        await call.send_digits("##102")
        assert await call.ended() == "bye"  # the transferrer is done
        await wait(7)
        ringing = await p102.listen(7)
        assert ringing.callerid is not None and ringing.callerid["number"] == "101"
        assert ringing.callerid["name"] == "201>Desk 1"
        await p102.offhook()
        await wait(1)
        await talking(p101, p102)


async def test_star_2_consults_and_star_4_joins_the_two() -> None:
    async with sip_call_from_101() as (box, p101, call):
        p102 = await box.phone("102")
        await call.send_digits("*2102")
        await wait(3)
        assert hears_music(await p101.recording(2.0))
        await p102.offhook()
        await wait(1)
        call.play_tone(900)
        await wait(1)
        assert dominant_hz(await p102.recording(1.0)) == pytest.approx(900, abs=10)
        call.play_tone(None)
        await call.send_digits("*4")
        assert await call.ended() == "bye"
        await talking(p101, p102)


async def test_star_3_aborts_the_consult() -> None:
    async with sip_call_from_101() as (box, p101, call):
        p102 = await box.phone("102")
        await call.send_digits("*2102")
        await wait(2)
        await p102.offhook()
        await wait(1)
        await call.send_digits("*3")
        await wait(1)
        call.play_tone(900)
        await wait(1)
        assert dominant_hz(await p101.recording(1.0)) == pytest.approx(900, abs=10)
        assert (await p102.listen(2)).tone == "congestion"


async def test_star_5_makes_it_three_way() -> None:
    async with sip_call_from_101() as (box, p101, call):
        p102 = await box.phone("102")
        await call.send_digits("*2102")
        await wait(2)
        await p102.offhook()
        await wait(1)
        await call.send_digits("*5")
        await wait(1)
        call.play_tone(900)
        await wait(1)
        assert dominant_hz(await p101.recording(1.0)) == pytest.approx(900, abs=10)
        assert dominant_hz(await p102.recording(1.0)) == pytest.approx(900, abs=10)


async def test_a_busy_consult_gives_the_first_party_back() -> None:
    async with sip_call_from_101() as (box, p101, call):
        p103 = await box.phone("103")
        await p103.offhook()  # busy
        await call.send_digits("*2103")
        await wait(2)
        call.play_tone(900)
        await wait(1)
        assert dominant_hz(await p101.recording(1.0)) == pytest.approx(900, abs=10)


# -- an analog phone keys the codes as DTMF, without a flash ------------------------------


async def key(phone: VirtualPhone, digits: str) -> None:
    await wait(await phone.dial(digits) / 1000 + 0.5)


async def test_an_analog_caller_keys_hash_hash_and_a_number() -> None:
    async with running_box(OFFICE) as box:
        p101, p102 = await in_call(box, "101", "102")
        p103 = await box.phone("103")
        await key(p101, "##103")
        # The code stayed here, but for its first key: a '#' could as well end an entry.
        assert DtmfDetector().feed(await p102.recording(2.0)) == ["#"]
        assert (await p101.listen(1.5)).tone == "congestion"  # 101 is done (US: cleared)
        await wait(6)
        ringing = await p103.listen(6)
        assert ringing.callerid is not None and ringing.callerid["number"] == "102"
        assert ringing.callerid["name"] == "101>Desk 2"
        await p103.offhook()
        await wait(1)
        await talking(p102, p103)


async def test_an_analog_phone_consults_with_star_2_and_joins_with_star_4() -> None:
    async with running_box(OFFICE) as box:
        p101, p102 = await in_call(box, "101", "102")
        p103 = await box.phone("103")
        await key(p101, "*2103")
        await wait(1)
        assert hears_music(await p102.recording(2.0))  # 102 waits on hold
        await p103.offhook()
        await wait(1)
        await talking(p101, p103)  # the consult
        await key(p101, "*4")
        assert (await p101.listen(1.5)).tone == "congestion"
        await talking(p102, p103)


async def test_star_6_swaps_and_hanging_up_then_joins_the_two() -> None:
    async with running_box(OFFICE) as box:
        p101, p102 = await in_call(box, "101", "102")
        p103 = await box.phone("103")
        await key(p101, "*2103")
        await p103.offhook()
        await wait(1)
        await talking(p101, p103)
        await key(p101, "*6")  # back to 102; 103 waits with music
        await wait(1)
        await talking(p101, p102)
        assert hears_music(await p103.recording(2.0))
        await key(p101, "*6")  # and to 103 again
        await wait(1)
        await talking(p101, p103)
        await p101.onhook()  # 101 is done: the two others talk, nobody is left on hold
        await wait(1)
        await talking(p102, p103)


async def test_the_consult_codes_are_the_office_s_own() -> None:
    office = OFFICE + '[features]\nconsult_complete = "*7"\nconsult_abort = "#3"\n'
    async with running_box(office) as box:
        p101, p102 = await in_call(box, "101", "102")
        p103 = await box.phone("103")
        await key(p101, "*2103")
        await p103.offhook()
        await wait(1)
        await key(p101, "*4")  # not a code here: nothing happens
        await wait(1)
        await talking(p101, p103)
        await key(p101, "*7")
        assert (await p101.listen(1.5)).tone == "congestion"
        await talking(p102, p103)


async def test_hanging_up_after_star_2_hands_the_caller_on() -> None:
    async with running_box(OFFICE) as box:
        p101, p102 = await in_call(box, "101", "102")
        p103 = await box.phone("103")
        await key(p101, "*2103")
        await p103.offhook()  # answered: hanging up joins the two, as *4 would
        await wait(1)
        await p101.onhook()
        await wait(1)
        await talking(p102, p103)


async def test_after_an_aborted_consult_hanging_up_in_the_next_joins_its_party() -> None:
    async with running_box(OFFICE) as box:
        p101, p102 = await in_call(box, "101", "102")
        p103, p104 = await box.phones("103", "104")
        await key(p101, "*2103")
        await key(p101, "*3")  # 103 was not the one after all
        await key(p101, "*2104")
        await p104.offhook()
        await wait(1)
        await p101.onhook()
        await wait(1)
        await talking(p102, p104)
        assert not (await p103.status())["ringing"]


async def test_hanging_up_while_the_consult_rings_sends_the_caller_there() -> None:
    async with running_box(OFFICE) as box:
        p101, p102 = await in_call(box, "101", "102")
        p103 = await box.phone("103")
        await key(p101, "*2103")
        await wait(2)
        await p101.onhook()  # 103 still rings: 102 goes there (and comes back if unanswered)
        await wait(7)
        ringing = await p103.listen(7)
        assert ringing.ringing and ringing.callerid is not None
        assert ringing.callerid["number"] == "102"
        assert ringing.callerid["name"] == "101>Desk 2"
        assert (await p102.listen(7)).tone == "ringback"
        await p103.offhook()
        await wait(1)
        await talking(p102, p103)


async def test_keys_that_are_no_code_reach_the_other_party() -> None:
    async with running_box(OFFICE) as box:
        p101, p102 = await in_call(box, "101", "102")
        await key(p101, "57")
        assert DtmfDetector().feed(await p102.recording(1.5)) == ["5", "7"]
        await key(p101, "*5")  # '*' could start a code, '5' then shows it is none
        assert DtmfDetector().feed(await p102.recording(1.0)) == ["*", "5"]
        await key(p101, "#")  # a lone '#' (an IVR's "end with pound") is not lost
        assert DtmfDetector().feed(await p102.recording(1.0)) == ["#"]
        await talking(p101, p102)


async def test_an_analog_phone_s_code_is_not_sent_on_to_a_sip_phone() -> None:
    async with sip_call_from_101() as (box, p101, call):
        p103 = await box.phone("103")
        await key(p101, "4")
        await key(p101, "##103")
        # Of the code only its first key went on (a stray '#' for the one transferred).
        assert call.received_digits == "4#"
        assert (await p101.listen(1.5)).tone == "congestion"  # 101 is done
        await wait(6)
        ringing = await p103.listen(6)
        assert ringing.callerid is not None and ringing.callerid["number"] == "201"
        assert ringing.callerid["name"] == "101>Soft 201"
        await p103.offhook()
        await wait(1)
        call.play_tone(900)
        await wait(1)
        assert dominant_hz(await p103.recording(1.0)) == pytest.approx(900, abs=10)


# -- a relayed SIP-to-SIP call ----------------------------------------------------------


@asynccontextmanager
async def relayed_call(caplog: pytest.LogCaptureFixture
                       ) -> AsyncIterator[tuple[Harness, Call, Call]]:
    """201 calls 202 (both SIP phones); the box relays their RTP untouched."""
    caplog.set_level(logging.INFO, logger="pbx.call")
    async with running_box(OFFICE) as box:
        assert box.box.sip is not None
        address = box.box.sip.address
        async with SipPhone(address, "201", "secret-of-201") as sp201, \
                SipPhone(address, "202", "secret-of-202") as sp202:
            for phone in (sp201, sp202):
                assert (await phone.register()) is not None
            call = await sp201.call("202")
            incoming = await sp202.wait_incoming()
            await incoming.answer()
            await call.answered()
            await wait(1)
            assert "kind=relay" in caplog.text
            yield box, call, incoming


async def test_hash_hash_keyed_in_a_relayed_call_transfers_it(
        caplog: pytest.LogCaptureFixture) -> None:
    async with relayed_call(caplog) as (box, call, incoming):
        p103 = await box.phone("103")
        await call.send_digits("12")
        assert incoming.received_digits == "12"  # other keys pass the relay as sent
        await call.send_digits("##103")
        assert await call.ended() == "bye"  # the transferrer is done
        assert incoming.received_digits == "12#"  # the code's packets, but the first key's,
        # were not relayed
        await wait(6)
        ringing = await p103.listen(6)
        assert ringing.callerid is not None and ringing.callerid["number"] == "202"
        assert ringing.callerid["name"] == "201>Soft 202"
        await p103.offhook()
        await wait(1)
        incoming.play_tone(900)
        await wait(1)
        assert dominant_hz(await p103.recording(1.0)) == pytest.approx(900, abs=10)
        await p103.say_tone(600, 1500)
        await wait(1)
        assert incoming.heard_hz() == pytest.approx(600, abs=10)


async def test_star_2_and_star_4_in_a_relayed_call(caplog: pytest.LogCaptureFixture) -> None:
    async with relayed_call(caplog) as (box, call, incoming):
        p103 = await box.phone("103")
        await call.send_digits("*2103")
        await wait(2)
        assert hears_music(incoming.recording(2.0))  # 202 waits on hold
        await p103.offhook()
        await wait(1)
        call.play_tone(900)
        await wait(1)
        assert dominant_hz(await p103.recording(1.0)) == pytest.approx(900, abs=10)
        await call.send_digits("*4")
        assert await call.ended() == "bye"
        assert incoming.received_digits == "*"  # the first key of *2 only
        incoming.play_tone(700)
        await wait(1)
        assert dominant_hz(await p103.recording(1.0)) == pytest.approx(700, abs=10)
