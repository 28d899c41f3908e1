"""Call forwarding and do-not-disturb, set from any phone with feature codes.

    *72 + number / *73    forward every call              (codes: [features])
    *90 + number / *91    forward when busy
    *52 + number / *53    forward when not answered in the ring time
    *78 / *79             do not disturb: callers get busy (or the busy forward)

Each extension's settings live in the state directory (`extension-settings.json`), so they
survive a restart; a damaged file is set aside and the box starts with none rather than
not at all. An analog phone with forward-all or DND on hears stutter dial tone when lifted,
so nobody wonders why the phone never rings. A forwarded call keeps its caller ID; a
forward loop ends after `MAX_FORWARDS` hops with congestion, not a ringing storm.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from firmware.engine.bridges import HoldingBridge
from firmware.engine.channel import Cause, Channel
from firmware.logs import call_event
from firmware.statefiles import write_atomic

if TYPE_CHECKING:
    from firmware.engine.pbx import Engine

log = logging.getLogger(__name__)

MAX_FORWARDS = 5
CONFIRM_S = 1.0  # how long the "done" beeps play before the box hangs up
SETTINGS_FILE = "extension-settings.json"


@dataclass(frozen=True, slots=True)
class ExtensionSettings:
    forward_all: str | None = None
    forward_busy: str | None = None
    forward_no_answer: str | None = None
    dnd: bool = False

    @property
    def stutter(self) -> bool:
        """Lifting the phone should remind its person that calls do not ring here."""
        return self.dnd or self.forward_all is not None


class SettingsStore:
    """Every extension's forward and DND settings, kept in a file (None: in memory only)."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path
        self._settings: dict[str, ExtensionSettings] = {}
        if path is not None and path.exists():
            self._settings = _read(path)

    def get(self, extension: str) -> ExtensionSettings:
        return self._settings.get(extension, ExtensionSettings())

    async def change(self, extension: str, **changes: object) -> ExtensionSettings:
        settings = dataclasses.replace(self.get(extension), **changes)  # type: ignore[arg-type]
        self._settings[extension] = settings
        if self.path is not None:
            data = json.dumps({ext: dataclasses.asdict(s) for ext, s in self._settings.items()},
                              indent=1, sort_keys=True).encode()
            # fsync can take tens of ms on an SD card: not on the loop, which carries audio.
            await asyncio.to_thread(write_atomic, self.path, data)
        return settings


def _read(path: Path) -> dict[str, ExtensionSettings]:
    try:
        raw = json.loads(path.read_text())
        return {str(ext): ExtensionSettings(**values) for ext, values in raw.items()}
    except (OSError, ValueError, TypeError, AttributeError) as exc:
        aside = path.with_suffix(".damaged")
        log.error("%s is damaged (%s); moved to %s, starting without forwards or DND",
                  path, exc, aside.name)
        path.replace(aside)
        return {}


# -- the feature codes ------------------------------------------------------------------


async def change_setting(engine: Engine, caller: Channel, what: str,
                         value: str | bool | None) -> Cause:
    """The destination of a forward/DND code: only an office extension may set its own."""
    extension = caller.party.number
    if not caller.internal or extension is None or engine.office.extension(extension) is None:
        return Cause.CALL_BARRED
    await engine.settings.change(extension, **{what: value})
    call_event("setting", ext=extension, what=what, value=value)
    caller.accept()
    await _confirm(engine, caller)
    return Cause.NORMAL_CLEARING


async def _confirm(engine: Engine, caller: Channel) -> None:
    """Three short beeps at the dial tone's pitch: done."""
    beeps, _seconds = engine.beeps(3, 100)
    HoldingBridge(caller, beeps, engine.clock, "confirm")
    try:
        await asyncio.sleep(CONFIRM_S)
    finally:
        bridge = caller.bridge
        if isinstance(bridge, HoldingBridge):
            bridge.dissolve()



# -- ringing an extension with forwards --------------------------------------------------


async def forward(engine: Engine, caller: Channel, extension: str, target: str,
                  why: str) -> Cause:
    """Send `caller` on to `target`: the extension's owner chose it, so an outside number
    is allowed even for a call from outside."""
    caller.forwards += 1
    if caller.forwards > MAX_FORWARDS:
        call_event("forward-loop", channel=caller.name, ext=extension, to=target)
        return Cause.CONGESTION
    call_event("forward", channel=caller.name, ext=extension, to=target, why=why)
    caller.forwarded_by = extension
    return await engine.route(caller, target)
