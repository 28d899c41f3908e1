"""Call waiting on analog lines (firmware/engine/features/waiting.py with the flash table):
the tone over the conversation, flash to answer and to swap, the waiting call ringing after
a hang-up, *70 and the per-line switch; caller ID on call waiting (features/cidcw.py) to a
virtual phone that acknowledges the alert, and to one that does not. Fake time, virtual
board."""

from __future__ import annotations

import numpy as np
import pytest

from firmware.media.dtmf import DtmfDetector
from firmware.media.fsk import FskStandard, fsk_demodulate
from hal.sim.cidcw import is_alert
from tests.integration.calls import hears_music, office, talking
from tests.integration.harness import Harness, office_toml, running_box, wait
from tests.sipphone import dominant_hz


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


def alerts(samples: np.ndarray) -> int:
    """How many 20 ms frames of the audio are the CAS alert (2130 + 2750 Hz)."""
    usable = len(samples) // 160 * 160
    return sum(is_alert(frame) for frame in samples[:usable].reshape(-1, 160))


def band_level(samples: np.ndarray, low: float, high: float) -> float:
    """The strongest spectral line between `low` and `high` Hz, against the median."""
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))
    hz = np.fft.rfftfreq(len(samples), 1 / 8000)
    return float(spectrum[(hz > low) & (hz < high)].max() / max(np.median(spectrum), 1.0))


def silent_stretch_ms(samples: np.ndarray) -> int:
    """The longest run of silent 10 ms pieces after the first sound, in ms."""
    samples = samples[int(np.argmax(np.abs(samples) > 100)):]
    pieces = samples[: len(samples) // 80 * 80].reshape(-1, 80).astype(np.float64)
    quiet = np.sqrt(np.mean(pieces ** 2, axis=1)) < 30
    longest = run = 0
    for q in quiet:
        run = run + 1 if q else 0
        longest = max(longest, run)
    return longest * 10


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


# -- caller ID on call waiting ----------------------------------------------------------


async def test_a_phone_with_caller_id_on_call_waiting_shows_who_is_waiting() -> None:
    async with running_box(office()) as box:
        p101, p102 = await box.phones("101", "102")
        await p102.set_cidcw(True)
        await call(box, "101", "102")
        await call(box, "103", "102", answer=False)
        heard = await p102.listen(3)
        assert heard.waiting_callerid is not None
        assert heard.waiting_callerid["number"] == "103"
        assert heard.waiting_callerid["name"] == "Desk 3"
        assert (await p102.status())["cidcw"]["acks"] == 1
        await talking(p101, p102)  # the conversation goes on
        await wait(12)  # the tone's next burst is tone only: no second alert
        assert (await p102.status())["cidcw"]["acks"] == 1
        assert has_440(await p102.recording(12))


async def test_a_phone_without_the_feature_gets_the_alert_but_no_data() -> None:
    async with running_box(office()) as box:
        p101, p102 = await box.phones("101", "102")
        await call(box, "101", "102")
        await call(box, "103", "102", answer=False)
        earpiece = await p102.recording(3)
        assert alerts(earpiece) == 4  # 80 ms of CAS, unanswered ...
        assert fsk_demodulate(earpiece, FskStandard.BELL202) == []  # ... so no data
        assert (await p102.listen(1)).waiting_callerid is None
        await talking(p101, p102)


async def test_the_far_party_hears_silence_not_the_exchange() -> None:
    async with running_box(office()) as box:
        p101, p102 = await box.phones("101", "102")
        await p102.set_cidcw(True)
        await call(box, "101", "102")
        await p102.say_tone(700, 5000)  # 102 speaks all along
        await call(box, "103", "102", answer=False)
        await wait(1)
        heard = await p101.recording(4.5)
        assert DtmfDetector().feed(heard) == []  # not the phone's ACK (DTMF D) ...
        assert band_level(heard, 2100, 2800) < 20  # ... nor the CAS, nor the FSK
        assert band_level(heard, 1150, 1250) < 20
        assert 400 <= silent_stretch_ms(heard) <= 700  # muted while the data went
        assert dominant_hz(heard[-8000:]) == pytest.approx(700, abs=10)  # then 102 again
        assert (await p102.listen(1)).waiting_callerid is not None


async def test_a_line_without_caller_id_gets_no_alert() -> None:
    async with running_box(office(analog="callerid = false")) as box:
        p102 = await box.phone("102")
        await p102.set_cidcw(True)
        await call(box, "101", "102")
        await call(box, "103", "102", answer=False)
        earpiece = await p102.recording(3)
        assert has_440(earpiece)  # the tone, nothing more
        assert alerts(earpiece) == 0
        assert (await p102.status())["cidcw"]["acks"] == 0
        assert (await p102.listen(1)).waiting_callerid is None


async def test_caller_id_on_call_waiting_in_europe_is_v23() -> None:
    async with running_box(office_toml("de")) as box:
        p102, p103 = await box.phones("102", "103")
        await p102.set_cidcw(True)
        await call(box, "101", "102")
        await call(box, "103", "102", answer=False)
        heard = await p102.listen(3)
        assert heard.waiting_callerid is not None
        assert heard.waiting_callerid["number"] == "103"
        await p102.flash(500)  # and the waiting call is answered as ever
        await wait(1)
        await talking(p102, p103)
