"""Hostile input never escapes as anything but ParseError (principle 6: bad input costs one
error response, never the loop)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from firmware.sip.errors import ParseError
from firmware.sip.headers import AuthHeader, CSeq, NameAddr, Via
from firmware.sip.message import StreamParser, parse_message
from firmware.sip.uri import parse_uri

from .corpus import INVITE, exercise, torture, torture_names, touch

SEEDS = [INVITE] + [torture(name) for name in torture_names()]
# Bytes that matter to the grammar, so that mutations hit the interesting paths.
SPECIAL = st.sampled_from(
    [b"\r\n", b"\r", b"\n", b" ", b"\t", b":", b";", b",", b"<", b">", b'"', b"\\", b"@",
     b"%", b"=", b"?", b"[", b"]", b"/", b"\x00", b"\xff", b"\xc3", b"0", b"9" * 30,
     b"\r\n ", b"\r\n\r\n", b"SIP/2.0", b"sip:", b"Content-Length: ", b"Via: "]
)  # fmt: skip


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(data)))
        action = draw(st.integers(0, 3))
        if action == 0:  # insert
            data[at:at] = draw(SPECIAL | st.binary(min_size=1, max_size=8))
        elif action == 1:  # delete a run
            del data[at : at + draw(st.integers(1, 40))]
        elif action == 2:  # overwrite one byte
            data[at : at + 1] = bytes([draw(st.integers(0, 255))])
        else:  # truncate
            del data[at:]
    return bytes(data)


def check(data: bytes) -> None:
    try:
        message = parse_message(data)
    except ParseError:
        return
    exercise(message)
    # What we accept we must write back in a form we accept again, stably.
    again = parse_message(bytes(message))
    assert bytes(again) == bytes(message)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=600))
def test_random_bytes(data: bytes) -> None:
    check(data)


@settings(max_examples=800, deadline=None)
@given(mutated())
def test_mutated_messages(data: bytes) -> None:
    check(data)


@settings(max_examples=300, deadline=None)
@given(mutated(), st.lists(st.integers(1, 200), max_size=8))
def test_stream_of_mutated_messages(data: bytes, sizes: list[int]) -> None:
    parser = StreamParser()
    chunks, start = [], 0
    for size in sizes:
        chunks.append(data[start : start + size])
        start += size
    chunks.append(data[start:])
    try:
        for chunk in chunks:
            for message in parser.feed(chunk):
                exercise(message)
    except ParseError:
        pass


@settings(max_examples=500, deadline=None)
@given(st.text(max_size=120) | st.text(alphabet=':;,<>"\\@%=?[]/ \tsip.a1', max_size=60))
def test_header_views_on_random_text(text: str) -> None:
    for parse in (parse_uri, NameAddr.parse, Via.parse, CSeq.parse, AuthHeader.parse):
        try:
            view = parse(text)
        except ParseError:
            continue
        assert parse(str(view)) == view  # what parses re-serialises to the same value
        if isinstance(view, NameAddr | Via):
            touch(view)
