"""Recording a caller after the tone: a message, or the owner's greeting.

The caller hears a beep, then silence while the box keeps what they say, until they
press `#`, the time is up, or they hang up. What is kept is trimmed of the `#` tone (the
detector hears a key 40-60 ms into it, so its first part is in the recording; Asterisk
rewinds 200 ms the same way); after a hang-up, of the silence while the hook went down.
A hang-up is how most people finish a message: the caller of `start` keeps the bridge,
whose frames survive the caller's leg.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from firmware.apps.voice import play, start_recording
from firmware.apps.voice import until_recorded as _until_recorded
from firmware.engine.bridges import HoldingBridge, RecordingBridge
from firmware.engine.channel import Channel
from firmware.media.frames import SAMPLE_RATE, Frame
from firmware.media.player import SamplePlayer
from firmware.media.tones import ToneGenerator, ToneSpec

if TYPE_CHECKING:
    from firmware.engine.pbx import Engine

__all__ = ["BEEP_HZ", "Recorded", "beep", "quiet", "record", "recorded", "start",
           "until_recorded"]

BEEP_HZ = 1000  # the tone after the greeting, as most voicemail systems sound it
BEEP = ToneSpec.parse("voicemail-beep", f"!{BEEP_HZ}/400")
BEEP_S = 0.5  # the beep and a breath
KEY_TRIM_S = 0.25  # the '#' tone heard before it was detected, and a frame to spare
HANDED_CHECK_S = 1.0  # how often a recording looks whether its call was handed on


@dataclass(frozen=True, slots=True)
class Recorded:
    samples: npt.NDArray[np.int16]
    ended: str  # "key" (#), "full" (the time was up) or "gone" (the caller hung up)

    @property
    def seconds(self) -> float:
        return len(self.samples) / SAMPLE_RATE


async def beep(engine: Engine, channel: Channel) -> None:
    await play(engine, channel, ToneGenerator(BEEP), BEEP_S)


def quiet(engine: Engine, channel: Channel) -> HoldingBridge:
    """The leg hears silence in a bridge of its own (so it never looks alone to a session
    that waits for it: a transferred caller's)."""
    return HoldingBridge(channel, SamplePlayer(np.zeros(0, np.int16)), engine.clock, "voicemail")


def recorded(frames: list[Frame], ended: str) -> Recorded:
    """The frames kept, as samples, without the '#' tone when a key ended them."""
    samples = np.concatenate(frames) if frames else np.zeros(0, np.int16)
    if ended == "key":
        samples = samples[: max(0, len(samples) - int(KEY_TRIM_S * SAMPLE_RATE))]
    elif ended == "gone":
        # Nothing came from the line while the hook went down (the hang-up is known only
        # after [analog] flash_max_ms): keep what was said, not that wait.
        sound = np.flatnonzero(samples)
        samples = samples[: sound[-1] + 1 if len(sound) else 0]
    return Recorded(samples.astype(np.int16, copy=False), ended)


async def record(engine: Engine, channel: Channel, keys: asyncio.Queue[str],
                 max_s: float) -> Recorded:
    """Beep, then record until '#', `max_s` or a hang-up (a greeting: the hang-up case
    is not kept by anyone). For a message, whose hang-up must be kept, see `leave`."""
    await beep(engine, channel)
    bridge = start(engine, channel, keys, max_s)
    try:
        ended = await until_recorded(channel, bridge, keys)
    finally:
        if not channel.gone.is_set():
            quiet(engine, channel)
    return recorded(bridge.frames, ended)


async def until_recorded(channel: Channel, bridge: RecordingBridge,
                         keys: asyncio.Queue[str]) -> str:
    """`voice.until_recorded` ('#', full, gone), and "gone" as well once the leg's call is
    handed to someone else: it was a consult call whose transferrer hung up while it sat
    in voicemail (the held caller then rings back to them, never waits on a recording)."""
    while True:
        try:
            return await asyncio.wait_for(_until_recorded(channel, bridge, keys),
                                          HANDED_CHECK_S)
        except TimeoutError:
            if channel.handed_to is not None:
                return "gone"


def start(engine: Engine, channel: Channel, keys: asyncio.Queue[str],
          max_s: float) -> RecordingBridge:
    """Recording starts now (after the beep), with keys typed before it forgotten."""
    _drain(keys)
    return start_recording(engine, channel, max_s)


def _drain(keys: asyncio.Queue[str]) -> None:
    while not keys.empty():
        keys.get_nowait()

