"""RFC 4733 telephone-events: payload layout, the sender's packet train, the receiver's dedupe."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from firmware.media.dtmf_events import (
    FLASH,
    DigitReceived,
    DigitStarted,
    DtmfEvent,
    DtmfEventError,
    DtmfEventReceiver,
    DtmfEventSender,
    EndCause,
    event_code,
)
from firmware.media.rtp import RtpPacket, RtpSender

KEYS = "0123456789*#ABCD!"

# -- payload -------------------------------------------------------------------------------------


def test_payload_layout() -> None:
    # event 5, E=1, R=0, volume 10, duration 800
    assert bytes(DtmfEvent(5, end=True, volume=10, duration=800)) == bytes.fromhex("05 8a 0320")
    assert DtmfEvent.parse(bytes.fromhex("05 8a 0320")) == DtmfEvent(5, True, 10, 800)
    assert DtmfEvent.parse(bytes.fromhex("0b 3f ffff")) == DtmfEvent(11, False, 63, 65535)


def test_reserved_bit_is_ignored_and_extra_blocks_too() -> None:
    assert DtmfEvent.parse(bytes.fromhex("05 ca 0320")) == DtmfEvent(5, True, 10, 800)
    assert DtmfEvent.parse(bytes.fromhex("05 0a 00a0 06 0a 00a0")) == DtmfEvent(5, False, 10, 160)


def test_event_codes_and_keys() -> None:
    assert [event_code(k) for k in KEYS] == list(range(17))
    assert event_code("a") == 12
    assert [DtmfEvent(code).key for code in range(17)] == list(KEYS)
    assert DtmfEvent(16).key == FLASH == "!"
    assert DtmfEvent(32).key is None  # a modem tone (RFC 4734), not ours
    with pytest.raises(DtmfEventError) as caught:
        event_code("x")
    assert str(caught.value) == "'x' is not a DTMF key or '!' (flash)"
    with pytest.raises(DtmfEventError):
        event_code("12")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "telephone-event payload of 0 bytes is shorter than 4"),
        (b"\x05\x8a\x03", "telephone-event payload of 3 bytes is shorter than 4"),
    ],
)
def test_short_payload(data: bytes, message: str) -> None:
    with pytest.raises(DtmfEventError) as caught:
        DtmfEvent.parse(data)
    assert str(caught.value) == message


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"event": 256}, "telephone-event code 256 is outside 0..255"),
        ({"event": 1, "volume": 64}, "telephone-event volume 64 is outside 0..63"),
        ({"event": 1, "duration": 65536}, "telephone-event duration 65536 is outside 0..65535"),
    ],
)
def test_out_of_range_fields(fields: dict[str, int], message: str) -> None:
    with pytest.raises(DtmfEventError) as caught:
        DtmfEvent(**fields)  # type: ignore[arg-type]
    assert str(caught.value) == message


# -- sender --------------------------------------------------------------------------------------


def test_default_event_is_100_ms_at_20_ms_with_three_end_packets() -> None:
    packets = list(DtmfEventSender().packets("5", timestamp=12345))
    assert [p.marker for p in packets] == [True] + [False] * 6
    assert {p.timestamp for p in packets} == {12345}
    assert [p.event.duration for p in packets] == [160, 320, 480, 640, 800, 800, 800]
    assert [p.event.end for p in packets] == [False] * 4 + [True] * 3
    assert [p.due for p in packets] == [160, 320, 480, 640, 800, 960, 1120]
    assert {p.event.event for p in packets} == {5}
    assert {p.event.volume for p in packets} == {10}
    assert packets[0].payload == bytes.fromhex("05 0a 00a0")
    assert packets[-1].payload == bytes.fromhex("05 8a 0320")


def test_settable_duration_packetisation_and_volume() -> None:
    packets = list(DtmfEventSender(duration_ms=90, volume=20).packets("#", 0))
    assert [p.event.duration for p in packets] == [160, 320, 480, 640, 720, 720, 720]
    assert {p.event.volume for p in packets} == {20}
    packets = list(DtmfEventSender(duration_ms=60, packet_ms=30).packets("!", 0))
    assert [p.event.duration for p in packets] == [240, 480, 480, 480]
    assert [p.event.event for p in packets] == [16] * 4
    assert [p.marker for p in packets] == [True, False, False, False]
    one = list(DtmfEventSender(duration_ms=20).packets("1", 0))
    assert [(p.marker, p.event.end, p.event.duration) for p in one] == [
        (True, True, 160),
        (False, True, 160),
        (False, True, 160),
    ]


def test_sender_settings_are_checked() -> None:
    with pytest.raises(DtmfEventError) as caught:
        DtmfEventSender(duration_ms=9000)
    assert str(caught.value) == "event of 9000 ms does not fit the 16-bit duration at 8000 Hz"
    with pytest.raises(DtmfEventError):
        DtmfEventSender(volume=64)
    with pytest.raises(DtmfEventError):
        DtmfEventSender(end_copies=0)
    with pytest.raises(DtmfEventError):
        DtmfEventSender(packet_ms=0)


def test_event_timestamp_wraps() -> None:
    packets = list(DtmfEventSender().packets("1", timestamp=2**32 + 5))
    assert {p.timestamp for p in packets} == {5}


def test_rtp_packets_share_the_audio_stream_and_move_its_clock() -> None:
    rtp = RtpSender(ssrc=77, payload_type=0, initial_sequence=65533, initial_timestamp=2**32 - 400)
    start = rtp.timestamp
    sent = DtmfEventSender().rtp_packets("9", rtp, payload_type=101)
    parsed = [RtpPacket.parse(datagram) for _, datagram in sent]
    assert [due for due, _ in sent] == [160, 320, 480, 640, 800, 960, 1120]
    assert [p.sequence for p in parsed] == [65533, 65534, 65535, 0, 1, 2, 3]
    assert {p.timestamp for p in parsed} == {start}
    assert {(p.ssrc, p.payload_type) for p in parsed} == {(77, 101)}
    assert [p.marker for p in parsed] == [True] + [False] * 6
    assert [DtmfEvent.parse(p.payload).duration for p in parsed][-1] == 800
    assert rtp.timestamp == 400  # the audio clock ran on through the 800-sample event
    assert RtpPacket.parse(rtp.packet(b"", 160)).sequence == 4


# -- receiver ------------------------------------------------------------------------------------


def events_of(key: str, ts: int, **sender: int) -> list[DtmfEvent]:
    return [p.event for p in DtmfEventSender(**sender).packets(key, ts)]


def test_clean_event_gives_start_and_digit_once() -> None:
    rx = DtmfEventReceiver()
    out = []
    for i, event in enumerate(events_of("7", 1000)):
        out += rx.feed(event, 1000, now=0.02 * (i + 1), ssrc=1)
    assert out == [
        DigitStarted("7", 1000),
        DigitReceived("7", 1000, 800, EndCause.END_BIT),
    ]
    assert rx.duplicates == 2  # the second and third end packet
    assert rx.next_deadline() is None


def test_lost_start_packets() -> None:
    rx = DtmfEventReceiver()
    out = []
    for event in events_of("3", 50)[4:]:  # only the end packets arrive
        out += rx.feed(event, 50, now=0.1)
    assert out == [DigitStarted("3", 50), DigitReceived("3", 50, 800, EndCause.END_BIT)]


def test_all_end_packets_lost_then_the_next_digit_ends_it() -> None:
    rx = DtmfEventReceiver()
    out = []
    for event in events_of("1", 0)[:4]:
        out += rx.feed(event, 0, now=0.0)
    for event in events_of("2", 1600):
        out += rx.feed(event, 1600, now=0.2)
    assert out == [
        DigitStarted("1", 0),
        DigitReceived("1", 0, 640, EndCause.NEXT_EVENT),
        DigitStarted("2", 1600),
        DigitReceived("2", 1600, 800, EndCause.END_BIT),
    ]


def test_timeout_counts_a_digit_without_end_once() -> None:
    rx = DtmfEventReceiver(timeout_ms=300)
    out = rx.feed(DtmfEvent(4, duration=160), 8000, now=1.00)
    out += rx.feed(DtmfEvent(4, duration=320), 8000, now=1.02)
    assert out == [DigitStarted("4", 8000)]
    assert rx.next_deadline() == pytest.approx(1.32)
    assert rx.poll(1.31) == []
    assert rx.poll(1.32) == [DigitReceived("4", 8000, 320, EndCause.TIMEOUT)]
    assert rx.poll(5.0) == []
    # its end packets, arriving after all, are recognised and ignored
    assert rx.feed(DtmfEvent(4, end=True, duration=800), 8000, now=2.0) == []
    assert rx.duplicates == 1


def test_timeout_is_checked_when_the_next_packet_arrives() -> None:
    rx = DtmfEventReceiver(timeout_ms=300)
    rx.feed(DtmfEvent(4, duration=160), 8000, now=1.0)
    out = rx.feed(DtmfEvent(6, duration=160), 16000, now=2.0)
    assert out == [DigitReceived("4", 8000, 160, EndCause.TIMEOUT), DigitStarted("6", 16000)]


def test_a_held_key_is_not_timed_out_while_updates_come() -> None:
    rx = DtmfEventReceiver(timeout_ms=300)
    out = []
    for i in range(1, 150):  # 3 s of updates every 20 ms
        now = 0.02 * i
        out += rx.poll(now)
        out += rx.feed(DtmfEvent(0, duration=160 * i), 0, now=now)
    out += rx.feed(DtmfEvent(0, end=True, duration=160 * 150), 0, now=3.0)
    assert out == [DigitStarted("0", 0), DigitReceived("0", 0, 24000, EndCause.END_BIT)]


def test_reordered_event_keeps_the_longest_duration() -> None:
    rx = DtmfEventReceiver()
    evs = events_of("8", 320)
    order = [evs[1], evs[4], evs[0], evs[3], evs[2], evs[5], evs[6]]
    out = []
    for event in order:
        out += rx.feed(event, 320, now=0.0)
    assert out == [DigitStarted("8", 320), DigitReceived("8", 320, 800, EndCause.END_BIT)]


def test_an_older_event_arriving_late_is_stale() -> None:
    rx = DtmfEventReceiver()
    out = rx.feed(DtmfEvent(2, duration=160), 3200, now=0.0)
    out += rx.feed(DtmfEvent(1, end=True, duration=800), 1600, now=0.01)
    assert out == [DigitStarted("2", 3200)]
    assert rx.stale == 1


def test_same_key_twice_is_two_digits() -> None:
    rx = DtmfEventReceiver()
    out = []
    for ts in (0, 1600):
        for event in events_of("5", ts):
            out += rx.feed(event, ts, now=ts / 8000)
    assert [e for e in out if isinstance(e, DigitReceived)] == [
        DigitReceived("5", 0, 800, EndCause.END_BIT),
        DigitReceived("5", 1600, 800, EndCause.END_BIT),
    ]


def test_ssrc_change_ends_the_event_and_forgets_history() -> None:
    rx = DtmfEventReceiver()
    out = rx.feed(DtmfEvent(9, duration=160), 5000, now=0.0, ssrc=1)
    # a transfer: new source, timestamps from elsewhere (older-looking here)
    out += rx.feed(DtmfEvent(9, duration=160), 100, now=0.05, ssrc=2)
    assert out == [
        DigitStarted("9", 5000),
        DigitReceived("9", 5000, 160, EndCause.RESET),
        DigitStarted("9", 100),
    ]


def test_other_events_are_ignored_and_flash_is_a_key() -> None:
    rx = DtmfEventReceiver()
    assert rx.feed(DtmfEvent(32, duration=160), 0, now=0.0) == []
    assert rx.ignored == 1
    out = rx.feed(DtmfEvent(16, end=True, duration=800), 160, now=0.0)
    assert out == [DigitStarted("!", 160), DigitReceived("!", 160, 800, EndCause.END_BIT)]


def test_timestamps_across_the_wrap() -> None:
    rx = DtmfEventReceiver()
    out = []
    for ts in (2**32 - 1600, 0, 1600):
        for event in events_of("6", ts):
            out += rx.feed(event, ts, now=0.0)
    assert [e.timestamp for e in out if isinstance(e, DigitReceived)] == [2**32 - 1600, 0, 1600]
    # and an event from before the wrap, late, is stale rather than new
    assert rx.feed(DtmfEvent(6, duration=160), 2**32 - 3200, now=0.0) == []


def test_feed_packet_parses_the_payload() -> None:
    rx = DtmfEventReceiver()
    rtp = RtpSender(3, 0, 0, 0)
    out = []
    for _, datagram in DtmfEventSender().rtp_packets("#", rtp, 101):
        out += rx.feed_packet(RtpPacket.parse(datagram), now=0.0)
    assert out == [DigitStarted("#", 0), DigitReceived("#", 0, 800, EndCause.END_BIT)]
    with pytest.raises(DtmfEventError):
        rx.feed_packet(RtpPacket(101, 1, 0, 3, payload=b"\x01"), now=0.0)


# -- receiver under loss, duplication and reordering ----------------------------------------------

TONE_S = 0.100
GAP_S = 0.100  # REFERENCE.md: generated DTMF is 100 ms tone, 100 ms gap
MAX_DELAY_S = 0.060  # less than the 80 ms between one event's last packet and the next's first


@st.composite
def deliveries(draw: st.DrawFn) -> tuple[str, int, list[tuple[float, int, DtmfEvent, int]]]:
    keys = draw(st.text(alphabet=KEYS, min_size=1, max_size=8))
    base = draw(st.sampled_from([0, 2**32 - 3 * 1600, 123_456]))
    arrivals: list[tuple[float, int, DtmfEvent, int]] = []
    for n, key in enumerate(keys):
        ts = (base + n * 1600) % 2**32
        start = n * (TONE_S + GAP_S)
        packets = list(DtmfEventSender().packets(key, ts))
        keep = draw(st.lists(st.booleans(), min_size=len(packets), max_size=len(packets)))
        if not any(keep):
            keep[draw(st.integers(0, len(packets) - 1))] = True  # one packet gets through
        for packet, kept in zip(packets, keep, strict=True):
            if not kept:
                continue
            sent = start + packet.due / 8000
            for _ in range(draw(st.integers(1, 3))):  # duplicated by the network
                delay = draw(st.floats(0.0, MAX_DELAY_S, allow_nan=False))
                arrivals.append((sent + delay, ts, packet.event, n))
    arrivals.sort(key=lambda a: a[0])
    return keys, base, arrivals


@settings(max_examples=200, derandomize=True, deadline=None)
@given(deliveries())
def test_each_digit_exactly_once_under_loss_dup_and_reorder(
    case: tuple[str, int, list[tuple[float, int, DtmfEvent, int]]],
) -> None:
    keys, base, arrivals = case
    rx = DtmfEventReceiver(timeout_ms=300)
    out = []
    for now, ts, event, _ in arrivals:
        out += rx.feed(event, ts, now=now, ssrc=42)
    out += rx.poll(arrivals[-1][0] + 1.0)

    started = [e for e in out if isinstance(e, DigitStarted)]
    received = [e for e in out if isinstance(e, DigitReceived)]
    stamps = [(base + n * 1600) % 2**32 for n in range(len(keys))]
    assert "".join(e.key for e in started) == keys
    assert "".join(e.key for e in received) == keys
    assert [e.timestamp for e in started] == stamps
    assert [e.timestamp for e in received] == stamps
    assert rx.stale == 0
    for n, digit in enumerate(received):
        got_end = any(ev.end for _, _, ev, m in arrivals if m == n)
        assert (digit.cause is EndCause.END_BIT) == got_end
        if got_end:
            assert digit.duration == 800


def test_a_seeded_lossy_call_of_many_digits() -> None:
    rng = random.Random(4733)
    keys = "".join(rng.choice(KEYS) for _ in range(200))
    rx = DtmfEventReceiver()
    arrivals = []
    survivors = ""
    for n, key in enumerate(keys):
        ts = n * 1600
        kept = 0
        for packet in DtmfEventSender().packets(key, ts):
            if rng.random() < 0.3:
                continue
            kept += 1
            arrivals.append((n * 0.2 + packet.due / 8000 + rng.uniform(0, 0.06), ts, packet.event))
        survivors += key if kept else ""
    arrivals.sort(key=lambda a: a[0])
    out = []
    for now, ts, event in arrivals:
        out += rx.feed(event, ts, now=now)
    out += rx.poll(1e9)
    got = "".join(e.key for e in out if isinstance(e, DigitReceived))
    # 30 % loss: a digit is lost only when all seven of its packets are (0.3^7, about 1 in
    # 4,500); with this seed that happens once, to digit 96
    assert len(survivors) == 199 and keys[96] + survivors[96:] == keys[96:]
    assert got == survivors
