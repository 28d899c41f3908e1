"""Voicemail's pure parts: its config, the message-waiting board, trimming a recording,
a recording kept in step with time, and the mailboxes on a real store (no loop tricks:
the store's thread is real, the files are in a temporary directory)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import pytest

from firmware.apps.voicemail.mailbox import Mailboxes
from firmware.apps.voicemail.recording import KEY_TRIM_S, recorded
from firmware.config import ConfigError, office_to_toml, parse_office
from firmware.engine.bridges import RecordingBridge
from firmware.engine.channel import Cause, Channel, Party
from firmware.engine.mwi import MessageCounts, MessageWaiting
from firmware.engine.mwi_subscriptions import DEFAULT_EXPIRES, _expires
from firmware.media.frames import FRAME_SAMPLES, Frame
from firmware.media.player import SamplePlayer
from firmware.media.wav import read_wav
from firmware.store import Store

EXT = '[[extension]]\nnumber = "101"\nname = "A"\ndevices = ["sip"]\n'


def problems(text: str) -> dict[str, str]:
    with pytest.raises(ConfigError) as info:
        parse_office(textwrap.dedent(text), "office.toml")
    return {p.key: f"{p.message}. Fix: {p.fix}" for p in info.value.problems}


# -- config -------------------------------------------------------------------------------


def test_defaults_a_mailbox_and_its_round_trip() -> None:
    office = parse_office(EXT + 'voicemail = true\npin = "0042"\n', "office.toml")
    ext = office.extensions[0]
    assert (ext.voicemail, ext.pin) == (True, "0042")
    limits = office.voicemail
    assert (limits.max_message_s, limits.min_message_s, limits.max_messages,
            limits.max_greeting_s, limits.operator_key) == (180, 1, 100, 60, "0")
    assert (office.features.voicemail, office.features.voicemail_any) == ("*97", "*98")
    assert parse_office(office_to_toml(office), "saved.toml") == office
    assert parse_office(EXT, "office.toml").extensions[0].voicemail is False  # opt in


@pytest.mark.parametrize(("pin", "message"), [
    ('"123"', "has 3 digits"), ('"12345678901"', "has 11 digits"),
    ('"12a4"', "is not all digits"), ("1234", "not text in quotes"),
])
def test_a_bad_pin_is_named_with_a_fix(pin: str, message: str) -> None:
    found = problems(EXT + f"voicemail = true\npin = {pin}\n")
    assert message in found["extension[0].pin"]


def test_limits_that_keep_no_message_are_refused() -> None:
    found = problems("[voicemail]\nmin_message_s = 5\nmax_message_s = 5\n")
    assert "must be less than max_message_s" in found["voicemail.min_message_s"]
    found = problems('[voicemail]\noperator_key = "00"\nmax_messages = 0\n')
    assert "is not one key" in found["voicemail.operator_key"]
    assert "voicemail.max_messages" in found


def test_listening_codes_must_be_their_own() -> None:
    found = problems('[features]\nvoicemail = "*72"\nvoicemail_any = "*97"\n')
    assert "also [features] forward_all_on" in found["features.voicemail"]
    assert "features.voicemail_any" not in found  # *97 is free once voicemail moved


def test_a_destination_to_a_mailbox_needs_one() -> None:
    trunk = ('[[trunk]]\nname = "p"\nhost = "192.0.2.1"\nusername = "u"\nsecret = "s"\n'
             'inbound_default = "voicemail:101"\n')
    found = problems(EXT + trunk)
    assert "extension 101 has no mailbox" in found["trunk[0].inbound_default"]
    assert "voicemail = true" in found["trunk[0].inbound_default"]
    parse_office(EXT + "voicemail = true\n" + trunk, "office.toml")


# -- the message-waiting board ----------------------------------------------------------


def test_the_board_tells_its_listeners_of_news_only() -> None:
    board = MessageWaiting()
    heard: list[tuple[str, MessageCounts]] = []
    board.listen(lambda mailbox, counts: heard.append((mailbox, counts)))
    board.set("101", MessageCounts(0, 0))
    board.set("101", MessageCounts(0, 0))
    board.set("101", MessageCounts(2, 1))
    assert board.waiting("101") and not board.waiting("102") and not board.waiting(None)
    assert board.get("101").total == 3
    board.remove("101")
    assert heard == [("101", MessageCounts()), ("101", MessageCounts(2, 1)),
                     ("101", MessageCounts())]
    assert "101" not in board and board.mailboxes() == []


def test_subscription_expiry_header() -> None:
    assert _expires(None) == DEFAULT_EXPIRES
    assert (_expires(" 600 "), _expires("0")) == (600, 0)
    assert _expires("-5") is None and _expires("soon") is None


# -- recordings ----------------------------------------------------------------------------


def frames(*values: int) -> list[Frame]:
    return [np.full(FRAME_SAMPLES, v, np.int16) for v in values]


def test_a_pound_ends_without_its_tone_and_a_hang_up_without_the_silence_after() -> None:
    kept = recorded(frames(*[5] * 50), "key")
    assert len(kept.samples) == 50 * FRAME_SAMPLES - int(KEY_TRIM_S * 8000)
    kept = recorded(frames(5, 5, 0, 7, 0, 0, 0), "gone")
    assert len(kept.samples) == 4 * FRAME_SAMPLES and kept.seconds == pytest.approx(0.08)
    assert recorded([], "gone").seconds == 0
    assert recorded(frames(5, 5), "key").seconds == 0  # all of it was the key


class _Leg(Channel):
    def indicate(self, tone: str | None) -> None: ...
    def ring(self, caller: Party) -> None: ...
    def deliver(self, frame: Frame) -> None: ...
    def _release(self, cause: Cause) -> None: ...


class _Clock:
    def add(self, participant: object) -> None: ...
    def discard(self, participant: object) -> None: ...


async def test_a_recording_keeps_time_while_the_leg_sends_nothing() -> None:
    leg = _Leg("leg", Party("101", None))
    bridge = RecordingBridge(leg, SamplePlayer(np.zeros(0, np.int16)), _Clock(),  # type: ignore[arg-type]
                             max_frames=100)
    for tick in range(30):
        if tick < 10 or tick >= 20:  # speech, a silence (nothing forwarded), speech
            bridge.forward(leg, np.full(FRAME_SAMPLES, 9, np.int16))
        bridge.capture()
    assert len(bridge.frames) in (29, 30)  # a frame a tick, one late at most
    assert all(not np.any(f) for f in bridge.frames[10:19])


# -- mailboxes on a real store -----------------------------------------------------------


async def test_a_mailbox_keeps_messages_pins_and_greetings(tmp_path: Path) -> None:
    store = Store(tmp_path / "box.sqlite3")
    store.open()
    try:
        boxes = Mailboxes(store, tmp_path)
        tone = (3000 * np.sin(np.arange(8000) / 8000 * 2 * np.pi * 700)).astype(np.int16)
        first = await boxes.save_message("101", Party("102", "Desk 2"), tone)
        second = await boxes.save_message("101", Party(None, None), tone[:4000])
        assert (first.duration_s, second.duration_s) == (1.0, 0.5)
        assert np.array_equal(read_wav(tmp_path / "voicemail" / first.file, max_seconds=9),
                              tone)
        assert await boxes.all_counts(["101", "102"]) == {"101": MessageCounts(2, 0),
                                                          "102": MessageCounts()}
        await boxes.move(first, "saved")
        assert [m.id for m in await boxes.messages("101")] == [second.id, first.id]  # new 1st
        await boxes.delete(second)
        assert not (tmp_path / "voicemail" / second.file).exists()
        assert await boxes.counts("101") == MessageCounts(0, 1)
        audio = await boxes.audio(second)
        assert audio is None  # gone: logged, not raised
        assert await boxes.pin("101") is None
        await boxes.set_pin("101", "2468")
        await boxes.save_greeting("101", "busy", tone)
        assert await boxes.pin("101") == "2468"
        busy = await boxes.greeting("101", "busy")
        assert busy is not None and np.array_equal(busy, tone)
        assert await boxes.greeting("101", "unavailable") is None
    finally:
        store.close()
