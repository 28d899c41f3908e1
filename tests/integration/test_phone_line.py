"""The office's analog phone line (the virtual board's FXO port; docs/apps.md): calls ring
in with caller ID and go to the line's destination; office phones call out with 8 + the
number. The person outside is driven through the control interface (`tools.phone.outside`)
and judged, like every phone, by what they hear. Fake time."""

from __future__ import annotations

import pytest

from tests.integration.calls import lift_and_dial, office
from tests.integration.harness import running_box, wait
from tests.integration.prompts_heard import heard_prompt
from tests.sipphone import dominant_hz
from tools.phone.client import PhoneError
from tools.phone.handset import VirtualPhone, sine_tone
from tools.phone.outside import OutsideLine, line_command

ROUTE = '''
[[route]]
prefix = "8"
trunk = "fxo:1"
allow = ["NXXXXXX", "1NXXNXXXXXX"]
'''

MENU = '''
[[menu]]
name = "main"

[menu.options]
"5" = "102"

[fxo."fxo:1"]
destination = "menu:main"
'''

CALLER, CALLER_NAME = "5125550199", "Customer"


async def line_and_phone_talk(line: OutsideLine, phone: VirtualPhone) -> None:
    await line.say(sine_tone(700, 1500))
    await wait(1)
    assert dominant_hz(await phone.recording(1.0)) == pytest.approx(700, abs=10)
    await phone.say_tone(1200, 1500)
    await wait(1)
    assert dominant_hz(await line.recording(1.0)) == pytest.approx(1200, abs=10)


async def test_a_call_on_the_line_rings_the_first_extension_with_its_caller_id() -> None:
    async with running_box(office()) as box:
        line = await OutsideLine.find(box.client)
        await line.call(CALLER, CALLER_NAME)
        await wait(7)  # the first ring, caller ID after it, then the extension rings
        p101 = await box.phone("101")
        heard = await p101.listen(2)
        assert heard.ringing or (await p101.status())["rings"]
        assert heard.callerid is not None
        assert (heard.callerid["number"], heard.callerid["name"]) == (CALLER, CALLER_NAME)
        assert (await line.status())["state"] == "ringing"  # not answered yet
        await p101.offhook()
        await wait(1)
        assert (await line.status())["seized"]
        await line_and_phone_talk(line, p101)
        await line.hang_up()  # the caller hangs up: loop current drops
        await wait(1)
        assert not (await line.status())["seized"]
        await wait(1)
        assert (await p101.listen(3)).tone == "congestion"  # the US cleared tone


async def test_the_line_answers_into_the_menu_and_the_caller_chooses() -> None:
    async with running_box(office() + MENU) as box:
        line = await OutsideLine.find(box.client)
        await line.call(CALLER, CALLER_NAME)
        await wait(6.5)
        assert (await line.status())["seized"]  # the menu answered, after the caller ID
        await wait(1.5)
        assert heard_prompt(await line.recording(5), "welcome")
        await line.dial("5")
        await wait(5)  # the first ring, then its caller ID
        p102 = await box.phone("102")
        heard = await p102.listen(1)
        assert heard.callerid is not None and heard.callerid["number"] == CALLER
        await p102.offhook()
        await wait(1)
        await line_and_phone_talk(line, p102)


async def test_a_caller_who_gives_up_stops_the_ringing() -> None:
    async with running_box(office()) as box:
        line = await OutsideLine.find(box.client)
        await line.call(CALLER, CALLER_NAME)
        await wait(7)
        p101 = await box.phone("101")
        assert (await p101.status())["rings"]
        await line.hang_up()  # before anyone answered: the rings stop
        await wait(10)
        status = await p101.status()
        assert not status["ringing"] and status["rings"][-1][1] is not None
        assert status["now"] - status["rings"][-1][1] > 2  # no ring since
        await line.call(CALLER, CALLER_NAME)  # the line takes the next call
        await wait(7)
        assert len((await p101.status())["rings"]) > len(status["rings"])


async def test_8_and_a_number_seizes_the_line_and_dials_it() -> None:
    async with running_box(office() + ROUTE) as box:
        line = await OutsideLine.find(box.client)
        p101 = await box.phone("101")
        await lift_and_dial(p101, "85551234")
        await wait(2)  # dial tone, then the digits go down the line
        heard = await line.listen(4)
        assert heard.seized and heard.digits == "5551234"
        await wait(2)
        assert (await line.status())["state"] == "ringing-out"
        await wait(8)
        assert (await p101.listen(8)).tone == "ringback"  # the exchange's
        await line.answer()
        await wait(0.5)
        await line_and_phone_talk(line, p101)
        await line.hang_up()
        await wait(1.5)
        assert not (await line.status())["seized"]
        assert (await p101.listen(3)).tone == "congestion"


async def test_a_far_end_that_only_sounds_busy_tone_is_hung_up() -> None:
    async with running_box(office() + ROUTE) as box:
        line = await OutsideLine.find(box.client)
        p101 = await box.phone("101")
        await lift_and_dial(p101, "85551234")
        await wait(4)
        await line.answer()
        await wait(1)
        await line.hang_up(disconnect="tone")  # no loop current drop, only busy tone
        await wait(5)
        assert not (await line.status())["seized"]


async def test_the_caller_hanging_up_releases_the_line_for_the_next_call() -> None:
    async with running_box(office() + ROUTE) as box:
        line = await OutsideLine.find(box.client)
        p101, p102 = await box.phones("101", "102")
        await lift_and_dial(p101, "85551234")
        await wait(1)
        await lift_and_dial(p102, "85550000")  # the line is in use: reorder
        await wait(1)
        assert (await p102.listen(2)).tone == "congestion"
        await p102.onhook()
        await p101.onhook()
        await wait(1)
        status = await line.status()
        assert not status["seized"] and status["box_hung_up"]
        await lift_and_dial(p102, "85550000")
        await wait(3)
        assert (await line.listen(3)).digits == "5550000"


async def test_the_phone_tool_drives_the_person_outside() -> None:
    async with running_box(office() + ROUTE) as box:
        reply = await line_command(box.client, ["line", "call", CALLER, "Jane", "Doe"], None,
                                   8.0)
        assert reply["state"] == "ringing"
        await wait(7)
        heard = await (await box.phone("101")).listen(1)
        assert heard.callerid is not None and heard.callerid["name"] == "Jane Doe"
        assert (await line_command(box.client, ["fxo:1", "hangup"], None, 8.0))["state"] \
            == "idle"
        with pytest.raises(PhoneError, match="one of: call, answer"):
            await line_command(box.client, ["line", "wave"], None, 8.0)


async def test_etsi_caller_id_before_the_first_ring_is_read_too() -> None:
    async with running_box(office().replace('country = "us"', 'country = "de"')) as box:
        line = await OutsideLine.find(box.client)  # sends V.23 after a line reversal
        await line.call(CALLER, CALLER_NAME)
        await wait(3)
        heard = await (await box.phone("101")).listen(1)
        assert heard.callerid is not None
        assert (heard.callerid["number"], heard.callerid["name"]) == (CALLER, CALLER_NAME)
