"""Golden call-flow traces of the transfer machine: every call event of a transfer, in
order, compared with a reviewed copy in tests/golden/. A change in how the engine moves
legs shows up here line by line, not only as a different tone at a handset.

Leg names are numbered per trace (fxs:2/#1, fxs:2/#2 ...) so traces do not depend on
which tests ran before. After a deliberate change, review the new traces and write them:

    UPDATE_GOLDEN=1 ./test.sh tests/integration/test_transfer_traces.py
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from tests.integration.harness import Harness, running_box, wait

GOLDEN = Path(__file__).resolve().parents[1] / "golden"
_LEG = re.compile(r"\b((?:fxs|sip|trunk):[^/\s]+)/(\d+)")


def normalise(lines: list[str]) -> list[str]:
    names: dict[str, str] = {}

    def rename(match: re.Match[str]) -> str:
        key, device = match.group(0), match.group(1)
        if key not in names:
            seen = sum(k.startswith(device + "/") for k in names)
            names[key] = f"{device}/#{seen + 1}"
        return names[key]

    return [_LEG.sub(rename, line) for line in lines]


async def in_call(box: Harness) -> None:
    p101, p102 = await box.phones("101", "102")
    await p101.offhook()
    await wait(1)
    await wait(await p101.dial("102") / 1000 + 1)
    await p102.offhook()
    await wait(1)


async def flash_dial(box: Harness, digits: str) -> None:
    (p102,) = await box.phones("102")
    await p102.flash(500)
    await wait(1)
    await wait(await p102.dial(digits) / 1000 + 1)


async def attended(box: Harness) -> None:
    await in_call(box)
    await flash_dial(box, "103")
    p102, p103 = await box.phones("102", "103")
    await p103.offhook()
    await wait(1)
    await p102.onhook()
    await wait(2)


async def semi_attended(box: Harness) -> None:
    await in_call(box)
    await flash_dial(box, "103")
    p102, p103 = await box.phones("102", "103")
    await p102.onhook()
    await wait(3)
    await p103.offhook()
    await wait(1)


async def blind_bounce(box: Harness) -> None:
    await in_call(box)
    await flash_dial(box, "##103")
    (p102,) = await box.phones("102")
    await p102.onhook()
    await wait(40)  # 103 does not answer: the call rings 102 again
    await p102.offhook()
    await wait(3)  # "transfer failed", then the two talk


SCENARIOS: dict[str, Callable[[Harness], Awaitable[None]]] = {
    "attended": attended, "semi-attended": semi_attended, "blind-bounce": blind_bounce,
}


@pytest.mark.parametrize("name", list(SCENARIOS))
async def test_transfer_trace(name: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="pbx.call")
    async with running_box() as box:
        await SCENARIOS[name](box)
    lines = normalise([r.getMessage() for r in caplog.records if r.name == "pbx.call"])
    golden = GOLDEN / f"transfer-{name}.txt"
    if os.environ.get("UPDATE_GOLDEN"):
        golden.write_text("\n".join(lines) + "\n")
    assert golden.exists(), f"no golden trace yet: run with UPDATE_GOLDEN=1 and review {golden}"
    assert lines == golden.read_text().splitlines()
