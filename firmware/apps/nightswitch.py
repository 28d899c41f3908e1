"""The manual day/night override (`*28`, later the front panel's NIGHT button), kept in the
state directory so a restart does not undo it.

An override says "night" (or "day") regardless of the opening hours, until a moment
(`until`, seconds since the epoch: the hours' next change, so leaving early on Friday does
not close the office on Monday) or until toggled again (`until` None). A damaged file is
set aside and the box follows the hours.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import asdict, dataclass
from pathlib import Path

from firmware.statefiles import write_atomic

__all__ = ["NIGHT_FILE", "NightSwitch", "Override"]

log = logging.getLogger(__name__)

NIGHT_FILE = "night-mode.json"


@dataclass(frozen=True, slots=True)
class Override:
    night: bool
    until: float | None = None  # epoch seconds; None: until toggled again


class NightSwitch:
    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._override = _read(path) if path is not None and path.exists() else None

    def current(self, now: float) -> Override | None:
        """The override in force at `now` (epoch seconds), if any."""
        override = self._override
        if override is not None and override.until is not None and now >= override.until:
            return None
        return override

    async def set(self, override: Override | None) -> None:
        self._override = override
        if self.path is None:
            return
        data = json.dumps(asdict(override) if override is not None else None).encode()
        # fsync can take tens of ms on an SD card: not on the loop, which carries audio.
        await asyncio.to_thread(write_atomic, self.path, data)


def _read(path: Path) -> Override | None:
    try:
        raw = json.loads(path.read_text())
        if raw is None:
            return None
        until = raw.get("until")
        return Override(night=bool(raw["night"]),
                        until=float(until) if until is not None else None)
    except (OSError, ValueError, TypeError, KeyError, AttributeError) as exc:
        aside = path.with_suffix(".damaged")
        log.error("%s is damaged (%s); moved to %s, following the opening hours",
                  path, exc, aside.name)
        path.replace(aside)
        return None
