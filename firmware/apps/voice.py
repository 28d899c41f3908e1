"""Talking with a caller: prompts they hear, keys they press, music while they wait.

Every application (menus, voicemail, queues) speaks through these, so a caller gets the
same manners everywhere: a key pressed during a prompt cuts it short and counts as the
first key of the answer; without the prompt files the box beeps instead of going silent
(`Engine.announcement`); a caller who hangs up ends the application (its task is
cancelled, and the bridges here are dissolved on the way out).

    async with Listening(channel) as keys:     # keys pressed from now on
        choice = await ask(engine, channel, keys, ["welcome"], digits=1, first_s=5)
"""

from __future__ import annotations

import asyncio
from types import TracebackType
from typing import TYPE_CHECKING

from firmware.engine.bridges import HoldingBridge, RecordingBridge
from firmware.engine.channel import Channel
from firmware.media.frames import FRAME_MS, Frame, silence
from firmware.media.player import FrameSource

if TYPE_CHECKING:
    from firmware.engine.pbx import Engine

__all__ = ["Listening", "ask", "music", "play", "say", "sound", "start_recording",
           "until_recorded"]


class Listening:
    """While inside: the caller's keys go to the queue it yields, not to anyone else."""

    def __init__(self, channel: Channel) -> None:
        self.channel = channel

    async def __aenter__(self) -> asyncio.Queue[str]:
        return self.channel.listen_keys()

    async def __aexit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        self.channel.stop_keys()


def sound(engine: Engine, channel: Channel, source: FrameSource, why: str) -> HoldingBridge:
    """`channel` hears `source` (music, a prompt) instead of a person, from now on."""
    bridge = channel.bridge
    if isinstance(bridge, HoldingBridge):
        bridge.play(source)
        return bridge
    return HoldingBridge(channel, source, engine.clock, why)


def music(engine: Engine, channel: Channel) -> HoldingBridge:
    return sound(engine, channel, engine.hold_music(), "music")


async def say(engine: Engine, channel: Channel, prompts: list[str],
              keys: asyncio.Queue[str] | None = None, beeps: int = 1) -> bool:
    """Play `prompts` to the end; with `keys`, a key pressed stops it early (the key stays
    in the queue for whoever reads next). True if a key cut it short."""
    source, seconds = engine.announcement(prompts, beeps)
    return await play(engine, channel, source, seconds, keys)


async def play(engine: Engine, channel: Channel, source: FrameSource, seconds: float,
               keys: asyncio.Queue[str] | None = None) -> bool:
    """`say`, for any sound `seconds` long (a recorded greeting or message)."""
    sound(engine, channel, source, "prompt")
    if keys is None or not keys.empty():
        if keys is None:
            await asyncio.sleep(seconds)
        return keys is not None
    waiting = asyncio.ensure_future(_key_arrives(keys))
    try:
        done, _ = await asyncio.wait([waiting], timeout=seconds)
    finally:
        waiting.cancel()
    if done:
        sound(engine, channel, _Silence(), "prompt")  # the prompt stops at the key
    return bool(done)


async def ask(engine: Engine, channel: Channel, keys: asyncio.Queue[str],
              prompts: list[str], *, digits: int = 1, first_s: float = 5.0,
              between_s: float = 3.0, end: str = "#") -> str:
    """Say `prompts`, then read up to `digits` keys: keys typed during the prompt count;
    `end` finishes early; waits `first_s` for the first key after the prompt and
    `between_s` between keys. '' if the caller pressed nothing."""
    await say(engine, channel, prompts, keys)
    typed = ""
    timeout = first_s
    while len(typed) < digits:
        try:
            key = await asyncio.wait_for(keys.get(), timeout)
        except TimeoutError:
            break
        if key in end:
            break
        typed += key
        timeout = between_s
    return typed


def start_recording(engine: Engine, channel: Channel, max_s: float) -> RecordingBridge:
    """From now on keep what the caller says (at most `max_s` seconds); they hear silence.
    The frames are in `bridge.frames` even if the caller hangs up meanwhile: hanging up is
    how most people finish a voicemail."""
    return RecordingBridge(channel, _Silence(), engine.clock, int(max_s * 1000) // FRAME_MS)


async def until_recorded(channel: Channel, bridge: RecordingBridge,
                         keys: asyncio.Queue[str], end: str = "#") -> str:
    """Until the caller presses a key of `end` ("key"), the recording is full ("full") or
    the caller is gone ("gone"). A key not in `end` is ignored."""
    while True:
        if channel.gone.is_set():
            return "gone"
        if bridge.full:
            return "full"
        try:
            key = await asyncio.wait_for(keys.get(), FRAME_MS / 1000 * 5)
        except TimeoutError:
            continue
        if key in end:
            return "key"


async def _key_arrives(keys: asyncio.Queue[str]) -> None:
    """Until a key is in `keys`, without taking it."""
    key = await keys.get()
    # Put it back at the front: asyncio.Queue has no peek, so rebuild the order.
    rest = []
    while not keys.empty():
        rest.append(keys.get_nowait())
    keys.put_nowait(key)
    for other in rest:
        keys.put_nowait(other)


class _Silence:
    """A source of silence: what a cut-short prompt leaves."""

    finished = False

    def next_frame(self) -> Frame:
        return silence()
