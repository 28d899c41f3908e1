"""Which free agents ring for the caller at the head of the line: the queue's strategy,
over the agents with the lowest penalty among those free (skills, as in Asterisk: an agent
with a higher penalty rings only when no agent with a lower one is free).

    ring-all       every one of them at once; the first to answer takes the call
    longest-idle   the one whose last queue call ended longest ago (never called: first)
    round-robin    the next after the one rung last, in the order of the config
    fewest-calls   the one who took the fewest queue calls (ties: longest idle)

Pure: the queue hands in what it knows of each agent; ties go to the order of the config.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["AgentView", "choose"]


@dataclass(frozen=True, slots=True)
class AgentView:
    """What the strategy needs to know of one free agent."""

    extension: str
    penalty: int
    order: int  # position in the queue's `agents`
    idle_since: float  # when their last queue call ended (or -inf: none yet)
    calls: int  # queue calls taken


def choose(strategy: str, free: Sequence[AgentView], last_rung: str | None = None,
           order: Sequence[str] = ()) -> list[AgentView]:
    """The agents to ring now, from `free` (may be empty). `last_rung` and `order` (every
    agent of the queue, in config order) are for round-robin."""
    if not free:
        return []
    best = min(a.penalty for a in free)
    group = sorted((a for a in free if a.penalty == best), key=lambda a: a.order)
    if strategy == "ring-all":
        return group
    if strategy == "longest-idle":
        return [min(group, key=lambda a: (a.idle_since, a.order))]
    if strategy == "fewest-calls":
        return [min(group, key=lambda a: (a.calls, a.idle_since, a.order))]
    if strategy == "round-robin":
        return [_next_after(group, last_rung, order)]
    raise ValueError(f"unknown strategy {strategy!r}")


def _next_after(group: list[AgentView], last: str | None, order: Sequence[str]) -> AgentView:
    """The first of `group` after `last` in the queue's order, wrapping around."""
    if last is None or last not in order:
        return group[0]
    start = order.index(last)
    rank = {ext: (i - start - 1) % len(order) for i, ext in enumerate(order)}
    return min(group, key=lambda a: rank.get(a.extension, len(order)))
