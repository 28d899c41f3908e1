"""The call-flow tables of the office config together: menus, ring groups, business hours
and schedules, and the phone lines' destinations.

`call_flow_checks` runs the checks of each over the raw file (office._office_checks calls
it); `call_flow_toml` writes the tables back as TOML for `office_to_toml`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from firmware.config.features import FeaturesConfig
from firmware.config.groups import group_checks, number_checks
from firmware.config.hours import hours_checks
from firmware.config.lines import line_route_checks
from firmware.config.menus import menu_checks
from firmware.config.problems import Issue
from firmware.config.tomlkeys import format_key, toml_value

__all__ = ["call_flow_checks", "call_flow_toml"]


OWN_CODES = ("night_toggle", "record_greeting")  # the [features] codes of the call flows


def call_flow_checks(data: Mapping[str, Any]) -> list[Issue]:
    return menu_checks(data) + group_checks(data) + number_checks(data) + hours_checks(data) \
        + line_route_checks(data) + _code_checks(data)


def _code_checks(data: Mapping[str, Any]) -> list[Issue]:
    """Night mode's and greeting recording's codes differ from every other feature code."""
    features = data.get("features")
    written = features if isinstance(features, Mapping) else {}
    codes = {key: value for key, value in FeaturesConfig().model_dump().items()
             if isinstance(value, str) and value[:1] in ("*", "#")}
    codes.update({k: v for k, v in written.items() if k in codes and isinstance(v, str)})
    issues = []
    for key in OWN_CODES:
        other = next((k for k, v in codes.items() if k != key and v == codes[key]), None)
        if other is not None:
            issues.append(Issue(("features", key), f"{codes[key]} is also [features] {other}",
                                f'give each feature its own code (default {key} = '
                                f'"{FeaturesConfig.model_fields[key].default}")'))
    return issues


def _lines(table: Mapping[str, Any]) -> list[str]:
    return [f"{format_key((key,))} = {toml_value(value)}" for key, value in table.items()
            if value is not None and not isinstance(value, Mapping)]


def call_flow_toml(data: Mapping[str, Any]) -> list[str]:
    """[hours], [[schedule]], [[group]], [[menu]] (with [menu.options]) and [fxo."fxo:N"]
    of a dumped office (`model_dump(by_alias=True)`), as TOML lines."""
    out = ["[hours]", *_lines(data["hours"]), ""]
    for port, line in data["fxo"].items():
        out += [f"[{format_key(('fxo', port))}]", *_lines(line), ""]
    for schedule in data["schedule"]:
        out += ["[[schedule]]", *_lines(schedule), ""]
    for group in data["group"]:
        out += ["[[group]]", *_lines(group), ""]
    for menu in data["menu"]:
        out += ["[[menu]]", *_lines(menu), ""]
        if menu["options"]:
            out += ["[menu.options]", *_lines(menu["options"]), ""]
    return out
