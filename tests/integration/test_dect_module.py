"""The UART backend against a fake CMBS module on a pseudo-terminal: start-up, what goes on
the wire, and a module that misbehaves (garbage, broken checksums, a restart mid-call, a
handset out of range, a port that goes away). What every DectBase must do is in
tests/contract/test_dect_base.py; this is what only the serial module adds.

Fake time (looptime). The pty carries real bytes, a moment late: before every wait the
test lets the pty deliver everything in flight (`FakeCmbsModule.flushed`; fake time stands
still meanwhile), and every wait is bounded.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import numpy as np
import pytest

from firmware.box import board_spec
from firmware.config import load_board
from hal.audio import FRAME_SAMPLES
from hal.backend import load_dect
from hal.dect.backend import UartDectBase
from hal.dect.cmbs import Event
from hal.dect.events import (
    DectEvent,
    HandsetAnswered,
    HandsetCalling,
    HandsetKeys,
    HandsetRegistered,
    HandsetReleased,
    HandsetRemoved,
    RegistrationClosed,
    ReleaseReason,
)
from tests.cmbsmodule import FakeCmbsModule

pytest.importorskip("serial", reason="the UART backend needs pyserial (extra 'rpi' or 'dev')")

WITHIN_S = 5.0
ROOT = Path(__file__).resolve().parents[2]


class Rig:
    def __init__(self, module: FakeCmbsModule, base: UartDectBase) -> None:
        self.module = module
        self.base = base
        self.events: asyncio.Queue[DectEvent] = asyncio.Queue()
        base.set_listener(self.events.put_nowait)

    async def next(self) -> DectEvent:
        await self.module.flushed(self.base)
        return await asyncio.wait_for(self.events.get(), WITHIN_S)

    async def settle(self) -> list[DectEvent]:
        await self.module.flushed(self.base)
        await asyncio.sleep(0.5)
        await self.module.flushed(self.base)
        out = []
        while not self.events.empty():
            out.append(self.events.get_nowait())
        return out

    async def in_call(self, port: str = "dect:1") -> None:
        """The handset called and the box answered."""
        self.module.press_talk(int(port[-1]))
        assert isinstance(await self.next(), HandsetCalling)
        self.base.answer(port)
        await self.settle()


@pytest.fixture
async def rig() -> AsyncIterator[Rig]:
    loop = asyncio.get_running_loop()
    module = FakeCmbsModule(loop, slots=4, paired=(1, 3))
    base = UartDectBase(module.device, 115200, 4, loop, voice=module.voice)
    rig = Rig(module, base)
    await base.start()
    try:
        yield rig
    finally:
        await base.stop()
        module.close()


async def test_start_up_greets_the_module_and_learns_its_handsets(rig: Rig) -> None:
    assert rig.base.up
    assert rig.base.subscribed() == ["dect:1", "dect:3"]
    assert [type(e) for e in await rig.settle()] == [HandsetRegistered, HandsetRegistered]
    assert rig.module.checksums  # negotiated: every event from now on is checked
    sent = [m.message_id for m in rig.module.received]
    assert sent == [0xFF01, 0xFF0A, Event.SYS_START, Event.HS_SUBSCRIBED_LIST_GET]
    assert all(m.checksummed for m in rig.module.received if m.message_id < 0xFF00)


async def test_a_module_without_checksums_still_works(rig: Rig) -> None:
    loop = asyncio.get_running_loop()
    module = FakeCmbsModule(loop, paired=(2,), checksum=False)
    base = UartDectBase(module.device, 115200, 4, loop, voice=module.voice)
    try:
        await base.start()
        await module.flushed(base)
        assert base.subscribed() == ["dect:2"]
        assert not module.checksums
    finally:
        await base.stop()
        module.close()


async def test_the_host_closes_the_window_itself_at_its_time_out(rig: Rig) -> None:
    await rig.settle()
    rig.base.open_registration(30)
    await rig.settle()
    assert rig.module.got(Event.CORD_OPENREG)
    assert rig.module.registration_open
    rig.module._window.cancel()  # a module that forgets its own time-out  # type: ignore
    await asyncio.sleep(29)
    assert rig.base.registration_open
    closed = await rig.next()
    assert isinstance(closed, RegistrationClosed) and closed.reason == "timeout"
    await rig.settle()
    assert rig.module.got(Event.CORD_CLOSEREG)
    assert not rig.module.registration_open


async def test_page_finds_the_handsets(rig: Rig) -> None:
    rig.base.page()
    await rig.settle()
    assert rig.module.paging


async def test_garbage_and_broken_frames_cost_only_themselves(rig: Rig) -> None:
    await rig.settle()
    await rig.in_call()
    rig.module.inject(b"\x00\x13line noise\xda\xda\xda")
    rig.module.corrupt_next_frame()
    rig.module.dial(1, "5")  # lost on the line
    rig.module.dial(1, "6")
    keys = await rig.next()
    assert isinstance(keys, HandsetKeys) and keys.keys == "6"
    stats = rig.base.stats()
    assert stats["checksum_errors"] == 1
    assert stats["garbage_bytes"] > 0
    rig.module.says(1, np.full(FRAME_SAMPLES, 42, dtype=np.int16))
    frame = rig.base.read_frame("dect:1")  # the call goes on
    assert frame is not None and (frame == 42).all()


async def test_a_module_restart_mid_call_drops_the_call_and_relearns(rig: Rig) -> None:
    await rig.settle()
    await rig.in_call()
    del rig.module.handsets[3]  # the module lost handset 3 while it restarted
    rig.module.restart()
    released = await rig.next()
    assert isinstance(released, HandsetReleased)
    assert released.reason is ReleaseReason.MODULE_RESET
    removed = await rig.next()
    assert isinstance(removed, HandsetRemoved) and removed.port == "dect:3"
    assert await rig.settle() == []
    assert rig.base.up and rig.base.subscribed() == ["dect:1"]
    assert len(rig.module.got(Event.SYS_START)) == 2
    assert rig.base.stats()["module_restarts"] == 1
    assert rig.base.read_frame("dect:1") is None  # no call, no voice
    rig.base.ring("dect:1", "101", "Again")
    await rig.settle()
    assert rig.module.handsets[1].caller == ("101", "Again")


async def test_a_handset_out_of_range_fails_the_call_setup(rig: Rig) -> None:
    await rig.settle()
    rig.module.handsets[3].in_range = False
    rig.base.ring("dect:3", "101", None)
    released = await rig.next()
    assert isinstance(released, HandsetReleased)
    assert released.reason is ReleaseReason.OUT_OF_RANGE
    rig.base.ring("dect:1", "101", None)  # the others ring as before
    await rig.settle()
    rig.module.press_talk(1)
    assert isinstance(await rig.next(), HandsetAnswered)


async def test_a_release_crossing_the_handsets_is_no_trouble(rig: Rig) -> None:
    await rig.settle()
    await rig.in_call()
    rig.module.press_end(1)  # both hang up at the same moment
    rig.base.release("dect:1")
    assert await rig.settle() == []  # the firmware ended it: nothing to tell it
    assert rig.base.stats()["protocol_errors"] == 0
    rig.base.ring("dect:1", "101", None)  # and the handset is free again
    await rig.settle()
    assert rig.module.handsets[1].ringing


async def test_a_port_that_goes_away_is_survived(rig: Rig) -> None:
    await rig.settle()
    await rig.in_call()
    rig.module.close()
    released = await asyncio.wait_for(rig.events.get(), WITHIN_S)
    assert isinstance(released, HandsetReleased)
    assert released.reason is ReleaseReason.MODULE_RESET
    assert not rig.base.up
    rig.base.ring("dect:1", "101", None)  # a base that is down: the handset is unreachable
    released = await asyncio.wait_for(rig.events.get(), WITHIN_S)
    assert isinstance(released, HandsetReleased)
    assert released.reason is ReleaseReason.OUT_OF_RANGE
    rig.module = FakeCmbsModule(asyncio.get_running_loop(), paired=(1,))  # for teardown


async def test_a_real_board_config_names_the_module_s_port() -> None:
    board = load_board(ROOT / "board-configs" / "rpi4-2fxs1fxo.toml")
    base = load_dect(board_spec(board), asyncio.get_running_loop())
    assert isinstance(base, UartDectBase)
    assert (base.device, base.baud, base.slots) == ("/dev/serial0", 115200, 4)
    sim = load_board(ROOT / "board-configs" / "sim.toml")
    assert load_dect(board_spec(sim), asyncio.get_running_loop()) is None  # simulated
