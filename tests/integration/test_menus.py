"""The auto attendant on the virtual board (docs/apps.md): a caller hears the greeting,
chooses with a key or dials an extension, and is never left without a way on. Judged by
the prompts each handset hears (`prompts_heard`) and who rings. Fake time.

The menu is dialled from an office phone (its number, 500), as an installer tests one.
"""

from __future__ import annotations

import numpy as np
import pytest

from firmware.engine.channel import Cause, Party
from tests.integration.calls import lift_and_dial, office, talking
from tests.integration.harness import Harness, running_box, wait
from tests.integration.prompts_heard import heard_prompt, likeness
from tests.integration.test_business_hours import Outsider
from tests.sipphone import dominant_hz
from tools.phone.handset import VirtualPhone, sine_tone

# After dialling 500: "thank you for calling", "please enter the extension ... operator"
GREETING_S = 6.5

MENUS = '''
[[group]]
name = "sales"
number = "600"
members = ["102", "103"]

[[menu]]
name = "main"
number = "500"
timeout_s = 3
timeout_destination = "103"
invalid_destination = "hangup"
invalid_retries = 1

[menu.options]
"1" = "group:sales"
"5" = "group:sales"
"7" = "menu:support"

[[menu]]
name = "support"
greeting = "menu-default"
dial_extensions = false

[menu.options]
"1" = "102"
'''


def menu_office(features: str = 'operator = "104"\n', extra: str = "") -> str:
    return office(analog="ring_timeout_s = 20\n", features=features) + MENUS + extra


async def ringing(*phones: VirtualPhone) -> list[bool]:
    """Whether each phone has rung (the ring cadence pauses: `ringing` alone may be off)."""
    return [bool((await p.status())["rings"]) for p in phones]


async def call_menu(box: Harness, who: str = "101") -> VirtualPhone:
    caller = await box.phone(who)
    await lift_and_dial(caller, "500")
    return caller


async def test_the_greeting_then_an_option_rings_the_group() -> None:
    async with running_box(menu_office()) as box:
        caller = await call_menu(box)
        await wait(GREETING_S - 1)
        heard = await caller.recording(GREETING_S)
        assert heard_prompt(heard, "welcome") and heard_prompt(heard, "menu-default")
        await wait(1)
        ms = await caller.dial("5")
        await wait(ms / 1000 + 1)
        p102, p103 = await box.phones("102", "103")
        assert await ringing(p102, p103) == [True, True]  # the group rings all
        await wait(7)
        assert (await caller.listen(8)).tone == "ringback"
        await p103.offhook()
        await wait(1)
        assert not (await p102.status())["ringing"]
        await talking(caller, p103)


async def test_a_key_during_the_greeting_cuts_it_short() -> None:
    async with running_box(menu_office()) as box:
        caller = await call_menu(box)
        await wait(1)  # in the middle of "thank you for calling"
        ms = await caller.dial("5")
        await wait(ms / 1000 + 0.5)
        p102 = await box.phone("102")
        assert await ringing(p102) == [True]  # at once, not after the greeting
        heard = await caller.recording(1 + ms / 1000 + 0.5)
        assert not heard_prompt(heard, "menu-default")  # the rest was never said


async def test_an_extension_number_is_dialled_directly() -> None:
    async with running_box(menu_office()) as box:
        caller = await call_menu(box)
        await wait(2)
        ms = await caller.dial("103")  # "1" alone would be sales: 103 follows at once
        await wait(ms / 1000 + 1)
        p102, p103 = await box.phones("102", "103")
        assert await ringing(p102, p103) == [False, True]
        await p103.offhook()
        await wait(1)
        await talking(caller, p103)


async def test_a_queue_number_is_dialled_directly() -> None:
    queue = '[[queue]]\nname = "help"\nnumber = "650"\nagents = ["102"]\n'
    async with running_box(menu_office(extra=queue)) as box:
        caller = await call_menu(box)
        await wait(2)
        ms = await caller.dial("650")
        await wait(ms / 1000 + 1)
        p102 = await box.phone("102")
        assert await ringing(p102) == [True]  # the queue's agent
        await p102.offhook()
        await wait(1)
        await talking(caller, p102)


async def test_an_option_that_numbers_start_with_waits_for_more_digits() -> None:
    async with running_box(menu_office()) as box:
        caller = await call_menu(box)
        await wait(GREETING_S)
        await caller.dial("1")
        await wait(2)  # "1" could be the start of 101-104: the menu waits (interdigit_s)
        p102 = await box.phone("102")
        assert await ringing(p102) == [False]
        await wait(2)
        assert await ringing(p102) == [True]  # nothing more: option 1, the group


async def test_no_key_says_so_twice_then_goes_to_the_timeout_destination() -> None:
    async with running_box(menu_office()) as box:
        caller = await call_menu(box)
        p103 = await box.phone("103")
        await wait(GREETING_S + 3 + 1.5)  # no key for timeout_s = 3
        assert heard_prompt(await caller.recording(3), "no-choice")
        assert await ringing(p103) == [False]
        # "we did not hear your choice", greeting, 3 s: twice (timeout_retries = 2)
        await wait(2 * (1.7 + GREETING_S + 3))
        assert await ringing(p103) == [True]


async def test_a_wrong_key_says_so_then_the_invalid_destination_says_goodbye() -> None:
    async with running_box(menu_office()) as box:
        caller = await call_menu(box)
        await wait(GREETING_S)
        ms = await caller.dial("9")
        await wait(ms / 1000 + 2)
        assert heard_prompt(await caller.recording(2.5), "not-valid")
        await wait(GREETING_S - 1.5)
        await caller.dial("9")  # invalid_retries = 1: the second wrong key is the last
        await wait(2.5)
        assert heard_prompt(await caller.recording(2.5), "goodbye")
        await wait(1)
        assert (await caller.listen(3)).tone == "congestion"  # the call is over


async def test_menus_nest_and_zero_is_the_operator() -> None:
    async with running_box(menu_office()) as box:
        caller = await call_menu(box)
        await wait(1)
        await caller.dial("7")  # the support menu: its own greeting
        await wait(5)
        heard = await caller.recording(4.5)
        assert heard_prompt(heard, "menu-default") and not heard_prompt(heard, "welcome")
        await wait(2)
        await caller.dial("0")  # 0: the operator (104), in every menu
        await wait(1.5)
        p102, p104 = await box.phones("102", "104")
        assert await ringing(p102, p104) == [False, True]


async def test_a_caller_whose_choice_is_not_answered_hears_so_and_the_menu_again() -> None:
    async with running_box(menu_office().replace("ring_timeout_s = 20", "ring_timeout_s = 5")
                           ) as box:
        caller = await call_menu(box)
        await wait(2)
        await caller.dial("102")
        await wait(1 + 5 + 1)  # 102 rings 5 s, nobody answers
        heard = await caller.recording(3)
        assert heard_prompt(heard, "unavailable")
        await wait(GREETING_S)
        assert heard_prompt(await caller.recording(GREETING_S), "menu-default")


async def test_a_greeting_recorded_from_an_office_phone_is_what_callers_hear() -> None:
    async with running_box(menu_office()) as box:
        recorder = await box.phone("102")
        await lift_and_dial(recorder, "*77500")
        await wait(4.5)  # "record your greeting after the tone, then press pound", beep
        await recorder.say(sine_tone(700, 2500))
        await wait(2.6)
        ms = await recorder.dial("#")
        await wait(ms / 1000 + 2.5)
        assert dominant_hz(await recorder.recording(1.5)) == pytest.approx(700, abs=10)
        await wait(2)  # played back, then "greeting saved"
        assert heard_prompt(await recorder.recording(2), "vm-greeting-saved")
        await recorder.onhook()
        saved = box.box.state_dir / "prompts" / "menu-main.wav"
        assert saved.exists()
        caller = await call_menu(box)
        await wait(2)
        greeting = await caller.recording(2)
        assert dominant_hz(greeting) == pytest.approx(700, abs=10)
        assert not heard_prompt(greeting, "welcome")


async def test_a_recorded_greeting_keeps_none_of_the_pound_key() -> None:
    async with running_box(menu_office()) as box:
        recorder = await box.phone("102")
        await lift_and_dial(recorder, "*77500")
        await wait(4.5)
        await recorder.say(sine_tone(700, 1500))
        await wait(1.6)
        await recorder.dial("#")
        await wait(1)
        await recorder.onhook()
        await wait(0.5)
        assert box.box.engine is not None
        samples = box.box.engine.prompts.samples("menu-main")
        assert samples is not None
        tail = samples[-800:].astype(np.float64)
        assert dominant_hz(samples[-800:]) == pytest.approx(700, abs=10) or \
            float(np.sqrt(np.mean(tail ** 2))) < 100  # the tone, or the pause before '#'
        assert likeness(samples, sine_tone(700, 500)) > 0.9


async def test_only_office_phones_record_greetings() -> None:
    async with running_box(menu_office()) as box:
        assert box.box.engine is not None
        record = box.box.engine.dialplan.lookup("*77500")
        assert record is not None
        assert await record(Outsider("line/1", Party("5125550199", None))) is \
            Cause.CALL_BARRED
        assert not (box.box.state_dir / "prompts" / "menu-main.wav").exists()
