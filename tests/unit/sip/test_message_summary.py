"""The message-summary body of an MWI NOTIFY (RFC 3842 §5.2)."""

from __future__ import annotations

import pytest

from firmware.sip.errors import ParseError
from firmware.sip.message_summary import MessageSummary


def test_written_as_rfc_3842_shows_it() -> None:
    summary = MessageSummary(True, "sip:101@pbx.local", 2, 8)
    assert bytes(summary) == (b"Messages-Waiting: yes\r\n"
                              b"Message-Account: sip:101@pbx.local\r\n"
                              b"Voice-Message: 2/8 (0/0)\r\n")
    assert MessageSummary.parse(bytes(summary)) == summary


def test_nothing_waiting_without_an_account() -> None:
    assert bytes(MessageSummary(False)) == b"Messages-Waiting: no\r\nVoice-Message: 0/0 (0/0)\r\n"


@pytest.mark.parametrize(("body", "expected"), [
    (b"messages-waiting: YES\r\nvoice-message: 3/1\r\n", MessageSummary(True, None, 3, 1)),
    (b"Messages-Waiting: no\n", MessageSummary(False)),
    (b"Messages-Waiting: yes\r\nVoice-Message: 1 / 2 ( 1 / 0 )\r\nFax-Message: 4/0\r\n",
     MessageSummary(True, None, 1, 2, 1, 0)),
])
def test_read_as_phones_write_it(body: bytes, expected: MessageSummary) -> None:
    assert MessageSummary.parse(body) == expected


@pytest.mark.parametrize("body", [
    b"", b"Voice-Message: 1/0\r\n", b"Messages-Waiting: maybe\r\n",
    b"Messages-Waiting: yes\r\nVoice-Message: one/two\r\n", b"\xff\xfe", b"x" * 5000,
])
def test_garbage_is_one_parse_error(body: bytes) -> None:
    with pytest.raises(ParseError):
        MessageSummary.parse(body)
