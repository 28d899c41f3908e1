"""DECT handsets as extensions on the virtual board: paired through the control interface,
rung with caller ID, calling out by keypad, judged from what each handset hears and shows.
Fake time (see harness.py)."""

from __future__ import annotations

import numpy as np
import pytest

from firmware.engine.channels.dect import CLEARED_S
from hal.sim.dect import SimDectBase
from tests.integration.calls import talking
from tests.integration.harness import Harness, running_box, tones_heard, wait
from tools.phone.cli import parser, run
from tools.phone.dect import DectPhone
from tools.phone.handset import Heard, VirtualPhone

OFFICE = """
[site]
country = "us"
timezone = "UTC"

[sip]
listen = "127.0.0.1:0"

[[extension]]
number = "101"
name = "Desk 1"
devices = ["fxs:1"]

[[extension]]
number = "102"
name = "Desk 2"
devices = ["fxs:2"]

[[extension]]
number = "105"
name = "Warehouse"
devices = ["dect:1"]
"""


async def pair_handset(box: Harness) -> DectPhone:
    """Open the base's pairing window and register a handset, as a person would."""
    await box.client.request("dect", action="open", seconds=60)
    reply = await box.client.request("dect", action="pair")
    assert reply["handset"] == "dect:1"
    assert reply["registration_open"] is False  # the base closes it once a handset paired
    await wait(0.1)
    handset = await DectPhone.find(box.client, "105")
    assert handset is not None and handset.port == "dect:1"
    return handset


async def dial_from(phone: VirtualPhone, number: str) -> None:
    await phone.offhook()
    await wait(1)
    ms = await phone.dial(number)
    await wait(ms / 1000 + 1)


async def test_an_analog_phone_calls_a_dect_handset_which_rings_with_caller_id() -> None:
    async with running_box(OFFICE) as box:
        handset = await pair_handset(box)
        p101 = await box.phone("101")
        await dial_from(p101, "105")
        ringing = await handset.listen(1)
        assert ringing.ringing and ringing.hook == "on"
        assert ringing.callerid is not None
        assert (ringing.callerid["number"], ringing.callerid["name"]) == ("101", "Desk 1")
        await wait(8)
        assert (await p101.listen(8)).tone == "ringback"
        await handset.talk()
        await wait(1)
        assert (await handset.listen(1)).hook == "off"
        await talking(p101, handset)  # type: ignore[arg-type]
        await handset.end()
        await wait(3)
        assert (await p101.listen(2)).tone == "congestion"  # the US cleared tone
        assert (await handset.status())["call"] == "idle"


async def test_a_dect_handset_dials_an_extension_key_by_key() -> None:
    async with running_box(OFFICE) as box:
        handset = await pair_handset(box)
        p102 = await box.phone("102")
        await handset.talk()
        await wait(2)
        assert (await handset.listen(1.5)).tone == "dial"  # the box's dial tone, in-band
        await handset.dial("10")
        await handset.dial("2")
        await wait(6)
        ringing = await p102.listen(6)
        assert ringing.callerid is not None
        assert (ringing.callerid["number"], ringing.callerid["name"]) == ("105", "Warehouse")
        await wait(8)
        assert (await handset.listen(8)).tone == "ringback"
        await p102.offhook()
        await wait(1)
        await talking(handset, p102)  # type: ignore[arg-type]
        await p102.onhook()
        await wait(2)
        assert (await handset.status())["call"] == "idle"  # the box released the handset


async def test_a_number_typed_before_talk_is_dialled_at_once() -> None:
    async with running_box(OFFICE) as box:
        handset = await pair_handset(box)
        p101 = await box.phone("101")
        await handset.dial("101")
        await wait(1)
        assert (await p101.status())["ringing"]


async def test_a_failed_call_says_why_then_the_handset_is_released() -> None:
    async with running_box(OFFICE) as box:
        handset = await pair_handset(box)
        await handset.dial("199")  # no such number
        heard = await tones_heard(handset, 5)  # type: ignore[arg-type]
        assert heard[-2:] == ["sit", "congestion"]
        assert (await handset.status())["call"] == "connected"
        await wait(CLEARED_S)
        assert (await handset.status())["call"] == "idle"


async def test_keys_in_a_call_reach_an_analog_phone_as_dtmf() -> None:
    async with running_box(OFFICE) as box:
        handset = await pair_handset(box)
        p101 = await box.phone("101")
        await dial_from(p101, "105")
        await handset.talk()
        await wait(1)
        await handset.dial("5")
        await wait(0.1)
        heard = await p101.recording(0.1)
        assert sorted(round(f) for f in _two_loudest(heard)) == pytest.approx([770, 1336],
                                                                              abs=15)


async def test_a_handset_out_of_range_does_not_ring_and_the_caller_hears_so() -> None:
    async with running_box(OFFICE) as box:
        handset = await pair_handset(box)
        await handset.set_in_range(False)
        p101 = await box.phone("101")
        await dial_from(p101, "105")
        assert (await p101.listen(2)).tone == "congestion"
        assert not (await handset.status())["ringing"]


async def test_an_extension_whose_handset_is_not_paired_is_busy() -> None:
    async with running_box(OFFICE) as box:
        p101 = await box.phone("101")
        await dial_from(p101, "105")
        assert (await p101.listen(2)).tone == "busy"


async def test_a_base_restart_mid_call_clears_the_call() -> None:
    async with running_box(OFFICE) as box:
        handset = await pair_handset(box)
        p101 = await box.phone("101")
        await dial_from(p101, "105")
        await handset.talk()
        await wait(1)
        await box.client.request("dect", action="restart")
        await wait(2)
        assert (await p101.listen(1.5)).tone == "congestion"
        assert (await handset.status())["paired"]
        await p101.onhook()
        await wait(1)
        await dial_from(p101, "105")  # the handset rings again
        assert (await handset.status())["ringing"]


async def test_talk_and_end_at_once_leave_the_handset_ready_for_the_next_call() -> None:
    async with running_box(OFFICE) as box:
        handset = await pair_handset(box)
        base = box.box.dect
        assert isinstance(base, SimDectBase)
        base.press_talk("dect:1")
        base.press_end("dect:1")  # at once: before the box got to the call
        await wait(1)
        assert (await handset.status())["call"] == "idle"
        assert box.box.supervisor.crashes == 0
        await handset.dial("101")
        await wait(1)
        assert (await (await box.phone("101")).status())["ringing"]


async def test_the_phone_tool_pairs_and_drives_a_handset() -> None:
    async with running_box(OFFICE) as box:
        control = str(box.box.control_path)

        async def phone(*words: str) -> object:
            status, result = await run(parser().parse_args([*words, "--control", control]))
            assert status == 0
            return result

        assert await phone("dect", "open", "120") == {
            "slots": 4, "paired": [], "registration_open": True}
        assert (await phone("dect", "pair"))["handset"] == "dect:1"  # type: ignore[index]
        await phone("105", "talk")  # the extension's only phone is the handset
        await wait(2)
        heard = await phone("dect:1", "listen", "--seconds", "1.5")
        assert isinstance(heard, Heard) and heard.tone == "dial" and heard.hook == "off"
        await phone("dect:1", "end")
        assert (await phone("dect:1", "status"))["call"] == "idle"  # type: ignore[index]


def _two_loudest(samples: np.ndarray) -> list[float]:
    """The strongest frequency below 1100 Hz and above: a DTMF key's pair."""
    data = samples.astype(np.float64)
    spectrum = np.abs(np.fft.rfft(data * np.hanning(len(data))))
    freqs = np.fft.rfftfreq(len(data), 1 / 8000)
    low = freqs < 1100
    return [float(freqs[low][np.argmax(spectrum[low])]),
            float(freqs[~low][np.argmax(spectrum[~low])])]
