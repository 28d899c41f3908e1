"""Ringing an analog phone with the country's cadence, and caller ID where it belongs.

- Bell 202 (US, GR-30-CORE): the data goes in the silence after the first ring, starting
  500 ms after that ring ends, with the line in on-hook transmission.
- ETSI EN 300 659-1 (DE, FR) and BT SIN227 (UK): before the first ring: reverse the line's
  polarity, wait, send the dual-tone alert (DT-AS, 2130+2750 Hz), then the V.23 data; ringing
  starts a little after the data (200 ms ETSI, ~400 ms BT).

Transitions are paced by deadline from the start of ringing, so the cadence never drifts.
"""

from __future__ import annotations

import asyncio
import datetime
import re
from typing import TYPE_CHECKING

import numpy as np

from firmware.engine.channel import Party
from firmware.media.callerid import CallerId
from firmware.media.frames import SAMPLE_RATE
from firmware.media.fsk import FskStandard, etsi_alert_signal, fsk_modulate
from firmware.media.player import SamplePlayer
from hal.interfaces import Linefeed

if TYPE_CHECKING:
    from firmware.engine.channels.fxs import FxsPort

BELL_DELAY_AFTER_RING_S = 0.5  # GR-30-CORE: data starts >= 500 ms after the first ring
ETSI_REVERSAL_TO_ALERT_S = 0.1  # EN 300 659-1: DT-AS >= 100 ms after the polarity reversal
ETSI_ALERT_TO_DATA_S = 0.06  # EN 300 659-1: data 45..500 ms after DT-AS ends
RING_AFTER_DATA_S = {"etsi": 0.2, "bt": 0.4}
_DIALLABLE = re.compile(r"[0-9*#+]+")


def callerid_message(caller: Party, when: datetime.datetime) -> bytes:
    number, name = caller.number, caller.name
    if number is not None and not _DIALLABLE.fullmatch(number):
        # A SIP caller may be "alice": caller ID carries digits only, so show it as the name.
        number, name = None, name or number
    return CallerId(
        number=number,
        name=name,
        when=when,
        number_absent=None if number else "O",
        name_absent=None if name else "O",
    ).to_mdmf()


async def _until(when: float) -> None:
    await asyncio.sleep(max(0.0, when - asyncio.get_running_loop().time()))


async def ring_with_callerid(port: FxsPort, caller: Party | None) -> None:
    """Ring `port` until cancelled (answered, or the caller gave up)."""
    plan = port.engine.plan
    message = callerid_message(caller, port.engine.now_local()) if caller else None
    if message is not None and plan.callerid in RING_AFTER_DATA_S:
        await _callerid_before_ring(port, message, RING_AFTER_DATA_S[plan.callerid])
        message = None
    loop = asyncio.get_running_loop()
    t = loop.time()
    cadence = plan.ring_cadence
    while True:
        for on_ms, off_ms in zip(cadence[0::2], cadence[1::2], strict=True):
            port.line.set_linefeed(Linefeed.RINGING)
            t += on_ms / 1000.0
            await _until(t)
            port.line.set_linefeed(Linefeed.ON_HOOK_TX)
            if message is not None:
                await _until(t + BELL_DELAY_AFTER_RING_S)
                port.play(SamplePlayer(fsk_modulate(message, FskStandard.BELL202)))
                message = None
            t += off_ms / 1000.0
            await _until(t)


async def _callerid_before_ring(port: FxsPort, message: bytes, ring_after_s: float) -> None:
    port.line.set_linefeed(Linefeed.REVERSE_ON_HOOK_TX)
    await asyncio.sleep(ETSI_REVERSAL_TO_ALERT_S)
    gap = np.zeros(int(ETSI_ALERT_TO_DATA_S * SAMPLE_RATE), dtype=np.int16)
    burst = np.concatenate((etsi_alert_signal(), gap, fsk_modulate(message, FskStandard.V23)))
    player = SamplePlayer(burst)
    port.play(player)
    await asyncio.sleep(player.seconds + ring_after_s)
    port.line.set_linefeed(Linefeed.ON_HOOK_TX)
