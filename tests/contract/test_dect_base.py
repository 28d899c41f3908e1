"""One contract for every DectBase: the virtual board's base, and the UART backend talking
to a fake CMBS module over a pseudo-terminal. Each test drives the handsets as a person
would and checks only what the firmware sees through the interface.

Fake time (looptime). The pty carries real bytes, a moment late: before every wait the
test lets the pty deliver everything in flight (fake time stands still meanwhile), and
every wait is bounded.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Protocol

import numpy as np
import pytest

from hal.audio import FRAME_SAMPLES, Frame
from hal.dect.backend import UartDectBase
from hal.dect.errors import DectRequestError
from hal.dect.events import (
    DectEvent,
    HandsetAnswered,
    HandsetCalling,
    HandsetKeys,
    HandsetRegistered,
    HandsetReleased,
    HandsetRemoved,
    RegistrationClosed,
    RegistrationOpened,
    ReleaseReason,
)
from hal.interfaces import DectBase
from hal.sim.dect import SimDectBase
from tests.cmbsmodule import FakeCmbsModule

pytest.importorskip("serial", reason="the UART backend needs pyserial (extra 'rpi' or 'dev')")

WITHIN_S = 5.0
SLOTS = 4


class Handsets(Protocol):
    """The people with the handsets, whichever base they use."""

    def pair(self) -> str: ...

    def talk(self, port: str) -> None: ...

    def dial(self, port: str, keys: str) -> None: ...

    def end(self, port: str) -> None: ...

    def walk_away(self, port: str) -> None: ...

    def restart_base(self) -> None: ...

    def say(self, port: str, frame: Frame) -> None: ...

    def heard(self, port: str) -> Frame | None: ...

    def shown(self, port: str) -> tuple[str | None, str | None] | None: ...


class SimHandsets:
    def __init__(self, base: SimDectBase) -> None:
        self.base = base

    def pair(self) -> str:
        return self.base.pair()

    def talk(self, port: str) -> None:
        self.base.press_talk(port)

    def dial(self, port: str, keys: str) -> None:
        self.base.dial(port, keys)

    def end(self, port: str) -> None:
        self.base.press_end(port)

    def walk_away(self, port: str) -> None:
        self.base.walk_away(port, in_range=False)

    def restart_base(self) -> None:
        self.base.restart()

    def say(self, port: str, frame: Frame) -> None:
        self.base.speak(port, frame)

    def heard(self, port: str) -> Frame | None:
        return self.base.heard(port, FRAME_SAMPLES / 8000)

    def shown(self, port: str) -> tuple[str | None, str | None] | None:
        status = self.base.status(port)
        display = status["display"]
        return (display["number"], display["name"]) if status["ringing"] else None


class FakeModuleHandsets:
    def __init__(self, module: FakeCmbsModule) -> None:
        self.module = module

    def pair(self) -> str:
        return f"dect:{self.module.register_handset()}"

    def talk(self, port: str) -> None:
        self.module.press_talk(_n(port))

    def dial(self, port: str, keys: str) -> None:
        self.module.dial(_n(port), keys)

    def end(self, port: str) -> None:
        self.module.press_end(_n(port))

    def walk_away(self, port: str) -> None:
        self.module.walk_away(_n(port))

    def restart_base(self) -> None:
        self.module.restart()

    def say(self, port: str, frame: Frame) -> None:
        self.module.says(_n(port), frame)

    def heard(self, port: str) -> Frame | None:
        return self.module.hears(_n(port))

    def shown(self, port: str) -> tuple[str | None, str | None] | None:
        h = self.module.handsets[_n(port)]
        return h.caller if h.ringing else None


def _n(port: str) -> int:
    return int(port.partition(":")[2])


async def nothing_in_flight() -> None:
    """The virtual base has no wire."""


class Listener:
    def __init__(self, base: DectBase, flushed: Callable[[], Awaitable[None]]) -> None:
        self.queue: asyncio.Queue[DectEvent] = asyncio.Queue()
        self.flushed = flushed
        base.set_listener(self.queue.put_nowait)

    async def next(self) -> DectEvent:
        await self.flushed()
        return await asyncio.wait_for(self.queue.get(), WITHIN_S)

    async def settle(self) -> list[DectEvent]:
        """Everything reported until the base has been quiet for a moment."""
        await self.flushed()
        await asyncio.sleep(0.5)
        await self.flushed()
        out = []
        while not self.queue.empty():
            out.append(self.queue.get_nowait())
        return out


@pytest.fixture(params=["sim", "uart"])
async def rig(request: pytest.FixtureRequest) -> AsyncIterator[tuple[DectBase, Handsets,
                                                                      Listener]]:
    loop = asyncio.get_running_loop()
    if request.param == "sim":
        sim = SimDectBase(SLOTS, loop)
        base: DectBase = sim
        people: Handsets = SimHandsets(sim)
        module = None
        flushed = nothing_in_flight
    else:
        module = FakeCmbsModule(loop, slots=SLOTS)
        uart = UartDectBase(module.device, 115200, SLOTS, loop, voice=module.voice)
        base, people = uart, FakeModuleHandsets(module)
        flushed = functools.partial(module.flushed, uart)
    listener = Listener(base, flushed)
    await base.start()
    try:
        yield base, people, listener
    finally:
        await base.stop()
        if module is not None:
            module.close()


async def paired(base: DectBase, people: Handsets, listener: Listener) -> str:
    base.open_registration(60)
    assert isinstance(await listener.next(), RegistrationOpened)
    port = people.pair()
    assert await listener.next() == HandsetRegistered(port, pytest.approx(
        asyncio.get_running_loop().time(), abs=1))
    closed = await listener.next()
    assert isinstance(closed, RegistrationClosed) and closed.reason == "registered"
    return port


def tone(value: int) -> Frame:
    return np.full(FRAME_SAMPLES, value, dtype=np.int16)


async def test_a_handset_pairs_while_the_window_is_open(rig: tuple) -> None:
    base, people, listener = rig
    assert base.subscribed() == []
    base.open_registration(60)
    opened = await listener.next()
    assert isinstance(opened, RegistrationOpened) and opened.seconds == 60
    assert base.registration_open
    port = people.pair()
    assert port == "dect:1"
    assert isinstance(await listener.next(), HandsetRegistered)
    assert (await listener.next()).reason == "registered"  # type: ignore[union-attr]
    assert base.subscribed() == ["dect:1"]
    assert not base.registration_open


async def test_the_pairing_window_times_out(rig: tuple) -> None:
    base, _people, listener = rig
    base.open_registration(60)
    assert isinstance(await listener.next(), RegistrationOpened)
    await asyncio.sleep(59)
    await listener.flushed()
    assert base.registration_open
    closed = await listener.next()
    assert isinstance(closed, RegistrationClosed) and closed.reason == "timeout"
    assert not base.registration_open
    assert await listener.settle() == []  # closed once, whoever noticed first


async def test_the_window_closes_when_asked(rig: tuple) -> None:
    base, _people, listener = rig
    base.open_registration(60)
    assert isinstance(await listener.next(), RegistrationOpened)
    base.close_registration()
    closed = await listener.next()
    assert isinstance(closed, RegistrationClosed) and closed.reason == "closed"
    assert await listener.settle() == []


async def test_a_call_to_a_handset_rings_with_caller_id_and_talks(rig: tuple) -> None:
    base, people, listener = rig
    port = await paired(base, people, listener)
    base.ring(port, "101", "Front desk")
    await listener.settle()
    assert people.shown(port) == ("101", "Front desk")
    people.talk(port)
    assert isinstance(await listener.next(), HandsetAnswered)
    base.write_frame(port, tone(1000))
    heard = people.heard(port)
    assert heard is not None and (heard == 1000).all()
    people.say(port, tone(-500))
    said = base.read_frame(port)
    assert said is not None and (said == -500).all()
    base.release(port)
    assert await listener.settle() == []  # the box hung up: nothing to report back
    assert people.shown(port) is None
    base.write_frame(port, tone(7))  # no call: no voice
    assert base.read_frame(port) is None


async def test_a_handset_calls_and_dials_key_by_key(rig: tuple) -> None:
    base, people, listener = rig
    port = await paired(base, people, listener)
    people.talk(port)
    calling = await listener.next()
    assert isinstance(calling, HandsetCalling) and calling.digits == ""
    people.dial(port, "10")
    people.dial(port, "2")
    assert [getattr(await listener.next(), "keys", None) for _ in range(2)] == ["10", "2"]
    base.answer(port)
    await listener.settle()
    people.say(port, tone(300))
    said = base.read_frame(port)
    assert said is not None and (said == 300).all()
    people.dial(port, "#")  # keys in a call come as keys too
    assert isinstance(keys := await listener.next(), HandsetKeys) and keys.keys == "#"
    people.end(port)
    released = await listener.next()
    assert isinstance(released, HandsetReleased) and released.reason is ReleaseReason.NORMAL


async def test_a_number_typed_before_talk_comes_with_the_call(rig: tuple) -> None:
    base, people, listener = rig
    port = await paired(base, people, listener)
    people.dial(port, "102")
    calling = await listener.next()
    assert isinstance(calling, HandsetCalling) and calling.digits == "102"


async def test_a_refused_call_and_a_handset_out_of_range(rig: tuple) -> None:
    base, people, listener = rig
    port = await paired(base, people, listener)
    base.ring(port, "101", None)
    await listener.settle()
    people.end(port)
    assert (await listener.next()).reason is ReleaseReason.REJECTED  # type: ignore[union-attr]
    people.walk_away(port)
    base.ring(port, "101", None)
    assert (await listener.next()).reason is ReleaseReason.OUT_OF_RANGE  # type: ignore


async def test_the_radio_link_breaks_in_a_call(rig: tuple) -> None:
    base, people, listener = rig
    port = await paired(base, people, listener)
    people.talk(port)
    assert isinstance(await listener.next(), HandsetCalling)
    base.answer(port)
    people.walk_away(port)
    released = await listener.next()
    assert isinstance(released, HandsetReleased)
    assert released.reason is ReleaseReason.OUT_OF_RANGE


async def test_a_base_restart_drops_the_call_and_keeps_the_handsets(rig: tuple) -> None:
    base, people, listener = rig
    port = await paired(base, people, listener)
    base.ring(port, "101", None)
    await listener.settle()
    people.talk(port)
    assert isinstance(await listener.next(), HandsetAnswered)
    people.restart_base()
    released = await listener.next()
    assert isinstance(released, HandsetReleased)
    assert released.reason is ReleaseReason.MODULE_RESET
    assert await listener.settle() == []  # the handset is still paired: no news about it
    assert base.subscribed() == [port]
    base.ring(port, "103", "Again")  # the base works as before
    await listener.settle()
    assert people.shown(port) == ("103", "Again")


async def test_what_the_base_refuses(rig: tuple) -> None:
    base, people, listener = rig
    with pytest.raises(DectRequestError, match="no handset"):
        base.ring("dect:2", "101", None)
    with pytest.raises(DectRequestError, match="not a slot"):
        base.ring(f"dect:{SLOTS + 1}", "101", None)
    port = await paired(base, people, listener)
    base.release(port)  # nothing to release: nothing happens
    with pytest.raises(DectRequestError, match="not calling"):
        base.answer(port)
    base.ring(port, "101", None)
    with pytest.raises(DectRequestError, match="busy"):
        base.ring(port, "102", None)


async def test_a_deleted_handset_is_gone(rig: tuple) -> None:
    base, people, listener = rig
    port = await paired(base, people, listener)
    base.delete_handset(port)
    assert await listener.next() == HandsetRemoved(port, pytest.approx(
        asyncio.get_running_loop().time(), abs=1))
    assert base.subscribed() == []
