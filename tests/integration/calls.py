"""What the feature tests do and check again and again, as a person at a handset would:
set up a call, hear each other, hear hold music. Fake time (see harness.py)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from tests.integration.harness import Harness, wait
from tests.sipphone import dominant_hz
from tools.phone.handset import VirtualPhone


def office(*, analog: str = "", features: str = "", extension_extra: dict[str, str] | None
           = None, sip: bool = True) -> str:
    """The test office: analog 101-104 on fxs:1-4 and, with `sip`, softphone 201."""
    extra = extension_extra or {}
    return "\n".join([
        '[site]\ncountry = "us"\ntimezone = "UTC"\n',
        '[sip]\nlisten = "127.0.0.1:0"\n' if sip else "",
        f"[analog]\n{analog}\n",
        f"[features]\n{features}\n",
        *(f'[[extension]]\nnumber = "10{n}"\nname = "Desk {n}"\ndevices = ["fxs:{n}"]\n'
          + extra.get(f"10{n}", "") for n in (1, 2, 3, 4)),
        '[[extension]]\nnumber = "201"\nname = "Soft"\ndevices = ["sip"]\n'
        'secret = "secret-of-201"\n' if sip else "",
    ])


async def lift_and_dial(phone: VirtualPhone, digits: str) -> None:
    await phone.offhook()
    await wait(1)
    ms = await phone.dial(digits)
    await wait(ms / 1000 + 0.5)


async def in_call(box: Harness, caller: str, callee: str, *, answer: bool = True
                  ) -> tuple[VirtualPhone, VirtualPhone]:
    """`caller` dials `callee`, which answers (unless `answer` is False)."""
    a, b = await box.phones(caller, callee)
    await a.offhook()
    await wait(1)
    ms = await a.dial(callee)
    await wait(ms / 1000 + 1)
    if answer:
        await b.offhook()
        await wait(1)
    return a, b


async def talking(a: VirtualPhone, b: VirtualPhone) -> None:
    """Each hears the other: a says 700 Hz, then b says 1200 Hz."""
    await a.say_tone(700, 1500)
    await wait(1)
    assert dominant_hz(await b.recording(1.0)) == pytest.approx(700, abs=10)
    await b.say_tone(1200, 1500)
    await wait(1)
    assert dominant_hz(await a.recording(1.0)) == pytest.approx(1200, abs=10)


def hears_music(samples: np.ndarray) -> bool:
    """Hold music: sound whose pitch keeps changing (not a tone, not silence)."""
    size = 2000
    pitches = [dominant_hz(samples[i:i + size]) for i in range(0, len(samples) - size, size)]
    loud = float(np.sqrt(np.mean(samples.astype(np.float64) ** 2))) > 100
    return loud and sum(abs(x - y) > 20 for x, y in itertools.pairwise(pitches)) >= 3


def spoken(samples: np.ndarray) -> bool:
    """Speech: its pitch, where it is loud, all over the place (beeps keep one pitch)."""
    size = 400
    windows = [samples[i:i + size].astype(np.float64) for i in range(0, len(samples) - size,
                                                                      size)]
    pitches = [dominant_hz(w) for w in windows if np.sqrt(np.mean(w ** 2)) > 100]
    return sum(abs(a - b) > 20 for a, b in itertools.pairwise(pitches)) >= 5
