"""Escalation with a promise ([escalation]): an agent promises an upset customer a
manager's call within N minutes, and the box keeps the promise (docs/queues.md).

    taking    the *36 code: from a call (the customer), or with a number
    keeper    ring the manager, then call the customer back; retries; unkept at the due time
    book      promises in the store

Promises are in the store the moment the customer hears them, and an open one is taken up
again after a restart. `Engine.snapshot()["apps"]["promise"]` shows the open ones and
those not kept.
"""

from __future__ import annotations

import asyncio
import functools
from typing import TYPE_CHECKING, Any

from firmware.apps.promises.book import Promise, PromiseBook
from firmware.apps.promises.keeper import keep
from firmware.apps.promises.taking import take_promise
from firmware.engine.wallclock import WallClock
from firmware.logs import call_event
from firmware.store import Store

if TYPE_CHECKING:
    from firmware.config import OfficeConfig
    from firmware.config.queues import EscalationConfig
    from firmware.engine.dialplan import Destination, DialPlan
    from firmware.engine.pbx import Engine

__all__ = ["PromiseApp"]

SHOWN_UNKEPT = 20  # the latest unkept promises shown in the figures
CRASHED_RETRY_S = 60.0  # a keeper that crashed takes its promise up again after this


class PromiseApp:
    kind = "promise"

    def __init__(self, store: Store) -> None:
        self.store = store
        self.engine: Engine | None = None
        self.config: EscalationConfig | None = None
        self.open: dict[int, Promise] = {}
        self.unkept: list[Promise] = []  # the latest few, to show
        self.unkept_count = 0
        self.kept = 0
        self._clock: WallClock | None = None
        self._book: PromiseBook | None = None
        self.resumed = asyncio.Event()  # the stored open promises are being kept again

    @property
    def clock(self) -> WallClock:
        if self._clock is None:
            self._clock = WallClock(asyncio.get_running_loop())
        return self._clock

    @property
    def book(self) -> PromiseBook:
        if self._book is None:
            self._book = PromiseBook(self.store, self.clock)
        return self._book

    def configure(self, engine: Engine, office: OfficeConfig, dialplan: DialPlan) -> None:
        self.engine = engine
        self.config = office.escalation
        if self.config is None:
            return
        code = office.features.manager_callback
        dialplan.add(code, functools.partial(take_promise, self))
        dialplan.add_code(code, self._for_number)

    def _for_number(self, number: str) -> Destination:
        return functools.partial(take_promise, self, number=number)

    def destination(self, name: str) -> Destination | None:
        return None  # reached by its code only

    def start(self, engine: Engine) -> None:
        self.engine = engine
        engine.supervisor.spawn("promises resume", self._resume())

    async def _resume(self) -> None:
        try:
            for promise in await self.book.load():
                if promise.status == "open":
                    self._keep(promise)
                elif promise.status == "unkept":
                    self._note_unkept(promise)
                else:
                    self.kept += 1
        finally:
            self.resumed.set()
        self.changed()

    async def take(self, number: str, name: str | None, taken_by: str | None) -> Promise:
        assert self.config is not None
        due = self.clock.now() + self.config.promise_minutes * 60
        manager = self.config.manager
        promise = await self.book.add(number, name, manager, taken_by, due)
        call_event("promise-taken", id=promise.id, customer=number, taken_by=taken_by,
                   manager=manager, due=self.clock.iso(due))
        self._keep(promise)
        return promise

    def _keep(self, promise: Promise) -> None:
        assert self.engine is not None
        self.open[promise.id] = promise
        self.engine.supervisor.spawn(f"promise {promise.id}", self._keeping(promise),
                                     on_crash=lambda _exc: self._crashed(promise))
        self.changed()

    async def _keeping(self, promise: Promise) -> None:
        await keep(self, promise)
        self.open.pop(promise.id, None)
        if promise.status == "kept":
            self.kept += 1
        elif promise.status == "unkept":
            self._note_unkept(promise)
        self.changed()

    def _crashed(self, promise: Promise) -> None:
        asyncio.get_running_loop().call_later(
            CRASHED_RETRY_S, lambda: self._keep(promise) if promise.status == "open" else None)

    def _note_unkept(self, promise: Promise) -> None:
        self.unkept_count += 1
        self.unkept = [*self.unkept, promise][-SHOWN_UNKEPT:]

    def changed(self) -> None:
        if self.engine is not None:
            self.engine.publish()

    async def stop(self) -> None:
        pass  # keepers are tasks of the supervisor, stopped with it; promises stay open

    def snapshot(self) -> dict[str, Any]:
        return {
            "open": [p.as_dict(self.clock) for p in self.open.values()],
            "kept": self.kept,
            "unkept_count": self.unkept_count,
            "unkept": [p.as_dict(self.clock) for p in self.unkept],
        }
