"""When a dialled number is complete, and where it leads."""

from __future__ import annotations

import pytest

from firmware.engine.channel import Cause
from firmware.engine.dialplan import DialPlan, Match


async def nowhere(channel: object) -> Cause:
    return Cause.NORMAL_CLEARING


@pytest.fixture
def plan() -> DialPlan:
    p = DialPlan()
    for number in ("101", "102", "20", "201"):
        p.add(number, nowhere)
    return p


@pytest.mark.parametrize(
    ("digits", "expected"),
    [
        ("1", Match.PARTIAL),
        ("10", Match.PARTIAL),
        ("101", Match.COMPLETE),
        ("103", Match.NONE),
        ("9", Match.NONE),
        ("20", Match.AMBIGUOUS),  # 20 is a number, but 201 starts with it: wait
        ("201", Match.COMPLETE),
        ("1011", Match.NONE),
    ],
)
def test_match(plan: DialPlan, digits: str, expected: Match) -> None:
    assert plan.match(digits) is expected


def test_lookup_and_duplicates(plan: DialPlan) -> None:
    assert plan.lookup("102") is nowhere
    assert plan.lookup("103") is None
    with pytest.raises(ValueError, match="already"):
        plan.add("101", nowhere)
