"""What the queue and promise tests do again and again: an office with a queue, a caller
joining it, an agent who answers, and knowing which prompt a caller heard.

`said(samples, key)` finds a shipped prompt in what a handset heard: the prompt's samples,
slid along the recording, line up (normalised correlation near 1) somewhere. Speech the
box did not say, music and tones score far below (< 0.3)."""

from __future__ import annotations

import asyncio
import re

import numpy as np

from firmware.media.prompts import SHIPPED_DIR, PromptSet
from tests.integration.calls import lift_and_dial, office
from tests.integration.harness import Harness, wait
from tools.phone.handset import VirtualPhone

PROMPTS = PromptSet.load(SHIPPED_DIR)
MATCH = 0.9


def queue_office(queue: str = "", *, features: str = "", extra: str = "",
                 sip: bool = True) -> str:
    """The test office (analog 101-104, softphone 201) with a queue "support" on 600:
    `queue` adds keys to it (agents default to 101)."""
    if not re.search(r"^agents\s*=", queue, re.MULTILINE):
        queue = 'agents = ["101"]\n' + queue
    return office(features=features, sip=sip) + \
        f'\n[[queue]]\nname = "support"\nnumber = "600"\n{queue}\n{extra}'


def score(samples: np.ndarray, key: str) -> float:
    """How well prompt `key` lines up somewhere in `samples` (1.0: exactly)."""
    prompt = PROMPTS.samples(key)
    assert prompt is not None, f"no prompt {key!r}"
    t = prompt.astype(np.float64)
    x = samples.astype(np.float64)
    if len(x) < len(t):
        return 0.0
    size = 1 << (len(x) + len(t) - 1).bit_length()
    corr = np.fft.irfft(np.fft.rfft(x, size) * np.conj(np.fft.rfft(t, size)), size)
    corr = corr[:len(x) - len(t) + 1]
    sums = np.concatenate(([0.0], np.cumsum(x * x)))  # sliding energy: one pass
    energy = np.sqrt(np.maximum(sums[len(t):] - sums[:-len(t)], 0.0))
    norm = float(np.linalg.norm(t))
    # Only where the recording is about as loud as the prompt: silence scores nothing.
    ratio = np.where(energy > 0.3 * norm, corr / (np.maximum(energy, 1e-9) * norm), 0.0)
    return float(ratio.max())


def said(samples: np.ndarray, *keys: str) -> bool:
    """Every prompt of `keys` is in `samples`."""
    return all(score(samples, key) >= MATCH for key in keys)


async def join(phone: VirtualPhone, number: str = "600") -> None:
    """Lift and dial the queue; the caller is in line when this returns."""
    await lift_and_dial(phone, number)
    await wait(0.5)


async def press(phone: VirtualPhone, key: str) -> None:
    ms = await phone.dial(key)
    await wait(ms / 1000 + 0.3)


async def alerting(phone: VirtualPhone) -> bool:
    """The phone is being rung: the bell sounds now, or did in the cadence's last pause
    (US: 2 s on, 4 s off)."""
    status = await phone.status()
    rings = status["rings"]
    recent = bool(rings) and rings[-1][1] is not None and status["now"] - rings[-1][1] < 4.5
    # Between rings the line stays in on-hook transmission; rung no more, it is "active".
    return bool(status["ringing"]) or (recent and status["linefeed"] != "active")


async def rings(phone: VirtualPhone, within: float = 8.0) -> bool:
    """The phone is rung now, or starts to be within `within` seconds."""
    for _ in range(round(within / 0.5)):
        if await alerting(phone):
            return True
        await wait(0.5)
    return await alerting(phone)


async def answer(phone: VirtualPhone, within: float = 8.0) -> None:
    """Wait for the phone to ring (within `within` s), and lift it."""
    assert await rings(phone, within), f"{phone.extension} did not ring"
    await phone.offhook()
    await wait(0.5)


async def caller_id(phone: VirtualPhone) -> str | None:
    """The number a ringing phone shows (US caller ID comes after the first ring)."""
    await wait(4)
    shown = (await phone.listen(1)).callerid
    return None if shown is None else shown.get("number")


async def resumed(box: Harness) -> None:
    """Until the box has taken up its stored callbacks and promises (read from the store
    in its own thread at start-up)."""
    for kind in ("queue", "promise"):
        app = box.box.engine.apps[kind]  # type: ignore[union-attr]
        await asyncio.wait_for(app.resumed.wait(), 10)  # type: ignore[attr-defined]


def figures(box: Harness, queue: str = "support") -> dict[str, object]:
    assert box.box.engine is not None
    snapshot = box.box.engine.snapshot()["apps"]["queue"][queue]
    return snapshot  # type: ignore[no-any-return]


def promises(box: Harness) -> dict[str, object]:
    assert box.box.engine is not None
    return box.box.engine.snapshot()["apps"]["promise"]  # type: ignore[no-any-return]


def rows(box: Harness, sql: str) -> list[tuple[object, ...]]:
    """Rows of the box's store, as a tool reading the database would see them."""
    assert box.box.store is not None
    return box.box.store.run_now(lambda db: [tuple(r) for r in db.execute(sql)])
