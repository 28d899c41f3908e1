"""Call pickup: *8 answers a phone ringing in your pickup group, ** + extension a given one
(firmware/engine/features/pickup.py). Fake time, virtual board."""

from __future__ import annotations

import pytest

from tests.integration.calls import lift_and_dial, office, talking
from tests.integration.harness import running_box, wait
from tests.sipphone import SipPhone, dominant_hz


@pytest.mark.parametrize("code", ["*8", "**102"])
async def test_a_ringing_phone_is_answered_from_another(code: str) -> None:
    async with running_box(office()) as box:
        p101, p102, p103 = await box.phones("101", "102", "103")
        await lift_and_dial(p101, "102")
        await wait(3)
        await lift_and_dial(p103, code)
        await wait(1)
        await talking(p101, p103)
        for _ in range(4):  # through a whole ring cycle: it stopped ringing
            assert not (await p102.status())["ringing"]
            await wait(2)


async def test_nothing_ringing_gives_congestion() -> None:
    async with running_box(office()) as box:
        (p103,) = await box.phones("103")
        await lift_and_dial(p103, "*8")
        await wait(1)
        assert (await p103.listen(2)).tone == "congestion"


async def test_group_pickup_stays_within_the_group_but_directed_pickup_does_not() -> None:
    async with running_box(office(extension_extra={"103": 'pickup_group = "lab"\n'})) as box:
        p101, p102, p103 = await box.phones("101", "102", "103")
        await lift_and_dial(p101, "102")
        await wait(2)
        await lift_and_dial(p103, "*8")
        await wait(1)
        assert (await p103.listen(2)).tone == "congestion"  # 102 is not in the lab
        await p103.onhook()
        await wait(6)
        assert (await p102.listen(6)).ring_cadence_ms  # still ringing
        await lift_and_dial(p103, "**102")
        await wait(1)
        await talking(p101, p103)


async def test_a_sip_phone_picks_up_an_analog_phone_s_call() -> None:
    async with running_box(office()) as box:
        assert box.box.sip is not None
        p101, p102 = await box.phones("101", "102")
        async with SipPhone(box.box.sip.address, "201", "secret-of-201") as soft:
            assert (await soft.register()) is not None
            await lift_and_dial(p101, "102")
            await wait(2)
            picked = await soft.call("*8")
            assert (await picked.answered()).status == 200
            picked.play_tone(700)
            await p101.say_tone(1200, 1500)
            await wait(1)
            assert dominant_hz(await p101.recording(1.0)) == pytest.approx(700, abs=10)
            assert picked.heard_hz(1.0) == pytest.approx(1200, abs=10)
            assert not (await p102.status())["ringing"]
            await picked.hangup()
            await wait(2)
            assert (await p101.listen(3)).tone == "congestion"
