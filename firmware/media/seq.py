"""Wrap-safe arithmetic on RTP's 16-bit sequence numbers and 32-bit timestamps.

Theory
    RFC 3550 §5.1 makes the sequence number a 16-bit counter and the timestamp a 32-bit
    counter, both starting at a random value and wrapping to zero. At 50 packets/s a
    sequence number wraps every 22 minutes, so every real call meets the wrap; a counter
    kept as a plain Python int (or a C int that is not masked) grows past 65535 and is then
    packed into a malformed header -- pyVoIP's bug, and the reason for STYLE.md principle 8:
    every RTP counter in the box changes only through the functions below.

    Comparing two wrapped values uses serial-number arithmetic (the idea of RFC 1982, and
    of RFC 3550 Appendix A.1's `udelta`): the signed distance `a - b` is taken modulo 2^n
    and mapped into [-2^(n-1), 2^(n-1)). So 1 is two *after* 65535, and 65535 is two
    *before* 1. The one ambiguous distance, exactly half the space, maps to -2^(n-1): then
    neither value is "newer" than the other, which is the safe answer for a reorder check.

    Inputs outside the counter's range are taken modulo its size; results are always in
    range, so they can be packed straight into a header.
"""

from __future__ import annotations

from typing import Final

__all__ = [
    "SEQ_MOD",
    "TS_MOD",
    "seq_add",
    "seq_diff",
    "seq_newer",
    "ts_add",
    "ts_diff",
    "ts_newer",
]

SEQ_MOD: Final = 1 << 16
TS_MOD: Final = 1 << 32

_SEQ_MASK: Final = SEQ_MOD - 1
_SEQ_HALF: Final = SEQ_MOD >> 1
_TS_MASK: Final = TS_MOD - 1
_TS_HALF: Final = TS_MOD >> 1


def seq_add(a: int, n: int) -> int:
    """`a + n` as a 16-bit sequence number (`n` may be negative)."""
    return (a + n) & _SEQ_MASK


def seq_diff(a: int, b: int) -> int:
    """The signed shortest distance `a - b` between two sequence numbers, in [-32768, 32767]."""
    return ((a - b + _SEQ_HALF) & _SEQ_MASK) - _SEQ_HALF


def seq_newer(a: int, b: int) -> bool:
    """True if sequence number `a` comes after `b` (allowing for the wrap)."""
    return seq_diff(a, b) > 0


def ts_add(a: int, n: int) -> int:
    """`a + n` as a 32-bit RTP timestamp (`n` may be negative)."""
    return (a + n) & _TS_MASK


def ts_diff(a: int, b: int) -> int:
    """The signed shortest distance `a - b` between two timestamps, in [-2^31, 2^31)."""
    return ((a - b + _TS_HALF) & _TS_MASK) - _TS_HALF


def ts_newer(a: int, b: int) -> bool:
    """True if timestamp `a` comes after `b` (allowing for the wrap)."""
    return ts_diff(a, b) > 0
