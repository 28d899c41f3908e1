"""Setting the box's wall clock in a test: business hours and caller ID's date read
`Engine.now_local()`, whose time comes from `Engine.wall_clock`. The clock set here moves
with the loop's (fake) clock, so fast-forwarding an hour of loop time is an hour of office
time too."""

from __future__ import annotations

import asyncio
import datetime

from tests.integration.harness import Harness


def set_wall_clock(box: Harness, when: datetime.datetime) -> None:
    """From now on the office's clock reads `when` (time-zone aware), and runs on."""
    engine = box.box.engine
    assert engine is not None and when.tzinfo is not None
    loop = asyncio.get_running_loop()
    start, t0 = when.timestamp(), loop.time()
    engine.wall_clock = lambda: start + (loop.time() - t0)
    engine.apply(box.box.office)  # the applications look at the new time at once
