"""The box's durable records in SQLite (WAL): the voicemail index, mailboxes, queue
callback requests, manager-callback promises and call records.

SQLite commits with an fsync, and an SD card can take tens of milliseconds for one: long
enough to break every call's 20 ms audio. So the connection lives in one worker thread and
the loop awaits its results (`await store.run(fn)`); nothing else touches the database, so
statements never interleave. The firmware's logic stays on the loop: the thread only does
the blocking I/O, as a HAL driver would (DESIGN.md, "Runtime").

Durability: WAL with `synchronous=FULL`, so a row is on the card when `run` returns: a
voicemail is "saved" only after its row is committed (and its WAV file was fsynced first).
The schema is created on first open and grows by numbered migrations; a database from a
newer firmware (a higher `user_version`) is refused rather than guessed at.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

__all__ = ["STORE_FILE", "Store", "StoreError"]

STORE_FILE = "box.sqlite3"

T = TypeVar("T")

# Each entry takes the schema from version N to N + 1. Only ever append.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE voicemail (
        id INTEGER PRIMARY KEY,
        mailbox TEXT NOT NULL,
        folder TEXT NOT NULL DEFAULT 'new',        -- 'new' or 'saved'
        caller_number TEXT,
        caller_name TEXT,
        received_at TEXT NOT NULL,                 -- ISO 8601, UTC
        duration_s REAL NOT NULL,
        file TEXT NOT NULL                         -- relative to the voicemail directory
    );
    CREATE INDEX voicemail_by_box ON voicemail (mailbox, folder, received_at);
    CREATE TABLE mailbox (
        mailbox TEXT PRIMARY KEY,
        pin TEXT,                                  -- set by its owner; NULL: the config's
        greeting_unavailable TEXT,                 -- recorded greetings (file names)
        greeting_busy TEXT
    );
    CREATE TABLE callback (
        id INTEGER PRIMARY KEY,
        queue TEXT NOT NULL,
        number TEXT NOT NULL,                      -- who to call back
        name TEXT,
        joined_at REAL NOT NULL,                   -- the place kept in the queue (UTC epoch s)
        requested_at TEXT NOT NULL,
        status TEXT NOT NULL DEFAULT 'waiting',    -- waiting, done, failed
        attempts INTEGER NOT NULL DEFAULT 0,
        last_attempt_at TEXT,
        outcome TEXT
    );
    CREATE INDEX callback_waiting ON callback (queue, status, joined_at);
    CREATE TABLE promise (
        id INTEGER PRIMARY KEY,
        customer_number TEXT NOT NULL,
        customer_name TEXT,
        manager TEXT NOT NULL,                     -- the destination that keeps it
        taken_by TEXT,                             -- the agent's extension
        created_at TEXT NOT NULL,
        due_at REAL NOT NULL,                      -- UTC epoch s: ring the manager by then
        status TEXT NOT NULL DEFAULT 'open',       -- open, kept, unkept
        attempts INTEGER NOT NULL DEFAULT 0,
        last_attempt_at TEXT,
        outcome TEXT
    );
    CREATE TABLE call_record (
        id INTEGER PRIMARY KEY,
        started_at TEXT NOT NULL,
        ended_at TEXT,
        source TEXT,
        destination TEXT,
        kind TEXT,                                 -- 'queue', 'callback', 'voicemail', ...
        what TEXT,                                 -- the queue's, the menu's name ...
        waited_s REAL,
        outcome TEXT
    );
    """,
)


class StoreError(Exception):
    """The database cannot be used; the message names the file and the reason."""


class Store:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._worker = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="store")
        self._db: sqlite3.Connection | None = None

    def open(self) -> None:
        """Open (and create or migrate) the database; blocking, for start-up."""
        self._worker.submit(self._open).result()

    async def run(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """`fn(connection)` in the store's thread, committed when it returns normally."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._worker, self._call, fn)

    def run_now(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """The same, blocking: for start-up and tools, never from a call."""
        return self._worker.submit(self._call, fn).result()

    def close(self) -> None:
        if self._db is not None:
            self._worker.submit(self._close).result()
        self._worker.shutdown(wait=True)

    # -- in the worker thread ---------------------------------------------------------

    def _open(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(self.path, isolation_level=None)
            db.row_factory = sqlite3.Row
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=FULL")
            db.execute("PRAGMA busy_timeout=2000")
            version = db.execute("PRAGMA user_version").fetchone()[0]
            if version > len(MIGRATIONS):
                raise StoreError(f"{self.path}: written by a newer firmware (schema "
                                 f"{version}, this one knows {len(MIGRATIONS)}); restore a "
                                 "backup or update the firmware")
            for number in range(version, len(MIGRATIONS)):
                db.executescript(f"BEGIN; {MIGRATIONS[number]}; "
                                 f"PRAGMA user_version={number + 1}; COMMIT;")
        except sqlite3.Error as exc:
            raise StoreError(f"{self.path}: {exc}") from exc
        self._db = db

    def _call(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        db = self._db
        if db is None:
            raise StoreError(f"{self.path}: the store is not open")
        db.execute("BEGIN IMMEDIATE")
        try:
            result = fn(db)
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
        return result

    def _close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None
