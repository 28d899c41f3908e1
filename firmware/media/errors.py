"""The one exception root of `firmware.media` (STYLE.md, principle 6).

Everything a peer can send us -- an RTP datagram, an RTCP compound packet, a telephone-event
payload -- is parsed by code in this package, and every way such input can be malformed
raises a subclass of `MediaError` with an exact message. A caller that handles remote input
catches `MediaError` (logs one line, drops the datagram) and moves on; any other exception
escaping a parser is a bug. `MediaError` derives from `ValueError` because "this value is
not acceptable" is what every one of these errors means.
"""

from __future__ import annotations

__all__ = ["MediaError"]


class MediaError(ValueError):
    """Malformed media input or an out-of-range media value."""
