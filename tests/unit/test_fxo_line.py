"""The phone line's pieces on their own: the virtual exchange's rings and tones
(hal.sim.fxo), and what the box listens for on the line (caller ID, busy tone)."""

from __future__ import annotations

import asyncio
import datetime

import numpy as np

from firmware.engine.channel import Party
from firmware.engine.channels.fxo_listen import CallerIdCapture, DisconnectTone
from firmware.engine.channels.fxs_ringer import callerid_message
from firmware.media.frames import FRAME_SAMPLES
from firmware.media.fsk import FskStandard, fsk_modulate
from firmware.media.tones import ToneGenerator, plan
from hal.events import LoopCurrentLost, RingStarted, RingStopped, TrunkEvent
from hal.sim.fxo import Exchange, SimFxoLine

US = plan("us")


def frames(samples: np.ndarray) -> list[np.ndarray]:
    pad = np.concatenate((samples, np.zeros(-len(samples) % FRAME_SAMPLES, np.int16)))
    return list(pad.reshape(-1, FRAME_SAMPLES))


def test_caller_id_is_decoded_from_the_line_audio() -> None:
    burst = fsk_modulate(callerid_message(Party("5125550199", "Customer"),
                                          datetime.datetime(2025, 12, 17, 10, 0)),
                         FskStandard.BELL202)
    capture = CallerIdCapture(US)
    for frame in frames(np.concatenate((np.zeros(800, np.int16), burst))):
        capture.feed(frame)
    assert capture.caller == Party("5125550199", "Customer")


def test_busy_tone_is_a_disconnect_and_dial_tone_is_not() -> None:
    for tone, gone in (("busy", True), ("congestion", True), ("dial", False),
                       ("ringback", False)):
        source, detector = ToneGenerator(US.tone(tone)), DisconnectTone(US)
        heard = [detector.feed(source.next_frame()) for _ in range(200)]  # 4 s
        assert any(heard) is gone, tone


async def test_the_exchange_rings_with_the_cadence_and_stops_when_answered() -> None:
    loop = asyncio.get_running_loop()
    line = SimFxoLine("fxo:1", loop)
    events: list[TrunkEvent] = []
    line.set_listener(events.append)
    t0 = loop.time()
    line.call(None, (2000, 4000))
    await asyncio.sleep(6.5)
    assert [(type(e), round(e.at - t0, 2)) for e in events] == [
        (RingStarted, 0.0), (RingStopped, 2.0), (RingStarted, 6.0)]
    line.seize()  # the box answers in the middle of the second ring
    assert line.state is Exchange.CONNECTED and isinstance(events[-1], RingStopped)
    await asyncio.sleep(10)
    assert len(events) == 4  # no more rings
    line.hang_up()
    assert isinstance(events[-1], LoopCurrentLost)


async def test_the_exchange_gives_dial_tone_then_ringback_after_the_digits() -> None:
    loop = asyncio.get_running_loop()
    line = SimFxoLine("fxo:1", loop)
    line.seize()
    assert line.state is Exchange.DIAL_TONE
    frame = line.read_frame()
    assert frame is not None and np.abs(frame).max() > 1000  # dial tone
    line.write_frame(np.full(FRAME_SAMPLES, 3000, np.int16))  # the box dials
    assert line.state is Exchange.DIALLING
    await asyncio.sleep(2)
    line.write_frame(np.zeros(FRAME_SAMPLES, np.int16))  # then quiet: dialled
    assert line.state is Exchange.RINGING_OUT
    line.answer()
    assert line.state is Exchange.CONNECTED and line.read_frame() is None  # silence
    line.release()
    assert line.state is Exchange.IDLE and line.box_hung_up
