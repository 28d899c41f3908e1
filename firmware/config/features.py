"""The office config's [features]: feature codes and the times features wait.

One table of defaults for every phone kind (REFERENCE.md, "Feature codes"); an office may
change any of them. Codes start with * or # so they never clash with extension numbers.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, Field, StrictStr

from firmware.config.model import Model
from firmware.config.problems import fail

__all__ = ["FeaturesConfig"]


def _check_code(value: str) -> str:
    if not re.fullmatch(r"[*#][0-9*#]{1,4}", value):
        raise fail(f"{value!r} is not a feature code",
                   'start with * or # and add one to four digits, * or #, e.g. "##" or "*2"')
    return value


Code = Annotated[StrictStr, AfterValidator(_check_code)]
Wait = Annotated[float, Field(strict=True, gt=0, le=600)]


class FeaturesConfig(Model):
    """[features]: codes dialled in a call or after a hook-flash, and feature timeouts."""

    blind_transfer: Code = Field("##", description="+ number: transfer the other party there")
    forward_all_on: Code = Field("*72", description="+ number: forward every call there")
    forward_all_off: Code = "*73"
    forward_busy_on: Code = Field("*90", description="+ number: forward calls when busy")
    forward_busy_off: Code = "*91"
    forward_no_answer_on: Code = Field(
        "*52", description="+ number: forward calls not answered in the ring time")
    forward_no_answer_off: Code = "*53"
    dnd_on: Code = Field("*78", description="do not disturb: callers get busy (or forward)")
    dnd_off: Code = "*79"
    pickup: Code = Field("*8", description="answer a phone ringing in your pickup group")
    directed_pickup: Code = Field("**", description="+ extension: answer that phone")
    transfer_ring_s: Wait = Field(
        30.0, description="an unanswered transfer comes back to the transferrer after this")
    recall_ring_s: Wait = Field(
        30.0, description="a held call rings back its holder who hung up, this long")
