"""Call park: flash + 700 parks the held call in 701-708 and says the slot; anyone dials
the slot to take it; a call nobody takes rings its parker back, then the operator, and is
never dropped (firmware/engine/features/park.py). Fake time, virtual board."""

from __future__ import annotations

import numpy as np
import pytest

from firmware.media.prompts import PromptSet
from tests.integration.calls import in_call, lift_and_dial, office, spoken, talking
from tests.integration.harness import Harness, running_box, wait
from tests.sipphone import SipPhone, dominant_hz
from tools.phone.handset import VirtualPhone

PARK_TIMEOUT_S = 45.0
RECALL_RING_S = 30.0






async def park(parker: VirtualPhone, code: str = "700") -> np.ndarray:
    """Flash, dial the park code; what the parker hears for the next 4 s; hang up."""
    await parker.flash(500)
    await wait(1)
    ms = await parker.dial(code)
    await wait(ms / 1000 + 4)
    heard = await parker.recording(4.0)
    await parker.onhook()
    await wait(0.5)
    return heard








def slots(box: Harness) -> list[str]:
    assert box.box.engine is not None
    return sorted(box.box.engine.parking.slots)


async def test_flash_700_parks_says_the_slot_and_anyone_takes_it_back() -> None:
    async with running_box(office()) as box:
        p101, p102 = await in_call(box, "101", "102")
        heard = await park(p102)
        assert spoken(heard)  # "parked on seven zero one"
        assert slots(box) == ["701"]
        await wait(2)
        assert float(np.sqrt(np.mean((await p101.recording(2.0)).astype(float) ** 2))) > 100
        p103 = await box.phone("103")
        await lift_and_dial(p103, "701")
        await wait(1)
        await talking(p101, p103)
        assert slots(box) == []


async def test_a_second_call_parks_in_the_next_slot_and_a_sip_phone_takes_it() -> None:
    async with running_box(office()) as box:
        _p101, p102 = await in_call(box, "101", "102")
        await park(p102)
        p103, p104 = await in_call(box, "103", "104")
        await park(p104, "*5")
        assert slots(box) == ["701", "702"]
        assert box.box.sip is not None
        async with SipPhone(box.box.sip.address, "201", "secret-of-201") as soft:
            assert (await soft.register()) is not None
            taken = await soft.call("702")
            assert (await taken.answered()).status == 200
            taken.play_tone(700)
            await wait(1)
            assert dominant_hz(await p103.recording(1.0)) == pytest.approx(700, abs=10)
        assert slots(box) == ["701"]


async def test_a_call_nobody_takes_rings_the_parker_back() -> None:
    async with running_box(office()) as box:
        p101, p102 = await in_call(box, "101", "102")
        await park(p102)
        await wait(PARK_TIMEOUT_S + 8)
        ringing = await p102.listen(7.5)
        assert ringing.ring_cadence_ms and ringing.callerid is not None
        assert ringing.callerid["number"] == "101"
        await p102.offhook()
        await wait(1)
        await talking(p101, p102)


async def test_then_the_operator_and_then_the_lot_again_never_dropped() -> None:
    async with running_box(office(features='operator = "104"')) as box:
        p101, p102 = await in_call(box, "101", "102")
        p104 = await box.phone("104")
        await park(p102)
        await wait(PARK_TIMEOUT_S + RECALL_RING_S + 8)
        assert (await p104.listen(7.5)).ring_cadence_ms  # the operator rings now
        await wait(40)  # the operator does not answer either
        assert slots(box) == ["701"]  # back in the lot, still waiting
        assert float(np.sqrt(np.mean((await p101.recording(2.0)).astype(float) ** 2))) > 100
        p103 = await box.phone("103")
        await lift_and_dial(p103, "701")
        await wait(1)
        await talking(p101, p103)


async def test_a_full_lot_says_so_and_gives_the_call_back() -> None:
    async with running_box(office(features="park_slots = 1")) as box:
        _p101, p102 = await in_call(box, "101", "102")
        await park(p102)
        p103, p104 = await in_call(box, "103", "104")
        await p104.flash(500)
        await wait(1)
        ms = await p104.dial("700")
        await wait(ms / 1000 + 2.5)
        assert spoken(await p104.recording(2.5))  # "the parking lot is full"
        await wait(2)
        await talking(p103, p104)  # and the call is back


async def test_two_people_dialling_one_slot_at_once_the_first_gets_it() -> None:
    async with running_box(office()) as box:
        p101, p102 = await in_call(box, "101", "102")
        await park(p102)
        p103, p104 = await box.phones("103", "104")
        for phone in (p103, p104):
            await phone.offhook()
        await wait(1)
        await p103.dial("701")
        await p104.dial("701")
        await wait(2)
        assert (await p104.listen(2)).tone == "congestion"
        await talking(p101, p103)


async def test_a_caller_who_hangs_up_while_parked_frees_the_slot() -> None:
    async with running_box(office()) as box:
        p101, p102 = await in_call(box, "101", "102")
        await park(p102)
        await p101.onhook()
        await wait(1)
        assert slots(box) == []


async def test_a_transfer_to_the_park_number_parks_the_call() -> None:
    async with running_box(office()) as box:
        p101, p102 = await in_call(box, "101", "102")
        await p102.flash(500)
        await wait(1)
        ms = await p102.dial("##700")
        await wait(ms / 1000 + 0.5)
        await p102.onhook()
        await wait(2)
        assert slots(box) == ["701"]
        p103 = await box.phone("103")
        await lift_and_dial(p103, "701")
        await wait(1)
        await talking(p101, p103)


async def test_without_prompts_the_slot_is_beeped() -> None:
    async with running_box(office()) as box:
        assert box.box.engine is not None
        box.box.engine.prompts = PromptSet({})  # the prompt files are missing
        _p101, p102 = await in_call(box, "101", "102")
        heard = await park(p102)
        beep = heard[:1600]  # the first 200 ms after dialling: one beep for slot 701
        assert not spoken(heard[:3200])
        assert dominant_hz(beep) in (pytest.approx(350, abs=10), pytest.approx(440, abs=10))
