"""An auto-attendant menu with one caller: greeting, a key or a number, then on.

    greeting ──▶ key for an option ────────────▶ the option's destination
       ▲   │     an extension number (+ # or a pause) ▶ that extension
       │   │     nothing for timeout_s ─▶ timeout_prompt, again (timeout_retries times),
       │   │                              then timeout_destination
       │   └──── a key that leads nowhere ▶ invalid_prompt, again (invalid_retries times),
       │                                    then invalid_destination
       └──── a destination that did not take the call (busy, nobody answered):
             "not available", and the greeting again

A key pressed during a prompt cuts it short and counts (voice.ask's manners). An option
key that is also how extension numbers begin ("1" with extensions 101-104) waits
`interdigit_s` for more digits before it counts as the option. The final destinations
default to the operator, else "goodbye": a caller is never left without a way on.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from firmware.apps.ringing import ringback
from firmware.apps.voice import Listening, say, sound
from firmware.engine.channel import Cause, Channel
from firmware.engine.channels.fxs import KEY_RELEASE_S
from firmware.logs import call_event
from firmware.media.player import SamplePlayer

if TYPE_CHECKING:
    from firmware.config import MenuConfig
    from firmware.engine.pbx import Engine

__all__ = ["Choices", "run_menu"]

NOT_AVAILABLE = "unavailable"  # the prompt after a destination that did not take the call


class Choices:
    """What a caller may type at one menu: option keys and numbers to dial directly."""

    def __init__(self, engine: Engine, menu: MenuConfig) -> None:
        office = engine.office
        self.options = dict(menu.options)
        if "0" not in self.options and office.features.operator is not None:
            self.options["0"] = "operator"
        self.numbers: set[str] = set()
        if menu.dial_extensions:
            self.numbers = {e.number for e in office.extensions} | \
                {g.number for g in office.groups if g.number is not None} | \
                {q.number for q in office.queues if q.number is not None}

    def target(self, typed: str) -> str | None:
        """Where `typed` leads, or None (not a choice)."""
        if typed in self.options:
            return self.options[typed]
        return typed if typed in self.numbers else None

    def complete(self, typed: str) -> bool:
        """Nothing longer can follow `typed`: act on it now."""
        longer = any(n != typed and n.startswith(typed) for n in self.numbers)
        return not longer


def greeting_of(engine: Engine, menu: MenuConfig) -> list[str]:
    """The greeting recorded from a phone for this menu, else the configured prompts."""
    return [menu.recording] if menu.recording in engine.prompts else list(menu.greeting)


async def read_choice(engine: Engine, caller: Channel, keys: asyncio.Queue[str],
                      prompts: list[str], menu: MenuConfig, choices: Choices) -> str:
    """Say `prompts`, then what the caller types ('' for nothing): one option key, or a
    number ended by '#', a pause of `interdigit_s`, or its last digit."""
    await say(engine, caller, prompts, keys)
    typed = ""
    timeout = menu.timeout_s
    while True:
        try:
            key = await asyncio.wait_for(keys.get(), timeout)
        except TimeoutError:
            return typed
        if key == "#":
            return typed
        typed += key
        if choices.complete(typed):
            return typed
        timeout = menu.interdigit_s


async def run_menu(engine: Engine, menu: MenuConfig, caller: Channel) -> Cause:
    caller.accept()
    call_event("menu", channel=caller.name, menu=menu.name, caller=caller.party.number)
    choices = Choices(engine, menu)
    greeting = greeting_of(engine, menu)
    prompts = greeting
    while not caller.gone.is_set():
        async with Listening(caller) as keys:
            await _settle(engine, caller, keys)
            target = await _choose(engine, caller, keys, menu, choices, prompts, greeting)
        if target.final:
            return await _leave(engine, caller, target.to)
        ringback(engine, caller, device=False)  # until the destination has its own sound
        cause = await engine.route(caller, target.to)
        if caller.gone.is_set() or cause is Cause.NORMAL_CLEARING:
            return cause
        caller.indicate(None)  # (an analog caller's own ringback)
        prompts = [NOT_AVAILABLE, *greeting]
    return Cause.NORMAL_CLEARING


@dataclass(frozen=True, slots=True)
class _Way:
    to: str | None  # a destination; None: the default way out
    final: bool = False  # the caller used up their tries: the menu's way out


async def _choose(engine: Engine, caller: Channel, keys: asyncio.Queue[str],
                  menu: MenuConfig, choices: Choices, prompts: list[str],
                  greeting: list[str]) -> _Way:
    """Say `prompts` and read until the caller chooses, or runs out of tries."""
    timeouts = invalids = 0
    while True:
        typed = await read_choice(engine, caller, keys, prompts, menu, choices)
        target = choices.target(typed) if typed else None
        if target is not None:
            call_event("menu-choice", channel=caller.name, menu=menu.name, key=typed,
                       to=target)
            return _Way(target)
        if not typed:
            timeouts += 1
            call_event("menu-timeout", channel=caller.name, menu=menu.name, count=timeouts)
            if timeouts > menu.timeout_retries:
                return _Way(menu.timeout_destination, final=True)
            prompts = [*menu.timeout_prompt, *greeting]
        else:
            invalids += 1
            call_event("menu-invalid", channel=caller.name, menu=menu.name, key=typed,
                       count=invalids)
            if invalids > menu.invalid_retries:
                return _Way(menu.invalid_destination, final=True)
            prompts = [*menu.invalid_prompt, *greeting]


async def _settle(engine: Engine, caller: Channel, keys: asyncio.Queue[str]) -> None:
    """The key that brought the caller here (the last digit of the menu's number, a choice
    in the menu before) may still be sounding: let it end, in quiet, and forget it, so it
    does not count here too."""
    sound(engine, caller, SamplePlayer(np.zeros(0, dtype=np.int16)), "prompt")
    await asyncio.sleep(KEY_RELEASE_S)
    while not keys.empty():
        keys.get_nowait()


async def _leave(engine: Engine, caller: Channel, target: str | None) -> Cause:
    """The caller's last way out of the menu: `target`, else the operator, else goodbye;
    if that does not take the call either, goodbye."""
    if target is None:
        target = "operator" if engine.office.features.operator is not None else "hangup"
    ringback(engine, caller, device=False)
    cause = await engine.route(caller, target)
    if cause is not Cause.NORMAL_CLEARING and not caller.gone.is_set():
        caller.indicate(None)
        return await engine.route(caller, "hangup")
    return cause
