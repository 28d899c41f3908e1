"""The office config's analog phone lines: the board's FXO ports ([fxo."fxo:N"]).

    [fxo."fxo:1"]
    destination = "menu:main"   # where a call that rings in on the line goes

A route sends calls out on a line by naming its port: `[[route]] trunk = "fxo:1"`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import AfterValidator, Field, StrictStr, ValidationInfo

from firmware.config.board import BoardConfig, sorted_devices
from firmware.config.destinations import Target
from firmware.config.model import Model, context_of
from firmware.config.problems import Issue, reject
from firmware.config.tomlkeys import tables

__all__ = ["FXO_PORT", "FxoLineConfig", "FxoPort", "check_fxo_port", "line_route_checks"]

FXO_PORT = re.compile(r"fxo:[1-9][0-9]?")


def check_fxo_port(value: str, info: ValidationInfo) -> str:
    """`value` names an FXO port ("fxo:1"), one the board has when a board is known."""
    if not FXO_PORT.fullmatch(value):
        reject(f"{value!r} is not a phone-line port name", 'name it like "fxo:1"')
    board = context_of(info).get("board")
    if isinstance(board, BoardConfig) and value not in board.device_names():
        have = [n for n in sorted_devices(board.device_names()) if n.startswith("fxo")]
        reject(f"the board has no {value} ({board.source} has "
               f"{', '.join(have) or 'no phone line port'})",
               f"use one of: {', '.join(have)}" if have else "use a [[trunk]] instead")
    return value


FxoPort = Annotated[StrictStr, AfterValidator(check_fxo_port)]


class FxoLineConfig(Model):
    """[fxo."fxo:N"]: one phone line of the board."""

    destination: Target | None = Field(
        None, description="where incoming calls go (default: the operator, else the first "
        "extension)")
    dial_delay_s: Annotated[float, Field(strict=True, ge=0, le=10)] = Field(
        1.0, description="after taking the line, wait this long for dial tone, then dial")


def line_route_checks(data: Mapping[str, Any]) -> list[Issue]:
    """A route out on a phone line dials DTMF: its `prepend` cannot hold a "+"."""
    issues = []
    for path, route in tables(data, "route"):
        trunk, prepend = route.get("trunk"), route.get("prepend")
        if isinstance(trunk, str) and FXO_PORT.fullmatch(trunk) and \
                isinstance(prepend, str) and "+" in prepend:
            issues.append(Issue((*path, "prepend"), f"{prepend!r} cannot be dialled on the "
                                f"phone line {trunk}: a telephone keypad has no +",
                                'dial the international prefix instead, e.g. prepend = "011"'))
    return issues
