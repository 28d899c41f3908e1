"""A leg kept in the call with a sound instead of a person: on hold, parked, or waiting for
a transfer to be answered.

The leg is not alone (its session keeps it), and what it hears comes from a frame source
on the media clock: hold music, or ringback while the transfer target rings. `make_bridge`
takes a leg out of its holding bridge when it joins a person again.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from firmware.engine.channel import Channel
from firmware.logs import call_event
from firmware.media.frames import Frame, silence
from firmware.media.player import FrameSource

if TYPE_CHECKING:
    from firmware.engine.clock import FrameClock


class HoldingBridge:
    relays = False

    def __init__(self, channel: Channel, source: FrameSource, clock: FrameClock,
                 why: str) -> None:
        previous = channel.bridge
        if previous is not None:
            previous.leave(channel)
        self.channel = channel
        self.source = source
        self.name = f"{why} {channel.name}"
        self._clock = clock
        channel.bridge = self
        start = getattr(channel, "media_up", None)  # a SIP leg must be decoded to hear it
        if start is not None:
            start()
        clock.add(self)
        call_event("holding", channel=channel.name, why=why)

    def play(self, source: FrameSource) -> None:
        """Change what the leg hears (hold music -> ringback when a transfer rings)."""
        self.source = source

    def other(self, channel: Channel) -> Channel | None:
        return None

    def forward(self, source: Channel, frame: Frame) -> None:
        """What the held leg says goes nowhere."""

    def leave(self, channel: Channel) -> None:
        self.dissolve()

    def dissolve(self) -> None:
        self._clock.discard(self)
        if self.channel.bridge is self:
            self.channel.bridge = None

    # -- the media clock: the sound is handed over before the legs render

    def capture(self) -> None:
        self.channel.deliver(self.source.next_frame())

    def render(self) -> None:
        pass

    def crashed(self, exc: BaseException) -> None:
        self.dissolve()


class RecordingBridge(HoldingBridge):
    """A holding bridge that keeps what the leg says (voicemail, a greeting), up to
    `max_frames` frames; the leg hears `source` meanwhile (silence, mostly)."""

    def __init__(self, channel: Channel, source: FrameSource, clock: FrameClock,
                 max_frames: int) -> None:
        super().__init__(channel, source, clock, "recording")
        self.frames: list[Frame] = []
        self.max_frames = max_frames
        self._ticks = 0

    def forward(self, source: Channel, frame: Frame) -> None:
        if len(self.frames) < self.max_frames:
            self.frames.append(frame.copy())  # the device may reuse its buffer

    def capture(self) -> None:
        super().capture()
        # A leg forwards nothing while its person is silent (an analog line) or between
        # packets (SIP): keep the recording in step with time, a frame a tick (one frame
        # late at most, whichever of the leg and the bridge the clock visits first).
        self._ticks += 1
        while len(self.frames) < min(self._ticks - 1, self.max_frames):
            self.frames.append(silence())

    @property
    def full(self) -> bool:
        return len(self.frames) >= self.max_frames
