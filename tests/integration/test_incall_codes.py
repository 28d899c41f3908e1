"""Transfer codes keyed in a call by a SIP phone (firmware/engine/features/incall.py):
## + number, and *2 + number with *3/*4/*5/*6. Fake time, virtual board, the in-process
test phone sending RFC 4733 digits."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest

from tests.integration.calls import hears_music, talking
from tests.integration.harness import Harness, running_box, wait
from tests.sipphone import Call, SipPhone, dominant_hz
from tools.phone.handset import VirtualPhone

OFFICE = "\n".join([
    '[site]\ncountry = "us"\ntimezone = "UTC"\n',
    '[sip]\nlisten = "127.0.0.1:0"\n',
    *(f'[[extension]]\nnumber = "10{n}"\nname = "Desk {n}"\ndevices = ["fxs:{n}"]\n'
      for n in (1, 2, 3, 4)),
    '[[extension]]\nnumber = "201"\nname = "Soft"\ndevices = ["sip"]\nsecret = "secret-of-201"\n',
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
