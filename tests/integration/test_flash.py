"""Hook-flash on analog phones: hold, back again, ring-back, blind, attended and
semi-attended transfer, bounce-back (firmware/engine/features/flash.py's table).

Judged by what each handset hears and shows; everything runs in fake time on the virtual
board (101-104 on fxs:1-4). Tones are named by the virtual phone's classifier.
"""

from __future__ import annotations

import numpy as np
import pytest

from tests.integration.calls import hears_music, in_call, spoken, talking
from tests.integration.harness import Harness, running_box, wait
from tests.sipphone import SipPhone, dominant_hz
from tools.phone.handset import VirtualPhone

TRANSFER_RING_S = 30.0  # [features] transfer_ring_s default
RECALL_RING_S = 30.0  # [features] recall_ring_s default








async def flash(phone: VirtualPhone) -> None:
    await phone.flash(500)
    await wait(1)


async def dial(phone: VirtualPhone, digits: str) -> None:
    ms = await phone.dial(digits)
    await wait(ms / 1000 + 0.5)


# ---------------------------------------------------------------------------------------------
# hold


@pytest.mark.parametrize("who_flashes", ["caller", "callee"])
async def test_flash_holds_the_other_party_and_flash_again_returns(who_flashes: str) -> None:
    async with running_box() as box:
        p101, p102 = await in_call(box, "101", "102")
        flasher, other = (p101, p102) if who_flashes == "caller" else (p102, p101)
        await flash(flasher)
        await wait(2)
        assert (await flasher.listen(1)).tone in ("dial", "recall_dial")
        assert hears_music(await other.recording(2.0))
        await flash(flasher)
        await talking(flasher, other)


async def test_hanging_up_with_a_call_on_hold_rings_the_phone_back() -> None:
    async with running_box() as box:
        p101, p102 = await in_call(box, "101", "102")
        await flash(p102)
        await p102.onhook()
        await wait(8)
        ringing = await p102.listen(7.5)
        assert ringing.ring_cadence_ms
        assert ringing.callerid is not None and ringing.callerid["number"] == "101"
        assert hears_music(await p101.recording(2.0))  # still held meanwhile
        await p102.offhook()
        await wait(1)
        await talking(p101, p102)


async def test_a_held_call_that_is_not_taken_back_is_released_after_the_recall() -> None:
    async with running_box() as box:
        p101, p102 = await in_call(box, "101", "102")
        await flash(p102)
        await p102.onhook()
        await wait(RECALL_RING_S + 5)
        assert not (await p102.status())["ringing"]
        assert (await p101.listen(3)).tone == "congestion"  # 101 hears the call is over


async def test_the_held_party_hanging_up_leaves_the_flasher_an_ordinary_line() -> None:
    async with running_box() as box:
        p101, p102 = await in_call(box, "101", "102")
        await flash(p102)
        await p101.onhook()
        await wait(1)
        await dial(p102, "103")  # dialled as an ordinary call now
        p103 = await box.phone("103")
        await wait(1)
        assert (await p103.status())["ringing"]
        await p102.onhook()
        await wait(8)
        assert not (await p102.status())["ringing"]  # nothing to ring back with


# ---------------------------------------------------------------------------------------------
# blind transfer


async def test_flash_blind_code_and_number_sends_the_caller_there() -> None:
    async with running_box() as box:
        p101, p102 = await in_call(box, "101", "102")
        p103 = await box.phone("103")
        await flash(p102)
        await dial(p102, "##103")
        await p102.onhook()
        await wait(13)
        ringing = await p103.listen(2)
        assert ringing.callerid is not None and ringing.callerid["number"] == "101"
        assert ringing.callerid["name"] == "102>Extension 1"  # 102 transferred it (15 chars)
        assert (await p101.listen(12)).tone == "ringback"
        await p103.offhook()
        await wait(1)
        await talking(p101, p103)


async def test_a_blind_transfer_nobody_answers_comes_back_to_the_transferrer() -> None:
    async with running_box() as box:
        p101, p102 = await in_call(box, "101", "102")
        p103 = await box.phone("103")
        await flash(p102)
        await dial(p102, "##103")
        await p102.onhook()
        await wait(TRANSFER_RING_S + 2)
        assert not (await p103.status())["ringing"]
        await wait(8)
        ringing = await p102.listen(7.5)
        assert ringing.ring_cadence_ms and ringing.callerid is not None
        assert ringing.callerid["number"] == "101"
        await p102.offhook()
        await wait(2)
        assert spoken(await p102.recording(2.0))  # "transfer failed", then the call
        await wait(1)
        await talking(p101, p102)


async def test_a_blind_transfer_to_a_busy_phone_comes_back_at_once() -> None:
    async with running_box() as box:
        p101, p102 = await in_call(box, "101", "102")
        p103 = await box.phone("103")
        await p103.offhook()  # busy
        await flash(p102)
        await dial(p102, "##103")
        await p102.onhook()
        await wait(8)
        assert (await p102.listen(7.5)).ring_cadence_ms  # rung back, no 30 s wait
        assert hears_music(await p101.recording(2.0))  # 101 waits on hold meanwhile


# ---------------------------------------------------------------------------------------------
# attended and semi-attended transfer


async def test_attended_transfer_joins_the_held_caller_and_the_colleague() -> None:
    async with running_box() as box:
        p101, p102 = await in_call(box, "101", "102")
        p103 = await box.phone("103")
        await flash(p102)
        await dial(p102, "103")
        await wait(1)
        await p103.offhook()
        await wait(1)
        await talking(p102, p103)  # the consult: 101 does not hear it
        assert hears_music(await p101.recording(2.0))
        await p102.onhook()
        await wait(1)
        await talking(p101, p103)
        await p103.onhook()
        await wait(3)
        assert (await p101.listen(3)).tone == "congestion"  # the call is over for 101 too


async def test_semi_attended_transfer_rings_on_and_joins_when_answered() -> None:
    async with running_box() as box:
        p101, p102 = await in_call(box, "101", "102")
        p103 = await box.phone("103")
        await flash(p102)
        await dial(p102, "103")
        await wait(2)
        await p102.onhook()  # while 103 rings
        await wait(13)
        assert (await p101.listen(12)).tone == "ringback"
        assert (await p103.listen(12)).ring_cadence_ms
        await p103.offhook()
        await wait(1)
        await talking(p101, p103)


async def test_a_semi_attended_transfer_nobody_answers_rings_the_transferrer_back() -> None:
    async with running_box() as box:
        p101, p102 = await in_call(box, "101", "102")
        await flash(p102)
        await dial(p102, "103")
        await wait(2)
        await p102.onhook()
        await wait(40)  # 103's ring time (30 s) runs out
        ringing = await p102.listen(7.5)
        assert ringing.ring_cadence_ms and ringing.callerid is not None
        assert ringing.callerid["number"] == "101"
        await p102.offhook()
        await wait(1)
        await talking(p101, p102)


async def test_a_busy_consult_and_a_flash_give_back_the_held_party() -> None:
    async with running_box() as box:
        p101, p102 = await in_call(box, "101", "102")
        p103 = await box.phone("103")
        await p103.offhook()
        await flash(p102)
        await dial(p102, "103")
        await wait(2)
        assert (await p102.listen(2)).tone == "busy"
        await flash(p102)
        await talking(p101, p102)


# ---------------------------------------------------------------------------------------------
# with a SIP phone on the other end


async def test_an_analog_phone_transfers_a_sip_caller() -> None:
    office = "\n".join([
        '[site]\ncountry = "us"\ntimezone = "UTC"\n',
        '[sip]\nlisten = "127.0.0.1:0"\n',
        *(f'[[extension]]\nnumber = "10{n}"\nname = "Desk {n}"\ndevices = ["fxs:{n}"]\n'
          for n in (1, 2, 3)),
        '[[extension]]\nnumber = "201"\nname = "Soft"\ndevices = ["sip"]\n'
        'secret = "secret-of-201"\n',
    ])
    async with running_box(office) as box:
        assert box.box.sip is not None
        p101, p103 = await box.phones("101", "103")
        async with SipPhone(box.box.sip.address, "201", "secret-of-201") as soft:
            assert (await soft.register()) is not None
            sip_call = await soft.call("101")
            await sip_call.response(180)
            await wait(1)
            await p101.offhook()
            await sip_call.answered()
            await wait(1)
            await flash(p101)
            await wait(2)
            assert hears_music(sip_call.recording(2.0))
            await dial(p101, "##103")
            await p101.onhook()
            await wait(2)
            await p103.offhook()
            await wait(1)
            sip_call.play_tone(700)
            await p103.say_tone(1200, 1500)
            await wait(1)
            assert dominant_hz(await p103.recording(1.0)) == pytest.approx(700, abs=10)
            assert sip_call.heard_hz(1.0) == pytest.approx(1200, abs=10)
            await sip_call.hangup()
            await wait(3)
            assert (await p103.listen(3)).tone == "congestion"


# ---------------------------------------------------------------------------------------------
# 3-way calls


async def three_way(box: Harness) -> tuple[VirtualPhone, VirtualPhone, VirtualPhone]:
    """101 calls 102; 102 flashes, dials 103, 103 answers, 102 flashes: all three talk."""
    p101, p102 = await in_call(box, "101", "102")
    p103 = await box.phone("103")
    await flash(p102)
    await dial(p102, "103")
    await p103.offhook()
    await wait(1)
    await flash(p102)
    return p101, p102, p103


async def test_flash_dial_flash_makes_a_three_way_call_where_no_one_hears_themselves() -> None:
    async with running_box() as box:
        p101, p102, p103 = await three_way(box)
        await p101.say_tone(700, 1500)
        await wait(1)
        assert dominant_hz(await p102.recording(1.0)) == pytest.approx(700, abs=10)
        assert dominant_hz(await p103.recording(1.0)) == pytest.approx(700, abs=10)
        await wait(1)  # 101 has finished
        await p103.say_tone(1200, 1500)
        await wait(1)
        heard_at_103 = await p103.recording(1.0)
        assert dominant_hz(await p101.recording(1.0)) == pytest.approx(1200, abs=10)
        assert dominant_hz(await p102.recording(1.0)) == pytest.approx(1200, abs=10)
        # 103 said 1200 Hz: what it hears back is not its own voice.
        rms = float(np.sqrt(np.mean(heard_at_103.astype(np.float64) ** 2)))
        assert rms < 30


async def test_a_flash_in_a_three_way_drops_the_last_party_added() -> None:
    async with running_box() as box:
        p101, p102, p103 = await three_way(box)
        await flash(p102)
        await wait(2)
        assert (await p103.listen(3)).tone == "congestion"  # dropped: 103's call is over
        await talking(p101, p102)


async def test_when_the_host_hangs_up_the_other_two_talk_on() -> None:
    async with running_box() as box:
        p101, p102, p103 = await three_way(box)
        await p102.onhook()
        await wait(1)
        await talking(p101, p103)


async def test_when_one_guest_hangs_up_the_three_way_becomes_a_two_party_call() -> None:
    async with running_box() as box:
        p101, p102, p103 = await three_way(box)
        await p101.onhook()
        await wait(1)
        await talking(p102, p103)


# ---------------------------------------------------------------------------------------------
# the European R-key style


R_KEY_OFFICE = "\n".join([
    '[site]\ncountry = "de"\ntimezone = "Europe/Berlin"\n',
    '[analog.port."fxs:2"]\nflash_style = "r-key"\n',
    *(f'[[extension]]\nnumber = "10{n}"\nname = "Platz {n}"\ndevices = ["fxs:{n}"]\n'
      for n in (1, 2, 3, 4)),
])


async def consulting(box: Harness) -> tuple[VirtualPhone, VirtualPhone, VirtualPhone]:
    """101 calls 102; 102 presses R, dials 103, 103 answers."""
    p101, p102 = await in_call(box, "101", "102")
    p103 = await box.phone("103")
    await flash(p102)
    await dial(p102, "103")
    await p103.offhook()
    await wait(1)
    return p101, p102, p103


async def r(phone: VirtualPhone, digit: str) -> None:
    await phone.flash(300)
    await wait(0.5)
    await dial(phone, digit)


async def test_r2_swaps_between_the_two_calls() -> None:
    async with running_box(R_KEY_OFFICE) as box:
        p101, p102, p103 = await consulting(box)
        await r(p102, "2")
        await talking(p102, p101)
        assert hears_music(await p103.recording(2.0))
        await r(p102, "2")
        await talking(p102, p103)


async def test_r1_drops_the_current_call_and_takes_the_other() -> None:
    async with running_box(R_KEY_OFFICE) as box:
        p101, p102, p103 = await consulting(box)
        await r(p102, "1")
        await talking(p102, p101)
        await wait(2)
        assert (await p103.listen(3)).tone == "busy"  # the German cleared tone: 103 was dropped


async def test_r3_makes_a_three_way_call() -> None:
    async with running_box(R_KEY_OFFICE) as box:
        p101, p102, p103 = await consulting(box)
        await r(p102, "3")
        await p101.say_tone(700, 1500)
        await wait(1)
        assert dominant_hz(await p102.recording(1.0)) == pytest.approx(700, abs=10)
        assert dominant_hz(await p103.recording(1.0)) == pytest.approx(700, abs=10)


async def test_r4_joins_the_two_and_drops_out() -> None:
    async with running_box(R_KEY_OFFICE) as box:
        p101, p102, p103 = await consulting(box)
        await r(p102, "4")
        await talking(p101, p103)
        assert (await p102.listen(2)).tone == "busy"  # 102 is out of both calls


async def test_a_recall_nobody_answers_goes_to_the_operator() -> None:
    office = "\n".join([
        '[site]\ncountry = "us"\ntimezone = "UTC"\n',
        '[features]\noperator = "104"\n',
        *(f'[[extension]]\nnumber = "10{n}"\nname = "Desk {n}"\ndevices = ["fxs:{n}"]\n'
          for n in (1, 2, 3, 4)),
    ])
    async with running_box(office) as box:
        p101, p102 = await in_call(box, "101", "102")
        p104 = await box.phone("104")
        await flash(p102)
        await p102.onhook()  # the held call rings 102 back; nobody answers
        await wait(RECALL_RING_S + 8)
        ringing = await p104.listen(7.5)
        assert ringing.ring_cadence_ms and ringing.callerid is not None
        assert ringing.callerid["number"] == "101"
        await p104.offhook()
        await wait(1)
        await talking(p101, p104)
