"""The Raspberry Pi backend on its fakes: the HAT's wiring, fake chips, loopback PCM.

Tests build a real `RpiBoard` (the drivers, the poller, the PCM highway) over
`hal.rpi.fakes`, inside the test's fake-time loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from hal.rpi.board import RpiBoard
from hal.rpi.country import country
from hal.rpi.fakes.daa import FakeDaa
from hal.rpi.fakes.devices import FakeDevices
from hal.rpi.fakes.proslic import FakeProSlic
from hal.rpi.pcm_loopback import LoopbackPcm
from hal.rpi.wiring import PortWiring
from hal.sim.panel import SimPanel

# As board-configs/rpi4-2fxs1fxo.toml wires them, plus two more FXS ports (4 FXS + 1 FXO).
FXS = [PortWiring("fxs", n, "si3215", 0 if n <= 2 else 1, (n - 1) % 2, n - 1, 17, 4)
       for n in range(1, 5)]
FXO = PortWiring("fxo", 1, "si3050", 0, 2, 4, 17, 4)
HAT = (FXS[0], FXS[1], FXO)


def build(loop: asyncio.AbstractEventLoop, wiring: Sequence[PortWiring] = HAT,
          devices: FakeDevices | None = None, code: str = "us") -> tuple[RpiBoard, FakeDevices]:
    devices = devices or FakeDevices.for_wiring(loop, wiring)
    board = RpiBoard("test HAT", wiring, devices, country(code),
                     SimPanel(("night",), ("power",), loop), loop)
    return board, devices


def slic(devices: FakeDevices, w: PortWiring) -> FakeProSlic:
    chip = devices.chip(w)
    assert isinstance(chip, FakeProSlic)
    return chip


def daa(devices: FakeDevices, w: PortWiring = FXO) -> FakeDaa:
    chip = devices.chip(w)
    assert isinstance(chip, FakeDaa)
    return chip


def loopback(devices: FakeDevices) -> LoopbackPcm:
    assert devices.loopback is not None
    return devices.loopback
