"""The health check a new firmware must pass before it is committed: seen from outside."""

from __future__ import annotations

from firmware.service import health
from tests.integration.harness import running_box


async def test_a_box_that_is_up_is_healthy() -> None:
    async with running_box() as h:
        assert (await health.check(h.box)).problems == []


async def test_a_missing_port_and_a_deaf_sip_stack_are_named() -> None:
    async with running_box() as h:
        assert h.box.hal is not None and h.box.sip is not None
        del h.box.hal.lines["fxs:3"]
        await h.box.sip.transport.stop()
        problems = (await health.check(h.box)).problems
    assert len(problems) == 2
    assert "did not answer OPTIONS" in problems[0]
    assert problems[1] == "the board's fxs fxs:3 are missing in the HAL"
