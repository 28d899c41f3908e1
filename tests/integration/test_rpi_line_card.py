"""The whole box on the Raspberry Pi backend, with the line card's chips faked at the
register level and the sound card replaced by the loopback: lift a handset on the fake
SLIC, hear dial tone in the PCM stream, dial with DTMF, ring the other port, talk."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from firmware import box as box_module
from firmware.box import Box
from firmware.config import load_board, parse_office
from firmware.media.dtmf import DtmfGenerator
from firmware.media.frames import SAMPLE_RATE
from hal.backend import BoardSpec
from hal.rpi.assembly import build_board
from hal.rpi.board import RpiBoard
from hal.rpi.fakes.devices import FakeDevices
from hal.rpi.fakes.proslic import FakeProSlic
from hal.rpi.pcm_loopback import LoopbackPcm
from tests.integration.harness import SIP_SECTION, wait
from tests.sipphone import SipPhone

ROOT = Path(__file__).resolve().parents[2]
PI_BOARD = ROOT / "board-configs" / "rpi4-2fxs1fxo.toml"
OFFICE = (f'[site]\ncountry = "us"\ntimezone = "UTC"\n{SIP_SECTION}'
          '[[extension]]\nnumber = "101"\nname = "Front desk"\ndevices = ["fxs:1"]\n'
          '[[extension]]\nnumber = "102"\nname = "Back office"\ndevices = ["fxs:2"]\n'
          '[[extension]]\nnumber = "201"\nname = "Soft"\ndevices = ["sip"]\n'
          'secret = "secret-of-201"\n')


@dataclass
class Handset:
    """A phone on a fake SLIC: the hook at the chip, the voice on the PCM slot."""

    chip: FakeProSlic
    pcm: LoopbackPcm
    slot: int

    def lift(self) -> None:
        self.chip.set_hook(True)

    def hang_up(self) -> None:
        self.chip.set_hook(False)

    def say(self, samples: np.ndarray) -> None:
        self.pcm.speak(self.slot, samples)

    def heard(self, seconds: float) -> np.ndarray:
        return self.pcm.heard(self.slot, seconds)


@asynccontextmanager
async def pi_box(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[tuple[Box, dict[str, Handset]]]:
    made: list[tuple[RpiBoard, FakeDevices]] = []

    def load_on_fakes(spec: BoardSpec, loop: asyncio.AbstractEventLoop) -> RpiBoard:
        devices = FakeDevices.for_wiring(loop, spec.wiring)
        board = build_board(spec.name, spec.wiring, spec.audio_device or "", spec.country,
                            spec.buttons, spec.leds, loop, devices=devices)
        made.append((board, devices))
        return board

    monkeypatch.setattr(box_module, "load", load_on_fakes)
    board_config = load_board(PI_BOARD)
    state = Path(tempfile.mkdtemp(prefix="pbx-"))
    box = Box(board_config, parse_office(OFFICE, "office.toml", board_config), state)
    await box.start()
    board, devices = made[0]
    assert board.faults == {}
    assert devices.loopback is not None
    handsets = {w.name: Handset(devices.chip(w), devices.loopback, w.pcm_slot)  # type: ignore[arg-type]
                for w in board.wiring if w.kind == "fxs"}
    try:
        yield box, handsets
    finally:
        await box.stop()
        shutil.rmtree(state, ignore_errors=True)


def level(samples: np.ndarray, hz: float) -> float:
    t = np.arange(len(samples)) / SAMPLE_RATE
    return float(2 * abs(np.dot(samples, np.exp(-2j * np.pi * hz * t))) / max(1, len(samples)))


async def test_lift_dial_ring_and_talk_on_the_line_card(monkeypatch: pytest.MonkeyPatch) -> None:
    async with pi_box(monkeypatch) as (_box, phones):
        desk, office = phones["fxs:1"], phones["fxs:2"]
        desk.lift()
        await wait(1.5)
        tone = desk.heard(1.0)
        assert level(tone, 350) > 300 and level(tone, 440) > 300  # US dial tone
        assert level(tone, 1000) < 50

        desk.say(DtmfGenerator().samples("102"))
        await wait(2.0)
        assert office.chip.rings, "102's phone never rang"
        assert level(desk.heard(1.0), 440) > 100 or level(desk.heard(4.0), 480) > 100  # ringback

        office.lift()
        await wait(1.0)
        assert not office.chip.ringing
        t = np.arange(SAMPLE_RATE) / SAMPLE_RATE
        office.say(np.rint(6000 * np.sin(2 * np.pi * 1000 * t)).astype(np.int16))
        await wait(1.2)
        assert level(desk.heard(1.0), 1000) > 1000  # 101 hears 102 through the PCM slots

        office.hang_up()
        await wait(2.0)
        cleared = desk.heard(1.0)
        assert level(cleared, 480) > 100 and level(cleared, 620) > 100  # US: reorder


async def test_a_phone_on_the_line_card_talks_to_a_sip_phone(
        monkeypatch: pytest.MonkeyPatch) -> None:
    async with pi_box(monkeypatch) as (box, phones):
        assert box.sip is not None
        async with SipPhone(box.sip.address, "201", "secret-of-201") as soft:
            assert (await soft.register()) is not None
            desk = phones["fxs:1"]
            desk.lift()
            await wait(1.0)
            desk.say(DtmfGenerator().samples("201"))
            call = await soft.wait_incoming()
            assert call.caller.uri.user == "101"
            await call.answer()
            await wait(1.0)
            call.play_tone(700)
            t = np.arange(2 * SAMPLE_RATE) / SAMPLE_RATE
            desk.say(np.rint(6000 * np.sin(2 * np.pi * 1000 * t)).astype(np.int16))
            await wait(1.5)
            assert level(desk.heard(1.0), 700) > 1000  # the SIP phone, through the PCM slot
            assert call.heard_hz() == pytest.approx(1000, abs=10)  # the handset, over RTP
            desk.hang_up()
            assert await call.ended() == "bye"
