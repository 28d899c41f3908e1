"""A running box takes a new office config, and keeps the running one when it is broken."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from firmware.box import LAST_GOOD_OFFICE
from tests.integration.harness import office_toml, running_box, wait

RENUMBERED = office_toml("us").replace('number = "104"', 'number = "204"')


async def test_a_good_config_takes_effect_without_dropping_calls() -> None:
    async with running_box(office_toml("us")) as box:
        p101, p102, p103 = await box.phones("101", "102", "103")
        await p101.offhook()
        await wait(1)
        await p101.dial("102")
        await wait(1)
        await p102.offhook()
        config = Path(tempfile.mkdtemp(prefix="pbx-")) / "office.toml"
        config.write_text(RENUMBERED.replace('country = "us"', 'country = "de"'))
        assert box.box.reload(config)
        assert (box.box.state_dir / LAST_GOOD_OFFICE).read_text().count("204") == 1
        # The call in progress goes on.
        await p101.say_tone(1000)
        await wait(1)
        assert (await p102.listen(1)).freqs == pytest.approx([1000], abs=5)
        # New calls follow the new plan: German dial tone, and 104 is now 204.
        await p103.offhook()
        await wait(2)
        assert (await p103.listen(1.5)).freqs == pytest.approx([425], abs=3)
        await p103.dial("204")
        await wait(2)
        p204 = await box.phone("204")
        assert p204.port == "fxs:4"
        assert (await p204.status())["rings"]
        assert (await box.phone("fxs:4")).extension == "204"


async def test_a_broken_config_is_refused_and_the_box_goes_on() -> None:
    async with running_box(office_toml("us")) as box:
        config = Path(tempfile.mkdtemp(prefix="pbx-")) / "office.toml"
        config.write_text('[[extension]]\nnumber = "1O1"\nname = "Typo"\ndevices = ["fxs:1"]\n')
        assert not box.box.reload(config)
        p101, p104 = await box.phones("101", "104")
        await p101.offhook()
        await wait(2)
        assert (await p101.listen(1.5)).tone == "dial"
        await p101.dial("104")
        await wait(2)
        assert (await p104.status())["rings"]
