"""The firmware slot this box runs from, when stage one started it from a data partition
(PBX_DATA and PBX_SLOT in its environment; none when it runs from a checkout).

The running box writes the slot state (bootslots.state) at three moments: its health
check passed (a trial slot is committed: "good"), or failed (a trial slot is failed, so
the next start rolls back), and it has been up STABLE_S or stops cleanly (its count of
starts in a row is cleared: it did not crash).
"""

from __future__ import annotations

import json
import logging
import os
import sys
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from bootslots import state as slot_state
from bootslots.layout import SLOT_NAMES, DataPartition
from bootslots.state import Event, SlotState, StateError, Status

log = logging.getLogger(__name__)

STABLE_S = 120.0  # up this long after a start: not a crash loop
# The state file is read, changed and written whole: one writer at a time in this process
# (the loop, and the worker thread installing an uploaded image).
STATE_LOCK = threading.Lock()
RESTART_BY_SYSTEMD = 75  # EX_TEMPFAIL: a failure, so Restart=on-failure starts it again


@dataclass(frozen=True, slots=True)
class RunningSlot:
    data: DataPartition
    name: str
    boot_argv: list[str]  # how stage one was started, to go through it again

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> RunningSlot | None:
        data, name = environ.get("PBX_DATA"), environ.get("PBX_SLOT")
        if not data or name not in SLOT_NAMES:
            return None
        try:
            argv = [str(a) for a in json.loads(environ.get("PBX_BOOT_ARGV", "[]"))]
        except ValueError:
            argv = []
        return cls(DataPartition(Path(data)), str(name), argv)

    def current(self) -> SlotState:
        return slot_state.load(self.data.state_file)[self.name]

    @property
    def board(self) -> str | None:
        return slot_state.load(self.data.state_file).board

    def record(self, event: Event, note: str = "") -> SlotState | None:
        """Apply `event` to this slot in the state file (blocking: a small atomic write)."""
        try:
            with STATE_LOCK:
                state = slot_state.load(self.data.state_file).apply(self.name, event, note=note)
                slot_state.save(self.data.state_file, state)
        except (StateError, OSError) as exc:
            log.error("could not record %s for slot %s: %s", event.value, self.name, exc)
            return None
        return state[self.name]

    def healthy(self) -> None:
        before = self.current().status
        after = self.record(Event.HEALTHY)
        if after is not None and before is not Status.GOOD:
            log.info("slot %s (version %s) passed its health check: committed", self.name,
                     after.version)

    def unhealthy(self, why: str) -> None:
        """A trial slot that fails its check is failed: the next start rolls back to the
        good one. A good slot is not: its failed start counts towards MAX_TRIES."""
        if self.current().status is Status.TRIAL:
            self.record(Event.FAILED, note=f"failed its health check ({why})")
            log.error("slot %s failed its health check: rolling back at the next start",
                      self.name)

    def restart(self) -> int:
        """Run stage one again in this process (after an update): it picks the slot. If
        it cannot be found, an exit status that makes systemd start the box again."""
        if not self.boot_argv:
            log.error("no PBX_BOOT_ARGV: exiting for systemd to start the box again")
            return RESTART_BY_SYSTEMD
        log.info("restarting through stage one to run the updated slot")
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os.execv(self.boot_argv[0], self.boot_argv)
        return RESTART_BY_SYSTEMD  # not reached
