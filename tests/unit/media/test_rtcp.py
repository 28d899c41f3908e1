"""RTCP (RFC 3550 §6) layouts and round trips, and the A.1/A.3/A.8 reception statistics."""

from __future__ import annotations

import pytest

from firmware.media.rtcp import (
    CNAME,
    Bye,
    ReceiverReport,
    ReceptionStats,
    ReportBlock,
    RtcpError,
    SdesChunk,
    SenderReport,
    SourceDescription,
    is_rtcp,
    ntp_from_unix,
    ntp_middle,
    parse_compound,
)

BLOCK = ReportBlock(
    ssrc=0x01020304,
    fraction_lost=64,
    cumulative_lost=-5,
    highest_sequence=0x00010005,
    jitter=17,
    lsr=0x12345678,
    dlsr=0x8000,
)
BLOCK_BYTES = bytes.fromhex("01020304 40 fffffb 00010005 00000011 12345678 00008000")

RR_BYTES = bytes.fromhex("81 c9 0007 aabbccdd") + BLOCK_BYTES
SR_BYTES = (
    bytes.fromhex("81 c8 000c 01020304 e0000000 80000000 000000a0 00000032 00001f40") + BLOCK_BYTES
)
SDES_BYTES = bytes.fromhex("81 ca 0003 01020304 01 05") + b"box@x" + b"\x00"
BYE_BYTES = bytes.fromhex("81 cb 0003 01020304 06") + b"hangup" + b"\x00"
APP_BYTES = bytes.fromhex("80 cc 0002 01020304") + b"name"


def error_of(data: bytes) -> str:
    with pytest.raises(RtcpError) as caught:
        parse_compound(data)
    return str(caught.value)


# -- layouts and round trips ------------------------------------------------------------------


def test_report_block_layout() -> None:
    assert bytes(BLOCK) == BLOCK_BYTES
    assert ReportBlock.parse(BLOCK_BYTES) == BLOCK


def test_receiver_report_round_trip() -> None:
    rr = ReceiverReport(0xAABBCCDD, (BLOCK,))
    assert bytes(rr) == RR_BYTES
    assert parse_compound(RR_BYTES) == [rr]


def test_sender_report_round_trip() -> None:
    sr = SenderReport(0x01020304, 0xE0000000_80000000, 160, 50, 8000, (BLOCK,))
    assert bytes(sr) == SR_BYTES
    assert parse_compound(SR_BYTES) == [sr]


def test_empty_reports() -> None:
    assert bytes(ReceiverReport(7)) == bytes.fromhex("80 c9 0001 00000007")
    sr = SenderReport(7, 1, 2, 3, 4)
    assert len(bytes(sr)) == 28
    assert parse_compound(bytes(sr)) == [sr]


def test_compound_with_sdes_bye_and_an_unknown_packet() -> None:
    data = SR_BYTES + SDES_BYTES + APP_BYTES + BYE_BYTES
    items = parse_compound(data)
    assert [type(item) for item in items] == [SenderReport, SourceDescription, Bye]
    assert items[1] == SourceDescription((SdesChunk(0x01020304, ((CNAME, b"box@x"),)),))
    assert items[2] == Bye((0x01020304,), b"hangup")
    assert b"".join(bytes(item) for item in items) == SR_BYTES + SDES_BYTES + BYE_BYTES


def test_sdes_and_bye_builders() -> None:
    assert bytes(SourceDescription.cname(0x01020304, "box@x")) == SDES_BYTES
    assert bytes(Bye((0x01020304,), b"hangup")) == BYE_BYTES
    assert bytes(Bye((1, 2))) == bytes.fromhex("82 cb 0002 00000001 00000002")
    # a chunk whose items end on a word boundary still gets a full word of nulls
    chunk = SdesChunk(1, ((CNAME, b"ab"),))
    assert bytes(chunk) == bytes.fromhex("00000001 01 02 6162 00000000")
    sdes = SourceDescription((chunk, SdesChunk(2)))
    assert parse_compound(bytes(sdes)) == [sdes]


def test_padding_on_the_last_packet() -> None:
    padded_bye = bytes.fromhex("a1 cb 0004 01020304 06") + b"hangup\x00" + bytes.fromhex("00000004")
    items = parse_compound(RR_BYTES + padded_bye)
    assert items[1] == Bye((0x01020304,), b"hangup")


def test_is_rtcp_demultiplexes_by_the_second_octet() -> None:
    assert is_rtcp(RR_BYTES) and is_rtcp(SR_BYTES) and is_rtcp(BYE_BYTES)
    assert not is_rtcp(bytes.fromhex("80 00 0001"))  # PCMU
    assert not is_rtcp(bytes.fromhex("80 e5 0001"))  # marker + telephone-event PT 101
    assert not is_rtcp(b"\x80")


def test_ntp_timestamps() -> None:
    assert ntp_from_unix(0) == 2_208_988_800 << 32
    ntp = ntp_from_unix(1.5)
    assert ntp == (2_208_988_801 << 32) | 0x8000_0000
    assert ntp_middle(ntp) == ((2_208_988_801 & 0xFFFF) << 16) | 0x8000


# -- malformed ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\x81\xc9", "RTCP packet of 2 bytes is shorter than the 4-byte header"),
        (RR_BYTES + b"\x81\xc9", "RTCP packet at byte 32 has 2 bytes, header needs 4"),
        (b"\x41" + RR_BYTES[1:], "RTCP version 1 at byte 0, expected 2"),
        (RR_BYTES[:-4], "RTCP packet at byte 0 claims 32 bytes, 28 left"),
        (
            bytes.fromhex("82 c9 0007 aabbccdd") + BLOCK_BYTES,
            "RTCP RR with 2 report blocks needs 52 bytes, has 28",
        ),
        (bytes.fromhex("81 c8 0001 00000001"), "RTCP SR body of 4 bytes is shorter than 24"),
        (bytes.fromhex("81 c9 0000"), "RTCP RR body of 0 bytes is shorter than 4"),
        (
            bytes.fromhex("83 cb 0002 00000001 00000002"),
            "RTCP BYE with 3 sources needs 12 bytes, has 8",
        ),
        (
            bytes.fromhex("81 cb 0002 00000001 09616263"),
            "RTCP BYE reason of 9 bytes runs past the end",
        ),
        (
            bytes.fromhex("81 ca 0002 00000001 01096162"),
            "RTCP SDES item at byte 4 runs past the end",
        ),
        (
            bytes.fromhex("81 ca 0002 00000001 01026162"),
            "RTCP SDES item list has no terminating null octet",
        ),
        (
            bytes.fromhex("82 ca 0002 00000001 00000000"),
            "RTCP SDES chunk at byte 8 runs past the end",
        ),
        (bytes.fromhex("a0 c9 0001 00000007"), "RTCP padding count 7 at byte 0 is invalid"),
        (bytes.fromhex("a0 c9 0001 00000000"), "RTCP padding count 0 at byte 0 is invalid"),
    ],
)
def test_malformed_compound_packets(data: bytes, message: str) -> None:
    assert error_of(data) == message


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: ReportBlock(1, 256, 0, 0, 0), "RTCP fraction lost 256 is outside 0..255"),
        (
            lambda: ReportBlock(1, 0, 1 << 23, 0, 0),
            "RTCP cumulative lost 8388608 does not fit a signed 24-bit field",
        ),
        (lambda: ReceiverReport(1, (BLOCK,) * 32), "RTCP report with 32 blocks, at most 31 fit"),
        (lambda: SdesChunk(1, ((0, b""),)), "RTCP SDES item type 0 is outside 1..255"),
        (lambda: Bye((1,), b"x" * 256), "RTCP BYE reason of 256 bytes, at most 255 fit"),
        (
            lambda: SenderReport(1, 2**64, 0, 0, 0),
            "RTCP NTP timestamp 18446744073709551616 is outside 0..2^64-1",
        ),
    ],
)
def test_building_out_of_range(build: object, message: str) -> None:
    with pytest.raises(RtcpError) as caught:
        build()  # type: ignore[operator]
    assert str(caught.value) == message


# -- reception statistics (RFC 3550 A.1, A.3, A.8) ------------------------------------------------


def feed(stats: ReceptionStats, seqs: list[int]) -> None:
    for seq in seqs:
        stats.update(seq, seq * 160 % 2**32, 0.0)


def test_loss_across_the_sequence_wrap() -> None:
    stats = ReceptionStats()
    # 65535 lost, 1 and 2 swapped
    feed(stats, [65533, 65534, 0, 2, 1, 3])
    assert stats.extended_highest == 65536 + 3
    assert stats.expected == 7
    assert stats.received == 6
    assert stats.cumulative_lost == 1
    block = stats.report_block(0x55, now=0.0)
    assert (block.ssrc, block.fraction_lost, block.cumulative_lost) == (0x55, 256 * 1 // 7, 1)
    assert block.highest_sequence == 0x0001_0003

    # second interval: 4 twice, 5 and 6 lost, 7: expected 4, received 3 -> 1 lost of 4
    feed(stats, [4, 4, 7])
    block = stats.report_block(0x55, now=0.0)
    assert (block.fraction_lost, block.cumulative_lost) == (64, 2)
    assert block.highest_sequence == 0x0001_0007

    # third interval: more arrived than expected (duplicates) -> fraction 0, total back to 0
    feed(stats, [8, 8, 8, 9])
    block = stats.report_block(0x55, now=0.0)
    assert (block.fraction_lost, block.cumulative_lost) == (0, 0)

    # nothing at all in the interval: fraction 0, not a division by zero
    assert stats.report_block(0x55, now=0.0).fraction_lost == 0


def test_negative_cumulative_loss_is_reported_signed() -> None:
    stats = ReceptionStats()
    feed(stats, [10, 10, 11, 11, 12])
    block = stats.report_block(1, now=0.0)
    assert block.cumulative_lost == -2
    assert ReportBlock.parse(bytes(block)).cumulative_lost == -2


def test_a1_jump_believed_only_when_the_next_packet_follows() -> None:
    stats = ReceptionStats()
    feed(stats, [10, 11])
    assert stats.update(20000, 0, 0.0) is False  # a stray: not counted
    feed(stats, [12])
    assert (stats.extended_highest, stats.received, stats.cumulative_lost) == (12, 3, 0)
    assert stats.update(30000, 0, 0.0) is False
    assert stats.update(30001, 160, 0.0) is True  # confirmed: the sender restarted
    assert (stats.extended_highest, stats.expected, stats.received) == (30001, 1, 1)


def test_reordered_packets_do_not_count_a_cycle() -> None:
    stats = ReceptionStats()
    feed(stats, [65535, 0, 65534, 1])  # 65534 arrives late, after the wrap
    assert stats.extended_highest == 65536 + 1
    assert stats.expected == 3  # base 65535 .. 65537
    assert stats.received == 4


ARRIVALS = [0.000, 0.020, 0.045, 0.060, 0.080]  # packets sent every 20 ms (160 samples)


def expected_jitter() -> float:
    # D per arrival pair in samples: 160-160=0, 200-160=40, 120-160=-40, 160-160=0
    j = 0.0
    for d in (0.0, 40.0, -40.0, 0.0):
        j += (abs(d) - j) / 16
    return j  # 4.541015625


@pytest.mark.parametrize("first_ts", [1000, 2**32 - 320])
def test_a8_interarrival_jitter(first_ts: int) -> None:
    stats = ReceptionStats()
    for i, arrival in enumerate(ARRIVALS):
        stats.update(i, (first_ts + 160 * i) % 2**32, arrival)
    assert expected_jitter() == pytest.approx(4.541015625)
    assert stats.jitter == pytest.approx(expected_jitter())
    assert stats.jitter_seconds == pytest.approx(expected_jitter() / 8000)
    assert stats.report_block(1, now=1.0).jitter == 4


def test_lsr_and_dlsr_from_the_last_sender_report() -> None:
    stats = ReceptionStats()
    feed(stats, [1])
    assert (stats.report_block(1, now=5.0).lsr, stats.report_block(1, now=5.0).dlsr) == (0, 0)
    ntp = ntp_from_unix(1000.25)
    stats.on_sender_report(ntp, arrival=10.0)
    block = stats.report_block(1, now=10.5)
    assert block.lsr == ntp_middle(ntp)
    assert block.dlsr == 32768  # 0.5 s in 1/65536 s
