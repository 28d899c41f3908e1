"""The FXO port: the Si3050 driver and its line supervision over the fake DAA, with the
exchange at the far end ringing, reversing polarity and dropping the line."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import numpy as np
import pytest

from hal.events import LineReversal, LoopCurrentLost, RingStarted, RingStopped, TrunkEvent
from hal.rpi import daa_regs as r
from hal.rpi.board import RpiBoard
from hal.rpi.chip import ChipFault
from hal.rpi.country import country
from hal.rpi.daa import Si3050
from hal.rpi.fakes.daa import FakeDaa
from hal.rpi.fakes.devices import FakeDevices
from hal.rpi.pcm_loopback import LoopbackPcm
from hal.rpi.trunk import DaaTrunk
from tests import rpirig

POLL_S = 0.01


@asynccontextmanager
async def line(devices: FakeDevices | None = None) -> AsyncIterator[
        tuple[DaaTrunk, FakeDaa, list[TrunkEvent], RpiBoard]]:
    board, devices = rpirig.build(asyncio.get_running_loop(), [rpirig.FXO], devices)
    trunk = board.trunks["fxo:1"]
    events: list[TrunkEvent] = []
    trunk.set_listener(events.append)
    await board.start()
    try:
        yield trunk, rpirig.daa(devices), events, board
    finally:
        await board.stop()


def names(events: list[TrunkEvent]) -> list[str]:
    return [type(e).__name__ for e in events]


async def test_bring_up_sets_the_country_and_the_pcm_slot() -> None:
    async with line() as (trunk, fake, _, board):
        assert board.faults == {} and trunk.line_present and not trunk.off_hook
        assert fake.regs[r.PCM_MODE] == r.PCM_LINEAR_16
        assert fake.regs[r.PCM_TX_START_LO] == 4 * 16  # slot 4
        assert fake.regs[r.DAA_CONTROL1] == r.ON_HOOK_MONITOR
        assert fake.regs[r.INTL_CONTROL1] == 0x01  # FCC: ringer threshold
        assert fake.regs[r.DC_TERMINATION] == 0xC0


async def test_bring_up_uses_the_countrys_line_settings() -> None:
    loop = asyncio.get_running_loop()
    fake = FakeDaa(loop.time)
    await Si3050(fake).bring_up(country("uk"), 0)  # type: ignore[arg-type]
    assert fake.regs[r.AC_TERMINATION] == 5
    assert fake.regs[r.DC_TERMINATION] == 0xC2  # DCV 3, ILIM (TBR21 current limit)
    assert fake.regs[r.DAA_CONTROL5] == 0xA3 | 0x08


async def test_a_ring_cadence_is_two_rings() -> None:
    async with line() as (_, fake, events, _board):
        loop = asyncio.get_running_loop()
        starts = []
        for _ in range(2):
            starts.append(loop.time())
            fake.ring(True)
            await asyncio.sleep(2.0)
            fake.ring(False)
            await asyncio.sleep(4.0)
        assert names(events) == ["RingStarted", "RingStopped"] * 2
        assert events[0].at == pytest.approx(starts[0], abs=0.03)
        assert events[1].at == pytest.approx(starts[0] + 2.0, abs=0.03)
        assert events[2].at == pytest.approx(starts[1], abs=0.03)


async def test_a_click_on_the_line_is_not_a_ring() -> None:
    async with line() as (_, fake, events, _board):
        fake.ring(True)
        await asyncio.sleep(0.03)
        fake.ring(False)
        await asyncio.sleep(1.0)
        assert events == []


async def test_seizing_answers_and_stops_the_ring() -> None:
    async with line() as (trunk, fake, events, _board):
        fake.ring(True)
        await asyncio.sleep(0.5)
        trunk.seize()
        await asyncio.sleep(0.5)
        assert trunk.off_hook and fake.seized and not fake.ringing
        assert names(events) == ["RingStarted", "RingStopped"]
        trunk.release()
        assert not fake.seized and not trunk.off_hook


async def test_the_far_end_hanging_up_drops_loop_current() -> None:
    async with line() as (trunk, fake, events, _board):
        loop = asyncio.get_running_loop()
        trunk.seize()
        await asyncio.sleep(1.0)
        dropped = loop.time()
        fake.disconnect()
        await asyncio.sleep(1.0)
        assert names(events) == ["LoopCurrentLost"]  # once, however long it lasts
        assert isinstance(events[0], LoopCurrentLost)
        assert events[0].at == pytest.approx(dropped, abs=POLL_S + 0.001)
        assert not trunk.line_present


async def test_a_dead_line_on_hook_is_no_call_event() -> None:
    async with line() as (trunk, fake, events, _board):
        fake.disconnect()
        await asyncio.sleep(0.5)
        assert not trunk.line_present and events == []
        fake.connect()
        await asyncio.sleep(0.5)
        assert trunk.line_present


async def test_polarity_reversal() -> None:
    async with line() as (trunk, fake, events, _board):
        await asyncio.sleep(0.2)
        fake.reverse_polarity()
        await asyncio.sleep(0.03)  # a glitch shorter than the debounce is nothing
        fake.reverse_polarity()
        await asyncio.sleep(0.5)
        assert events == []
        fake.reverse_polarity()
        await asyncio.sleep(0.5)
        assert names(events) == ["LineReversal"]
        assert isinstance(events[0], LineReversal) and trunk.watch.polarity == -1


async def test_audio_flows_when_seized_and_caller_id_audio_on_hook() -> None:
    async with line() as (trunk, _, _events, board):
        loopback = board.pcm
        assert isinstance(loopback, LoopbackPcm)
        burst = np.full(160 * 5, 1234, np.int16)
        loopback.speak(4, burst)  # e.g. caller ID between two rings
        frames = []
        for _ in range(10):
            await asyncio.sleep(0.02)
            frames.append(trunk.read_frame())
        assert sum(f is not None and bool((f == 1234).all()) for f in frames) == 5
        trunk.write_frame(np.full(160, 99, np.int16))  # on-hook: nothing goes down the line
        await asyncio.sleep(0.1)
        assert not (loopback.heard(4, 0.1) == 99).any()
        trunk.seize()
        for _ in range(5):
            trunk.write_frame(np.full(160, 99, np.int16))
            await asyncio.sleep(0.02)
        await asyncio.sleep(0.1)
        assert (loopback.heard(4, 0.3) == 99).sum() >= 3 * 160


@pytest.mark.parametrize("floating", [0xFF, 0x00])
async def test_an_absent_daa_is_a_fault(floating: int) -> None:
    loop = asyncio.get_running_loop()
    with pytest.raises(ChipFault, match=f"no Si3050 DAA answers \\(register 2 reads "
                                        f"0x{floating:02X}"):
        await Si3050(FakeDaa(loop.time, absent=floating)).bring_up(country("us"), 0)  # type: ignore[arg-type]


async def test_a_dead_line_side_is_a_fault_after_two_seconds() -> None:
    loop = asyncio.get_running_loop()
    start = loop.time()
    with pytest.raises(ChipFault, match="line side did not come up within 2 s"):
        await Si3050(FakeDaa(loop.time, line_side_dead=True)).bring_up(country("us"), 0)  # type: ignore[arg-type]
    assert loop.time() - start == pytest.approx(2.1, abs=0.05)


async def test_a_chip_that_forgets_its_state_is_put_back() -> None:
    async with line() as (trunk, fake, _, _board):
        trunk.seize()
        fake.regs[r.DAA_CONTROL1] = 0  # a glitch clears the off-hook bit
        await asyncio.sleep(0.05)
        assert fake.seized and trunk.daa.rewrites == 1


def test_events_are_the_trunk_events_of_the_hal() -> None:
    assert {RingStarted, RingStopped, LineReversal, LoopCurrentLost} <= set(TrunkEvent.__args__)
