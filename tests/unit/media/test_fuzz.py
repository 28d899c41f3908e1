"""Whatever bytes arrive, the media parsers raise nothing but `MediaError` subclasses.

DESIGN.md, "Reliability rules": bad input never takes the box down. The session loop
catches `MediaError` around each datagram; any other exception would escape it. Random
bytes mostly fail the version check, so the strategies also build near-valid packets
(version 2, random flags and counts, truncated or padded at random) to reach the deeper
length checks.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable

from hypothesis import given, settings
from hypothesis import strategies as st

from firmware.media.dtmf_events import DtmfEvent, DtmfEventReceiver
from firmware.media.errors import MediaError
from firmware.media.jitter import JitterBuffer
from firmware.media.rtcp import ReceptionStats, parse_compound
from firmware.media.rtp import RtpPacket, peek_header

FUZZ = settings(max_examples=500, derandomize=True, deadline=None)

version_2 = st.builds(
    lambda first, rest: bytes((0x80 | (first & 0x3F),)) + rest,
    st.integers(0, 255),
    st.binary(max_size=120),
)


def _rtcp_packet(flags: int, packet_type: int, body: bytes, fudge: int) -> bytes:
    body = body[: len(body) // 4 * 4]
    words = max(0, len(body) // 4 + fudge)  # a length field that is usually right
    return bytes((0x80 | (flags & 0x3F), packet_type, 0, words)) + body


rtcp_like = st.lists(
    st.builds(
        _rtcp_packet,
        st.integers(0, 255),
        st.sampled_from([200, 201, 202, 203, 204, 205, 206, 207, 99]),
        st.binary(max_size=80),
        st.sampled_from([0, 0, 0, 0, 1, -1]),
    ),
    min_size=1,
    max_size=4,
).map(b"".join)
anything = st.binary(max_size=200) | version_2 | rtcp_like


def only_media_errors(parse: Callable[[bytes], object], data: bytes) -> None:
    """Anything but a MediaError propagates and fails the test."""
    with contextlib.suppress(MediaError):
        parse(data)


@FUZZ
@given(anything)
def test_rtp_parse(data: bytes) -> None:
    only_media_errors(RtpPacket.parse, data)
    only_media_errors(peek_header, data)


@FUZZ
@given(anything)
def test_parse_then_build_round_trips_what_parsed(data: bytes) -> None:
    try:
        packet = RtpPacket.parse(data)
    except MediaError:
        return
    assert RtpPacket.parse(bytes(packet)) == packet


@FUZZ
@given(anything)
def test_rtcp_parse(data: bytes) -> None:
    only_media_errors(parse_compound, data)


@FUZZ
@given(anything)
def test_telephone_event_parse_and_receiver(data: bytes) -> None:
    only_media_errors(DtmfEvent.parse, data)
    receiver = DtmfEventReceiver()
    only_media_errors(lambda d: receiver.feed_packet(RtpPacket(101, 0, 0, 1, payload=d), 0.0), data)


headers = st.tuples(
    st.integers(0, 0xFFFF), st.integers(0, 0xFFFFFFFF), st.integers(0, 3), st.floats(0, 100)
)


@settings(max_examples=200, derandomize=True, deadline=None)
@given(st.lists(headers, max_size=60))
def test_jitter_buffer_and_stats_take_any_header_sequence(
    packets: list[tuple[int, int, int, float]],
) -> None:
    """Arbitrary sequence numbers, timestamps, SSRCs and arrival times: no exception, and
    the buffer stays bounded."""
    jb = JitterBuffer()
    stats = ReceptionStats()
    for seq, ts, ssrc, arrival in packets:
        jb.push(seq, ts, b"x", arrival, ssrc)
        stats.update(seq, ts, arrival)
        jb.get(arrival)
        assert jb.depth <= 10
    stats.report_block(1, now=100.0)
