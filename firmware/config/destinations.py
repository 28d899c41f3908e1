"""Where a call goes: the destinations named in the office config.

A destination is written as text, the same everywhere a call can be sent (a trunk's DIDs,
the phone line, menu options, a ring group or queue that nobody answers, business hours):

    "101"              a number of the office: an extension, a ring group, a queue
    "menu:main"        an auto-attendant menu ([[menu]] name = "main")
    "group:sales"      a ring group ([[group]]), by name
    "queue:support"    a queue ([[queue]]), by name
    "schedule:office"  day or night, by the business hours ([[schedule]])
    "voicemail:101"    extension 101's mailbox
    "operator"         the [features] operator
    "hangup"           a polite goodbye

`target_checks` checks every destination of the file against what the file defines, so a
typo ("menu:mian") is a config error with the line, not a caller in a dead end.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator, Mapping
from typing import Annotated, Any

from pydantic import AfterValidator, StrictStr

from firmware.config.problems import Issue, fail
from firmware.config.tomlkeys import KeyPath, tables

__all__ = ["KINDS", "TARGET_KEYS", "Target", "split_target", "target_checks"]

# kind -> the array of tables whose `name`s it refers to (voicemail: extension numbers).
KINDS: Mapping[str, str] = {"menu": "menu", "group": "group", "queue": "queue",
                            "schedule": "schedule", "voicemail": "extension"}
WORDS = ("operator", "hangup")
EXAMPLE = '"101", "menu:main", "group:sales", "queue:support", "voicemail:101"'

# Where destinations are written: key paths, "*" for any array index or table key.
# Add the keys of a new table here; the checks then cover it.
TARGET_KEYS: list[tuple[str, ...]] = [
    ("trunk", "*", "inbound", "*"),
    ("trunk", "*", "inbound_default"),
    ("menu", "*", "options", "*"),
    ("menu", "*", "timeout_destination"),
    ("menu", "*", "invalid_destination"),
    ("group", "*", "no_answer"),
    ("schedule", "*", "day"),
    ("schedule", "*", "night"),
    ("fxo", "*", "destination"),
    ("queue", "*", "overflow"),
    ("escalation", "manager"),
]

_NUMBER = re.compile(r"[0-9]{2,6}")
_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,31}")


def split_target(value: str) -> tuple[str, str]:
    """"menu:main" -> ("menu", "main"); "101" -> ("number", "101"); "hangup" -> ("hangup", "")."""
    if value in WORDS:
        return value, ""
    kind, sep, name = value.partition(":")
    return (kind, name) if sep else ("number", value)


def _check_target(value: str) -> str:
    kind, name = split_target(value)
    if kind == "number":
        if _NUMBER.fullmatch(name):
            return value
        raise fail(f"{value!r} is not a destination", f"use a number or a kind:name, "
                   f"e.g. {EXAMPLE}")
    if kind in WORDS:
        return value
    if kind not in KINDS:
        close = difflib.get_close_matches(kind, [*KINDS, *WORDS], n=1)
        hint = f'did you mean "{close[0]}:{name}"? ' if close else ""
        raise fail(f"{value!r}: {kind!r} is not a kind of destination",
                   f"{hint}kinds are {', '.join(KINDS)}; e.g. {EXAMPLE}")
    pattern = _NUMBER if kind == "voicemail" else _NAME
    if not pattern.fullmatch(name):
        what = "an extension number" if kind == "voicemail" else "a lower-case name"
        raise fail(f"{value!r}: {name!r} is not {what}", f"e.g. {EXAMPLE}")
    return value


Target = Annotated[StrictStr, AfterValidator(_check_target)]


def _paths(data: Any, pattern: tuple[str, ...], at: KeyPath = ()) -> Iterator[
        tuple[KeyPath, object]]:
    if not pattern:
        yield at, data
        return
    head, rest = pattern[0], pattern[1:]
    if head == "*":
        if isinstance(data, Mapping):
            for key, value in data.items():
                yield from _paths(value, rest, (*at, key))
        elif isinstance(data, list | tuple):
            for index, value in enumerate(data):
                yield from _paths(value, rest, (*at, index))
    elif isinstance(data, Mapping) and head in data:
        yield from _paths(data[head], rest, (*at, head))


def _defined(data: Mapping[str, Any]) -> tuple[dict[str, set[str]], set[str]]:
    """The names each kind may refer to, and the numbers the office has."""
    names: dict[str, set[str]] = {}
    for kind, table in KINDS.items():
        key = "number" if kind == "voicemail" else "name"
        names[kind] = {str(t.get(key)) for _, t in tables(data, table) if t.get(key)
                       and (kind != "voicemail" or t.get("voicemail") is True)}  # a mailbox
    numbers = {str(t.get("number")) for table in ("extension", "group", "queue", "menu")
               for _, t in tables(data, table) if t.get("number")}
    return names, numbers


def target_checks(data: Mapping[str, Any]) -> list[Issue]:
    """Every destination of the file names something the file defines."""
    names, numbers = _defined(data)
    features = data.get("features")
    operator = features.get("operator") if isinstance(features, Mapping) else None
    issues = []
    for pattern in TARGET_KEYS:
        for path, value in _paths(data, pattern):
            if not isinstance(value, str):
                continue
            kind, name = split_target(value)
            if kind == "number" and _NUMBER.fullmatch(name) and name not in numbers:
                issues.append(Issue(path, f"{value} is not a number of the office (an "
                                    "extension, ring group or queue)",
                                    "name one, or add it to the config"))
            elif kind == "operator" and operator is None:
                issues.append(Issue(path, "there is no operator", 'set [features] operator '
                                    '= "101", or name the extension here'))
            elif kind == "voicemail" and name not in names[kind] and name in {
                    str(t.get("number")) for _, t in tables(data, "extension")}:
                issues.append(Issue(path, f"{value}: extension {name} has no mailbox",
                                    f"set voicemail = true in extension {name}'s "
                                    "[[extension]] table"))
            elif kind in names and name not in names[kind]:
                have = sorted(names[kind])
                close = difflib.get_close_matches(name, have, n=1)
                fix = f'did you mean "{kind}:{close[0]}"?' if close else \
                    (f"use one of: {', '.join(f'{kind}:{n}' for n in have)}" if have else
                     f"add a [[{KINDS[kind]}]] table for it")
                issues.append(Issue(path, f"{value}: there is no {kind} {name!r}", fix))
    return issues
