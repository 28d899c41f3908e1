"""The office config's ring groups ([[group]]).

    [[group]]
    name = "sales"
    number = "600"                  # optional: dial it, or name it as "group:sales"
    members = ["101", "102", "103"]
    strategy = "hunt"               # "ring-all" | "hunt" (in order) | "round-robin"
    ring_s = 15                     # each member (hunt, round-robin); everyone (ring-all)
    no_answer = "voicemail:101"     # nobody answered

`number_checks` keeps the numbers of groups and menus apart from every other number of the
office (extensions, park, routes, each other), as `office._number_checks` does for
extensions.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, StrictStr

from firmware.config.destinations import Target
from firmware.config.model import Model
from firmware.config.problems import Issue, fail
from firmware.config.tomlkeys import KeyPath, format_key, tables

__all__ = ["GroupConfig", "group_checks", "number_checks"]

_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,31}")
_NUMBER = re.compile(r"[0-9]{2,6}")
Number = Annotated[StrictStr, Field(pattern=r"^[0-9]{2,6}$")]
RingTime = Annotated[float, Field(strict=True, gt=0, le=600)]


def _check_name(value: str) -> str:
    if not _NAME.fullmatch(value):
        raise fail(f"{value!r} is not a group name",
                   'use lower-case letters, digits, - and _, e.g. name = "sales"')
    return value


class GroupConfig(Model):
    """[[group]]: several extensions that share calls."""

    name: Annotated[StrictStr, AfterValidator(_check_name)]
    number: Number | None = Field(None, description="office phones may dial the group here")
    members: Annotated[tuple[Number, ...], Field(min_length=1)]
    strategy: Literal["ring-all", "hunt", "round-robin"] = "ring-all"
    ring_s: RingTime = Field(20.0, description="each member rings this long (ring-all: all)")
    total_s: RingTime | None = Field(None, description="stop ringing after this long in all")
    no_answer: Target | None = Field(None, description="where the call goes if nobody answers")


def group_checks(data: Mapping[str, Any]) -> list[Issue]:
    """Group names are unique; members are extensions of the office, each once."""
    issues: list[Issue] = []
    extensions = {t.get("number") for _, t in tables(data, "extension")}
    first: dict[str, KeyPath] = {}
    for path, group in tables(data, "group"):
        name = group.get("name")
        if isinstance(name, str) and name in first:
            issues.append(Issue((*path, "name"), f"group {name!r} is defined twice (also at "
                                f"{format_key(first[name])})", "give each group its own name"))
        elif isinstance(name, str):
            first[name] = path
        members = group.get("members")
        seen: set[str] = set()
        for j, member in enumerate(members if isinstance(members, list | tuple) else ()):
            if not isinstance(member, str) or not _NUMBER.fullmatch(member):
                continue
            if member in seen:
                issues.append(Issue((*path, "members", j), f"{member} is listed twice",
                                    "list each member once"))
            elif member not in extensions:
                issues.append(Issue((*path, "members", j), f"{member} is not an extension",
                                    "list extension numbers of this office"))
            seen.add(member)
    return issues


def _park_numbers(data: Mapping[str, Any]) -> list[str]:
    features = data.get("features")
    features = features if isinstance(features, Mapping) else {}
    park = features.get("park", "700")
    slots = features.get("park_slots", 8)
    if not isinstance(park, str) or not park.isdigit() or not isinstance(slots, int):
        return []
    return [park] + [str(int(park) + n).zfill(len(park)) for n in range(1, slots + 1)]


def number_checks(data: Mapping[str, Any]) -> list[Issue]:
    """The numbers of groups and menus: not taken, and not the start of another number."""
    others: list[tuple[str, str]] = []  # (number, what it is)
    for table in ("extension", "queue"):
        others += [(str(t["number"]), f"{table} {t['number']}") for _, t in tables(data, table)
                   if isinstance(t.get("number"), str)]
    others += [(n, f"the call park lot ({n})") for n in _park_numbers(data)]
    others += [(str(r["prefix"]), f"the prefix of route {r['prefix']}")
               for _, r in tables(data, "route") if isinstance(r.get("prefix"), str)]
    mine: list[tuple[KeyPath, str, str]] = []
    for table in ("group", "menu"):
        for path, entry in tables(data, table):
            number = entry.get("number")
            if isinstance(number, str) and _NUMBER.fullmatch(number):
                mine.append(((*path, "number"), number, f"{table} {entry.get('name')!r}"))
    issues = []
    for i, (path, number, what) in enumerate(mine):
        taken = others + [(n, w) for k, (_, n, w) in enumerate(mine) if k < i]
        clash = next(((n, w) for n, w in taken if n.startswith(number)
                      or number.startswith(n)), None)
        if clash is None:
            continue
        how = "is already" if clash[0] == number else \
            f"and {clash[0]} begin alike: {number} clashes with"
        issues.append(Issue(path, f"{number} ({what}) {how} {clash[1]}: whoever dials it "
                            "could not be told apart",
                            "give it a number no other number begins with, or leave "
                            "number out and name it as a destination"))
    return issues
