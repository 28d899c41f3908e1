"""Caller ID on call waiting: the box's side of the exchange (firmware/engine/features/cidcw.py)
and the virtual phone that answers it (hal/sim/cidcw.py), frame by frame, without a loop."""

from __future__ import annotations

import datetime

import numpy as np
import pytest

from firmware.engine.features.cidcw import CidcwExchange, Event, ExchangeError, Step
from firmware.media.callerid import CallerId
from firmware.media.dtmf import DtmfDetector, DtmfGenerator
from firmware.media.frames import FRAME_SAMPLES, silence
from firmware.media.fsk import FskStandard, fsk_demodulate, fsk_modulate
from firmware.media.tones import ToneGenerator, plan
from hal.sim.cidcw import CidcwPhone, is_alert
from tests.unit.test_dtmf import read_speech

MESSAGE = CallerId(number="103", name="Desk 3",
                   when=datetime.datetime(2024, 11, 23, 9, 15)).to_mdmf()


def frames_of(samples: np.ndarray) -> list[np.ndarray]:
    padded = np.zeros(-(-len(samples) // FRAME_SAMPLES) * FRAME_SAMPLES, dtype=np.int16)
    padded[: len(samples)] = samples
    return list(padded.reshape(-1, FRAME_SAMPLES))


def key(digit: str, ms: int = 60) -> list[np.ndarray]:
    return frames_of(DtmfGenerator(tone_ms=ms, gap_ms=0).samples(digit))


def run(exchange: CidcwExchange, phone_says: list[np.ndarray], ticks: int = 80
        ) -> list[np.ndarray]:
    """Drive the exchange as the media clock does (capture, then render); what the phone
    says starts with the first tick after the alert. Returns what the phone heard."""
    heard: list[np.ndarray] = []
    saying = list(phone_says)
    for _ in range(ticks):
        if exchange.done:
            break
        if exchange.step is not Step.ALERT:
            exchange.heard(saying.pop(0) if saying else silence())
        if not exchange.done:
            heard.append(exchange.next_frame().copy())
    return heard


def test_an_acknowledged_alert_gets_the_data() -> None:
    exchange = CidcwExchange(MESSAGE, FskStandard.BELL202)
    heard = run(exchange, [silence(), *key("D")])
    assert [is_alert(f) for f in heard[:5]] == [True] * 4 + [False]  # CAS: 80 ms
    assert exchange.ack == "D" and exchange.done
    audio = np.concatenate(heard)
    assert fsk_demodulate(audio, FskStandard.BELL202) == [MESSAGE]
    first_data = next(i for i, f in enumerate(heard[4:], 4) if np.any(f))
    ack_heard = 4 + 3  # the ACK starts a frame after the alert; confirmed ~32 ms in
    assert 0.05 <= (first_data - ack_heard) * 0.02 <= 0.5  # GR-30-CORE: 50-500 ms after


def test_v23_data_for_europe_and_a_is_an_ack_too() -> None:
    exchange = CidcwExchange(MESSAGE, FskStandard.V23)
    heard = run(exchange, key("A"))
    assert exchange.ack == "A"
    assert fsk_demodulate(np.concatenate(heard), FskStandard.V23) == [MESSAGE]


@pytest.mark.parametrize(("wait_ms", "acked"), [(0, True), (100, True), (120, True),
                                                (160, False), (200, False)])
def test_the_ack_must_come_within_the_window(wait_ms: int, acked: bool) -> None:
    exchange = CidcwExchange(MESSAGE, FskStandard.BELL202)
    heard = run(exchange, [silence()] * (wait_ms // 20) + key("D"))
    assert exchange.done and (exchange.ack is not None) == acked
    assert bool(fsk_demodulate(np.concatenate(heard), FskStandard.BELL202)) == acked


def test_no_ack_ends_the_exchange_quietly_after_the_window() -> None:
    exchange = CidcwExchange(MESSAGE, FskStandard.BELL202)
    heard = run(exchange, key("5"))  # any other key is no ACK
    assert exchange.done and exchange.ack is None
    assert len(heard) == 4 + 8  # the alert, then silence until the 9th frame ends it
    assert not np.any(np.concatenate(heard[4:]))


def test_an_event_out_of_turn_is_a_bug_and_leaves_the_exchange_done() -> None:
    exchange = CidcwExchange(MESSAGE, FskStandard.BELL202)
    with pytest.raises(ExchangeError, match="'data sent' in step 'alert'"):
        exchange._go(Event.DATA_SENT)
    assert exchange.done


# -- the virtual phone -----------------------------------------------------------------


def test_the_virtual_phone_acks_when_the_alert_ends() -> None:
    phone = CidcwPhone()
    phone.enabled = True
    exchange = CidcwExchange(MESSAGE, FskStandard.BELL202)
    said: list[np.ndarray] = []
    now = 0.0
    for _ in range(60):
        if exchange.done:
            break
        if exchange.step is not Step.ALERT:
            exchange.heard(said.pop(0) if said else silence())
        frame = exchange.next_frame()
        ack = phone.earpiece(frame, now)
        if ack is not None:
            said += key_frames(ack)
        now += 0.02
    assert exchange.ack == "D" and phone.acks == 1
    assert fsk_demodulate(phone.data(), FskStandard.BELL202) == [MESSAGE]


def key_frames(samples: np.ndarray) -> list[np.ndarray]:
    assert DtmfDetector().feed(np.concatenate([samples, np.zeros(400, np.int16)])) == ["D"]
    return frames_of(samples)


def test_a_phone_without_the_feature_stays_silent() -> None:
    phone = CidcwPhone()
    exchange = CidcwExchange(MESSAGE, FskStandard.BELL202)
    assert all(phone.earpiece(f, 0.0) is None for f in run(exchange, []))
    assert phone.acks == 0


def test_only_the_alert_is_taken_for_one() -> None:
    us = plan("us")
    sounds = {
        "call waiting": ToneGenerator(us.call_waiting),
        "dial": ToneGenerator(us.dial),
        "howler": ToneGenerator(us.tone("howler")),
    }
    for name, tone in sounds.items():
        assert not any(is_alert(tone.next_frame()) for _ in range(50)), name
    speech = read_speech().astype(np.int16)
    assert not any(is_alert(f) for f in frames_of(speech))
    for standard in FskStandard:
        assert not any(is_alert(f) for f in frames_of(fsk_modulate(MESSAGE, standard)))
    assert not is_alert(silence())
