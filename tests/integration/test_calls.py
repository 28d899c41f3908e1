"""Analog phones calling each other, judged by what each handset hears."""

from __future__ import annotations

import numpy as np
import pytest

from firmware.media.frames import SAMPLE_RATE
from tests.integration.harness import office_toml, running_box, tones_heard, wait
from tools.phone.handset import VirtualPhone, sine_tone

# Expected tones, written from REFERENCE.md's table (not from the firmware's plans).
DIAL = {"us": [350, 440], "uk": [350, 440], "de": [425], "fr": [440]}
RING_CADENCE = {
    "us": [2000, 4000],
    "uk": [400, 200, 400, 2000],
    "de": [1000, 4000],
    "fr": [1500, 3500],
}


def dominant_hz(samples: np.ndarray) -> float:
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))
    return float(np.argmax(spectrum) * SAMPLE_RATE / len(samples))


async def call(a: VirtualPhone, b_number: str, *, pulse: bool = False) -> None:
    await a.offhook()
    await wait(1)
    ms = await a.dial(b_number, pulse=pulse)
    await wait(ms / 1000 + 0.5)


async def test_lifting_the_handset_gives_dial_tone() -> None:
    async with running_box() as box:
        (p101,) = await box.phones("101")
        await p101.offhook()
        await wait(2)
        heard = await p101.listen(2)
        assert heard.tone == "dial"
        assert heard.freqs == pytest.approx(DIAL["us"], abs=3)
        assert heard.cadence_ms == []


@pytest.mark.parametrize("country", ["us", "uk", "de", "fr"])
async def test_dial_tone_and_ring_cadence_follow_the_country(country: str) -> None:
    async with running_box(office_toml(country)) as box:
        p101, p102 = await box.phones("101", "102")
        await p101.offhook()
        await wait(2)
        heard = await p101.listen(2)
        assert heard.tone == "dial"
        assert heard.freqs == pytest.approx(DIAL[country], abs=3)
        await p101.dial("102")
        await wait(14)
        ringing = await p102.listen(2)
        assert ringing.hook == "on"
        expected = RING_CADENCE[country]
        got = ringing.ring_cadence_ms
        assert len(got) >= len(expected)
        assert got[: len(expected)] == pytest.approx(expected, abs=1)
        # Caller ID in the country's standard (Bell 202 after the first ring in the US,
        # V.23 before it elsewhere), decoded from what reached the on-hook phone.
        assert ringing.callerid is not None
        assert (ringing.callerid["number"], ringing.callerid["name"]) == ("101", "Desk 1")


async def test_european_caller_id_comes_before_the_first_ring_after_a_reversal() -> None:
    async with running_box(office_toml("de")) as box:
        p101, p102 = await box.phones("101", "102")
        await call(p101, "102")
        status = await p102.status()
        assert status["rings"] == []  # the data goes first ...
        await wait(0.6)
        assert (await p102.callerid()) is not None
        status = await p102.status()
        assert len(status["rings"]) == 1  # ... then the phone rings


async def test_flash_and_hang_up_windows_are_set_per_line() -> None:
    extra = '[analog.port."fxs:1"]\nflash_max_ms = 1250\n'
    async with running_box(office_toml("us", extra)) as box:
        p101, p102 = await box.phones("101", "102")
        for phone in (p101, p102):
            await phone.offhook()
            await wait(1)
            await phone.flash(1000)
            await wait(2)
            events = [e["type"] for e in (await phone.status())["events"]]
            assert events[-2:] == (["OffHook", "HookFlash"] if phone is p101
                                   else ["OnHook", "OffHook"])


async def test_dtmf_call_rings_with_caller_id_and_ringback_then_talks() -> None:
    async with running_box() as box:
        p101, p102 = await box.phones("101", "102")
        await call(p101, "102")
        await wait(8)  # one whole ring cycle, with caller ID after the first ring
        callee = await p102.listen()
        assert callee.hook == "on"
        assert callee.ringing or callee.ring_cadence_ms
        assert callee.ring_cadence_ms[:2] == [2000, 4000]
        assert callee.callerid is not None
        assert callee.callerid["number"] == "101"
        assert callee.callerid["name"] == "Extension 101"
        caller = await p101.listen()
        assert caller.tone == "ringback"
        assert caller.freqs == pytest.approx([440, 480], abs=3)

        await p102.offhook()
        await wait(1)
        await p101.say(sine_tone(1000, 500))
        await p102.say(sine_tone(700, 500))
        await wait(1)
        at_102 = (await p102.recording(1.0))
        at_101 = (await p101.recording(1.0))
        assert dominant_hz(at_102) == pytest.approx(1000, abs=10)
        assert dominant_hz(at_101) == pytest.approx(700, abs=10)
        assert (await p101.listen(1)).tone not in ("ringback", "dial")


async def test_pulse_dialled_call_rings_the_extension() -> None:
    async with running_box() as box:
        p101, p103 = await box.phones("101", "103")
        await call(p101, "103", pulse=True)
        await wait(3)
        assert (await p103.listen(1)).ring_cadence_ms[:1] == [2000]
        await wait(4)
        assert (await p101.listen(7)).tone == "ringback"


@pytest.mark.parametrize(("country", "cleared"), [("us", "congestion"), ("de", "busy")])
async def test_far_end_hanging_up_gives_the_countrys_cleared_tone(country: str,
                                                                  cleared: str) -> None:
    async with running_box(office_toml(country)) as box:
        p101, p102 = await box.phones("101", "102")
        await call(p101, "102")
        await p102.offhook()
        await wait(2)
        await p102.onhook()
        await wait(4)
        assert (await p101.listen(3)).tone == cleared
        # And the other way round: the caller hangs up, the callee hears it.
        await p101.onhook()
        await wait(2)
        await call(p101, "102")
        await p102.offhook()
        await wait(1)
        await p101.onhook()
        await wait(4)
        assert (await p102.listen(3)).tone == cleared


async def test_calling_a_busy_extension_gives_busy_tone() -> None:
    async with running_box() as box:
        p101, p103 = await box.phones("101", "103")
        await p103.offhook()
        await call(p101, "103")
        await wait(3)
        heard = await p101.listen(3)
        assert heard.tone == "busy"
        assert heard.freqs == pytest.approx([480, 620], abs=3)
        assert not (await p103.listen(1)).ringing


async def test_calling_yourself_is_busy() -> None:
    async with running_box() as box:
        (p101,) = await box.phones("101")
        await call(p101, "101")
        await wait(3)
        assert (await p101.listen(3)).tone == "busy"


async def test_unknown_number_gives_sit_then_congestion() -> None:
    async with running_box() as box:
        (p101,) = await box.phones("101")
        await p101.offhook()
        await wait(1)
        await p101.dial("19")
        assert (await tones_heard(p101, 5))[-2:] == ["sit", "congestion"]


async def test_staying_off_hook_gives_reorder_then_howler() -> None:
    async with running_box() as box:
        (p101,) = await box.phones("101")
        await p101.offhook()
        await wait(14)
        assert (await p101.listen(3)).tone == "dial"
        await wait(4)  # first-digit timeout (15 s) has passed
        assert (await p101.listen(3)).tone == "congestion"
        await wait(30)  # reorder time (30 s) has passed
        assert (await p101.listen(3)).tone == "howler"
        await p101.onhook()
        await wait(1)
        await p101.offhook()
        await wait(2)
        assert (await p101.listen(1.5)).tone == "dial"


async def test_unanswered_call_stops_ringing_after_the_ring_timeout() -> None:
    async with running_box() as box:
        p101, p102 = await box.phones("101", "102")
        await call(p101, "102")
        await wait(31)
        assert not (await p102.listen(1)).ringing
        assert (await p101.listen(3)).tone == "congestion"


async def test_caller_giving_up_stops_the_ringing() -> None:
    async with running_box() as box:
        p101, p102 = await box.phones("101", "102")
        await call(p101, "102")
        await wait(3)
        await p101.onhook()
        await wait(7)
        status = await p102.status()
        assert not status["ringing"]
        assert status["rings"][-1][1] is not None
        # The freed extension can be called again.
        await call(p101, "102")
        await wait(1)
        assert (await p102.listen(1)).ringing


async def test_flash_is_reported_on_the_line_and_is_no_hang_up() -> None:
    async with running_box() as box:
        p101, p102 = await box.phones("101", "102")
        await call(p101, "102")
        await p102.offhook()
        await wait(1)
        await p101.flash(500)
        await wait(1)
        events = (await p101.status())["events"]
        assert events[-1]["type"] == "HookFlash"
        assert events[-1]["ms"] == pytest.approx(500)
        # Not a hang-up: 102 waits on hold (tests/integration/test_flash.py), 101 may go back.
        await p101.flash(500)
        await wait(1)
        await p101.say(sine_tone(1000, 500))
        await wait(1)
        assert dominant_hz(await p102.recording(1.0)) == pytest.approx(1000, abs=10)


async def test_an_idle_box_runs_no_media_clock() -> None:
    async with running_box() as box:
        (p101,) = await box.phones("101")
        engine = box.box.engine
        assert engine is not None
        assert not engine.clock.running
        await p101.offhook()
        await wait(1)
        assert engine.clock.running
        await p101.onhook()
        await wait(2)
        assert not engine.clock.running


async def test_garbage_on_the_control_socket_gets_an_error_and_the_box_goes_on() -> None:
    async with running_box() as box:
        client = box.client
        assert client._writer is not None and client._reader is not None
        for junk in (b"\xff\xfe\n", b"{not json\n", b"[1,2]\n", b'{"cmd":"nope"}\n',
                     b'{"cmd":"hook","port":"fxs:9","state":"off"}\n',
                     b'{"cmd":"hook","port":"fxs:1","state":"sideways"}\n',
                     b'{"cmd":"speak","port":"fxs:1","pcm":"!!!"}\n'):
            client._writer.write(junk)
            reply = await client._reader.readline()
            assert b'"ok":false' in reply
            assert b'"error"' in reply
        (p101,) = await box.phones("101")
        await p101.offhook()
        await wait(2)
        assert (await p101.listen(1.5)).tone == "dial"


async def test_a_crash_in_one_call_does_not_touch_another(monkeypatch: pytest.MonkeyPatch
                                                          ) -> None:
    async with running_box() as box:
        p101, p102, p103, p104 = await box.phones("101", "102", "103", "104")
        await call(p101, "102")
        await p102.offhook()
        await call(p103, "104")
        await p104.offhook()
        await wait(1)
        engine = box.box.engine
        assert engine is not None
        broken = engine.devices["fxs:1"]

        def explode() -> None:
            monkeypatch.undo()  # a one-off bug: the port itself stays usable
            raise RuntimeError("simulated bug in one call")

        monkeypatch.setattr(broken, "capture", explode)
        await wait(1)
        await p103.say(sine_tone(1000, 500))
        await wait(1)
        assert dominant_hz(await p104.recording(1.0)) == pytest.approx(1000, abs=10)
        assert (await p102.listen(3)).tone == "congestion"  # 102's call was cleared
        assert box.box.supervisor.crashes == 1
