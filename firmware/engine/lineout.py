"""Calling out on the office's analog phone line: a route whose trunk is "fxo:N".

The box seizes the line, waits for the exchange's dial tone (`dial_delay_s`), then dials
the number as DTMF (sending nothing else meanwhile). The caller is joined to the line at
once, so they hear what a person at a phone on that line would: dial tone, then the
exchange's ringback, then the far end.
An analog line has no answer signal, so the call counts as answered once dialled; it ends
when either side hangs up (the far end's hang-up: a loop-current drop or busy tone,
`firmware.engine.channels.fxo`). The toll-fraud rules have been applied by `dial_out`.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import numpy as np

from firmware.engine.bridges import make_bridge
from firmware.engine.channel import Cause, Channel
from firmware.engine.dial import release_legs
from firmware.logs import call_event
from firmware.media.dtmf import DtmfGenerator
from firmware.media.frames import SAMPLE_RATE
from firmware.media.player import SamplePlayer

if TYPE_CHECKING:
    from firmware.engine.channels.fxo import FxoPort
    from firmware.engine.pbx import Engine


async def dial_line(engine: Engine, port: FxoPort | None, number: str, caller: Channel
                    ) -> Cause:
    if port is None or not port.available:
        call_event("outbound-failed", channel=caller.name, trunk=port.name if port else None,
                   why="line in use" if port else "no such line")
        return Cause.CONGESTION
    leg = port.take_line()
    call_event("outbound", channel=caller.name, trunk=port.name, number=number)
    try:
        caller.indicate(None)
        caller.accept()
        make_bridge(caller, leg)
        # Wait for the exchange's dial tone, then dial: the line hears neither the caller
        # (the tail of the last key they pressed would be one digit too many) nor the
        # digits' echo.
        pause = np.zeros(int(port.config.dial_delay_s * SAMPLE_RATE), dtype=np.int16)
        dialling = SamplePlayer(np.concatenate((pause, DtmfGenerator().samples(number))))
        port.play(dialling)
        await asyncio.sleep(dialling.seconds)
        leg.answer()
        await caller.until_alone()
        return Cause.NORMAL_CLEARING
    finally:
        release_legs(engine, [leg])
