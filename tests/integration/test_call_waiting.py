"""Call waiting on analog lines (firmware/engine/features/waiting.py with the flash table):
the tone over the conversation, flash to answer and to swap, the waiting call ringing after
a hang-up, *70 and the per-line switch. Fake time, virtual board."""

from __future__ import annotations

import numpy as np

from tests.integration.calls import hears_music, office, talking
from tests.integration.harness import Harness, running_box, wait


async def call(box: Harness, caller: str, callee: str, *, answer: bool = True) -> None:
    a, b = await box.phones(caller, callee)
    await a.offhook()
    await wait(1)
    ms = await a.dial(callee)
    await wait(ms / 1000 + 1)
    if answer:
        await b.offhook()
        await wait(1)




def has_440(samples: np.ndarray) -> bool:
    """The US call-waiting tone (440 Hz) in the audio."""
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))
    hz = np.fft.rfftfreq(len(samples), 1 / 8000)
    near = spectrum[(hz > 430) & (hz < 450)].max()
    return bool(near > 20 * np.median(spectrum) and near > 1e4)




async def test_a_second_call_beeps_over_the_conversation_and_its_caller_hears_ringback() -> None:
    async with running_box(office()) as box:
        await call(box, "101", "102")
        await call(box, "103", "102", answer=False)
        p102, p103 = await box.phones("102", "103")
        assert has_440(await p102.recording(2.5))
        await wait(12)
        assert (await p103.listen(12)).tone == "ringback"  # not busy


async def test_flash_answers_the_waiting_call_and_flash_again_swaps() -> None:
    async with running_box(office()) as box:
        await call(box, "101", "102")
        await call(box, "103", "102", answer=False)
        p101, p102, p103 = await box.phones("101", "102", "103")
        await p102.flash(500)
        await wait(1)
        await talking(p102, p103)
        assert hears_music(await p101.recording(2.0))  # the first call waits on hold
        await p102.flash(500)
        await wait(1)
        await talking(p102, p101)
        assert hears_music(await p103.recording(2.0))
        await p102.flash(500)
        await wait(1)
        await talking(p102, p103)


async def test_hanging_up_with_a_call_waiting_rings_the_phone_with_it() -> None:
    async with running_box(office()) as box:
        await call(box, "101", "102")
        await call(box, "103", "102", answer=False)
        p101, p102, p103 = await box.phones("101", "102", "103")
        await p101.onhook()  # the first call ends ...
        await wait(1)
        await p102.onhook()  # ... and 102 hangs up: the waiting call rings
        await wait(8)
        ringing = await p102.listen(7.5)
        assert ringing.ring_cadence_ms and ringing.callerid is not None
        assert ringing.callerid["number"] == "103"
        await p102.offhook()
        await wait(1)
        await talking(p102, p103)


async def test_after_swapping_hanging_up_rings_back_with_the_held_call() -> None:
    async with running_box(office()) as box:
        await call(box, "101", "102")
        await call(box, "103", "102", answer=False)
        p101, p102 = await box.phones("101", "102")
        await p102.flash(500)
        await wait(1)
        await p102.onhook()  # ends the call with 103; 101 is still held
        await wait(8)
        ringing = await p102.listen(7.5)
        assert ringing.callerid is not None and ringing.callerid["number"] == "101"
        await p102.offhook()
        await wait(1)
        await talking(p101, p102)


async def test_a_waiting_caller_who_gives_up_stops_the_tone() -> None:
    async with running_box(office()) as box:
        await call(box, "101", "102")
        await call(box, "103", "102", answer=False)
        p101, p102, p103 = await box.phones("101", "102", "103")
        await p103.onhook()
        await wait(11)  # past the 10 s pause of the tone
        assert not has_440(await p102.recording(10.5))
        await talking(p101, p102)


async def test_star_70_turns_call_waiting_off_for_one_call() -> None:
    async with running_box(office()) as box:
        p101, p102, p103 = await box.phones("101", "102", "103")
        await p102.offhook()
        await wait(1)
        ms = await p102.dial("*70")
        await wait(ms / 1000 + 1)
        assert (await p102.listen(1)).tone == "dial"  # dial tone again: now the number
        ms = await p102.dial("101")
        await wait(ms / 1000 + 1)
        await p101.offhook()
        await wait(1)
        await call(box, "103", "102", answer=False)
        await wait(1)
        assert (await p103.listen(2)).tone == "busy"


async def test_a_line_without_call_waiting_is_busy() -> None:
    async with running_box(office(analog="call_waiting = false")) as box:
        await call(box, "101", "102")
        await call(box, "103", "102", answer=False)
        (p103,) = await box.phones("103")
        await wait(1)
        assert (await p103.listen(2)).tone == "busy"
