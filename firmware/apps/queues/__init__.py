"""Call queues ([[queue]]): callers wait in order, with music, for the queue's agents
(docs/queues.md).

    caller      a caller's wait: music, place and estimated wait, key 1, overflow
    queue       one queue at work: its line, and the dispatcher that offers it to agents
    offer       ringing agents for a place in line, and what follows an answer
    strategy    which free agents ring (ring-all, longest-idle, round-robin, fewest-calls,
                penalties)                                                          [pure]
    estimate    the estimated wait and the words that say it                        [pure]
    figures     answered, abandoned, service level, average wait                    [pure]
    line        the places in line, in join order
    agents      who is logged in (kept across restarts), free, in wrap-up
    callbacks   callback requests in the store
    login       the *45 code

Figures of every queue are in `Engine.snapshot()["apps"]["queue"]` and published to the
control interface (`phone info --json`), and logged (`event=queue-figures`).
"""

from __future__ import annotations

import asyncio
import functools
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from firmware.apps.queues.agents import LOGINS_FILE, AgentRoster
from firmware.apps.queues.callbacks import CallbackBook
from firmware.apps.queues.caller import wait_in_line
from firmware.apps.queues.login import toggle_agent
from firmware.apps.queues.queue import Queue
from firmware.engine.channel import Cause, Channel
from firmware.engine.wallclock import WallClock
from firmware.store import Store

if TYPE_CHECKING:
    from firmware.config import OfficeConfig
    from firmware.engine.dialplan import Destination, DialPlan
    from firmware.engine.pbx import Engine

__all__ = ["QueueApp"]

log = logging.getLogger(__name__)


class QueueApp:
    kind = "queue"

    def __init__(self, state_dir: Path | None, store: Store) -> None:
        self.store = store
        self.roster = AgentRoster(state_dir / LOGINS_FILE if state_dir is not None else None)
        self.queues: dict[str, Queue] = {}  # also those removed from the config: they
        self._configured: set[str] = set()  # serve the callers already in line
        self.engine: Engine | None = None
        self._clock: WallClock | None = None
        self._book: CallbackBook | None = None
        self._started = False
        self.resumed = asyncio.Event()  # the stored callback requests are back in line

    @property
    def clock(self) -> WallClock:
        if self._clock is None:
            self._clock = WallClock(asyncio.get_running_loop())
        return self._clock

    @property
    def book(self) -> CallbackBook:
        if self._book is None:
            self._book = CallbackBook(self.store, self.clock)
        return self._book

    def configure(self, engine: Engine, office: OfficeConfig, dialplan: DialPlan) -> None:
        self.engine = engine
        self._configured = {config.name for config in office.queues}
        for config in office.queues:
            queue = self.queues.get(config.name)
            if queue is None:
                queue = self.queues[config.name] = Queue(self, config)
                if self._started:
                    queue.start()
            else:
                queue.reconfigure(config)
            if config.number is not None:
                dialplan.add(config.number, functools.partial(self._run, config.name))
        if office.queues:
            dialplan.add(office.features.agent_login, functools.partial(toggle_agent, self))

    def destination(self, name: str) -> Destination | None:
        if name not in self._configured:
            return None
        return functools.partial(self._run, name)

    async def _run(self, name: str, channel: Channel) -> Cause:
        return await wait_in_line(self.queues[name], channel)

    def start(self, engine: Engine) -> None:
        self.engine = engine
        self._started = True
        for queue in self.queues.values():
            queue.start()
        engine.supervisor.spawn("queue callbacks resume", self._resume())

    async def _resume(self) -> None:
        """Callback requests from before the restart go back to their places."""
        try:
            for request in await self.book.waiting():
                queue = self.queues.get(request.queue)
                if queue is None:
                    log.warning("callback request %d for queue %r kept: no such queue now",
                                request.id, request.queue)
                    continue
                queue.restore(request)
        finally:
            self.resumed.set()

    async def stop(self) -> None:
        self._started = False
        for queue in self.queues.values():
            await queue.stop()

    def publish(self) -> None:
        if self.engine is not None:
            self.engine.publish()

    def snapshot(self) -> dict[str, Any]:
        return {name: queue.snapshot() for name, queue in self.queues.items()}
