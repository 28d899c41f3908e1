"""Manager-callback promises in the store (table `promise`).

    open   ->  kept     the manager and the customer talked (by the due time, or just after
                        it if that try started before it)
           ->  unkept   the due time passed, or every try failed: visible in the figures
                        and the log, never silently dropped
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from firmware.engine.wallclock import WallClock
from firmware.store import Store

__all__ = ["Promise", "PromiseBook"]


@dataclass
class Promise:
    id: int
    customer_number: str  # as dialled from the office (firmware.apps.reach)
    customer_name: str | None
    manager: str  # the destination that keeps it
    taken_by: str | None  # the agent's extension
    due_at: float  # epoch s
    status: str = "open"
    attempts: int = 0
    outcome: str | None = None

    def as_dict(self, clock: WallClock) -> dict[str, object]:
        return {"id": self.id, "customer": self.customer_number, "name": self.customer_name,
                "taken_by": self.taken_by, "due": clock.iso(self.due_at),
                "status": self.status, "attempts": self.attempts, "outcome": self.outcome}


class PromiseBook:
    def __init__(self, store: Store, clock: WallClock) -> None:
        self.store = store
        self.clock = clock

    async def add(self, number: str, name: str | None, manager: str, taken_by: str | None,
                  due_at: float) -> Promise:
        created = self.clock.iso()

        def insert(db: sqlite3.Connection) -> int:
            cursor = db.execute(
                "INSERT INTO promise (customer_number, customer_name, manager, taken_by, "
                "created_at, due_at) VALUES (?, ?, ?, ?, ?, ?)",
                (number, name, manager, taken_by, created, due_at))
            return int(cursor.lastrowid or 0)

        return Promise(await self.store.run(insert), number, name, manager, taken_by, due_at)

    async def load(self, statuses: tuple[str, ...] = ("open", "kept", "unkept")
                   ) -> list[Promise]:
        marks = ", ".join("?" for _ in statuses)

        def select(db: sqlite3.Connection) -> list[Promise]:
            rows = db.execute(
                "SELECT id, customer_number, customer_name, manager, taken_by, due_at, "
                f"status, attempts, outcome FROM promise WHERE status IN ({marks}) "
                "ORDER BY due_at", statuses)
            return [Promise(r["id"], r["customer_number"], r["customer_name"], r["manager"],
                            r["taken_by"], r["due_at"], r["status"], r["attempts"],
                            r["outcome"]) for r in rows]

        return await self.store.run(select)

    async def tried(self, promise: Promise, outcome: str) -> None:
        promise.attempts += 1
        promise.outcome = outcome
        at = self.clock.iso()

        def update(db: sqlite3.Connection) -> None:
            db.execute("UPDATE promise SET attempts = ?, last_attempt_at = ?, outcome = ? "
                       "WHERE id = ?", (promise.attempts, at, outcome, promise.id))

        await self.store.run(update)

    async def settle(self, promise: Promise, status: str, outcome: str) -> None:
        """Kept or unkept, for good; a call record says so too."""
        promise.status = status
        promise.outcome = outcome
        at = self.clock.iso()

        def update(db: sqlite3.Connection) -> None:
            db.execute("UPDATE promise SET status = ?, outcome = ? WHERE id = ?",
                       (status, outcome, promise.id))
            db.execute("INSERT INTO call_record (started_at, ended_at, source, destination, "
                       "kind, what, outcome) VALUES (?, ?, ?, ?, 'promise', ?, ?)",
                       (at, at, promise.taken_by, promise.customer_number, promise.manager,
                        f"{status}: {outcome}"))

        await self.store.run(update)
