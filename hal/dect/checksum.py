"""The CMBS check octets: a Fletcher-style pair over the IE bytes of an event.

The arithmetic is the one of the public host code (the ISO 8473 / DECT link signature):
running sums c0 = sum(octet), c1 = sum(c0) modulo 255, with the two check octets placed
last and counted as zero while computing, chosen so that the sums over the whole run,
check octets included, are both 0 modulo 255.
"""

from __future__ import annotations


def _sums(data: bytes, c0: int = 0, c1: int = 0) -> tuple[int, int]:
    for octet in data:
        c0 = (c0 + octet) % 255
        c1 = (c1 + c0) % 255
    return c0, c1


def check_octets(data: bytes) -> bytes:
    """The two octets that make `data` + octets check out."""
    c0, c1 = _sums(data + b"\x00\x00")
    return bytes(((c0 - c1) % 255, (c1 - 2 * c0) % 255))


def verify(data: bytes, octets: bytes) -> bool:
    """Do `octets` check out for `data`?"""
    if len(octets) != 2:
        return False
    c0, c1 = _sums(data + octets)
    return (c0 - c1) % 255 == 0 and (c1 - 2 * c0) % 255 == 0
