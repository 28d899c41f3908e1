"""The whole box on the virtual board, inside the test's fake-time loop.

Tests talk to it only through the control socket, with the same `VirtualPhone` the `phone`
tool uses, and judge what a person would hear from the audio alone.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from firmware.box import Box
from firmware.config import BoardConfig, SipConfig, default_office, load_board, parse_office
from tools.phone.client import ControlClient
from tools.phone.handset import VirtualPhone

ROOT = Path(__file__).resolve().parents[2]
SIM_BOARD = ROOT / "board-configs" / "sim.toml"


# Tests keep SIP on loopback, on a port the system picks: never the box's real 5060.
SIP_SECTION = '[sip]\nlisten = "127.0.0.1:0"\n'


def office_toml(country: str = "us", extra: str = "") -> str:
    lines = [f'[site]\ncountry = "{country}"\ntimezone = "UTC"\n', SIP_SECTION]
    for n in range(1, 5):
        lines.append(f'[[extension]]\nnumber = "10{n}"\nname = "Desk {n}"\n'
                     f'devices = ["fxs:{n}"]\n')
    return "\n".join(lines) + extra


@dataclass
class Harness:
    box: Box
    client: ControlClient

    async def phone(self, who: str) -> VirtualPhone:
        return await VirtualPhone.find(self.client, who)

    async def phones(self, *who: str) -> list[VirtualPhone]:
        return [await self.phone(w) for w in who]


async def wait(seconds: float) -> None:
    """Let `seconds` of box time pass (fake time: costs only the work done meanwhile)."""
    await asyncio.sleep(seconds)


async def tones_heard(phone: VirtualPhone, seconds: float, window: float = 1.5) -> list[str]:
    """Listen like a person for `seconds`: the tones named, in order, without repeats."""
    heard: list[str] = []
    for _ in range(round(seconds / 0.1)):
        await wait(0.1)
        tone = (await phone.listen(window)).tone
        if tone is not None and (not heard or heard[-1] != tone):
            heard.append(tone)
    return heard


@asynccontextmanager
async def running_box(toml: str | None = None, state_dir: Path | None = None,
                      board: BoardConfig | None = None) -> AsyncIterator[Harness]:
    """A box on the virtual board (or another `board` with backend = "sim"); with
    `state_dir`, that one is used (and kept), as a box restarting on the same SD card
    would."""
    board = board or load_board(SIM_BOARD)
    if toml is None:
        office = default_office(board).model_copy(
            update={"sip": SipConfig(listen="127.0.0.1:0")})
    else:
        office = parse_office(toml, "office.toml", board)
    # A short directory: unix socket paths are limited to ~100 bytes.
    state = state_dir or Path(tempfile.mkdtemp(prefix="pbx-"))
    box = Box(board, office, state)
    await box.start()
    client = await ControlClient(str(box.control_path)).connect()
    try:
        yield Harness(box, client)
    finally:
        await client.close()
        await box.stop()
        if state_dir is None:
            shutil.rmtree(state, ignore_errors=True)
