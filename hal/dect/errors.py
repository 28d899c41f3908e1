"""The one exception root of `hal.dect`, and its kinds."""

from __future__ import annotations


class DectError(Exception):
    """Something about the DECT base went wrong."""


class FrameError(DectError):
    """Bytes from the module that are no valid frame (the message says exactly why)."""


class ChecksumError(FrameError):
    """A frame whose check octets are wrong or missing."""


class IeError(FrameError):
    """An information element that is missing, or too short for what it must hold."""


class HandsetStateError(DectError):
    """An event that cannot happen to a handset's call in its state (the call stays put)."""


class DectRequestError(DectError, ValueError):
    """The firmware asked for something the base cannot do now (ring a busy handset,
    answer a handset that is not calling, a slot that does not exist)."""
