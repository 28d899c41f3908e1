"""A call from the SIP provider to one of the office's numbers goes to the auto attendant
(`[trunk.inbound] "+15125550100" = "menu:main"`): the box answers, the caller hears the
greeting over RTP, keys an option (RFC 4733) and the extension rings. Fake time."""

from __future__ import annotations

import pytest

from tests.integration.harness import running_box, wait
from tests.integration.prompts_heard import heard_prompt
from tests.integration.test_sip_calls import second_address
from tests.integration.test_trunks import ACCOUNT, MAIN_NUMBER, PASSWORD, office_toml
from tests.sipphone import dominant_hz
from tests.sipprovider import CALLER, FakeProvider

MENU = '''
[[menu]]
name = "main"
[menu.options]
"5" = "102"
'''


async def test_a_did_leads_to_the_menu_and_a_key_rings_the_extension() -> None:
    async with FakeProvider(("127.0.0.1", 0), ACCOUNT, PASSWORD,
                            host=second_address()) as provider:
        toml = office_toml(provider.port).replace(f'"{MAIN_NUMBER}" = "101"',
                                                  f'"{MAIN_NUMBER}" = "menu:main"') + MENU
        async with running_box(toml) as box:
            assert box.box.sip is not None
            provider.box = box.box.sip.address
            await provider.registered()
            call = await provider.call(MAIN_NUMBER)
            assert (await call.answered()).status == 200  # the menu answers at once
            await wait(3)
            assert heard_prompt(call.recording(3), "welcome")
            await call.send_digits("5")
            await wait(1.5)
            assert call.heard_hz(0.5) in (440.0, 480.0)  # ringback (440+480 Hz), not silence
            await wait(3)
            p102 = await box.phone("102")
            heard = await p102.listen(1)
            assert heard.callerid is not None and heard.callerid["number"] == CALLER
            await p102.offhook()
            await wait(1)
            call.play_tone(700)
            await wait(1)
            assert dominant_hz(await p102.recording(1.0)) == pytest.approx(700, abs=10)
