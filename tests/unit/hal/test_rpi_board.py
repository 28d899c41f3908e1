"""The assembled Pi board over fakes: every port comes up at once, a broken chip is a
fault of its port alone (logged with the port and the reason), and the Pi backend names the
extra to install when its libraries are missing."""

from __future__ import annotations

import asyncio
import importlib
import logging
import threading
from pathlib import Path
from types import ModuleType

import pytest

from hal.backend import BackendUnavailable, BoardSpec, load
from hal.events import LineEvent
from hal.rpi import assembly
from hal.rpi.fakes.devices import FakeDevices
from hal.rpi.fakes.proslic import FakeProSlic
from hal.rpi.pcm import PcmError, PcmHighway
from hal.rpi.pcm_loopback import LoopbackPcm
from tests import rpirig

FXS1, FXS2, FXO = rpirig.HAT


async def lifted(board_line: object, chip: FakeProSlic, events: list[LineEvent]) -> None:
    chip.set_hook(True)
    await asyncio.sleep(0.1)
    assert [type(e).__name__ for e in events] == ["OffHook"]


async def test_a_healthy_hat_comes_up_in_the_time_of_one_chip() -> None:
    loop = asyncio.get_running_loop()
    board, _ = rpirig.build(loop)
    start = loop.time()
    await board.start()
    took = loop.time() - start
    assert board.faults == {}
    assert list(board.lines) == ["fxs:1", "fxs:2"] and list(board.trunks) == ["fxo:1"]
    assert took < 0.6  # reset 0.2 s + the slowest chip, not the sum of three
    assert board.ports()["fxs"] == ["fxs:1", "fxs:2"]
    await board.stop()


@pytest.mark.parametrize("floating", [0xFF, 0x00])
async def test_an_absent_chip_is_its_ports_fault_alone(
        floating: int, caplog: pytest.LogCaptureFixture) -> None:
    loop = asyncio.get_running_loop()
    devices = FakeDevices.for_wiring(loop, rpirig.HAT)
    rpirig.slic(devices, FXS2).absent = floating
    board, _ = rpirig.build(loop, devices=devices)
    with caplog.at_level(logging.ERROR):
        await board.start()
    assert list(board.faults) == ["fxs:2"]
    assert "si3215 on /dev/spidev0.1: no ProSLIC answers" in board.faults["fxs:2"]
    assert any(rec.message.startswith("fxs:2: fault: si3215 on /dev/spidev0.1: no ProSLIC")
               for rec in caplog.records)
    events: list[LineEvent] = []
    board.lines["fxs:1"].set_listener(events.append)
    await lifted(board.lines["fxs:1"], rpirig.slic(devices, FXS1), events)  # fxs:1 works
    assert board.trunks["fxo:1"].line_present
    broken = board.lines["fxs:2"]
    assert not broken.off_hook and broken.read_frame() is None  # answers, harmlessly
    await board.stop()


async def test_a_calibration_time_out_takes_out_one_port() -> None:
    loop = asyncio.get_running_loop()
    devices = FakeDevices.for_wiring(loop, rpirig.HAT)
    rpirig.slic(devices, FXS1).calibration_hangs = True
    board, _ = rpirig.build(loop, devices=devices)
    await board.start()
    assert list(board.faults) == ["fxs:1"]
    assert "calibration did not finish within 2 s" in board.faults["fxs:1"]
    events: list[LineEvent] = []
    board.lines["fxs:2"].set_listener(events.append)
    await lifted(board.lines["fxs:2"], rpirig.slic(devices, FXS2), events)
    await board.stop()


async def test_a_chip_select_that_cannot_be_opened() -> None:
    loop = asyncio.get_running_loop()
    devices = FakeDevices.for_wiring(loop, rpirig.HAT)
    del devices.chips[(0, 2)]
    board, _ = rpirig.build(loop, devices=devices)
    await board.start()
    assert list(board.faults) == ["fxo:1"]
    assert "cannot open /dev/spidev0.2" in board.faults["fxo:1"]
    assert "SPI overlay" in board.faults["fxo:1"]
    assert not board.trunks["fxo:1"].line_present
    await board.stop()


async def test_a_chip_that_dies_in_a_call_hangs_the_call_up() -> None:
    loop = asyncio.get_running_loop()
    board, devices = rpirig.build(loop)
    await board.start()
    events: list[LineEvent] = []
    board.lines["fxs:1"].set_listener(events.append)
    await lifted(board.lines["fxs:1"], rpirig.slic(devices, FXS1), events)
    rpirig.slic(devices, FXS1).absent = 0xFF
    await asyncio.sleep(1.0)
    assert "stopped answering" in board.faults["fxs:1"]
    assert [type(e).__name__ for e in events] == ["OffHook", "OnHook"]
    await board.stop()


async def test_the_reset_line_resets_the_chips_first() -> None:
    loop = asyncio.get_running_loop()
    board, devices = rpirig.build(loop)
    chip = rpirig.slic(devices, FXS1)
    chip.regs[11] = 0x00  # a chip in a state no reset left it in: would be "nonsense"
    await board.start()
    assert board.faults == {}
    board_without_reset, devices = rpirig.build(
        loop, [FXS1.__class__("fxs", 1, "si3215", 0, 0, 0, None, None)])
    rpirig.slic(devices, FXS1).regs[11] = 0x00
    await board_without_reset.start()
    assert "answers nonsense (DR11 reads 0x00" in board_without_reset.faults["fxs:1"]
    await board_without_reset.stop()
    await board.stop()


async def test_an_interrupt_polls_at_once() -> None:
    loop = asyncio.get_running_loop()
    board, devices = rpirig.build(loop)
    board.poller.interval_s = 10.0  # make the timer irrelevant
    await board.start()
    await asyncio.sleep(0.05)
    polls = board.poller.polls
    rpirig.slic(devices, FXS1).set_hook(True)
    edge = threading.Thread(target=devices.interrupts[4])  # gpiozero calls from its thread
    edge.start()
    edge.join()
    await asyncio.sleep(0.001)
    assert board.poller.polls == polls + 1
    assert board.lines["fxs:1"].status()["hook"] == "off"
    assert rpirig.slic(devices, FXS1).regs[19] == 0  # flags acknowledged
    await board.stop()


class BrokenSoundCard:
    name = "hw:CARD=pbxhat,DEV=0"

    def start(self) -> None:
        raise PcmError("cannot open the sound card 'hw:CARD=pbxhat,DEV=0': no such card")

    def stop(self) -> None:
        raise AssertionError("never started")


class NoSoundCard(FakeDevices):
    def pcm(self, highway: PcmHighway) -> LoopbackPcm:
        return BrokenSoundCard()  # type: ignore[return-value]


async def test_no_sound_card_is_an_audio_fault_and_signalling_works() -> None:
    loop = asyncio.get_running_loop()
    devices = NoSoundCard(loop, FakeDevices.for_wiring(loop, rpirig.HAT).chips)
    board, _ = rpirig.build(loop, devices=devices)
    await board.start()
    assert list(board.faults) == ["audio"] and "no such card" in board.faults["audio"]
    events: list[LineEvent] = []
    board.lines["fxs:1"].set_listener(events.append)
    await lifted(board.lines["fxs:1"], rpirig.slic(devices, FXS1), events)
    await board.stop()


def spec() -> BoardSpec:
    return BoardSpec("Pi", "rpi", (1, 2), (1,), None, (), (), wiring=rpirig.HAT,
                     audio_device="hw:CARD=pbxhat,DEV=0", country="us")


async def test_missing_libraries_name_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.import_module

    def without_hardware(name: str) -> ModuleType:
        if name in assembly.LIBRARIES:
            raise ImportError(f"No module named {name!r}")
        return real(name)

    monkeypatch.setattr(assembly.importlib, "import_module", without_hardware)
    with pytest.raises(BackendUnavailable) as caught:
        load(spec(), asyncio.get_running_loop())
    message = str(caught.value)
    assert "pip install '.[rpi]'" in message
    assert "spidev (the SLIC/DAA chips over SPI)" in message and "sounddevice" in message


async def test_portaudio_missing_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.import_module

    def no_portaudio(name: str) -> ModuleType:
        if name == "sounddevice":
            raise OSError("PortAudio library not found")
        return real(name)

    monkeypatch.setattr(assembly.importlib, "import_module", no_portaudio)
    with pytest.raises(assembly.MissingLibrary, match="apt install libportaudio2"):
        assembly.import_libraries(["sounddevice"])


def test_the_virtual_board_never_loads_hardware_libraries() -> None:
    import subprocess
    import sys

    code = ("import asyncio, sys; from hal.backend import BoardSpec, load; "
            "load(BoardSpec('v', 'sim', (1,), (1,), None, (), ()), asyncio.new_event_loop()); "
            "print(sorted(m for m in ('spidev', 'sounddevice', 'gpiozero') if m in sys.modules))")
    root = Path(__file__).resolve().parents[3]
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=root)
    assert out.stdout.strip() == "[]"
