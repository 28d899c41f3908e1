"""The pieces every config model shares, and validation of parsed TOML data.

Validation runs in two layers:

- the models check each value on its own (types, ranges, formats, and, when a board is
  passed in the validation context, that a device or port exists on that board);
- each file's checks (`board._board_checks`, `office._office_checks`) check what involves
  several values (duplicate numbers, a device in two extensions, unique pins ...). They
  read the raw TOML data and skip whatever the models already reject, so one bad value does
  not hide the other problems. The models run them too (`run_checks`, as an
  after-validator) when built from Python.

`validate` runs both layers and raises every problem found in one `ConfigError`.
"""

from __future__ import annotations

import typing
from collections.abc import Callable, Mapping
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StrictInt, ValidationError, ValidationInfo

from firmware.config.explain import issues_from_errors
from firmware.config.problems import ConfigError, Issue, fail, locate
from firmware.config.tomlkeys import format_key

__all__ = ["Model", "Pin", "PortNumber", "context_of", "run_checks", "validate"]

Checks = Callable[[Mapping[str, Any]], list[Issue]]  # raw TOML data -> cross-value issues


class Model(BaseModel):
    """A config table: unknown keys are refused, values are frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True)


_M = typing.TypeVar("_M", bound=Model)

Pin = Annotated[StrictInt, Field(ge=0, le=27, description="BCM GPIO number on the header")]
PortNumber = Annotated[StrictInt, Field(ge=1, le=99)]


def context_of(info: ValidationInfo) -> dict[str, Any]:
    """The validation context (e.g. {"board": ...}), or {} when none was given."""
    return info.context if isinstance(info.context, dict) else {}


def run_checks(model: BaseModel, info: ValidationInfo, checks: Checks) -> None:
    """After-validator body: cross-field checks for models built from Python."""
    if context_of(info).get("checked"):
        return  # parse_* already ran them on the raw data, with lines
    issues = checks(model.model_dump(by_alias=True, exclude_none=True))
    if issues:
        first = issues[0]
        raise fail(f"{format_key(first.path)}: {first.message}", first.fix)


def validate(
    model: type[_M],
    data: dict[str, Any],
    text: str,
    file: str,
    checks: list[Issue],
    context: dict[str, Any],
) -> _M:
    """Validate `data` against `model`; every problem found, checks included, is raised."""
    issues = list(checks)
    try:
        result = model.model_validate(data, context={**context, "checked": True})
    except ValidationError as exc:
        issues += issues_from_errors(exc.errors(), data, model)
    if issues:
        raise ConfigError(locate(issues, text, file))
    return result
