"""Call forwarding and do-not-disturb from the phones' keypads (firmware/engine/features/
forward.py), as the people calling and being called notice them. Fake time, virtual board.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import pytest

from tests.integration.harness import running_box, wait
from tests.sipphone import SipPhone, dominant_hz
from tools.phone.handset import VirtualPhone

RING_S = 30.0  # [analog] ring_timeout_s default


async def code(phone: VirtualPhone, digits: str) -> None:
    """Lift, dial a feature code, hear it confirmed, hang up."""
    await phone.offhook()
    await wait(1)
    ms = await phone.dial(digits + "#")
    await wait(ms / 1000 + 0.5)
    await phone.onhook()
    await wait(1)


async def ring(caller: VirtualPhone, number: str) -> None:
    await caller.offhook()
    await wait(1)
    ms = await caller.dial(number)
    await wait(ms / 1000 + 1)


async def rung(phone: VirtualPhone) -> bool:
    return bool((await phone.listen(7)).ring_cadence_ms)


async def test_forward_all_sends_calls_on_with_the_caller_s_number() -> None:
    async with running_box() as box:
        p101, p102, p103 = await box.phones("101", "102", "103")
        await code(p102, "*72103")
        await ring(p101, "102")
        await wait(7)
        heard = await p103.listen(7)
        assert heard.ring_cadence_ms and heard.callerid is not None
        assert heard.callerid["number"] == "101"
        assert not (await p102.listen(7)).ring_cadence_ms
        await p103.offhook()
        await wait(1)
        await p101.say_tone(700, 1500)
        await wait(1)
        assert dominant_hz(await p103.recording(1.0)) == pytest.approx(700, abs=10)


async def test_a_phone_with_forward_on_hears_stutter_dial_tone_and_star_73_ends_it() -> None:
    async with running_box() as box:
        p101, p102 = await box.phones("101", "102")
        await code(p102, "*72103")
        await p102.offhook()
        await wait(3)
        assert (await p102.listen(3)).tone == "stutter_dial"
        await p102.onhook()
        await code(p102, "*73")
        await p102.offhook()
        await wait(3)
        assert (await p102.listen(2)).tone == "dial"
        await p102.onhook()
        await ring(p101, "102")
        await wait(7)
        assert await rung(p102)


async def test_the_code_is_confirmed_with_beeps() -> None:
    async with running_box() as box:
        (p102,) = await box.phones("102")
        await p102.offhook()
        await wait(1)
        ms = await p102.dial("*78")
        await wait(ms / 1000 + 0.3)
        beeps = await p102.recording(0.5)
        assert dominant_hz(beeps) in (pytest.approx(350, abs=10), pytest.approx(440, abs=10))


async def test_do_not_disturb_gives_callers_busy() -> None:
    async with running_box() as box:
        p101, p102 = await box.phones("101", "102")
        await code(p102, "*78")
        await ring(p101, "102")
        await wait(1)
        assert (await p101.listen(2)).tone == "busy"
        assert not (await p102.listen(3)).ring_cadence_ms
        await p101.onhook()
        await code(p102, "*79")
        await ring(p101, "102")
        await wait(7)
        assert await rung(p102)


async def test_forward_on_busy_takes_calls_while_the_phone_is_in_use() -> None:
    async with running_box() as box:
        p101, p102, p103 = await box.phones("101", "102", "103")
        await code(p102, "*90103")
        await p102.offhook()  # busy
        await ring(p101, "102")
        await wait(7)
        assert await rung(p103)


async def test_forward_on_no_answer_takes_over_after_the_ring_time() -> None:
    async with running_box() as box:
        p101, p102, p103 = await box.phones("101", "102", "103")
        await code(p102, "*52103")
        await ring(p101, "102")
        await wait(7)
        assert await rung(p102)
        assert not await rung(p103)
        await wait(RING_S)
        assert await rung(p103)
        assert not (await p102.status())["ringing"]


async def test_a_forward_loop_ends_in_congestion_not_a_ringing_storm() -> None:
    async with running_box() as box:
        p101, p102, p103 = await box.phones("101", "102", "103")
        await code(p102, "*72103")
        await code(p103, "*72102")
        await ring(p101, "102")
        await wait(2)
        assert (await p101.listen(2)).tone == "congestion"
        assert not (await p102.listen(3)).ring_cadence_ms
        assert not (await p103.listen(3)).ring_cadence_ms


async def test_forwards_survive_a_restart() -> None:
    state = Path(tempfile.mkdtemp(prefix="pbx-"))
    try:
        async with running_box(state_dir=state) as box:
            (p102,) = await box.phones("102")
            await code(p102, "*72103")
        saved = json.loads((state / "extension-settings.json").read_text())
        assert saved["102"]["forward_all"] == "103"
        async with running_box(state_dir=state) as box:
            p101, p102, p103 = await box.phones("101", "102", "103")
            await ring(p101, "102")
            await wait(7)
            assert await rung(p103)
            assert not await rung(p102)
    finally:
        shutil.rmtree(state, ignore_errors=True)


async def test_a_damaged_settings_file_is_set_aside_and_the_box_starts() -> None:
    state = Path(tempfile.mkdtemp(prefix="pbx-"))
    try:
        (state / "extension-settings.json").write_text("{not json")
        async with running_box(state_dir=state) as box:
            p101, p102 = await box.phones("101", "102")
            await ring(p101, "102")
            await wait(7)
            assert await rung(p102)
        assert (state / "extension-settings.damaged").exists()
    finally:
        shutil.rmtree(state, ignore_errors=True)


async def test_a_sip_phone_sets_its_forward_with_the_same_code() -> None:
    office = "\n".join([
        '[site]\ncountry = "us"\ntimezone = "UTC"\n',
        '[sip]\nlisten = "127.0.0.1:0"\n',
        *(f'[[extension]]\nnumber = "10{n}"\nname = "Desk {n}"\ndevices = ["fxs:{n}"]\n'
          for n in (1, 2)),
        '[[extension]]\nnumber = "201"\nname = "Soft"\ndevices = ["sip"]\n'
        'secret = "secret-of-201"\n',
    ])
    async with running_box(office) as box:
        assert box.box.sip is not None
        p101, p102 = await box.phones("101", "102")
        async with SipPhone(box.box.sip.address, "201", "secret-of-201") as soft:
            assert (await soft.register()) is not None
            setting = await soft.call("*72102")
            assert (await setting.answered()).status == 200  # answered: the beeps ...
            assert await setting.ended() == "bye"  # ... then the box hangs up
            await ring(p101, "201")
            await wait(7)
            assert await rung(p102)


