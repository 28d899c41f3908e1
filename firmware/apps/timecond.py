"""Business hours as an application: "schedule:NAME" sends a call to the schedule's day or
night destination, and `*28` switches night mode by hand.

Night is: outside the [hours] (in the [site] time zone, holidays closed all day), unless
the manual override says otherwise (`firmware.apps.nightswitch`). `*28` gives the other of
what is in force now and announces it ("night service is on" / "day service is on"); if
that is what the hours give anyway, the override is simply cleared. With `[hours] override
= "until-next-change"` (the default) an override ends when the hours next change.

The state is visible: `night` (for the front panel's NIGHT LED), `snapshot()` (the engine's
snapshot and the virtual board's published info, refreshed at every change, by the hour
or by hand). Time comes from `Engine.now_local()`, so tests set the wall clock.
"""

from __future__ import annotations

import asyncio
import datetime
import functools
from pathlib import Path
from typing import TYPE_CHECKING, Any

from firmware.apps.nightswitch import NIGHT_FILE, NightSwitch, Override
from firmware.apps.voice import say
from firmware.engine.channel import Cause, Channel
from firmware.logs import call_event

if TYPE_CHECKING:
    from firmware.config import OfficeConfig, OpeningHours, ScheduleConfig
    from firmware.engine.dialplan import Destination, DialPlan
    from firmware.engine.pbx import Engine

__all__ = ["ScheduleApp"]

RECHECK_S = 3600.0  # look again at least hourly (the wall clock may have been set)


class ScheduleApp:
    kind = "schedule"

    def __init__(self, state_dir: Path | None) -> None:
        self.switch = NightSwitch(state_dir / NIGHT_FILE if state_dir is not None else None)
        self._engine: Engine | None = None
        self._office: OfficeConfig | None = None
        self._hours: OpeningHours | None = None
        self._schedules: dict[str, ScheduleConfig] = {}
        self._task: asyncio.Task[None] | None = None
        self._changed = asyncio.Event()

    def configure(self, engine: Engine, office: OfficeConfig, dialplan: DialPlan) -> None:
        self._engine, self._office = engine, office
        self._hours = office.hours.opening()
        self._schedules = {s.name: s for s in office.schedules}
        dialplan.add(office.features.night_toggle, self.toggle_call)
        self._changed.set()  # the hours may differ: the watcher looks again

    def destination(self, name: str) -> Destination | None:
        schedule = self._schedules.get(name)
        return functools.partial(self.run, schedule) if schedule is not None else None

    # -- state --------------------------------------------------------------------------

    def _now(self) -> datetime.datetime:
        assert self._engine is not None
        return self._engine.now_local()

    def open_by_hours(self, when: datetime.datetime | None = None) -> bool:
        """Open by [hours] at `when`; an office without opening hours is always open (its
        night mode is only ever switched by hand)."""
        assert self._hours is not None
        return not self._hours.spans or self._hours.is_open(when or self._now())

    @property
    def night(self) -> bool:
        """Night mode is on now (by the hours, or by hand)."""
        now = self._now()
        override = self.switch.current(now.timestamp())
        return override.night if override is not None else not self.open_by_hours(now)

    def snapshot(self) -> dict[str, Any]:
        now = self._now()
        override = self.switch.current(now.timestamp())
        until = None
        if override is not None and override.until is not None:
            until = datetime.datetime.fromtimestamp(override.until, now.tzinfo).isoformat(
                timespec="minutes")
        return {"night": self.night, "open_by_hours": self.open_by_hours(now),
                "override": None if override is None else ("night" if override.night
                                                           else "day"),
                "override_until": until}

    # -- calls ----------------------------------------------------------------------------

    async def run(self, schedule: ScheduleConfig, caller: Channel) -> Cause:
        assert self._engine is not None
        night = self.night
        target = schedule.night if night else schedule.day
        call_event("schedule", channel=caller.name, schedule=schedule.name,
                   mode="night" if night else "day", to=target)
        return await self._engine.route(caller, target)

    async def toggle(self) -> bool:
        """Switch to the other mode; returns whether it is night now."""
        assert self._office is not None and self._hours is not None
        now = self._now()
        night = not self.night
        if night == (not self.open_by_hours(now)):
            override = None  # the hours say the same: follow them again
        else:
            change = self._hours.next_change(now) if self._hours.spans and \
                self._office.hours.override == "until-next-change" else None
            override = Override(night, change.timestamp() if change is not None else None)
        await self.switch.set(override)
        self._changed.set()
        return night

    async def toggle_call(self, caller: Channel) -> Cause:
        """The destination of `*28`: office phones only."""
        if not caller.internal:
            return Cause.CALL_BARRED
        night = await self.toggle()
        call_event("night-mode", channel=caller.name, night=night)
        caller.accept()
        assert self._engine is not None
        await say(self._engine, caller, ["night-on" if night else "day-on"], beeps=2)
        return Cause.NORMAL_CLEARING

    # -- telling the panel and the tools ------------------------------------------------------

    def start(self, engine: Engine) -> None:
        self._task = engine.supervisor.spawn("business hours", self._watch())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()

    async def _watch(self) -> None:
        """Publish the state at every change: by the hours, by hand, by a new config."""
        assert self._engine is not None
        shown: bool | None = None
        by_hand = False
        while True:
            night = self.night
            if shown is not None and night != shown and not by_hand:
                call_event("night-mode", night=night, by="hours")
            shown = night
            self._engine.publish()
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), self._until_next())
                by_hand = True
            except TimeoutError:
                by_hand = False

    def _until_next(self) -> float:
        """Seconds until night mode may change by itself (capped at RECHECK_S)."""
        assert self._hours is not None
        now = self._now()
        moments = [RECHECK_S]
        change = self._hours.next_change(now) if self._hours.spans else None
        if change is not None:
            moments.append(change.timestamp() - now.timestamp())
        override = self.switch.current(now.timestamp())
        if override is not None and override.until is not None:
            moments.append(override.until - now.timestamp())
        return max(0.5, min(moments) + 0.1)
