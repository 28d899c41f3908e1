"""The office's applications: where calls go besides a person (DESIGN.md, "Destination /
application"). Each is an `App` (firmware.engine.apps): it reads its part of the office
config on every load, adds its numbers and codes to the dial plan, and runs a coroutine
per caller, cancelled when the caller hangs up.

    voice       prompts, keys and music: how every application talks with a caller
    voicemail   mailboxes: leave a message, *97/*98 to listen, message waiting
    menus       auto-attendant menus (ivr: the session; greeting: recording one by phone)
    ringgroup   ring groups: ring-all, hunt, round robin (ringing: several extensions)
    timecond    business hours, schedules and *28 night mode (nightswitch: the override)
    queues      call queues: agents, *45, position announcements, callbacks, figures
    promises    manager-callback promises (*36), kept by ringing the manager
"""

from __future__ import annotations

from pathlib import Path

from firmware.apps.menus import MenuApp
from firmware.apps.promises import PromiseApp
from firmware.apps.queues import QueueApp
from firmware.apps.ringgroup import GroupApp
from firmware.apps.timecond import ScheduleApp
from firmware.apps.voicemail import VoicemailApp
from firmware.engine.apps import App
from firmware.store import Store

__all__ = ["build_apps"]


def build_apps(state_dir: Path, store: Store) -> list[App]:
    """Every application, built once for the life of the box."""
    apps: list[App] = []
    apps.append(VoicemailApp(state_dir, store))
    apps += [MenuApp(), GroupApp(state_dir), ScheduleApp(state_dir)]
    apps.append(QueueApp(state_dir, store))
    apps.append(PromiseApp(store))
    return apps
