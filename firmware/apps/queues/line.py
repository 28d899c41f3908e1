"""The line of a queue: who waits, in the order they joined. A caller on the phone and a
callback request are both places in line; a request keeps the place its caller had (its
original join time), across a reboot too.
"""

from __future__ import annotations

import asyncio
import bisect
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from firmware.apps.queues.callbacks import CallbackRequest
    from firmware.engine.channel import Channel, Party

__all__ = ["Entry", "Line"]


@dataclass(eq=False)
class Entry:
    """One place in line."""

    party: Party  # who waits (caller ID)
    joined_at: float  # epoch s: the place in line
    channel: Channel | None = None  # the caller on the line; None: a callback request
    dial: str | None = None  # how to call them back (None: the box cannot)
    callback: CallbackRequest | None = None  # set once they asked to be called back
    offering: bool = False  # agents ring for it now
    paused: bool = False  # not to be offered now (hearing "we will call you back")
    not_before: float = 0.0  # loop time: no offer before (a pause between tries)
    tried: set[str] = field(default_factory=set)  # agents rung in vain this round
    # An agent's leg, once connected to the caller.
    served: asyncio.Future[Channel] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future())
    # Set to stop the agents ringing for it (it left, or paused).
    withdrawn: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def label(self) -> str:
        if self.channel is not None:
            return self.channel.name
        number = self.callback.number if self.callback is not None else "?"
        return f"callback:{number}"


class Line:
    def __init__(self) -> None:
        self._entries: list[Entry] = []

    def __iter__(self) -> Iterator[Entry]:
        return iter(list(self._entries))  # a copy: offers and leavers change the line

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, entry: object) -> bool:
        return entry in self._entries

    def add(self, entry: Entry) -> None:
        """In join-time order (a restored callback goes back to where it was)."""
        keys = [e.joined_at for e in self._entries]
        self._entries.insert(bisect.bisect_right(keys, entry.joined_at), entry)

    def remove(self, entry: Entry) -> bool:
        if entry in self._entries:
            self._entries.remove(entry)
            return True
        return False

    def position(self, entry: Entry) -> int:
        """1: at the head."""
        return self._entries.index(entry) + 1

    def callers(self) -> int:
        return sum(1 for e in self._entries if e.callback is None)

    def callbacks(self) -> int:
        return sum(1 for e in self._entries if e.callback is not None)

    def oldest(self) -> float | None:
        return self._entries[0].joined_at if self._entries else None
