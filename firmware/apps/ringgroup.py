"""Ring groups ([[group]]): several extensions share calls to one number or destination.

    ring-all      every member rings at once for `ring_s`
    hunt          members ring one after another, `ring_s` each, in the order listed
    round-robin   as hunt, but each call starts after the member who answered the last
                  one (remembered across restarts), so calls are shared out

Members who are busy, on do-not-disturb or forwarding all their calls are skipped. When
nobody answers (or `total_s` is up), the caller goes to `no_answer`; without one, the call
attempt ends unanswered (an office phone hears congestion, a menu takes the caller back).
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
from pathlib import Path
from typing import TYPE_CHECKING

from firmware.apps.ringing import ring_and_connect
from firmware.engine.channel import Cause, Channel
from firmware.logs import call_event
from firmware.statefiles import write_atomic

if TYPE_CHECKING:
    from firmware.config import ExtensionConfig, GroupConfig, OfficeConfig
    from firmware.engine.dialplan import Destination, DialPlan
    from firmware.engine.pbx import Engine

__all__ = ["GroupApp"]

log = logging.getLogger(__name__)


ROUND_ROBIN_FILE = "round-robin.json"


class GroupApp:
    kind = "group"

    def __init__(self, state_dir: Path | None = None) -> None:
        self._engine: Engine | None = None
        self._groups: dict[str, GroupConfig] = {}
        self._file = state_dir / ROUND_ROBIN_FILE if state_dir is not None else None
        # round-robin: group -> member to start with
        self._next: dict[str, str] = _read(self._file) if self._file is not None else {}
        self._saving = asyncio.Lock()  # one write at a time, each of the newest places

    def configure(self, engine: Engine, office: OfficeConfig, dialplan: DialPlan) -> None:
        self._engine = engine
        self._groups = {group.name: group for group in office.groups}
        for group in office.groups:
            if group.number is not None:
                dialplan.add(group.number, functools.partial(self.run, group))

    def destination(self, name: str) -> Destination | None:
        group = self._groups.get(name)
        return functools.partial(self.run, group) if group is not None else None

    def start(self, engine: Engine) -> None:
        """Nothing runs between calls."""

    async def stop(self) -> None:
        """Nothing to let go of."""

    def order(self, group: GroupConfig) -> list[ExtensionConfig]:
        """The members in the order this call rings them."""
        assert self._engine is not None
        office = self._engine.office
        members = [m for n in group.members if (m := office.extension(n)) is not None]
        start = self._next.get(group.name)
        if group.strategy == "round-robin" and start in group.members:
            at = next(i for i, m in enumerate(members) if m.number == start)
            members = members[at:] + members[:at]
        return members

    async def run(self, group: GroupConfig, caller: Channel) -> Cause:
        engine = self._engine
        assert engine is not None
        members = self.order(group)
        call_event("group", channel=caller.name, group=group.name, strategy=group.strategy,
                   order=",".join(m.number for m in members))
        rounds = [members] if group.strategy == "ring-all" else [[m] for m in members]
        loop = asyncio.get_running_loop()
        deadline = loop.time() + group.total_s if group.total_s is not None else None
        rang = False
        for ringing in rounds:
            ring_s = group.ring_s
            if deadline is not None:
                ring_s = min(ring_s, deadline - loop.time())
            if ring_s <= 0 or caller.gone.is_set():
                break
            cause, answered = await ring_and_connect(
                engine, caller, ringing, ring_s, functools.partial(self._remember, group))
            if answered is not None or cause is Cause.NORMAL_CLEARING:
                return cause
            rang = rang or cause is Cause.NO_ANSWER
        call_event("group-no-answer", channel=caller.name, group=group.name)
        if group.no_answer is not None and not caller.gone.is_set():
            return await engine.route(caller, group.no_answer)
        return Cause.NO_ANSWER if rang else Cause.USER_BUSY

    def _remember(self, group: GroupConfig, answered: ExtensionConfig | None) -> None:
        """Round robin: the next call starts with the member after the one who answered."""
        if group.strategy != "round-robin" or answered is None:
            return
        members = list(group.members)
        self._next[group.name] = members[(members.index(answered.number) + 1) % len(members)]
        if self._file is not None and self._engine is not None:
            self._engine.supervisor.spawn("round-robin places", self._save())

    async def _save(self) -> None:
        assert self._file is not None
        async with self._saving:
            data = json.dumps(self._next, sort_keys=True).encode()
            # fsync can take tens of ms on an SD card: not on the loop, which carries audio.
            await asyncio.to_thread(write_atomic, self._file, data)


def _read(path: Path) -> dict[str, str]:
    """The saved round-robin places; a missing or damaged file starts every group afresh."""
    try:
        raw = json.loads(path.read_text())
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        log.warning("%s cannot be read (%s): round-robin groups start afresh", path, exc)
        return {}
    if not isinstance(raw, dict):
        return {}
    return {str(k): str(v) for k, v in raw.items()}
