"""One outgoing RTP stream per leg, whoever makes its packets.

A phone in a SIP-to-SIP call hears, in turn, packets relayed from the other phone and
packets the box makes (hold music while the other side holds). To the phone it must stay
one stream (RFC 3550 §5.1, §8): the same SSRC, sequence numbers counting on by one and
timestamps moving on with time; a jump backwards looks like reordering or an attack and
phones' jitter buffers throw such packets away or glitch.

- Relayed, then made by the box: the box's sender continues the relayed stream
  (`continuation`: the SSRC of the last relayed packet, its sequence + 1, its timestamp +
  one packet).
- Made by the box, then relayed again: each relayed packet is rewritten into the box's
  stream (`StreamSplice`: the same SSRC; sequence and timestamp moved by the offsets
  found at the first packet, which is marked as the start of a talkspurt).

A relay that never changed hands rewrites nothing: the fast path stays a plain forward.
"""

from __future__ import annotations

import struct
from typing import Final

from firmware.media.frames import FRAME_SAMPLES

__all__ = ["StreamSplice", "continuation"]

_SEQ_TS_SSRC: Final = struct.Struct("!HII")  # at byte 2 of the RTP header


def continuation(last: bytes) -> tuple[int, int, int] | None:
    """(SSRC, next sequence, next timestamp) to go on from packet `last`; None if it is not
    RTP."""
    if len(last) < 12 or last[0] >> 6 != 2:
        return None
    sequence, timestamp, ssrc = _SEQ_TS_SSRC.unpack_from(last, 2)
    return ssrc, (sequence + 1) & 0xFFFF, (timestamp + FRAME_SAMPLES) & 0xFFFFFFFF


class StreamSplice:
    """Relayed packets, renumbered to continue a stream whose next packet is `sequence`,
    `timestamp`, with `ssrc`."""

    __slots__ = ("_offsets", "sequence", "ssrc", "timestamp")

    def __init__(self, ssrc: int, sequence: int, timestamp: int) -> None:
        self.ssrc = ssrc
        self.sequence = sequence
        self.timestamp = timestamp
        self._offsets: tuple[int, int] | None = None

    def rewrite(self, data: bytes) -> bytes:
        if len(data) < 12:
            return data
        sequence, timestamp, _ssrc = _SEQ_TS_SSRC.unpack_from(data, 2)
        out = bytearray(data)
        if self._offsets is None:
            self._offsets = ((self.sequence - sequence) & 0xFFFF,
                             (self.timestamp - timestamp) & 0xFFFFFFFF)
            out[1] |= 0x80  # marker: a new talkspurt, so the phone resyncs its playout
        seq_offset, ts_offset = self._offsets
        _SEQ_TS_SSRC.pack_into(out, 2, (sequence + seq_offset) & 0xFFFF,
                               (timestamp + ts_offset) & 0xFFFFFFFF, self.ssrc)
        return bytes(out)
