"""CMBS frames to and from bytes, sans-I/O (the layout: `hal.dect.cmbs`).

`Frame` is one message; `FrameDecoder` turns a byte stream into frames. The decoder never
raises: it hunts for the sync word, skips what is not a frame (counting garbage bytes,
length errors and checksum errors) and goes on with the next sync word, so one corrupted
frame costs that frame only. A frame whose header promised more bytes than ever come is
given up after `PARTIAL_FRAME_S` (`expire`), which frees the stream behind it.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

from hal.dect import checksum
from hal.dect.cmbs import (
    CHECKSUM_IE_SIZE,
    COMMAND_BASE,
    FRAME_OVERHEAD,
    HEADER_SIZE,
    MAX_PARAM_LENGTH,
    SYNC,
    IeType,
)
from hal.dect.errors import ChecksumError, FrameError

# 1 KiB takes 90 ms at 115200 baud: a frame still incomplete after this never comes whole.
PARTIAL_FRAME_S = 0.5
_HEADER = struct.Struct("<HHHH")
_IE_HEADER = struct.Struct("<HH")


@dataclass(frozen=True, slots=True)
class Frame:
    """One message: an event or an internal command, with its IEs (raw, checksum IE not
    included) and the sender's packet number."""

    message_id: int
    params: bytes = b""
    seq: int = 0
    checksummed: bool = False  # events carry the checksum IE once it is negotiated

    @property
    def is_command(self) -> bool:
        return self.message_id >= COMMAND_BASE

    def __bytes__(self) -> bytes:
        params = self.params
        if self.checksummed and not self.is_command:
            params += _IE_HEADER.pack(IeType.CHECKSUM, 2) + checksum.check_octets(params)
        if len(params) > MAX_PARAM_LENGTH:
            raise FrameError(f"parameters of {len(params)} bytes exceed {MAX_PARAM_LENGTH}")
        header = _HEADER.pack(HEADER_SIZE + len(params), self.seq & 0xFFFF,
                              self.message_id, len(params))
        return SYNC + header + params

    @classmethod
    def parse(cls, data: bytes, require_checksum: bool = False) -> Frame:
        """One whole frame, sync word first. Raises FrameError (ChecksumError)."""
        if len(data) < FRAME_OVERHEAD:
            raise FrameError(f"{len(data)} bytes are shorter than a frame header "
                             f"({FRAME_OVERHEAD})")
        if data[:4] != SYNC:
            raise FrameError(f"no sync word: {data[:4].hex()}")
        total, seq, message_id, length = _HEADER.unpack_from(data, 4)
        if total != HEADER_SIZE + length:
            raise FrameError(f"total length {total} is not {HEADER_SIZE} + parameter "
                             f"length {length}")
        if length > MAX_PARAM_LENGTH:
            raise FrameError(f"parameter length {length} exceeds {MAX_PARAM_LENGTH}")
        if len(data) != FRAME_OVERHEAD + length:
            raise FrameError(f"frame of {len(data)} bytes, header says "
                             f"{FRAME_OVERHEAD + length}")
        params = data[FRAME_OVERHEAD:]
        checked_end = _checksum_ie_at(params)
        if checked_end is None:
            if require_checksum and message_id < COMMAND_BASE:
                raise ChecksumError(f"event {message_id} has no checksum IE")
            return cls(message_id, params, seq)
        body, octets = params[:checked_end], params[checked_end + 4:]
        if not checksum.verify(body, octets):
            raise ChecksumError(f"event {message_id}: check octets {octets.hex()} are wrong")
        return cls(message_id, body, seq, checksummed=True)


def _checksum_ie_at(params: bytes) -> int | None:
    """Where the checksum IE starts, if the IE list ends with one. Raises FrameError if
    the IEs do not fill the parameters exactly, or a checksum IE is not last."""
    at = 0
    while at < len(params):
        if at + 4 > len(params):
            raise FrameError(f"IE header at byte {at} runs past the parameters")
        ie_type, ie_length = _IE_HEADER.unpack_from(params, at)
        end = at + 4 + ie_length
        if end > len(params):
            raise FrameError(f"IE {ie_type} of {ie_length} bytes at byte {at} runs past "
                             f"the parameters ({len(params)} bytes)")
        if ie_type == IeType.CHECKSUM:
            if end != len(params) or ie_length + 4 != CHECKSUM_IE_SIZE:
                raise FrameError("the checksum IE must be last and hold two octets")
            return at
        at = end
    return None


@dataclass(slots=True)
class DecoderStats:
    frames: int = 0
    garbage_bytes: int = 0  # bytes that were not part of a good frame
    length_errors: int = 0  # headers whose lengths do not add up, frames never completed
    checksum_errors: int = 0
    malformed: int = 0  # whole frames whose IE list is broken


@dataclass
class FrameDecoder:
    """Bytes in (`feed`), frames out. Never raises on what the module sends."""

    require_checksum: bool = False
    # Events taken without a checksum even when one is required (a module that has just
    # restarted announces itself before anything is negotiated again).
    unchecked: frozenset[int] = frozenset()
    stats: DecoderStats = field(default_factory=DecoderStats)
    _buf: bytearray = field(default_factory=bytearray)
    _partial_since: float | None = None

    def feed(self, data: bytes, now: float) -> list[Frame]:
        self._buf += data
        frames: list[Frame] = []
        while self._next(frames):
            pass
        if self._partial_since is None and self._buf[:4] == SYNC:
            self._partial_since = now
        return frames

    def expire(self, now: float) -> list[Frame]:
        """Give up a frame that has been incomplete for too long, and read on behind it."""
        if self._partial_since is None or now < self._partial_since + PARTIAL_FRAME_S:
            return []  # (the same sum as the deadline the host reports: no float slack)
        self.stats.length_errors += 1
        self._skip(1)
        return self.feed(b"", now)

    @property
    def waiting_since(self) -> float | None:
        """When the incomplete frame at the head of the buffer began to arrive."""
        return self._partial_since

    def _next(self, frames: list[Frame]) -> bool:
        """Take one frame (or one piece of garbage) off the buffer; False: need more."""
        buf = self._buf
        start = buf.find(SYNC)
        if start < 0:
            keep = _sync_prefix_len(buf)  # a sync word may be arriving
            self._drop_garbage(len(buf) - keep)
            return False
        self._drop_garbage(start)
        if len(buf) < FRAME_OVERHEAD:
            return False
        total, _seq, message_id, length = _HEADER.unpack_from(buf, 4)
        if total != HEADER_SIZE + length or length > MAX_PARAM_LENGTH:
            self.stats.length_errors += 1
            self._skip(1)
            return True
        size = FRAME_OVERHEAD + length
        if len(buf) < size:
            return False
        try:
            required = self.require_checksum and message_id not in self.unchecked
            frame = Frame.parse(bytes(buf[:size]), required)
        except ChecksumError:
            self.stats.checksum_errors += 1
            self._skip(1)  # a sync word inside may begin the real next frame
            return True
        except FrameError:
            self.stats.malformed += 1
            self._skip(1)
            return True
        del buf[:size]
        self._partial_since = None
        self.stats.frames += 1
        frames.append(frame)
        return True

    def _drop_garbage(self, count: int) -> None:
        if count > 0:
            self.stats.garbage_bytes += count
            del self._buf[:count]
            self._partial_since = None

    def _skip(self, count: int) -> None:
        self.stats.garbage_bytes += count
        del self._buf[:count]
        self._partial_since = None


def _sync_prefix_len(buf: bytearray) -> int:
    """How many bytes at the end of `buf` could be the start of a sync word."""
    for n in range(min(len(SYNC) - 1, len(buf)), 0, -1):
        if buf[-n:] == SYNC[:n]:
            return n
    return 0
