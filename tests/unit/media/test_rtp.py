"""RTP packets (RFC 3550 §5) against hand-built byte layouts, malformed input, and the sender."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from firmware.media.errors import MediaError
from firmware.media.rtp import RtpError, RtpPacket, RtpSender, peek_header

# V=2 P=0 X=0 CC=0 | M=0 PT=0 | seq 0x1234 | ts 160 | SSRC 0xdeadbeef | payload "abc"
MINIMAL = bytes.fromhex("80 00 1234 000000a0 deadbeef") + b"abc"

# V=2 P=1 X=1 CC=2 | M=1 PT=8 | seq 65535 | ts 2^32-16 | SSRC 0x01020304
# | CSRC 0x11111111 0x22222222 | extension 0xBEDE, 1 word: element id 1 len 1 = 0xff, 2 pad
# | payload "hello" | 3 padding octets, the last one counting them
FULL = (
    bytes.fromhex("b2 88 ffff fffffff0 01020304")
    + bytes.fromhex("11111111 22222222")
    + bytes.fromhex("bede 0001 10ff0000")
    + b"hello"
    + bytes.fromhex("000003")
)


def error_of(data: bytes) -> str:
    with pytest.raises(RtpError) as caught:
        RtpPacket.parse(data)
    return str(caught.value)


def peek_error_of(data: bytes) -> str:
    with pytest.raises(RtpError) as caught:
        peek_header(data)
    return str(caught.value)


# -- layouts -----------------------------------------------------------------------------------


def test_minimal_packet_layout() -> None:
    packet = RtpPacket.parse(MINIMAL)
    assert packet == RtpPacket(
        payload_type=0, sequence=0x1234, timestamp=160, ssrc=0xDEADBEEF, payload=b"abc"
    )
    assert bytes(packet) == MINIMAL


def test_csrcs_extension_padding_and_marker() -> None:
    packet = RtpPacket.parse(FULL)
    assert packet.payload_type == 8
    assert packet.marker is True
    assert packet.sequence == 65535
    assert packet.timestamp == 2**32 - 16
    assert packet.ssrc == 0x01020304
    assert packet.csrc == (0x11111111, 0x22222222)
    assert packet.extension == (0xBEDE, bytes.fromhex("10ff0000"))
    assert packet.payload == b"hello"
    assert packet.padding == 3
    assert bytes(packet) == FULL


def test_padding_only_packet_has_empty_payload() -> None:
    data = bytes.fromhex("a0 00 0001 00000000 00000001 00000004")
    packet = RtpPacket.parse(data)
    assert packet.payload == b"" and packet.padding == 4
    assert bytes(packet) == data


def test_empty_extension_and_fifteen_csrcs() -> None:
    csrc = tuple(range(1, 16))
    packet = RtpPacket(0, 1, 2, 3, payload=b"x", csrc=csrc, extension=(0x1000, b""))
    data = bytes(packet)
    assert data[0] == 0x80 | 0x10 | 15
    assert len(data) == 12 + 60 + 4 + 1
    assert RtpPacket.parse(data) == packet


def test_parse_accepts_bytearray_and_memoryview() -> None:
    assert RtpPacket.parse(bytearray(FULL)) == RtpPacket.parse(FULL)
    assert RtpPacket.parse(memoryview(FULL)) == RtpPacket.parse(FULL)
    assert peek_header(memoryview(FULL)) == (8, 65535, 2**32 - 16, 0x01020304)


def test_peek_header_matches_parse() -> None:
    assert peek_header(MINIMAL) == (0, 0x1234, 160, 0xDEADBEEF)
    for data in (MINIMAL, FULL):
        packet = RtpPacket.parse(data)
        assert peek_header(data) == (
            packet.payload_type,
            packet.sequence,
            packet.timestamp,
            packet.ssrc,
        )


# -- malformed input ---------------------------------------------------------------------------


def test_short_packets() -> None:
    assert error_of(b"") == "RTP packet of 0 bytes is shorter than the 12-byte header"
    assert error_of(MINIMAL[:11]) == "RTP packet of 11 bytes is shorter than the 12-byte header"
    assert peek_error_of(MINIMAL[:5]) == "RTP packet of 5 bytes is shorter than the 12-byte header"


@pytest.mark.parametrize("version", [0, 1, 3])
def test_bad_version(version: int) -> None:
    data = bytes((version << 6,)) + MINIMAL[1:]
    assert error_of(data) == f"RTP version {version}, expected 2"
    assert peek_error_of(data) == f"RTP version {version}, expected 2"


def test_csrc_count_past_the_end() -> None:
    data = bytes.fromhex("83 00 0001 00000000 00000001 11111111 22222222")  # CC=3, 2 present
    assert error_of(data) == "RTP CSRC count 3 needs 24 bytes, packet has 20"


def test_extension_header_past_the_end() -> None:
    data = bytes.fromhex("90 00 0001 00000000 00000001 be")
    assert error_of(data) == "RTP extension header needs 16 bytes, packet has 13"


def test_extension_length_past_the_end() -> None:
    data = bytes.fromhex("90 00 0001 00000000 00000001 bede 0002 10ff0000")
    assert error_of(data) == "RTP extension of 2 words needs 24 bytes, packet has 20"


def test_padding_longer_than_payload() -> None:
    data = bytes.fromhex("a0 00 0001 00000000 00000001 61 62 05")  # 3 bytes after the header
    assert error_of(data) == "RTP padding of 5 bytes is longer than the 3 bytes after the header"


def test_padding_past_the_extension() -> None:
    data = bytes.fromhex("b0 00 0001 00000000 00000001 bede 0001 10ff0002")
    assert error_of(data) == "RTP padding of 2 bytes is longer than the 0 bytes after the header"


def test_padding_count_zero() -> None:
    data = bytes.fromhex("a0 00 0001 00000000 00000001 61 00")
    assert error_of(data) == "RTP padding count is zero"


def test_rtp_error_is_a_media_error() -> None:
    assert issubclass(RtpError, MediaError) and issubclass(MediaError, ValueError)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"payload_type": 128}, "RTP payload type 128 is outside 0..127"),
        ({"sequence": 65536}, "RTP sequence number 65536 is outside 0..65535"),
        ({"sequence": -1}, "RTP sequence number -1 is outside 0..65535"),
        ({"timestamp": 2**32}, "RTP timestamp 4294967296 is outside 0..2^32-1"),
        ({"ssrc": -1}, "RTP SSRC -1 is outside 0..2^32-1"),
        ({"csrc": tuple(range(16))}, "RTP packet with 16 CSRCs, at most 15 fit"),
        ({"csrc": (2**32,)}, "RTP CSRC 4294967296 is outside 0..2^32-1"),
        ({"extension": (0x10000, b"")}, "RTP extension profile 65536 is outside 0..65535"),
        (
            {"extension": (1, b"abc")},
            "RTP extension data of 3 bytes is not a whole number of 32-bit words up to 65535",
        ),
        ({"padding": 256}, "RTP padding of 256 bytes is outside 0..255"),
    ],
)
def test_building_with_fields_out_of_range(fields: dict[str, object], message: str) -> None:
    base: dict[str, object] = {"payload_type": 0, "sequence": 0, "timestamp": 0, "ssrc": 0}
    with pytest.raises(RtpError) as caught:
        RtpPacket(**(base | fields))  # type: ignore[arg-type]
    assert str(caught.value) == message


# -- round trips ---------------------------------------------------------------------------------

packets = st.builds(
    RtpPacket,
    payload_type=st.integers(0, 127),
    sequence=st.integers(0, 0xFFFF),
    timestamp=st.integers(0, 0xFFFFFFFF),
    ssrc=st.integers(0, 0xFFFFFFFF),
    marker=st.booleans(),
    payload=st.binary(max_size=200),
    csrc=st.lists(st.integers(0, 0xFFFFFFFF), max_size=15).map(tuple),
    extension=st.none()
    | st.tuples(st.integers(0, 0xFFFF), st.binary(max_size=40).map(lambda b: b[: len(b) // 4 * 4])),
    padding=st.integers(0, 255),
)


@settings(max_examples=300, derandomize=True)
@given(packets)
def test_any_packet_round_trips(packet: RtpPacket) -> None:
    data = bytes(packet)
    assert RtpPacket.parse(data) == packet
    assert bytes(RtpPacket.parse(data)) == data
    assert peek_header(data) == (
        packet.payload_type,
        packet.sequence,
        packet.timestamp,
        packet.ssrc,
    )


# -- sender --------------------------------------------------------------------------------------


def test_sender_advances_and_wraps_sequence_and_timestamp() -> None:
    sender = RtpSender(
        ssrc=0xCAFE, payload_type=0, initial_sequence=65534, initial_timestamp=2**32 - 320
    )
    sent = [RtpPacket.parse(sender.packet(bytes(160), 160)) for _ in range(4)]
    assert [p.sequence for p in sent] == [65534, 65535, 0, 1]
    assert [p.timestamp for p in sent] == [2**32 - 320, 2**32 - 160, 0, 160]
    assert {p.ssrc for p in sent} == {0xCAFE}
    assert sender.sequence == 2 and sender.timestamp == 320
    assert sender.packets == 4 and sender.octets == 640


def test_sender_marker_and_exact_bytes() -> None:
    sender = RtpSender(0x01020304, 8, 7, 1000)
    assert sender.packet(b"\xd5\xd5", 2, marker=True) == bytes.fromhex(
        "80 88 0007 000003e8 01020304 d5d5"
    )
    assert sender.packet(b"\xd5", 1) == bytes.fromhex("80 08 0008 000003ea 01020304 d5")


def test_packet_at_and_skip_for_events() -> None:
    sender = RtpSender(1, 0, 65535, 2**32 - 80)
    start = sender.timestamp
    first = RtpPacket.parse(
        sender.packet_at(b"\x05\x0a\x00\xa0", start, marker=True, payload_type=101)
    )
    second = RtpPacket.parse(sender.packet_at(b"\x05\x0a\x01\x40", start, payload_type=101))
    assert (first.sequence, second.sequence) == (65535, 0)
    assert first.timestamp == second.timestamp == start
    assert first.payload_type == second.payload_type == 101
    assert first.marker and not second.marker
    assert sender.timestamp == start  # packet_at leaves the media clock alone
    sender.skip(160)
    assert sender.timestamp == 80
    assert RtpPacket.parse(sender.packet(b"", 160)).payload_type == 0


def test_random_start_is_reproducible_with_a_seeded_rng() -> None:
    a = RtpSender.with_random_start(0, random.Random(42))
    b = RtpSender.with_random_start(0, random.Random(42))
    assert (a.ssrc, a.sequence, a.timestamp) == (b.ssrc, b.sequence, b.timestamp)
    c = RtpSender.with_random_start(0, random.Random(42), ssrc=5)
    assert c.ssrc == 5


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((2**32, 0, 0, 0), "RTP SSRC 4294967296 is outside 0..2^32-1"),
        ((0, 128, 0, 0), "RTP payload type 128 is outside 0..127"),
        ((0, 0, 65536, 0), "RTP sequence number 65536 is outside 0..65535"),
        ((0, 0, 0, -1), "RTP timestamp -1 is outside 0..2^32-1"),
    ],
)
def test_sender_rejects_out_of_range_start(args: tuple[int, int, int, int], message: str) -> None:
    with pytest.raises(RtpError) as caught:
        RtpSender(*args)
    assert str(caught.value) == message


def test_a_long_call_never_builds_a_malformed_header() -> None:
    """pyVoIP's counter-example: 70,000 packets pass the 16-bit wrap and stay parseable."""
    sender = RtpSender(9, 0, 60000, 2**32 - 1_000_000)
    last = None
    for _ in range(70_000):
        data = sender.packet(b"", 160)
        _, seq, ts, _ = peek_header(data)
        if last is not None:
            assert seq == (last[0] + 1) % 65536
            assert ts == (last[1] + 160) % 2**32
        last = (seq, ts)
