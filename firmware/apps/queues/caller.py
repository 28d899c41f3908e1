"""A caller in a queue: the destination "queue:NAME" (and the queue's number) leads here.

    join        the box answers; the caller hears hold music, and at once (unless at the
                head) their place and the estimated wait, then again every
                `announce_every_s` while not at the head; with `callback`, the offer to
                press 1 to be called back
    an agent    answers: the music or the announcement stops mid-word, the two talk
    1           (with `callback`, and a number the box can call back) "we will call you
                back ...": the caller hangs up and keeps their place (`offer._call_back`)
    max_wait_s  waited this long: on to `overflow`
    no agents   with `no_agents = "overflow"`: nobody logged in, on arrival or while
                waiting: "there is no one to take your call right now", on to `overflow`
    hang up     the caller leaves the line (counted as abandoned)

The caller's coroutine never touches the audio once an agent took the call: the offer
joins the two, and everything here checks `served` before it plays anything.
"""

from __future__ import annotations

import asyncio
import logging
import math
import sqlite3
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from firmware.apps.queues.estimate import announcement
from firmware.apps.queues.line import Entry
from firmware.apps.reach import callback_number
from firmware.apps.voice import Listening, music, say, sound
from firmware.engine.bridges import HoldingBridge
from firmware.engine.channel import Cause, Channel
from firmware.logs import call_event
from firmware.media.frames import Frame
from firmware.media.player import FrameSource
from firmware.store import StoreError

if TYPE_CHECKING:
    from firmware.apps.queues.queue import Queue

__all__ = ["CALLBACK_KEY", "wait_in_line"]

log = logging.getLogger(__name__)

CALLBACK_KEY = "1"
SERVED, CALLBACK, MAX_WAIT, NO_AGENTS = "served", "callback", "max-wait", "no-agents"


async def wait_in_line(queue: Queue, channel: Channel) -> Cause:
    channel.accept()
    if queue.config.no_agents == "overflow" and not queue.logged_in():
        queue.figures.overflowed += 1
        queue.changed()
        return await _overflow(queue, channel, NO_AGENTS)
    dial = callback_number(queue.engine.office, channel)
    entry = Entry(channel.party, queue.app.clock.now(), channel=channel, dial=dial)
    queue.join(entry)
    started = asyncio.get_running_loop().time()
    try:
        what = await _wait(queue, entry, started)
        while what == CALLBACK:
            if await _take_callback(queue, entry):
                return Cause.NORMAL_CLEARING
            what = await _wait(queue, entry, started)  # not stored: the caller waits on
        if what == SERVED:
            await channel.until_alone()
            return Cause.NORMAL_CLEARING
        queue.leave(entry, "overflow")
        return await _overflow(queue, channel, what)
    finally:
        queue.leave(entry, "abandoned")  # (nothing, if it left otherwise; a request stays)


async def _wait(queue: Queue, entry: Entry, started: float) -> str:
    """Until the caller is served, presses 1 for a callback, or must go to overflow."""
    channel = entry.channel
    assert channel is not None
    loop = asyncio.get_running_loop()
    next_said = max(started, loop.time())
    music(queue.engine, channel)
    async with Listening(channel) as keys:
        while True:
            if entry.served.done():
                return SERVED
            config, now = queue.config, loop.time()
            give_up = started + config.max_wait_s if config.max_wait_s else math.inf
            if now >= give_up:
                return MAX_WAIT
            if config.no_agents == "overflow" and not queue.logged_in():
                return NO_AGENTS
            if now >= next_said:
                _announce(queue, entry, first=now - started < 1.0)
                next_said = now + config.announce_every_s if config.announce_every_s \
                    else math.inf
            key = await _next_key(keys, [entry.served, queue.agents_change()],
                                  min(next_said, give_up) - now)
            if key == CALLBACK_KEY and not entry.served.done() and _may_call_back(queue, entry):
                return CALLBACK


def _may_call_back(queue: Queue, entry: Entry) -> bool:
    return queue.config.callback and entry.dial is not None


def _announce(queue: Queue, entry: Entry, first: bool) -> None:
    """Place and estimated wait (not at the head: their call is next), and the callback
    offer; then the music again. Nothing here waits: an agent answering stops it."""
    engine, channel = queue.engine, entry.channel
    assert channel is not None
    position = queue.position(entry)
    keys = announcement(position, queue.estimate(entry)) if position > 1 else []
    if _may_call_back(queue, entry) and not (first and position == 1):
        keys.append("callback-offer")
    if not keys:
        return
    spoken, _seconds = engine.announcement(keys, beeps=1)
    sound(engine, channel, _Then(spoken, engine.hold_music()), "queue")
    call_event("queue-announce", queue=queue.name, caller=channel.name, position=position)


async def _next_key(keys: asyncio.Queue[str], events: Sequence[asyncio.Future[Any]],
                    within_s: float) -> str | None:
    """The next key pressed within `within_s`, or None (time is up, or one of `events`)."""
    getting = asyncio.ensure_future(keys.get())
    try:
        await asyncio.wait([getting, *events],
                           timeout=None if within_s == math.inf else max(within_s, 0.0),
                           return_when=asyncio.FIRST_COMPLETED)
    finally:
        if not getting.done():
            getting.cancel()
    return getting.result() if getting.done() and not getting.cancelled() else None


async def _take_callback(queue: Queue, entry: Entry) -> bool:
    """The caller pressed 1: the request is stored (keeping the caller's place), then they
    hear "we will call you back at this number when it is your turn. goodbye". False if
    the store failed: the caller hears "invalid" and waits on, as before."""
    channel = entry.channel
    assert channel is not None and entry.dial is not None
    entry.paused = True
    entry.withdrawn.set()  # agents ringing for the caller now stop
    entry.withdrawn = asyncio.Event()  # (for the offers from now on)
    try:
        request = await queue.app.book.add(queue.name, entry.dial, entry.party.name,
                                           entry.joined_at)
    except (StoreError, sqlite3.Error) as exc:
        log.error("callback request of %s in queue %s not stored: %s", channel.name,
                  queue.name, exc)
        entry.paused = False
        await say(queue.engine, channel, ["invalid"])
        music(queue.engine, channel)
        return False
    entry.callback = request
    entry.tried.clear()
    queue.figures.callbacks_requested += 1
    call_event("queue-callback-request", queue=queue.name, caller=channel.name,
               number=request.number, position=queue.position(entry))
    await say(queue.engine, channel, ["callback-taken"])
    bridge = channel.bridge
    if isinstance(bridge, HoldingBridge):
        bridge.dissolve()
    return True


async def _overflow(queue: Queue, channel: Channel, why: str) -> Cause:
    """On to the queue's overflow destination (as a fresh call there)."""
    engine = queue.engine
    target = queue.config.overflow or "hangup"
    call_event("queue-overflow", queue=queue.name, caller=channel.name, why=why, to=target)
    if why == NO_AGENTS:
        await say(engine, channel, ["no-agents"])
    bridge = channel.bridge
    if isinstance(bridge, HoldingBridge):
        bridge.dissolve()
    return await engine.route(channel, target)


class _Then:
    """`first` (an announcement), then `then` (the music) for good."""

    def __init__(self, first: FrameSource, then: FrameSource) -> None:
        self._first: FrameSource | None = first
        self._then = then

    @property
    def finished(self) -> bool:
        return False

    def next_frame(self) -> Frame:
        if self._first is not None:
            if not self._first.finished:
                return self._first.next_frame()
            self._first = None
        return self._then.next_frame()
