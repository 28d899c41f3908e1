"""The CMBS frame codec: bytes as the model in hal/dect/cmbs.py lays them out, a decoder
that finds frames in any byte stream and never raises."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hal.dect import ies
from hal.dect.checksum import check_octets, verify
from hal.dect.cmbs import Command, Event, IeType, ReleaseCode
from hal.dect.codec import PARTIAL_FRAME_S, Frame, FrameDecoder
from hal.dect.errors import ChecksumError, FrameError, IeError

# HELLO, written out by hand from the layout: sync, total 8, packet 0, 0xFF01, no params.
HELLO = bytes.fromhex("dadadada 0800 0000 01ff 0000")
# CORD_OPENREG (9) with INTEGER_VALUE (24) = 60 s, packet 7, checksum IE (0x0F00) last.
OPENREG_IE = bytes.fromhex("1800 0400 3c000000")


def openreg_bytes() -> bytes:
    params = OPENREG_IE + bytes.fromhex("000f 0200") + check_octets(OPENREG_IE)
    return (bytes.fromhex("dadadada") + (8 + len(params)).to_bytes(2, "little")
            + bytes.fromhex("0700 0900") + len(params).to_bytes(2, "little") + params)


def test_check_octets_worked_by_hand() -> None:
    # Sums over 01 02 00 00: c0 = 3, c1 = 10 -> octets (3 - 10, 10 - 2*3) mod 255.
    assert check_octets(b"\x01\x02") == b"\xf8\x04"
    assert verify(b"\x01\x02", b"\xf8\x04")
    assert not verify(b"\x01\x03", b"\xf8\x04")


@given(st.binary(max_size=200), st.data())
def test_check_octets_catch_any_single_changed_octet(data: bytes, draw: st.DataObject) -> None:
    octets = check_octets(data)
    assert verify(data, octets)
    if data:
        at = draw.draw(st.integers(0, len(data) - 1))
        new = draw.draw(st.integers(0, 255).filter(lambda v: (v - data[at]) % 255 != 0))
        assert not verify(data[:at] + bytes((new,)) + data[at + 1:], octets)


def test_a_command_is_laid_out_as_the_model_says() -> None:
    assert bytes(Frame(0xFF00 | Command.HELLO)) == HELLO
    assert Frame.parse(HELLO) == Frame(0xFF01, b"", 0)


def test_an_event_carries_its_checksum_ie_last() -> None:
    frame = Frame(Event.CORD_OPENREG, bytes(ies.integer(60)), seq=7, checksummed=True)
    assert bytes(frame) == openreg_bytes()
    assert Frame.parse(openreg_bytes(), require_checksum=True) == frame


def test_commands_never_carry_a_checksum() -> None:
    assert bytes(Frame(0xFF0A, b"\x01\x00\x00\x00", checksummed=True)) == \
        bytes.fromhex("dadadada 0c00 0000 0aff 0400 01000000")


ie_lists = st.lists(st.tuples(st.integers(1, 0x0EFF), st.binary(max_size=40)), max_size=5)


@given(st.integers(0, 0xFFFF), ie_lists, st.integers(0, 0xFFFF), st.booleans())
def test_frames_round_trip(message_id: int, items: list[tuple[int, bytes]], seq: int,
                           checksummed: bool) -> None:
    params = ies.params(*(ies.Ie(t, v) for t, v in items))
    frame = Frame(message_id, params, seq, checksummed and message_id < 0xFF00)
    assert Frame.parse(bytes(frame)) == frame
    decoder = FrameDecoder()
    assert decoder.feed(bytes(frame), 0.0) == [frame]


def test_parse_names_what_is_wrong() -> None:
    with pytest.raises(FrameError, match="total length 9 is not 8"):
        Frame.parse(bytes.fromhex("dadadada 0900 0000 01ff 0000"))
    with pytest.raises(FrameError, match="runs past"):
        Frame.parse(bytes.fromhex("dadadada 0c00 0000 0900 0400 1800 0900"))
    bad = bytearray(openreg_bytes())
    bad[-1] ^= 1
    with pytest.raises(ChecksumError):
        Frame.parse(bytes(bad))
    unchecked = bytes(Frame(Event.CORD_OPENREG, OPENREG_IE))
    with pytest.raises(ChecksumError, match="no checksum IE"):
        Frame.parse(unchecked, require_checksum=True)


def frames(*ids: int) -> list[Frame]:
    return [Frame(i, bytes(ies.call_instance(i)), seq=n, checksummed=True)
            for n, i in enumerate(ids)]


def test_the_decoder_finds_frames_between_garbage_fed_byte_by_byte() -> None:
    a, b = frames(Event.CALL_ANSWER, Event.CALL_RELEASE)
    stream = b"\x00noise\xda\xda" + bytes(a) + b"\xff\xda\xda\xda" + bytes(b) + b"\xda"
    decoder = FrameDecoder(require_checksum=True)
    got = [f for byte in stream for f in decoder.feed(bytes((byte,)), 0.0)]
    assert got == [a, b]
    assert decoder.stats.frames == 2
    assert decoder.stats.garbage_bytes == len(b"\x00noise\xda\xda") + 4  # the last DA waits


def test_a_frame_with_a_bad_checksum_is_counted_and_skipped() -> None:
    a, b, c = frames(Event.CALL_ANSWER, Event.CALL_RELEASE, Event.CALL_PROGRESS)
    broken = bytearray(bytes(b))
    broken[17] ^= 0x40  # one bit of the call instance
    decoder = FrameDecoder(require_checksum=True)
    assert decoder.feed(bytes(a) + bytes(broken) + bytes(c), 0.0) == [a, c]
    assert decoder.stats.checksum_errors == 1


def test_a_header_whose_lengths_disagree_is_counted_and_skipped() -> None:
    (a,) = frames(Event.CALL_ANSWER)
    decoder = FrameDecoder()
    assert decoder.feed(bytes.fromhex("dadadada 0900 0000 0100 0000") + bytes(a), 0.0) == [a]
    assert decoder.stats.length_errors == 1


def test_a_frame_that_never_completes_is_given_up_after_a_while() -> None:
    (a,) = frames(Event.CALL_ANSWER)
    decoder = FrameDecoder()
    # A coherent header promising 600 bytes, of which only a few ever come.
    stuck = bytes.fromhex("dadadada 6002 0000 0100 5802") + b"\x01\x02"
    assert decoder.feed(stuck + bytes(a), 1.0) == []
    assert decoder.waiting_since == 1.0
    assert decoder.expire(1.0 + PARTIAL_FRAME_S / 2) == []
    assert decoder.expire(1.0 + PARTIAL_FRAME_S) == [a]
    assert decoder.stats.length_errors == 1
    assert decoder.waiting_since is None


@given(st.lists(st.binary(max_size=64), max_size=20))
def test_the_decoder_never_raises(chunks: list[bytes]) -> None:
    decoder = FrameDecoder(require_checksum=True)
    now = 0.0
    for chunk in chunks:
        decoder.feed(chunk, now)
        now += PARTIAL_FRAME_S
        decoder.expire(now)


def test_ies_round_trip_and_refuse_short_values() -> None:
    found = ies.Ies(ies.params(ies.call_instance(0x80000001), ies.caller_party("101"),
                               ies.caller_name("Front desk"), ies.keypad("12#"),
                               ies.release_reason(ReleaseCode.NOT_IN_RANGE)))
    assert ies.read_call_instance(found) == 0x80000001
    assert ies.read_party(found, IeType.CALLERPARTY) == "101"
    assert ies.read_name(found) == "Front desk"
    assert ies.read_keys(found) == "12#"
    assert ies.read_release_reason(found) == ReleaseCode.NOT_IN_RANGE
    with pytest.raises(IeError, match="no CALLEDPARTY"):
        ies.read_party(found, IeType.CALLEDPARTY)
    short = ies.Ies(bytes(ies.Ie(IeType.CALLERNAME, b"\x09abc")))
    with pytest.raises(IeError, match="says 9 bytes follow, only 3 do"):
        ies.read_name(short)
