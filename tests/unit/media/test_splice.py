"""One RTP stream per leg across relay and box-made packets (firmware.media.splice)."""

from __future__ import annotations

import itertools

from hypothesis import given
from hypothesis import strategies as st

from firmware.media.rtp import RtpPacket, RtpSender
from firmware.media.splice import StreamSplice, continuation

PCMU = 0


def stream(sender: RtpSender, count: int) -> list[bytes]:
    return [sender.packet(bytes(160), 160) for _ in range(count)]


def fields(data: bytes) -> tuple[int, int, int, bool]:
    packet = RtpPacket.parse(data)
    return packet.ssrc, packet.sequence, packet.timestamp, packet.marker


def test_the_box_goes_on_where_the_relayed_stream_stopped() -> None:
    relayed = stream(RtpSender(0xAAAA, PCMU, 65535, 2**32 - 160), 1)
    assert continuation(relayed[-1]) == (0xAAAA, 0, 0)  # both counters wrap
    assert continuation(b"not rtp at all") is None


@given(st.integers(0, 2**32 - 1), st.integers(0, 65535), st.integers(0, 2**32 - 1),
       st.integers(0, 2**32 - 1), st.integers(0, 65535), st.integers(0, 2**32 - 1))
def test_relayed_packets_continue_the_box_s_stream(ours_ssrc: int, ours_seq: int, ours_ts: int,
                                                   their_ssrc: int, their_seq: int,
                                                   their_ts: int) -> None:
    splice = StreamSplice(ours_ssrc, ours_seq, ours_ts)
    theirs = stream(RtpSender(their_ssrc, PCMU, their_seq, their_ts), 5)
    out = [fields(splice.rewrite(p)) for p in theirs]
    assert out[0] == (ours_ssrc, ours_seq, ours_ts, True)  # marked: a new talkspurt
    for a, b in itertools.pairwise(out):
        assert b[0] == ours_ssrc and not b[3]
        assert (b[1] - a[1]) % 65536 == 1
        assert (b[2] - a[2]) % 2**32 == 160
    assert [RtpPacket.parse(p).payload for p in theirs] == \
        [RtpPacket.parse(splice.rewrite(p)).payload for p in theirs]


def test_a_runt_is_passed_as_it_is() -> None:
    assert StreamSplice(1, 2, 3).rewrite(b"\x80\x00") == b"\x80\x00"
