"""The office config's voicemail: the [voicemail] table and an extension's mailbox PIN.

Each extension with `voicemail = true` has a mailbox; its `pin` (4-10 digits) guards it.
An extension without a PIN can listen only from its own phones (`*97`), never with `*98`
from another phone: the box has no default passwords (DESIGN.md, "Reliability rules").
The owner may change the PIN by phone; the changed one is kept in the store and wins.

`voicemail_checks` checks what involves several values: the shortest message below the
longest, and the two listening codes against each other and the other feature codes (two
codes alike would make one of them unreachable).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import AfterValidator, Field, StrictInt, StrictStr, ValidationError

from firmware.config.features import FeaturesConfig
from firmware.config.model import Model
from firmware.config.problems import Issue, fail

__all__ = ["PIN_DIGITS", "Pin", "VoicemailConfig", "valid_pin", "voicemail_checks"]

PIN_DIGITS = (4, 10)  # what a phone keypad PIN of a small PBX has (FreePBX, Yeastar)
_PIN = re.compile(f"[0-9]{{{PIN_DIGITS[0]},{PIN_DIGITS[1]}}}")
_CODE = re.compile(r"[*#][0-9*#]{1,4}")  # a feature code, as [features] checks it


def valid_pin(text: str) -> bool:
    """4 to 10 digits: a PIN an installer writes or an owner keys in."""
    return _PIN.fullmatch(text) is not None


def _check_pin(value: str) -> str:
    if not valid_pin(value):
        what = "has no digits" if not value else \
            f"has {len(value)} digits" if value.isdigit() else "is not all digits"
        raise fail(f"the PIN {what}; a mailbox PIN has 4 to 10 digits",
                   'write 4 to 10 digits in quotes, e.g. pin = "4711"')
    return value


def _check_key(value: str) -> str:
    if value not in ("", *"0123456789"):
        raise fail(f"{value!r} is not one key", 'use one digit, e.g. operator_key = "0", or '
                   '"" for none')
    return value


Pin = Annotated[StrictStr, AfterValidator(_check_pin)]
MessageSeconds = Annotated[float, Field(strict=True, gt=0, le=3600)]


class VoicemailConfig(Model):
    """[voicemail]: limits for every mailbox."""

    max_message_s: MessageSeconds = Field(
        180.0, description="a message is cut off after this long (the caller hears why)")
    min_message_s: Annotated[float, Field(strict=True, ge=0, le=60)] = Field(
        1.0, description="a shorter message is thrown away (a hang-up at the tone)")
    max_messages: Annotated[StrictInt, Field(ge=1, le=999)] = Field(
        100, description="a full mailbox takes no more messages, saying so")
    max_greeting_s: Annotated[float, Field(strict=True, gt=0, le=600)] = Field(
        60.0, description="a recorded greeting is cut off after this long")
    operator_key: Annotated[StrictStr, AfterValidator(_check_key)] = Field(
        "0", description="pressed during the greeting: to the [features] operator")


def voicemail_checks(data: Mapping[str, Any]) -> list[Issue]:
    """The message limits in order; the listening codes unlike any other code."""
    issues: list[Issue] = []
    table = data.get("voicemail")
    if isinstance(table, Mapping):
        try:
            limits = VoicemailConfig.model_validate(table)
        except ValidationError:
            limits = None  # its own problems are reported by the model
        if limits is not None and limits.min_message_s >= limits.max_message_s:
            blamed = "min_message_s" if "min_message_s" in table else "max_message_s"
            issues.append(Issue(("voicemail", blamed), f"min_message_s "
                                f"({limits.min_message_s:g}) must be less than max_message_s "
                                f"({limits.max_message_s:g}): no message could be kept",
                                "e.g. min_message_s = 1 and max_message_s = 180"))
    return issues + _code_clashes(data)


def _code_clashes(data: Mapping[str, Any]) -> list[Issue]:
    features = data.get("features")
    features = features if isinstance(features, Mapping) else {}
    try:
        parsed = FeaturesConfig.model_validate(features).model_dump()
    except ValidationError:
        return []  # its own problems are reported by the model
    codes = {name: value for name, value in parsed.items()
             if isinstance(value, str) and _CODE.fullmatch(value)}
    issues = []
    for name in ("voicemail", "voicemail_any"):
        clash = next((other for other, code in codes.items()
                      if other != name and code == codes[name]), None)
        if clash is not None:
            issues.append(Issue(("features", name), f"{codes[name]} is also [features] {clash}",
                                "give each feature its own code (defaults: voicemail "
                                '"*97", voicemail_any "*98")'))
    return issues
