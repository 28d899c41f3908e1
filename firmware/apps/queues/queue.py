"""One queue at work: its line, and a dispatcher that offers the places in line to free
agents, in order.

The dispatcher wakes whenever something changes (a caller joins or leaves, an offer ends,
an agent logs in) and at least every `RECHECK_S` while anyone waits (an agent's phone that
comes free is noticed that soon). It walks the line from the head; for each place not
already being offered it asks the strategy which free agents to ring (`strategy.choose`);
as long as agents are free, the places behind the head are offered too, each to other
agents (Asterisk's "autofill"). Ringing and what follows an answer run as one task per
offer (`offer.offer`), so a crash in one costs that offer, never the line: its caller
stays in place and is offered again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING, Any

from firmware.apps.queues.estimate import HandleTime, estimated_wait_s
from firmware.apps.queues.figures import QueueFigures
from firmware.apps.queues.line import Entry, Line
from firmware.apps.queues.offer import offer
from firmware.apps.queues.strategy import AgentView, choose
from firmware.engine.channel import Party
from firmware.logs import call_event

if TYPE_CHECKING:
    from firmware.apps.queues import QueueApp
    from firmware.apps.queues.callbacks import CallbackRequest
    from firmware.config.queues import QueueConfig
    from firmware.engine.pbx import Engine

__all__ = ["RECHECK_S", "Queue"]

log = logging.getLogger(__name__)

RECHECK_S = 2.0
RESTART_S = 1.0  # a crashed dispatcher starts again after this (not in a tight loop)


class Queue:
    def __init__(self, app: QueueApp, config: QueueConfig) -> None:
        self.app = app
        self.config = config
        self.line = Line()
        self.figures = QueueFigures(config.service_level_s)
        self.handle = HandleTime()  # how long agents are busy with one call
        self.last_rung: str | None = None  # round-robin's memory
        self._wake = asyncio.Event()
        self._agents_changed = asyncio.get_running_loop().create_future()
        self._dispatcher: asyncio.Task[None] | None = None

    @property
    def name(self) -> str:
        return self.config.name

    @property
    def engine(self) -> Engine:
        assert self.app.engine is not None
        return self.app.engine

    def reconfigure(self, config: QueueConfig) -> None:
        self.config = config
        self.figures.service_level_s = config.service_level_s
        self.wake()

    # -- running ------------------------------------------------------------------------

    def start(self) -> None:
        if self._dispatcher is None or self._dispatcher.done():
            self._dispatcher = self.engine.supervisor.spawn(
                f"queue {self.name}", self._dispatch_forever(), on_crash=self._crashed)

    async def stop(self) -> None:
        if self._dispatcher is not None:
            self._dispatcher.cancel()
            self._dispatcher = None

    def _crashed(self, _exc: BaseException) -> None:
        self._dispatcher = None
        asyncio.get_running_loop().call_later(RESTART_S, self.start)

    def wake(self) -> None:
        self._wake.set()

    def changed(self) -> None:
        """Something a waiting caller, an agent or the figures care about changed."""
        self.wake()
        self.app.publish()

    def agents_changed(self) -> None:
        """An agent logged in or out: waiting callers check whether anyone is left."""
        done, self._agents_changed = self._agents_changed, \
            asyncio.get_running_loop().create_future()
        done.set_result(None)
        self.changed()

    def agents_change(self) -> asyncio.Future[None]:
        """Done at the next log-in or log-out of an agent of this queue."""
        return self._agents_changed

    # -- the line -----------------------------------------------------------------------

    def join(self, entry: Entry) -> None:
        self.line.add(entry)
        call_event("queue-join", queue=self.name, caller=entry.label,
                   number=entry.party.number, position=self.line.position(entry))
        self.changed()

    def restore(self, request: CallbackRequest) -> None:
        """A callback request from before a restart goes back to its place."""
        entry = Entry(Party(request.number, request.name), request.joined_at,
                      dial=request.number, callback=request)
        self.line.add(entry)
        call_event("queue-callback-resumed", queue=self.name, number=request.number,
                   position=self.line.position(entry), attempts=request.attempts)
        self.changed()

    def leave(self, entry: Entry, why: str) -> None:
        """`entry` leaves the line without an agent: abandoned, overflow, or a callback
        request that is finished with. A caller who asked for a callback stays."""
        if entry.callback is not None and why == "abandoned":
            entry.channel = None  # (the caller hung up while hearing "we will call you back")
            entry.paused = False
            self.changed()
            return
        if not self.line.remove(entry):
            return
        entry.withdrawn.set()
        if why == "abandoned":
            self.figures.abandoned += 1
        elif why == "overflow":
            self.figures.overflowed += 1
        waited = self.app.clock.now() - entry.joined_at
        call_event(f"queue-{why}", queue=self.name, caller=entry.label,
                   waited_s=f"{waited:.0f}")
        self.log_figures()
        self.changed()

    def answered(self, entry: Entry, *, count: bool = True) -> float:
        """An agent took `entry`'s call: out of the line; how long it waited. A callback
        is counted apart (`count` False): its caller did not wait on the line."""
        waited = self.app.clock.now() - entry.joined_at
        if self.line.remove(entry) and count:
            self.figures.answer(waited)
        entry.withdrawn.set()
        self.log_figures()
        self.changed()
        return waited

    def position(self, entry: Entry) -> int:
        return self.line.position(entry)

    def logged_in(self) -> list[str]:
        return [a.extension for a in self.config.agents
                if self.app.roster.logged_in(a.extension)]

    def estimate(self, entry: Entry) -> float | None:
        return estimated_wait_s(self.position(entry), len(self.logged_in()),
                                self.handle.seconds)

    # -- dispatching ---------------------------------------------------------------------

    async def _dispatch_forever(self) -> None:
        while True:
            self._dispatch()
            with contextlib.suppress(TimeoutError):  # (a look now and then, see above)
                await asyncio.wait_for(self._wake.wait(), RECHECK_S if len(self.line) else None)
            self._wake.clear()

    def _dispatch(self) -> None:
        now = asyncio.get_running_loop().time()
        for entry in self.line:
            if entry.offering or entry.paused or entry.served.done():
                continue
            if entry.not_before > now:
                continue  # a callback between tries, a caller between rounds
            chosen = self._choose(entry, now)
            if not chosen:
                return  # nobody free: those behind must wait too
            entry.offering = True
            for extension in chosen:  # (now: the places behind must not choose them too)
                self.app.roster.state(extension).engaged = "ringing"
            self.engine.supervisor.spawn(
                f"queue {self.name} offer {entry.label}", offer(self, entry, chosen),
                on_crash=lambda _exc, e=entry, c=chosen: self._offer_crashed(e, c))

    def _offer_crashed(self, entry: Entry, chosen: list[str]) -> None:
        entry.offering = False  # it keeps its place and is offered again
        for extension in chosen:  # and the agents are free for it
            state = self.app.roster.state(extension)
            if state.engaged == "ringing":
                state.engaged = None
        self.wake()

    def _choose(self, entry: Entry, now: float) -> list[str]:
        roster = self.app.roster
        free = []
        for order, agent in enumerate(self.config.agents):
            if roster.status(self.engine, agent.extension, now) != "free":
                continue
            state = roster.state(agent.extension)
            free.append(AgentView(agent.extension, agent.penalty, order, state.idle_since,
                                  state.calls))
        untried = [a for a in free if a.extension not in entry.tried]
        if free and not untried:
            entry.tried.clear()  # every free agent was rung in vain: a new round
            untried = free
        agents = [a.extension for a in self.config.agents]
        return [a.extension for a in choose(self.config.strategy, untried, self.last_rung,
                                            agents)]

    # -- what people see ------------------------------------------------------------------

    def shown_to_agent(self, entry: Entry) -> Party:
        """Caller ID on the agent's phone: the caller, and which queue (or a callback)."""
        who = "callback" if entry.channel is None else \
            (entry.party.name or entry.party.number or "caller")
        return Party(entry.party.number, f"{self.name}:{who}")

    def shown_to_customer(self) -> Party:
        """Caller ID on a called-back customer's phone: the queue (the office outside)."""
        return Party(self.config.number, self.engine.office.site.name or self.name)

    def log_figures(self) -> None:
        call_event("queue-figures", queue=self.name, waiting=len(self.line),
                   callbacks=self.line.callbacks(),
                   **{k: v for k, v in self.figures.as_dict().items()
                      if k != "service_level_s"})

    def snapshot(self) -> dict[str, Any]:
        now = self.app.clock.now()
        oldest = self.line.oldest()
        loop_now = asyncio.get_running_loop().time()
        handle = self.handle.seconds
        return {
            "number": self.config.number,
            "waiting": len(self.line),
            "callers_waiting": self.line.callers(),
            "callbacks_pending": self.line.callbacks(),
            "longest_wait_s": None if oldest is None else round(max(now - oldest, 0.0)),
            **self.figures.as_dict(),
            "handle_s": None if handle is None else round(handle, 1),
            "agents": {a.extension: self.app.roster.status(self.engine, a.extension, loop_now)
                       for a in self.config.agents},
        }
