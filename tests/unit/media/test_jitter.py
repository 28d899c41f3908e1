"""The jitter buffer driven tick by tick: packets arrive at scripted times, `get` every 20 ms."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from firmware.media.jitter import JitterBuffer, JitterError, JitterStats, Playout
from firmware.media.rtp import RtpPacket

TICK = 0.020


def packet(n: int, *, seq0: int = 1000, ts0: int = 50_000, ssrc: int = 1) -> RtpPacket:
    """The n-th packet of a stream; its payload names n so the playout order can be read."""
    return RtpPacket(0, (seq0 + n) % 2**16, (ts0 + 160 * n) % 2**32, ssrc, payload=b"%d" % n)


def run(
    jb: JitterBuffer, arrivals: list[tuple[float, RtpPacket]], ticks: int, first_tick: int = 0
) -> list[int | None]:
    """Deliver every packet due by each tick, then get() once; the payloads played (as ints)."""
    pending = sorted(arrivals, key=lambda a: a[0])
    out: list[int | None] = []
    for k in range(first_tick, first_tick + ticks):
        now = k * TICK
        while pending and pending[0][0] <= now + 1e-9:
            arrival, rtp = pending.pop(0)
            jb.put(rtp, arrival)
        payload = jb.get(now)
        out.append(None if payload is None else int(payload))
    return out


def steady(n: int, **kw: int) -> list[tuple[float, RtpPacket]]:
    return [(k * TICK, packet(k, **kw)) for k in range(n)]


# -- the basics ------------------------------------------------------------------------------------


def test_in_order_stream_plays_after_the_target_depth() -> None:
    jb = JitterBuffer()  # 60 ms target: 3 frames wait behind the one playing
    assert jb.get(0.0) is None and jb.last is Playout.IDLE
    out = run(jb, steady(10), ticks=14)
    # each frame plays 60 ms after it arrived
    assert out == [None, None, None, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, None]
    assert jb.last is Playout.UNDERRUN
    assert jb.stats() == JitterStats(
        received=10,
        late=0,
        lost=0,
        duplicates=0,
        overruns=0,
        underruns=1,
        resyncs=0,
        strays=0,
        depth=0,
        target=3,
        jitter_ms=pytest.approx(0.0, abs=1e-9),
    )


def test_reordered_packets_are_played_in_order() -> None:
    # packets 1, 5 and 9 are held up in the network and overtaken by the next ones; 5 is
    # late by exactly the 60 ms target and still makes it
    delays = {1: 0.030, 5: 0.060, 9: 0.025}
    arrivals = [(k * TICK + delays.get(k, 0.0), packet(k)) for k in range(12)]
    jb = JitterBuffer()
    out = run(jb, arrivals, ticks=15)
    assert [x for x in out if x is not None] == list(range(12))
    assert (jb.lost, jb.late, jb.duplicates) == (0, 0, 0)


def test_lost_packet_is_reported_as_none_and_playout_moves_on() -> None:
    jb = JitterBuffer()
    arrivals = [a for a in steady(10) if int(a[1].payload) != 4]
    outputs = []
    lasts = []
    pending = sorted(arrivals, key=lambda a: a[0])
    for k in range(13):
        while pending and pending[0][0] <= k * TICK + 1e-9:
            jb.put(pending.pop(0)[1], k * TICK)
        payload = jb.get(k * TICK)
        outputs.append(None if payload is None else int(payload))
        lasts.append(jb.last)
    assert outputs == [None, None, None, 0, 1, 2, 3, None, 5, 6, 7, 8, 9]
    assert lasts[7] is Playout.LOST
    assert lasts[:3] == [Playout.BUFFERING] * 3
    assert jb.lost == 1 and jb.late == 0


def test_duplicates_buffered_and_already_played() -> None:
    arrivals = steady(10)
    arrivals.append((3 * TICK + 0.005, packet(3)))  # a copy while the first is still buffered
    arrivals.append((6 * TICK, packet(1)))  # a copy after the first was played
    jb = JitterBuffer()
    out = run(jb, arrivals, ticks=13)
    assert [x for x in out if x is not None] == list(range(10))
    assert jb.duplicates == 2 and jb.late == 0


def test_late_packet_is_dropped_after_its_frame_was_concealed() -> None:
    arrivals = [a for a in steady(10) if int(a[1].payload) != 4]
    arrivals.append((9 * TICK, packet(4)))  # 100 ms late: its slot (tick 7) has passed
    jb = JitterBuffer()
    out = run(jb, arrivals, ticks=13)
    assert out == [None, None, None, 0, 1, 2, 3, None, 5, 6, 7, 8, 9]
    assert (jb.lost, jb.late) == (1, 1)


def test_a_packet_merely_late_into_an_empty_buffer_is_still_played() -> None:
    """Underrun: playout waits at the missing frame instead of declaring it lost."""
    # from packet 6 on, the path is 90 ms slower: frame 6, due at tick 9, is not there
    arrivals = [(k * TICK + (0.090 if k >= 6 else 0.0), packet(k)) for k in range(12)]
    jb = JitterBuffer()
    out = run(jb, arrivals, ticks=20)
    # underrun at tick 9; 6 arrives at 0.21 s and plays 60 ms later, at tick 14
    assert out[8:15] == [5, None, None, None, None, None, 6]
    assert [x for x in out if x is not None] == list(range(12))
    assert jb.underruns == 1 and jb.lost == 0 and jb.late == 0


def test_reordering_at_the_very_start_loses_nothing() -> None:
    arrivals = [(0.0, packet(1)), (0.005, packet(0))] + [(k * TICK, packet(k)) for k in range(2, 8)]
    jb = JitterBuffer()
    out = run(jb, arrivals, ticks=11)
    assert [x for x in out if x is not None] == list(range(8))
    assert jb.late == 0


def test_push_takes_header_fields() -> None:
    jb = JitterBuffer(target_ms=20, max_ms=100)
    jb.push(7, 1120, b"a", 0.0, ssrc=5)
    jb.push(8, 1280, b"b", 0.0)  # ssrc omitted: the stream is unchanged
    assert jb.get() == b"a"
    assert jb.get() == b"b"


# -- bursts, wraps, silence ------------------------------------------------------------------------


def test_burst_after_a_stall_is_trimmed_to_the_target() -> None:
    arrivals = steady(10) + [(30 * TICK, packet(k)) for k in range(10, 30)]  # 400 ms stall
    jb = JitterBuffer(target_ms=60, max_ms=200)
    out = run(jb, arrivals, ticks=36)
    played = [x for x in out if x is not None]
    # inserting the burst overran the 10-frame limit twice (7 frames dropped each time);
    # priming then ended with 6 frames buffered and dropped 2 more to restart at the target
    assert played == [*range(10), 26, 27, 28, 29]
    assert jb.overruns == 16 and jb.underruns == 2 and jb.late == 0
    assert out[30:34] == [26, 27, 28, 29]  # no more delay than the target after the burst


def test_sequence_and_timestamp_wrap() -> None:
    arrivals = steady(12, seq0=65530, ts0=2**32 - 800)
    jb = JitterBuffer()
    out = run(jb, arrivals, ticks=15)
    assert [x for x in out if x is not None] == list(range(12))
    assert (jb.lost, jb.late, jb.resyncs, jb.strays) == (0, 0, 0, 0)


def test_silence_suppression_pause_resumes_without_loss() -> None:
    # 10 packets, then 300 ms without packets (the peer was silent); the sequence number
    # goes on where it stopped while the timestamp jumps by the silence
    arrivals = steady(10)
    arrivals += [
        ((k + 15) * TICK, RtpPacket(0, 1000 + k, 50_000 + 160 * (k + 15), 1, payload=b"%d" % k))
        for k in range(10, 20)
    ]
    jb = JitterBuffer()
    out = run(jb, arrivals, ticks=40)
    assert [x for x in out if x is not None] == list(range(20))
    assert (jb.lost, jb.late, jb.resyncs) == (0, 0, 0)
    assert jb.underruns == 2  # the pause, and the end


def test_time_based_priming_plays_a_short_stream() -> None:
    jb = JitterBuffer()
    jb.put(packet(0), 1.00)
    assert jb.get(1.02) is None and jb.last is Playout.BUFFERING
    assert jb.get(1.04) is None
    assert jb.get(1.06) == b"0"  # target time passed since the packet arrived
    jb2 = JitterBuffer()
    jb2.put(packet(0), 1.00)
    assert jb2.get() is None and jb2.get() is None and jb2.get() is None  # no clock, no rush


# -- resync ----------------------------------------------------------------------------------------


def test_ssrc_change_flushes_and_primes_on_the_new_stream() -> None:
    arrivals = steady(6)
    arrivals += [(k * TICK, packet(k, seq0=40_000, ts0=7, ssrc=2)) for k in range(6, 14)]
    jb = JitterBuffer()
    out = run(jb, arrivals, ticks=17)
    # frames 0..2 were played; 3 to 5 were still buffered when the transfer came
    assert out[:6] == [None, None, None, 0, 1, 2]
    assert out[6:9] == [None, None, None]  # priming on the new source
    assert out[9:] == list(range(6, 14))
    assert jb.resyncs == 1 and jb.lost == 0


def test_one_far_packet_is_a_stray_not_a_resync() -> None:
    arrivals = steady(12)
    arrivals.append((5 * TICK + 0.001, packet(5000)))  # garbage seq from somewhere
    jb = JitterBuffer()
    out = run(jb, arrivals, ticks=15)
    assert [x for x in out if x is not None] == list(range(12))
    assert (jb.strays, jb.resyncs) == (1, 0)


def test_a_confirmed_sequence_jump_resyncs() -> None:
    arrivals = steady(6) + [(k * TICK, packet(k + 3000)) for k in range(6, 14)]
    jb = JitterBuffer()
    out = run(jb, arrivals, ticks=18)
    played = [x for x in out if x is not None]
    # 3 plays while 3006 waits for confirmation; 3007 confirms it and 4, 5 are flushed
    assert played[:4] == [0, 1, 2, 3]
    assert played[4:] == [k + 3000 for k in range(6, 14)]  # the first jumped one is kept
    assert jb.resyncs == 1 and jb.strays == 0


def test_a_timestamp_jump_with_continuous_sequence_resyncs() -> None:
    arrivals = steady(6) + [
        (k * TICK, RtpPacket(0, 1000 + k, 9_000_000 + 160 * k, 1, payload=b"%d" % k))
        for k in range(6, 14)
    ]
    jb = JitterBuffer()
    run(jb, arrivals, ticks=18)
    assert jb.resyncs == 1


# -- adaptive depth and settings -------------------------------------------------------------------


def test_adaptive_target_follows_the_jitter() -> None:
    calm = JitterBuffer(adaptive=True)
    for k in range(50):
        calm.put(packet(k), k * TICK)
    assert calm.jitter_ms < 1e-9 and calm.target_frames == 2  # the 40 ms minimum

    # delays spread evenly over 0..80 ms: J tends to 80 / 3 ms, and 3 J to the whole spread
    rng = random.Random(7)
    jumpy = JitterBuffer(adaptive=True)
    run(jumpy, [(k * TICK + rng.uniform(0, 0.08), packet(k)) for k in range(300)], ticks=310)
    assert 20 < jumpy.jitter_ms < 33
    assert jumpy.target_frames in (4, 5)  # grows, and stays under the 200 ms maximum
    assert jumpy.late < 10  # most of the spread is absorbed once the target has grown
    assert JitterBuffer().target_frames == 3  # fixed unless asked


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"target_ms": 200, "max_ms": 200},
            "jitter buffer maximum of 200 ms must exceed the target (200 ms) and minimum "
            "(40.0 ms) by a frame",
        ),
        ({"max_seq_jump": 5}, "max_seq_jump 5 is smaller than the 10-frame buffer"),
    ],
)
def test_bad_settings(kwargs: dict[str, float], message: str) -> None:
    with pytest.raises(JitterError) as caught:
        JitterBuffer(**kwargs)  # type: ignore[arg-type]
    assert str(caught.value) == message


# -- property: nothing is played twice or out of order, and every packet is accounted for ----------


@st.composite
def lossy_streams(draw: st.DrawFn) -> tuple[int, list[tuple[float, RtpPacket]]]:
    count = draw(st.integers(1, 80))
    seq0 = draw(st.sampled_from([0, 65500, 30000]))
    arrivals = []
    for k in range(count):
        copies = draw(st.sampled_from([0, 1, 1, 1, 1, 2]))  # lost or duplicated now and then
        for _ in range(copies):
            delay = draw(st.floats(0.0, 0.150, allow_nan=False))
            arrivals.append((k * TICK + delay, packet(k, seq0=seq0, ts0=2**32 - 5000)))
    return count, arrivals


@settings(max_examples=200, derandomize=True, deadline=None)
@given(lossy_streams(), st.booleans())
def test_playout_is_ordered_and_every_packet_accounted_for(
    case: tuple[int, list[tuple[float, RtpPacket]]], adaptive: bool
) -> None:
    count, arrivals = case
    jb = JitterBuffer(adaptive=adaptive)
    out = run(jb, arrivals, ticks=count + 30)
    played = [x for x in out if x is not None]
    assert played == sorted(set(played))  # increasing: no repeats, no reordering
    assert jb.received == len(arrivals)
    assert jb.received == len(played) + jb.late + jb.duplicates + jb.overruns + jb.depth
    assert jb.resyncs == jb.strays == 0
