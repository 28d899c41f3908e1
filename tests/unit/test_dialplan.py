"""When a dialled number is complete, and where it leads: extensions and outbound routes."""

from __future__ import annotations

import pytest

from firmware.config.patterns import DialPattern, PatternError
from firmware.engine.channel import Cause
from firmware.engine.dialplan import Destination, DialPlan, Match


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


# -- outbound routes: a prefix and the numbers its patterns allow -------------------------


def pattern(text: str) -> DialPattern:
    return DialPattern.parse(text)


@pytest.mark.parametrize(
    ("text", "number", "allowed"),
    [
        ("NXXNXXXXXX", "5125550199", True),
        ("NXXNXXXXXX", "1125550199", False),  # an area code never starts with 1
        ("NXXNXXXXXX", "512555019", False),  # one digit short
        ("1NXXNXXXXXX", "15125550199", True),
        ("911", "911", True),
        ("[2-4]X", "35", True),
        ("[2-49]X", "95", True),
        ("[2-49]X", "55", False),
        ("0[1-9]X.", "01632960000", True),
        ("0[1-9]X.", "016", False),  # '.' wants at least one more
        ("0[1-9]X!", "016", True),  # '!' takes none
        ("X.", "*72", False),  # X is a digit, not * or #
        ("Z.", "5*", True),  # '.' takes any dialled character
    ],
)
def test_dial_patterns(text: str, number: str, allowed: bool) -> None:
    assert pattern(text).matches(number) is allowed


@pytest.mark.parametrize("text", ["", "9.1", "[", "[]", "[5-2]X", "9a", "..", "+1X"])
def test_bad_dial_patterns_are_refused(text: str) -> None:
    with pytest.raises(PatternError):
        pattern(text)


@pytest.fixture
def routed() -> DialPlan:
    p = DialPlan()
    p.add("101", nowhere)
    p.add_range("9", [pattern("NXXNXXXXXX"), pattern("911"), pattern("011X.")],
                lambda number: nowhere)
    return p


@pytest.mark.parametrize(
    ("digits", "expected"),
    [
        ("9", Match.PARTIAL),
        ("95", Match.PARTIAL),
        ("9512555019", Match.PARTIAL),
        ("95125550199", Match.COMPLETE),  # ten digits: dial at once
        ("951255501990", Match.NONE),
        ("91", Match.NONE),  # no area code starts with 1, no pattern either
        ("99", Match.PARTIAL),  # 911, or a ten-digit number in area code 9XX
        ("9911", Match.AMBIGUOUS),  # 911, or the start of a ten-digit 911-...
        ("90114", Match.PARTIAL),  # 011X. wants one more after the X
        ("901144", Match.AMBIGUOUS),  # international: more may follow; # or the timeout
        ("101", Match.COMPLETE),
        ("8", Match.NONE),
    ],
)
def test_route_ranges_say_when_a_number_is_complete(routed: DialPlan, digits: str,
                                                    expected: Match) -> None:
    assert routed.match(digits) is expected


def test_a_route_lookup_hands_on_the_number_without_the_prefix(routed: DialPlan) -> None:
    seen: list[str] = []

    def destination(number: str) -> Destination:
        seen.append(number)
        return nowhere

    routed.add_range("8", [pattern("X.")], destination)
    assert routed.lookup("85125550199") is nowhere
    assert seen == ["5125550199"]
    assert routed.lookup("91125550199") is None  # not an allowed number
    assert routed.lookup("101") is nowhere
