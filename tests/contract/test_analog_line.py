"""One contract for every `AnalogLine` backend: the virtual board's line and the ProSLIC
driver over its register-level fake (polled, with PCM audio through the loopback).

Each backend gets a `Phone`: the person's side of the line (a hook switch, a bell, a lamp,
a microphone and an earpiece). The firmware's side is only the AnalogLine interface.
Fake time (looptime): a 900 ms hang-up costs nothing.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Protocol

import numpy as np
import pytest

from hal.audio import FRAME_SAMPLES, SAMPLE_RATE
from hal.events import HookFlash, LineEvent, OffHook, OnHook, PulseDigit
from hal.hook import HookTiming
from hal.interfaces import AnalogLine, Linefeed
from hal.rpi.proslic_regs import LinefeedCode
from hal.sim.line import SimAnalogLine
from tests import rpirig

BACKENDS = ["sim", "proslic"]
FRAME_S = FRAME_SAMPLES / SAMPLE_RATE


class Phone(Protocol):
    line: AnalogLine

    def set_hook(self, off_hook: bool) -> None: ...

    def linefeed_seen(self) -> Linefeed: ...

    def ringing(self) -> bool: ...

    def lamp(self) -> bool: ...

    def speak(self, samples: np.ndarray) -> None: ...

    def heard(self, seconds: float) -> np.ndarray: ...


class SimPhone:
    def __init__(self, line: SimAnalogLine) -> None:
        self.line = line
        self._sim = line

    def set_hook(self, off_hook: bool) -> None:
        self._sim.set_hook(off_hook)

    def linefeed_seen(self) -> Linefeed:
        return Linefeed(self._sim.status()["linefeed"])

    def ringing(self) -> bool:
        return bool(self._sim.status()["ringing"])

    def lamp(self) -> bool:
        return bool(self._sim.status()["message_waiting"])

    def speak(self, samples: np.ndarray) -> None:
        self._sim.speak(samples)

    def heard(self, seconds: float) -> np.ndarray:
        return self._sim.heard(seconds)


CHIP_LINEFEEDS = {
    LinefeedCode.OPEN: Linefeed.OPEN,
    LinefeedCode.ACTIVE: Linefeed.ACTIVE,
    LinefeedCode.ON_HOOK_TX: Linefeed.ON_HOOK_TX,
    LinefeedCode.RINGING: Linefeed.RINGING,
    LinefeedCode.REVERSE_ACTIVE: Linefeed.REVERSE_ACTIVE,
    LinefeedCode.REVERSE_ON_HOOK_TX: Linefeed.REVERSE_ON_HOOK_TX,
}


class SlicPhone:
    """The phone on a fake ProSLIC: hook and bell at the chip, voice on the PCM slot."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.board, self.devices = rpirig.build(loop, [rpirig.FXS[0]])
        self.line = self.board.lines["fxs:1"]
        self.chip = rpirig.slic(self.devices, rpirig.FXS[0])

    def set_hook(self, off_hook: bool) -> None:
        self.chip.set_hook(off_hook)

    def linefeed_seen(self) -> Linefeed:
        return CHIP_LINEFEEDS[self.chip.linefeed]

    def ringing(self) -> bool:
        return self.chip.ringing

    def lamp(self) -> bool:
        return self.chip.lamp_flashing

    def speak(self, samples: np.ndarray) -> None:
        rpirig.loopback(self.devices).speak(0, samples)

    def heard(self, seconds: float) -> np.ndarray:
        return rpirig.loopback(self.devices).heard(0, seconds)


@asynccontextmanager
async def phone_on(backend: str) -> AsyncIterator[tuple[Phone, list[LineEvent]]]:
    loop = asyncio.get_running_loop()
    events: list[LineEvent] = []
    if backend == "sim":
        phone: Phone = SimPhone(SimAnalogLine("fxs:1", loop))
        phone.line.set_listener(events.append)
        yield phone, events
        return
    slic_phone = SlicPhone(loop)
    slic_phone.line.set_listener(events.append)
    await slic_phone.board.start()
    assert slic_phone.board.faults == {}
    try:
        yield slic_phone, events
    finally:
        await slic_phone.board.stop()


async def pattern(phone: Phone, steps: Sequence[tuple[bool, float]]) -> None:
    for off_hook, ms in steps:
        phone.set_hook(off_hook)
        await asyncio.sleep(ms / 1000)


def tone(hz: float, seconds: float, amplitude: int = 8000) -> np.ndarray:
    t = np.arange(round(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    return np.rint(amplitude * np.sin(2 * np.pi * hz * t)).astype(np.int16)


def strength(samples: np.ndarray, hz: float) -> float:
    """Amplitude of `hz` in `samples` (a single-bin DFT)."""
    if len(samples) == 0:
        return 0.0
    t = np.arange(len(samples)) / SAMPLE_RATE
    return float(2 * abs(np.dot(samples, np.exp(-2j * np.pi * hz * t))) / len(samples))


def kinds(events: list[LineEvent]) -> list[str]:
    return [f"digit {e.digit}" if isinstance(e, PulseDigit) else type(e).__name__
            for e in events]


@pytest.mark.parametrize("backend", BACKENDS)
async def test_lifting_and_hanging_up(backend: str) -> None:
    async with phone_on(backend) as (phone, events):
        assert not phone.line.off_hook
        phone.set_hook(True)
        await asyncio.sleep(0.1)
        assert kinds(events) == ["OffHook"] and phone.line.off_hook
        lifted_at = events[0].at
        phone.set_hook(False)
        await asyncio.sleep(1.0)
        assert kinds(events) == ["OffHook", "OnHook"] and not phone.line.off_hook
        assert isinstance(events[1], OnHook)
        # The hang-up happened when the hook went down, not when it was known (900 ms later).
        assert events[1].at - lifted_at == pytest.approx(0.1, abs=0.011)


@pytest.mark.parametrize("backend", BACKENDS)
async def test_contact_bounce_is_ignored(backend: str) -> None:
    async with phone_on(backend) as (phone, events):
        await pattern(phone, [(True, 5), (False, 500)])
        assert events == []
        await pattern(phone, [(True, 500), (False, 5), (True, 500)])
        assert kinds(events) == ["OffHook"]


@pytest.mark.parametrize("backend", BACKENDS)
async def test_flash(backend: str) -> None:
    async with phone_on(backend) as (phone, events):
        await pattern(phone, [(True, 300), (False, 400), (True, 500)])
        assert kinds(events) == ["OffHook", "HookFlash"]
        flash = events[1]
        assert isinstance(flash, HookFlash) and flash.ms == pytest.approx(400, abs=11)


@pytest.mark.parametrize("backend", BACKENDS)
async def test_pulse_digits(backend: str) -> None:
    async with phone_on(backend) as (phone, events):
        await pattern(phone, [(True, 500)])
        for digit in (3, 10):  # 60 ms break, 40 ms make at 10 pulses/s; "0" is 10 pulses
            await pattern(phone, [(False, 60), (True, 40)] * digit)
            await asyncio.sleep(0.8)
        assert kinds(events) == ["OffHook", "digit 3", "digit 0"]


@pytest.mark.parametrize("backend", BACKENDS)
async def test_hook_windows_are_per_line(backend: str) -> None:
    async with phone_on(backend) as (phone, events):
        phone.line.configure(HookTiming(flash_min_ms=200, flash_max_ms=1500))
        await pattern(phone, [(True, 300), (False, 1200), (True, 300)])
        assert kinds(events) == ["OffHook", "HookFlash"]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("state", list(Linefeed))
async def test_linefeed_states_reach_the_line(backend: str, state: Linefeed) -> None:
    async with phone_on(backend) as (phone, _):
        phone.line.set_linefeed(state)
        await asyncio.sleep(0.05)
        assert phone.line.linefeed is state
        assert phone.linefeed_seen() is state
        assert phone.ringing() == (state is Linefeed.RINGING)


@pytest.mark.parametrize("backend", BACKENDS)
async def test_ringing_with_a_cadence_and_ring_trip(backend: str) -> None:
    async with phone_on(backend) as (phone, events):
        for _ in range(2):  # the firmware's timers make the cadence (here 2 s on, 4 s off)
            phone.line.set_linefeed(Linefeed.RINGING)
            await asyncio.sleep(1.0)
            assert phone.ringing()
            await asyncio.sleep(1.0)
            phone.line.set_linefeed(Linefeed.ON_HOOK_TX)
            await asyncio.sleep(4.0)
            assert not phone.ringing()
        phone.line.set_linefeed(Linefeed.RINGING)
        await asyncio.sleep(0.5)
        phone.set_hook(True)  # answered mid-ring: the ring stops at once
        await asyncio.sleep(0.1)
        assert not phone.ringing()
        assert phone.line.linefeed is Linefeed.ACTIVE
        assert kinds(events) == ["OffHook"]
        phone.line.set_linefeed(Linefeed.RINGING)  # a lifted phone is never rung
        await asyncio.sleep(0.1)
        assert not phone.ringing()


@pytest.mark.parametrize("backend", BACKENDS)
async def test_message_waiting_lamp(backend: str) -> None:
    async with phone_on(backend) as (phone, _):
        phone.line.set_message_waiting(True)
        await asyncio.sleep(0.05)
        assert phone.lamp() and not phone.ringing()
        phone.line.set_message_waiting(False)
        await asyncio.sleep(0.05)
        assert not phone.lamp()


@pytest.mark.parametrize("backend", BACKENDS)
async def test_what_the_box_plays_reaches_the_earpiece(backend: str) -> None:
    async with phone_on(backend) as (phone, _):
        phone.set_hook(True)
        await asyncio.sleep(0.1)
        sound = tone(1000, 0.6)
        for at in range(0, len(sound), FRAME_SAMPLES):  # paced like the media clock
            phone.line.write_frame(sound[at:at + FRAME_SAMPLES])
            await asyncio.sleep(FRAME_S)
        await asyncio.sleep(0.1)
        heard = phone.heard(0.8)
        assert strength(heard, 1000) > 0.5 * 8000 * 0.6 / 0.8
        assert strength(heard, 1500) < 100


@pytest.mark.parametrize("backend", BACKENDS)
async def test_what_the_phone_says_reaches_the_box(backend: str) -> None:
    async with phone_on(backend) as (phone, _):
        phone.set_hook(True)
        await asyncio.sleep(0.1)
        phone.speak(tone(700, 0.4))
        frames = []
        for _ in range(30):  # the media clock reads every 20 ms
            frame = phone.line.read_frame()
            if frame is not None:
                assert frame.dtype == np.int16 and frame.shape == (FRAME_SAMPLES,)
                frames.append(frame)
            await asyncio.sleep(FRAME_S)
        said = np.concatenate(frames)
        assert strength(said, 700) * len(said) / SAMPLE_RATE > 0.8 * 8000 * 0.4


@pytest.mark.parametrize("backend", BACKENDS)
async def test_an_on_hook_phone_sends_nothing(backend: str) -> None:
    async with phone_on(backend) as (phone, _):
        phone.speak(tone(700, 0.2))
        for _ in range(10):
            assert phone.line.read_frame() is None
            await asyncio.sleep(FRAME_S)


async def test_the_events_are_the_hals_own() -> None:
    async with phone_on("proslic") as (phone, events):
        phone.set_hook(True)
        await asyncio.sleep(0.1)
        assert isinstance(events[0], OffHook) and events[0].port == "fxs:1"
