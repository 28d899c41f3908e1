"""Callback requests in the store (table `callback`): a caller pressed 1 to hang up and be
called back, keeping their place in line. The row is written before the caller hears "we
will call you back", so a request they heard taken survives a power cut; at start the
waiting rows go back into their queues' lines at their original places.

    waiting  ->  done      an agent and the customer talked
             ->  failed    every try went unanswered (attempts = 1 + callback_retries)
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from firmware.engine.wallclock import WallClock
from firmware.store import Store

__all__ = ["CallbackBook", "CallbackRequest"]


@dataclass
class CallbackRequest:
    id: int
    queue: str
    number: str  # as dialled from the office (firmware.apps.reach)
    name: str | None
    joined_at: float  # epoch s: the caller's place in line
    attempts: int = 0


class CallbackBook:
    def __init__(self, store: Store, clock: WallClock) -> None:
        self.store = store
        self.clock = clock

    async def add(self, queue: str, number: str, name: str | None,
                  joined_at: float) -> CallbackRequest:
        requested = self.clock.iso()

        def insert(db: sqlite3.Connection) -> int:
            cursor = db.execute(
                "INSERT INTO callback (queue, number, name, joined_at, requested_at) "
                "VALUES (?, ?, ?, ?, ?)", (queue, number, name, joined_at, requested))
            return int(cursor.lastrowid or 0)

        return CallbackRequest(await self.store.run(insert), queue, number, name, joined_at)

    async def waiting(self) -> list[CallbackRequest]:
        def select(db: sqlite3.Connection) -> list[CallbackRequest]:
            rows = db.execute("SELECT id, queue, number, name, joined_at, attempts FROM "
                              "callback WHERE status = 'waiting' ORDER BY joined_at")
            return [CallbackRequest(r["id"], r["queue"], r["number"], r["name"],
                                    r["joined_at"], r["attempts"]) for r in rows]

        return await self.store.run(select)

    async def tried(self, request: CallbackRequest, outcome: str, status: str) -> None:
        """One more try, with its outcome; `status` waiting (to try again), done, failed."""
        request.attempts += 1
        at = self.clock.iso()
        waited = self.clock.now() - request.joined_at

        def update(db: sqlite3.Connection) -> None:
            db.execute("UPDATE callback SET attempts = ?, last_attempt_at = ?, outcome = ?, "
                       "status = ? WHERE id = ?",
                       (request.attempts, at, outcome, status, request.id))
            if status != "waiting":
                db.execute("INSERT INTO call_record (started_at, ended_at, destination, "
                           "kind, what, waited_s, outcome) VALUES (?, ?, ?, 'callback', ?, "
                           "?, ?)", (self.clock.iso(request.joined_at), at, request.number,
                                     request.queue, waited, outcome))

        await self.store.run(update)
