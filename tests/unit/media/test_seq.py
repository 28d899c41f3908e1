"""Wrap-safe sequence and timestamp arithmetic (RFC 3550 §5.1, serial-number comparison)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from firmware.media.seq import (
    SEQ_MOD,
    TS_MOD,
    seq_add,
    seq_diff,
    seq_newer,
    ts_add,
    ts_diff,
    ts_newer,
)

seqs = st.integers(0, SEQ_MOD - 1)
stamps = st.integers(0, TS_MOD - 1)


def test_sequence_wraps_at_65535() -> None:
    assert seq_add(65535, 1) == 0
    assert seq_add(65534, 3) == 1
    assert seq_add(0, -1) == 65535
    assert seq_diff(0, 65535) == 1
    assert seq_diff(65535, 0) == -1
    assert seq_diff(2, 65530) == 8
    assert seq_newer(0, 65535)
    assert not seq_newer(65535, 0)
    assert not seq_newer(7, 7)


def test_timestamp_wraps_at_2_to_the_32() -> None:
    assert ts_add(TS_MOD - 160, 160) == 0
    assert ts_add(TS_MOD - 80, 160) == 80
    assert ts_add(0, -160) == TS_MOD - 160
    assert ts_diff(80, TS_MOD - 80) == 160
    assert ts_diff(TS_MOD - 80, 80) == -160
    assert ts_newer(0, TS_MOD - 1)
    assert not ts_newer(TS_MOD - 1, 0)


def test_half_way_is_neither_newer() -> None:
    assert seq_diff(32768, 0) == seq_diff(0, 32768) == -32768
    assert not seq_newer(32768, 0) and not seq_newer(0, 32768)
    assert ts_diff(1 << 31, 0) == ts_diff(0, 1 << 31) == -(1 << 31)
    assert not ts_newer(1 << 31, 0) and not ts_newer(0, 1 << 31)


def test_out_of_range_inputs_are_taken_modulo() -> None:
    assert seq_add(65536 + 5, 0) == 5
    assert seq_diff(65536 + 5, 5) == 0
    assert ts_add(TS_MOD + 7, 0) == 7


@settings(max_examples=300, derandomize=True)
@given(seqs, seqs)
def test_seq_diff_is_the_inverse_of_seq_add(a: int, b: int) -> None:
    d = seq_diff(b, a)
    assert -32768 <= d <= 32767
    assert seq_add(a, d) == b
    assert seq_newer(b, a) == (d > 0)
    if d != -32768:
        assert seq_diff(a, b) == -d


@settings(max_examples=300, derandomize=True)
@given(stamps, stamps)
def test_ts_diff_is_the_inverse_of_ts_add(a: int, b: int) -> None:
    d = ts_diff(b, a)
    assert -(1 << 31) <= d < (1 << 31)
    assert ts_add(a, d) == b
    assert ts_newer(b, a) == (d > 0)
    if d != -(1 << 31):
        assert ts_diff(a, b) == -d


@settings(max_examples=200, derandomize=True)
@given(seqs, st.integers(-32767, 32767))
def test_adding_then_diffing_gives_the_step_back(a: int, n: int) -> None:
    assert seq_diff(seq_add(a, n), a) == n
