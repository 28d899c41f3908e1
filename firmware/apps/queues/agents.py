"""Queue agents: who is logged in, who is free, and what each has done.

An agent listed in a queue's config is logged in from the start, like a static member in
FreePBX: a queue works the day it is set up. `*45` logs the agent out of (and back into)
every queue that lists them; that choice is kept in the state directory
(`queue-agents.json`) and survives a restart; a damaged file is set aside and everyone
starts logged in.

An agent is offered one queue call at a time, across all queues: while rung for one caller,
talking to one, or in wrap-up after one, no other queue rings them. Nor does a queue ring
an agent whose phone is in use (an analog phone off-hook or ringing), who set do not
disturb, or who has no phone to ring (no port, no SIP phone registered).
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from firmware.engine.channels.fxs import FxsPort, PortState
from firmware.statefiles import write_atomic

if TYPE_CHECKING:
    from firmware.engine.pbx import Device, Engine

__all__ = ["LOGINS_FILE", "AgentRoster", "AgentState"]

log = logging.getLogger(__name__)

LOGINS_FILE = "queue-agents.json"


@dataclass
class AgentState:
    engaged: str | None = None  # "ringing" or "talking": a queue call has them
    wrap_until: float = 0.0  # loop time their wrap-up ends
    idle_since: float = -math.inf  # loop time their last queue call ended
    calls: int = 0  # queue calls taken


class AgentRoster:
    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._logged_in: dict[str, bool] = _read(path) if path is not None else {}
        self._states: dict[str, AgentState] = {}

    def logged_in(self, extension: str) -> bool:
        return self._logged_in.get(extension, True)

    async def toggle(self, extension: str) -> bool:
        """Log `extension` out if in, in if out; True if now logged in."""
        now_in = not self.logged_in(extension)
        self._logged_in[extension] = now_in
        if self.path is not None:
            data = json.dumps(self._logged_in, indent=1, sort_keys=True).encode()
            # fsync can take tens of ms on an SD card: not on the loop, which carries audio.
            await asyncio.to_thread(write_atomic, self.path, data)
        return now_in

    def state(self, extension: str) -> AgentState:
        return self._states.setdefault(extension, AgentState())

    def phones(self, engine: Engine, extension: str) -> list[Device]:
        """The agent's phones a queue may ring now (none: the agent cannot take a call)."""
        config = engine.office.extension(extension)
        if config is None or engine.settings.get(extension).dnd:
            return []
        devices = engine.devices_of(config)
        if any((isinstance(d, FxsPort) and not _idle(d)) or getattr(d, "in_call", False)
               for d in devices):
            return []  # on the phone (or lifting it): not to be disturbed by the queue
        return [d for d in devices if d.available]

    def status(self, engine: Engine, extension: str, now: float) -> str:
        """free, ringing, talking, wrap-up, busy (phone in use or DND), logged-out."""
        if not self.logged_in(extension):
            return "logged-out"
        state = self.state(extension)
        if state.engaged is not None:
            return state.engaged
        if now < state.wrap_until:
            return "wrap-up"
        return "free" if self.phones(engine, extension) else "busy"

    def start_call(self, extension: str) -> None:
        self.state(extension).engaged = "talking"

    def end_call(self, extension: str, now: float, wrap_up_s: float) -> None:
        """A queue call of `extension` is over: wrap-up from now."""
        state = self.state(extension)
        state.engaged = None
        state.calls += 1
        state.idle_since = now
        state.wrap_until = now + wrap_up_s


def _idle(port: FxsPort) -> bool:
    return port.state is PortState.IDLE and not port.line.off_hook


def _read(path: Path) -> dict[str, bool]:
    if not path.exists():
        return {}
    try:
        raw = json.loads(path.read_text())
        return {str(ext): value for ext, value in raw.items() if isinstance(value, bool)}
    except (OSError, ValueError, AttributeError) as exc:
        aside = path.with_suffix(".damaged")
        log.error("%s is damaged (%s); moved to %s, every agent starts logged in",
                  path, exc, aside.name)
        path.replace(aside)
        return {}
