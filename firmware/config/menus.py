"""The office config's auto-attendant menus ([[menu]]).

    [[menu]]
    name = "main"
    number = "500"                        # optional: office phones may dial it
    greeting = ["welcome", "menu-default"]
    dial_extensions = true                # callers may dial an extension number directly
    [menu.options]
    "1" = "group:sales"
    "2" = "menu:support"                  # menus nest
    "0" = "operator"                      # the default for 0 when the office has an operator

A caller who presses nothing for `timeout_s` hears `timeout_prompt` and the greeting again,
`timeout_retries` times, then goes to `timeout_destination`; a key that leads nowhere is
the same with `invalid_*`. Both destinations default to the operator, else "goodbye".

`menu_checks` refuses menus that lead only to each other (a caller could never leave).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field, StrictInt, StrictStr

from firmware.config.destinations import Target, split_target
from firmware.config.model import Model
from firmware.config.problems import Issue, fail
from firmware.config.tomlkeys import KeyPath, format_key, tables

__all__ = ["OPTION_KEYS", "MenuConfig", "PromptKey", "Prompts", "menu_checks"]

OPTION_KEYS = "0123456789*"  # '#' ends a number typed at the menu, so it is no option
_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,31}")
_PROMPT = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")


def _check_name(value: str) -> str:
    if not _NAME.fullmatch(value):
        raise fail(f"{value!r} is not a menu name",
                   'use lower-case letters, digits, - and _, e.g. name = "main"')
    return value


def _check_option(value: str) -> str:
    if len(value) != 1 or value not in OPTION_KEYS:
        raise fail(f"{value!r} is not a key of the phone's keypad a menu can offer",
                   'use one key, 0-9 or *, e.g. "1" = "group:sales"')
    return value


def _check_prompt(value: str) -> str:
    if not _PROMPT.fullmatch(value):
        raise fail(f"{value!r} is not a prompt name",
                   'name prompts by their key, as in docs/prompts.md, e.g. "welcome"')
    return value


def _as_list(value: object) -> object:
    return [value] if isinstance(value, str) else value  # greeting = "welcome" is one prompt


PromptKey = Annotated[StrictStr, AfterValidator(_check_prompt)]
Prompts = Annotated[tuple[PromptKey, ...], BeforeValidator(_as_list), Field(min_length=1)]
Option = Annotated[StrictStr, AfterValidator(_check_option)]
Retries = Annotated[StrictInt, Field(ge=0, le=10)]
Wait = Annotated[float, Field(strict=True, gt=0, le=60)]


class MenuConfig(Model):
    """[[menu]]: an auto attendant: a greeting, then a key or a number from the caller."""

    name: Annotated[StrictStr, AfterValidator(_check_name)]
    number: Annotated[StrictStr, Field(pattern=r"^[0-9]{2,6}$")] | None = Field(
        None, description="office phones may dial the menu here")
    greeting: Prompts = Field(("welcome", "menu-default"), description="what callers hear")
    options: dict[Option, Target] = Field(default_factory=dict,
                                          description="key -> destination")
    dial_extensions: bool = Field(True, strict=True,
                                  description="callers may dial an extension number")
    timeout_s: Wait = Field(5.0, description="after the greeting, wait this long for a key")
    interdigit_s: Wait = Field(3.0, description="between the digits of a number")
    timeout_retries: Retries = 2
    timeout_prompt: Prompts = ("no-choice",)
    timeout_destination: Target | None = None
    invalid_retries: Retries = 2
    invalid_prompt: Prompts = ("not-valid",)
    invalid_destination: Target | None = None

    @property
    def recording(self) -> str:
        """The prompt key of the greeting recorded from a phone; it replaces `greeting`."""
        return f"menu-{self.name}"


_EXITS = ("timeout_destination", "invalid_destination")


def _menu_leads(table: Mapping[str, Any], office_has_operator: bool,
                has_extensions: bool) -> tuple[list[str], bool]:
    """(the menus `table` leads to, whether it leads anywhere but a menu)."""
    targets: list[str] = []
    options = table.get("options")
    if isinstance(options, Mapping):
        targets += [v for v in options.values() if isinstance(v, str)]
    exit_found = bool(has_extensions and table.get("dial_extensions", True) is True)
    for key in _EXITS:
        value = table.get(key)
        if isinstance(value, str):
            targets.append(value)
        else:
            exit_found = True  # the default: the operator, or goodbye
    if office_has_operator and not (isinstance(options, Mapping) and "0" in options):
        exit_found = True
    menus = []
    for target in targets:
        kind, name = split_target(target)
        if kind == "menu":
            menus.append(name)
        else:
            exit_found = True
    return menus, exit_found


def _dead_ends(data: Mapping[str, Any]) -> list[Issue]:
    """Menus from which every way leads only to other menus: a caller would go round."""
    features = data.get("features")
    operator = isinstance(features, Mapping) and features.get("operator") is not None
    extensions = any(True for _ in tables(data, "extension"))
    leads: dict[str, tuple[list[str], bool]] = {}
    paths: dict[str, KeyPath] = {}
    for path, table in tables(data, "menu"):
        name = table.get("name")
        if isinstance(name, str) and name not in leads:
            leads[name] = _menu_leads(table, operator, extensions)
            paths[name] = path
    issues = []
    for name, path in paths.items():
        seen, todo, escapes = {name}, [name], False
        while todo and not escapes:
            menus, exit_found = leads.get(todo.pop(), ([], True))  # an unknown menu: reported
            escapes = exit_found
            for nxt in menus:
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        if not escapes:
            issues.append(Issue(path, f"menu {name!r} leads only to menus ("
                                f"{', '.join(sorted(seen))}): a caller could never reach "
                                "a person or leave",
                                'give one of them a way out, e.g. "0" = "operator" or '
                                'timeout_destination = "101"'))
    return issues


def menu_checks(data: Mapping[str, Any]) -> list[Issue]:
    """Menu names are unique; every menu has a way out."""
    issues: list[Issue] = []
    first: dict[str, KeyPath] = {}
    for path, table in tables(data, "menu"):
        name = table.get("name")
        if isinstance(name, str) and name in first:
            issues.append(Issue((*path, "name"), f"menu {name!r} is defined twice (also at "
                                f"{format_key(first[name])})", "give each menu its own name"))
        elif isinstance(name, str):
            first[name] = path
    return issues + _dead_ends(data)
