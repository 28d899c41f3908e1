"""The office config's [features]: feature codes and the times features wait.

One table of defaults for every phone kind (REFERENCE.md, "Feature codes"); an office may
change any of them. Codes start with * or # so they never clash with extension numbers.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import AfterValidator, Field, StrictInt, StrictStr, ValidationError

from firmware.config.model import Model
from firmware.config.problems import Issue, fail
from firmware.config.tomlkeys import tables

__all__ = ["FeaturesConfig", "feature_checks"]


def _check_code(value: str) -> str:
    if not re.fullmatch(r"[*#][0-9*#]{1,4}", value):
        raise fail(f"{value!r} is not a feature code",
                   'start with * or # and add one to four digits, * or #, e.g. "##" or "*2"')
    return value


Code = Annotated[StrictStr, AfterValidator(_check_code)]
Number = Annotated[StrictStr, Field(pattern=r"^[0-9]{2,6}$")]
Wait = Annotated[float, Field(strict=True, gt=0, le=600)]


class FeaturesConfig(Model):
    """[features]: codes dialled in a call or after a hook-flash, and feature timeouts."""

    blind_transfer: Code = Field("##", description="+ number: transfer the other party there")
    attended_transfer: Code = Field(
        "*2", description="in a call, + number: consult, then *4 join, *3 back, *5 3-way")
    consult_abort: Code = Field("*3", description="during a *2 consult: back to the caller")
    consult_complete: Code = Field("*4", description="during a *2 consult: join the two, "
                                   "drop out")
    consult_three_way: Code = Field("*5", description="during a *2 consult: all three talk")
    consult_swap: Code = Field("*6", description="during a *2 consult: swap between the two")
    forward_all_on: Code = Field("*72", description="+ number: forward every call there")
    forward_all_off: Code = "*73"
    forward_busy_on: Code = Field("*90", description="+ number: forward calls when busy")
    forward_busy_off: Code = "*91"
    forward_no_answer_on: Code = Field(
        "*52", description="+ number: forward calls not answered in the ring time")
    forward_no_answer_off: Code = "*53"
    dnd_on: Code = Field("*78", description="do not disturb: callers get busy (or forward)")
    dnd_off: Code = "*79"
    no_call_waiting: Code = Field("*70", description="before dialling: no call waiting "
                                  "during this call")
    pickup: Code = Field("*8", description="answer a phone ringing in your pickup group")
    directed_pickup: Code = Field("**", description="+ extension: answer that phone")
    night_toggle: Code = Field("*28", description="night mode on/off (business hours)")
    record_greeting: Code = Field("*77", description="+ menu number: record its greeting")
    voicemail: Code = Field("*97", description="listen to your own mailbox")
    voicemail_any: Code = Field("*98", description="listen to any mailbox (asks which)")
    agent_login: Code = Field("*45", description="queue agent: log in or out (toggle)")
    manager_callback: Code = Field(
        "*36", description="in a call (flash or transfer): promise a manager callback")
    park: Number = Field("700", description="after a flash: park the held call")
    park_code: Code = Field("*5", description="the same as park, as a feature code")
    park_slots: Annotated[StrictInt, Field(ge=1, le=20)] = Field(
        8, description="slots after the park number: 701-708")
    park_timeout_s: Wait = Field(
        45.0, description="a parked call nobody takes rings its parker back after this")
    operator: Number | None = Field(
        None, description="where calls go that nobody else takes (recalls, parks)")
    hold_music: StrictStr | None = Field(
        None, description="the office's own hold music: an 8 kHz mono WAV file")
    prompts_dir: StrictStr | None = Field(
        None, description="the office's own recordings, replacing prompts by name")

    @property
    def park_numbers(self) -> list[str]:
        first = int(self.park) + 1
        width = len(self.park)
        return [str(n).zfill(width) for n in range(first, first + self.park_slots)]
    transfer_ring_s: Wait = Field(
        30.0, description="an unanswered transfer comes back to the transferrer after this")
    recall_ring_s: Wait = Field(
        30.0, description="a held call rings back its holder who hung up, this long")


def feature_checks(data: Mapping[str, Any]) -> list[Issue]:
    """The park numbers and the operator against the extensions."""
    features = data.get("features")
    features = features if isinstance(features, Mapping) else {}
    try:
        parsed = FeaturesConfig.model_validate(features)
    except ValidationError:
        return []  # its own problems are reported by the model
    numbers = {ext.get("number"): path for path, ext in tables(data, "extension")}
    issues = []
    lot = [parsed.park, *parsed.park_numbers]
    for ext, path in numbers.items():
        if not isinstance(ext, str):
            continue
        number = next((n for n in lot if n.startswith(ext) or ext.startswith(n)), None)
        if number is not None:
            issues.append(Issue((*path, "number"), f"extension {ext} clashes with the call "
                                f"park number {number} (park {parsed.park}, slots "
                                f"{lot[1]}-{lot[-1]})", 'renumber the extension, or move the '
                                'lot: [features] park = "800"'))
    if parsed.operator is not None and parsed.operator not in numbers:
        issues.append(Issue(("features", "operator"), f"{parsed.operator} is not an extension",
                            "name the extension that takes calls nobody else takes"))
    return issues
