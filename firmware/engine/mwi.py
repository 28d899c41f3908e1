"""Message waiting: how many new and saved voice messages each mailbox holds, for the
phones to show.

The voicemail application (firmware/apps/voicemail) is the only writer: it sets a mailbox's
counts from the store at start-up and after every change. The engine's indicators read and
follow them: stutter dial tone and visual message waiting on the extension's analog lines
(`firmware.engine.channels.fxs_vmwi`), `message-summary` NOTIFYs to the SIP phones that
subscribed (`firmware.engine.mwi_subscriptions`). So the engine never imports the
application, and each indicator learns of a change the moment it happens.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["MessageCounts", "MessageWaiting"]


@dataclass(frozen=True, slots=True)
class MessageCounts:
    new: int = 0
    saved: int = 0

    @property
    def total(self) -> int:
        return self.new + self.saved

    @property
    def waiting(self) -> bool:
        """Something the owner has not heard yet: the lamp is on."""
        return self.new > 0


Listener = Callable[[str, MessageCounts], None]


class MessageWaiting:
    """The counts of every mailbox the box has, and who to tell when they change."""

    def __init__(self) -> None:
        self._counts: dict[str, MessageCounts] = {}
        self._listeners: list[Listener] = []

    def __contains__(self, mailbox: object) -> bool:
        return mailbox in self._counts

    def mailboxes(self) -> list[str]:
        return sorted(self._counts)

    def get(self, mailbox: str) -> MessageCounts:
        return self._counts.get(mailbox, MessageCounts())

    def waiting(self, mailbox: str | None) -> bool:
        return mailbox is not None and self.get(mailbox).waiting

    def listen(self, listener: Listener) -> None:
        """Call `listener(mailbox, counts)` after every change (and for a new mailbox)."""
        self._listeners.append(listener)

    def set(self, mailbox: str, counts: MessageCounts) -> None:
        """`mailbox` holds `counts` now; listeners hear of it if that is news."""
        if self._counts.get(mailbox) == counts:
            return
        self._counts[mailbox] = counts
        for listener in self._listeners:
            listener(mailbox, counts)  # each only schedules its work: quick, never blocks

    def remove(self, mailbox: str) -> None:
        """The mailbox is gone (its extension lost voicemail): the phones go dark."""
        if mailbox in self._counts:
            self.set(mailbox, MessageCounts())
            del self._counts[mailbox]
