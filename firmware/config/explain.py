"""pydantic's validation errors reworded for an installer, as `Issue`s.

Each error becomes one issue at its key path in the TOML data, with a fix that shows a good
value (`number = "102"`), the key that was probably meant, or the table a stray key belongs
in. Errors that only echo another error are dropped (see `_is_echo`).
"""

from __future__ import annotations

import difflib
import re
import types
import typing
from collections.abc import Iterable, Mapping, Sequence
from typing import Annotated, Any

from pydantic import BaseModel
from pydantic_core import ErrorDetails, PydanticUndefined

from firmware.config.problems import Issue
from firmware.config.tomlkeys import KeyPath, format_key, is_int, toml_value

__all__ = ["example_of", "issue_from_error", "issues_from_errors", "table_name"]


def _show(value: object) -> str:
    """A value as an installer wrote it: strings quoted, booleans lowercase."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        text = repr(value)
    elif isinstance(value, Mapping):
        text = "a table"
    elif isinstance(value, list | tuple):
        try:
            text = toml_value(value)
        except TypeError:
            text = "a list"
    else:
        text = str(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _unwrap(tp: Any) -> Any:
    """Strip Annotated and `X | None` from a type annotation."""
    while True:
        origin = typing.get_origin(tp)
        if origin is Annotated:
            tp = typing.get_args(tp)[0]
        elif origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(tp) if a is not type(None)]
            if len(args) != 1:
                return tp
            tp = args[0]
        else:
            return tp


def _model_at(root: type[BaseModel], path: KeyPath) -> type[BaseModel] | None:
    """The model class that validates the table at `path`, if any."""
    tp: Any = root
    for seg in path:
        tp = _unwrap(tp)
        origin = typing.get_origin(tp)
        if isinstance(tp, type) and issubclass(tp, BaseModel) and isinstance(seg, str):
            field = next(
                (f for n, f in tp.model_fields.items() if (f.alias or n) == seg), None
            )
            if field is None:
                return None
            tp = field.annotation
        elif origin in (tuple, list) and isinstance(seg, int):
            tp = typing.get_args(tp)[0]
        elif origin is dict and isinstance(seg, str):
            tp = typing.get_args(tp)[1]
        else:
            return None
    tp = _unwrap(tp)
    return tp if isinstance(tp, type) and issubclass(tp, BaseModel) else None


def _keys_of(model: type[BaseModel]) -> list[str]:
    return [f.alias or n for n, f in model.model_fields.items()]


def _homes(root: type[BaseModel]) -> dict[str, str]:
    """Key -> the one [table] where it belongs (for 'it belongs in [site]' hints)."""
    seen: dict[str, list[str]] = {}
    for name in _keys_of(root):
        sub = _model_at(root, (name,)) or _model_at(root, (name, 0))
        for key in _keys_of(sub) if sub else ():
            seen.setdefault(key, []).append(name)
    return {key: tables[0] for key, tables in seen.items() if len(tables) == 1}


def _clean_path(loc: Sequence[str | int], data: Any) -> KeyPath:
    """pydantic's loc as a path in the TOML data (drops '[key]' and schema tags)."""
    path: list[str | int] = []
    node = data
    for i, seg in enumerate(loc):
        if (isinstance(node, Mapping) and seg in node) or (
            isinstance(node, list | tuple) and isinstance(seg, int) and seg < len(node)
        ):
            node = node[seg]
        elif i == len(loc) - 1 and seg != "[key]":
            node = None  # a missing key: keep it, it names what to add
        else:
            continue
        path.append(seg)
    return tuple(path)


def example_of(key: str, root: type[BaseModel], path: KeyPath) -> str:
    """`key = <a good value>` for a fix text."""
    where = ".".join(s for s in path if isinstance(s, str))  # 'extension.name'
    for name in (where, key):
        if name in _EXAMPLES:
            return f"{key} = {_EXAMPLES[name]}"
    model = _model_at(root, path[:-1])
    field = model.model_fields.get(key) if model else None
    if field is not None and field.default not in (None, PydanticUndefined):
        return f"{key} = {toml_value(field.default)}"
    return f"{key} = ..."


_EXAMPLES = {
    "number": '"102"',
    "name": '"Office box"',
    "site.name": '"Acme Dental"',
    "extension.name": '"Front desk"',
    "button.name": '"night"',
    "led.name": '"power"',
    "devices": '["fxs:1"]',
    "timezone": '"Europe/Berlin"',
    "country": '"us"',
    "backend": '"sim"',
    "port": "1",
    "pin": "5",
    "chip": '"si3215"',
    "slots": "4",
    "uart": '"/dev/serial0"',
    "baud": "115200",
    "device": '"hw:CARD=pbxhat,DEV=0"',
    "ports": "[1, 2]",
    "spi_bus": "0",
    "spi_cs": "0",
    "pcm_slot": "0",
    "reset_pin": "17",
    "interrupt_pin": "4",
}


def _unknown_key(key: str, root: type[BaseModel], path: KeyPath) -> tuple[str, str]:
    model = _model_at(root, path[:-1])
    allowed = _keys_of(model) if model else []
    close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
    message = f"unknown key {key!r}"
    if close:
        return message, f"did you mean {close[0]!r}? (keys allowed here: {', '.join(allowed)})"
    home = _homes(root).get(key)
    if home is not None and (not path[:-1] or path[0] != home):
        return f"{key!r} does not belong here", f"move it to [{home}]"
    return message, f"remove it; the keys allowed here are: {', '.join(allowed) or 'none'}"


def issues_from_errors(
    errors: Iterable[ErrorDetails], data: Any, root: type[BaseModel]
) -> list[Issue]:
    """pydantic's errors for `data` (validated against `root`) as issues, echoes dropped."""
    return [issue_from_error(err, data, root) for err in errors if not _is_echo(err)]


def _is_echo(err: Mapping[str, Any]) -> bool:
    """A 'too short' list that only seems short because some of its items are bad.

    pydantic counts a list's length after validating its items and leaves the bad ones out,
    so devices = ["fxs:9"] is also 'at least 1 item, not 0'. The bad items are reported on
    their own; saying the list is empty as well would be wrong.
    """
    given, ctx = err.get("input"), err.get("ctx") or {}
    return (
        err["type"] == "too_short"
        and isinstance(given, list | tuple)
        and is_int(ctx.get("min_length"))
        and len(given) >= ctx["min_length"]
    )


def issue_from_error(err: Mapping[str, Any], data: Any, root: type[BaseModel]) -> Issue:
    """One pydantic error, reworded for an installer."""
    path = _clean_path(err["loc"], data)
    key = next((s for s in reversed(path) if isinstance(s, str)), "")
    kind, given, ctx = err["type"], err.get("input"), err.get("ctx") or {}
    example = example_of(key, root, path)
    if kind == "config":
        return Issue(path, ctx["message"], ctx["fix"])
    if kind == "extra_forbidden":
        return Issue(path, *_unknown_key(key, root, path))
    if kind == "missing":
        return Issue(path, f"the required key {key!r} is missing",
                     f"add {example} to {table_name(path[:-1])}")
    if kind in ("string_type", "int_type", "float_type", "bool_type"):
        return _type_issue(path, kind, given, example)
    if kind in ("tuple_type", "list_type"):
        fix = f"write a list in square brackets, e.g. {example}"
        if isinstance(given, str):
            fix = f"write a list in square brackets: {key} = {toml_value([given])}"
        elif isinstance(given, Mapping) or _model_at(root, (*path, 0)) is not None:
            fix = f"write a [[{key}]] table (double brackets) for each entry"
        return Issue(path, f"{_show(given)} is not a list", fix)
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        fix = f"write it as a table: [{format_key(path)}] on its own line, then its keys"
        return Issue(path, f"{_show(given)} is not a table", fix)
    if kind == "literal_error":
        return _literal_issue(path, given, ctx)
    return _range_issue(path, kind, given, ctx, err.get("msg", ""), example)


def table_name(path: KeyPath) -> str:
    if not path:
        return "the top of the file"
    if isinstance(path[-1], int):
        return f"this [[{format_key(path[:-1])}]]"
    return f"[{format_key(path)}]"


def _type_issue(path: KeyPath, kind: str, given: object, example: str) -> Issue:
    key = example.split(" = ")[0]
    if kind == "string_type":
        fix = f"write it in double quotes, e.g. {example}"
        if is_int(given) or isinstance(given, float):
            fix = f'write it in double quotes: {key} = "{given}"'
        return Issue(path, f"{_show(given)} is not text in quotes", fix)
    if kind == "bool_type":
        return Issue(path, f"{_show(given)} is not true or false",
                     f"write {key} = true or {key} = false (lowercase, no quotes)")
    what = "a whole number" if kind == "int_type" else "a number"
    fix = f"write a number without quotes, e.g. {example}"
    if isinstance(given, str) and re.fullmatch(r"\s*-?\d+(\.\d+)?\s*", given):
        fix = f"remove the quotes: {key} = {given.strip()}"
    elif isinstance(given, float) and kind == "int_type":
        fix = f"use whole milliseconds, e.g. {key} = {round(given)}"
    return Issue(path, f"{_show(given)} is not {what}", fix)


def _literal_issue(path: KeyPath, given: object, ctx: Mapping[str, Any]) -> Issue:
    allowed = re.findall(r"'([^']*)'|(\d+)", str(ctx.get("expected", "")))
    choices = [a or b for a, b in allowed]
    fix = f"use one of: {', '.join(choices)}"
    close = difflib.get_close_matches(str(given).lower(), choices, n=1, cutoff=0.5)
    if close:
        fix = f"did you mean {close[0]!r}? ({fix})"
    return Issue(path, f"{_show(given)} is not one of the allowed values", fix)


def _range_issue(
    path: KeyPath, kind: str, given: object, ctx: Mapping[str, Any], msg: str, example: str
) -> Issue:
    bounds = {
        "greater_than": ("must be greater than", "gt"),
        "greater_than_equal": ("must be at least", "ge"),
        "less_than": ("must be less than", "lt"),
        "less_than_equal": ("must be at most", "le"),
    }
    if kind in bounds:
        words, name = bounds[kind]
        return Issue(path, f"{_show(given)} {words} {ctx[name]}", f"use e.g. {example}")
    if kind in ("too_short", "string_too_short"):
        what = "the list is empty" if isinstance(given, list | tuple) else "the text is empty"
        return Issue(path, what, f"use e.g. {example}")
    if kind in ("too_long", "string_too_long"):
        limit = ctx.get("max_length")
        return Issue(path, f"{_show(given)} is too long (at most {limit})", "shorten it")
    return Issue(path, msg or "this value is not valid", "see docs/config.md")
