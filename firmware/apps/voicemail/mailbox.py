"""Mailboxes on the SD card: messages as WAV files, their index and each box's PIN and
greetings in the store (tables `voicemail` and `mailbox`, firmware/store.py).

    STATE_DIR/voicemail/101/msg-20260301T101500Z-3f9a1c.wav     a message
    STATE_DIR/voicemail/101/greeting-busy.wav                     a recorded greeting

A message is durable before anyone is told it is saved: its WAV file is written and
fsynced (temp file, rename, directory fsync), then its row is committed; both happen in
the store's thread, so the loop that carries every call's audio never waits on the card.
A file whose row never made it is removed again; a row whose file is gone (a damaged
card) is skipped when played, with a log line, not a crash.
"""

from __future__ import annotations

import asyncio
import datetime
import logging
import secrets
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import numpy.typing as npt

from firmware.engine.channel import Party
from firmware.engine.mwi import MessageCounts
from firmware.media.frames import SAMPLE_RATE
from firmware.media.wav import WavFormatError, read_wav, wav_bytes
from firmware.statefiles import write_atomic
from firmware.store import Store

__all__ = ["Greeting", "Mailboxes", "Message"]

log = logging.getLogger(__name__)

DIRECTORY = "voicemail"
MAX_PLAY_S = 3600.0  # longer than any message or greeting the config allows
Greeting = Literal["unavailable", "busy"]
_GREETING_COLUMN = {"unavailable": "greeting_unavailable", "busy": "greeting_busy"}


@dataclass(frozen=True, slots=True)
class Message:
    id: int
    mailbox: str
    folder: str  # "new" (not heard yet) or "saved"
    caller_number: str | None
    caller_name: str | None
    received_at: str  # ISO 8601, UTC
    duration_s: float
    file: str  # relative to the voicemail directory

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> Message:
        return cls(row["id"], row["mailbox"], row["folder"], row["caller_number"],
                   row["caller_name"], row["received_at"], row["duration_s"], row["file"])


class Mailboxes:
    def __init__(self, store: Store, state_dir: Path) -> None:
        self.store = store
        self.directory = state_dir / DIRECTORY

    # -- counts, for message waiting -----------------------------------------------------

    async def counts(self, mailbox: str) -> MessageCounts:
        return (await self.all_counts([mailbox])).get(mailbox, MessageCounts())

    async def all_counts(self, mailboxes: list[str]) -> dict[str, MessageCounts]:
        return await self.store.run(_counts(mailboxes)) if mailboxes else {}

    def all_counts_now(self, mailboxes: list[str]) -> dict[str, MessageCounts]:
        """The same, blocking: at start-up, before any phone may ask."""
        return self.store.run_now(_counts(mailboxes)) if mailboxes else {}

    # -- messages --------------------------------------------------------------------------

    async def messages(self, mailbox: str) -> list[Message]:
        """New messages first, then saved ones; oldest first in each (as Asterisk plays)."""
        def query(db: sqlite3.Connection) -> list[Message]:
            rows = db.execute("SELECT * FROM voicemail WHERE mailbox = ? ORDER BY "
                              "folder = 'saved', received_at, id", (mailbox,))
            return [Message.from_row(row) for row in rows]
        return await self.store.run(query)

    async def save_message(self, mailbox: str, caller: Party,
                           samples: npt.NDArray[np.int16]) -> Message:
        """Keep a message: durable on the card when this returns (file, then row)."""
        now = datetime.datetime.now(datetime.UTC)
        name = f"msg-{now:%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}.wav"
        relative = f"{mailbox}/{name}"
        path = self.directory / relative
        seconds = round(len(samples) / SAMPLE_RATE, 2)

        def keep(db: sqlite3.Connection) -> Message:
            write_atomic(path, wav_bytes(samples))  # encoded here too: megabytes, off the loop
            try:
                cursor = db.execute(
                    "INSERT INTO voicemail (mailbox, folder, caller_number, caller_name, "
                    "received_at, duration_s, file) VALUES (?, 'new', ?, ?, ?, ?, ?)",
                    (mailbox, caller.number, caller.name, now.isoformat(timespec="seconds"),
                     seconds, relative))
            except BaseException:
                path.unlink(missing_ok=True)  # no row: no message; leave no stray file
                raise
            return Message(int(cursor.lastrowid or 0), mailbox, "new", caller.number,
                           caller.name, now.isoformat(timespec="seconds"), seconds, relative)
        return await self.store.run(keep)

    async def move(self, message: Message, folder: str) -> None:
        await self.store.run(lambda db: db.execute(
            "UPDATE voicemail SET folder = ? WHERE id = ?", (folder, message.id)))

    async def delete(self, message: Message) -> None:
        await self.store.run(lambda db: db.execute("DELETE FROM voicemail WHERE id = ?",
                                                   (message.id,)))
        # After the commit: a power cut in between leaves a file without a row, never a
        # row without its file.
        await asyncio.to_thread((self.directory / message.file).unlink, missing_ok=True)

    async def audio(self, message: Message) -> npt.NDArray[np.int16] | None:
        """The message's samples; None (logged) if its file is missing or damaged."""
        return await self._read(self.directory / message.file)

    # -- PIN and greetings ---------------------------------------------------------------

    async def pin(self, mailbox: str) -> str | None:
        """The PIN the owner set by phone, if any."""
        def query(db: sqlite3.Connection) -> str | None:
            row = db.execute("SELECT pin FROM mailbox WHERE mailbox = ?", (mailbox,)).fetchone()
            return row["pin"] if row is not None else None
        return await self.store.run(query)

    async def set_pin(self, mailbox: str, pin: str) -> None:
        await self.store.run(lambda db: db.execute(
            "INSERT INTO mailbox (mailbox, pin) VALUES (?, ?) "
            "ON CONFLICT (mailbox) DO UPDATE SET pin = excluded.pin", (mailbox, pin)))

    async def greeting(self, mailbox: str, kind: Greeting) -> npt.NDArray[np.int16] | None:
        """The recorded greeting, or None (the box then says its own)."""
        column = _GREETING_COLUMN[kind]

        def query(db: sqlite3.Connection) -> str | None:
            row = db.execute(f"SELECT {column} AS file FROM mailbox WHERE mailbox = ?",
                             (mailbox,)).fetchone()
            return row["file"] if row is not None else None
        file = await self.store.run(query)
        return await self._read(self.directory / file) if file else None

    async def save_greeting(self, mailbox: str, kind: Greeting,
                            samples: npt.NDArray[np.int16]) -> None:
        column = _GREETING_COLUMN[kind]
        relative = f"{mailbox}/greeting-{kind}.wav"

        def keep(db: sqlite3.Connection) -> None:
            write_atomic(self.directory / relative, wav_bytes(samples))
            db.execute(f"INSERT INTO mailbox (mailbox, {column}) VALUES (?, ?) "
                       f"ON CONFLICT (mailbox) DO UPDATE SET {column} = excluded.{column}",
                       (mailbox, relative))
        await self.store.run(keep)

    async def _read(self, path: Path) -> npt.NDArray[np.int16] | None:
        try:
            return await asyncio.to_thread(read_wav, path, max_seconds=MAX_PLAY_S)
        except WavFormatError as exc:
            log.error("voicemail: %s", exc)
            return None


def _counts(mailboxes: list[str]) -> Callable[[sqlite3.Connection], dict[str, MessageCounts]]:
    def query(db: sqlite3.Connection) -> dict[str, MessageCounts]:
        found: dict[str, dict[str, int]] = {m: {} for m in mailboxes}
        marks = ",".join("?" * len(mailboxes))
        for row in db.execute(f"SELECT mailbox, folder, COUNT(*) AS n FROM voicemail "
                              f"WHERE mailbox IN ({marks}) GROUP BY mailbox, folder", mailboxes):
            found[row["mailbox"]][row["folder"]] = row["n"]
        return {m: MessageCounts(f.get("new", 0), f.get("saved", 0)) for m, f in found.items()}
    return query
