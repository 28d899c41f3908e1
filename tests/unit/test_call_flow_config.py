"""The call-flow tables of the office config: [[menu]], [[group]], [hours], [[schedule]],
[fxo."fxo:N"] and routes out on the phone line. The opening-hours parser and clock, and
every installer mistake refused with the key, the line and a fix."""

from __future__ import annotations

import datetime
import re
import textwrap
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from firmware.config import BoardConfig, load_board, office_to_toml, parse_office
from firmware.config.hours import OpeningHours, parse_holiday, parse_span
from tests.unit.test_config import SIM, office_problems, one

ZONE = ZoneInfo("Europe/Berlin")

FLOWS = '''
[site]
timezone = "Europe/Berlin"

[features]
operator = "101"

[hours]
open = ["mon-fri 09:00-17:00", "sat 10:00-13:00"]
holidays = ["2025-12-25", "2025-12-31..2026-01-01"]

[[extension]]
number = "101"
name = "Front desk"
devices = ["fxs:1"]

[[extension]]
number = "102"
name = "Sales"
devices = ["fxs:2"]

[[group]]
name = "sales"
number = "600"
members = ["101", "102"]
strategy = "hunt"
no_answer = "101"

[[schedule]]
name = "office"
day = "menu:main"
night = "hangup"

[[menu]]
name = "main"
number = "500"
greeting = ["welcome", "menu-default"]
timeout_destination = "group:sales"

[menu.options]
"1" = "group:sales"
"2" = "menu:support"

[[menu]]
name = "support"
greeting = "menu-default"

[fxo."fxo:1"]
destination = "schedule:office"

[[route]]
prefix = "8"
trunk = "fxo:1"
allow = ["NXXXXXX"]
'''


@pytest.fixture(scope="module")
def sim() -> BoardConfig:
    return load_board(SIM)


def at(day: str, hh: int, mm: int = 0) -> datetime.datetime:
    return datetime.datetime.combine(datetime.date.fromisoformat(day),
                                     datetime.time(hh, mm), tzinfo=ZONE)


# -- the parser and the clock ---------------------------------------------------------------


@pytest.mark.parametrize(("text", "days", "start", "end"), [
    ("mon-fri 09:00-17:00", {0, 1, 2, 3, 4}, 540, 1020),
    ("sat 10:00-13:30", {5}, 600, 810),
    ("mon,wed,fri 8:00-12:00", {0, 2, 4}, 480, 720),
    ("fri-mon 22:00-02:00", {4, 5, 6, 0}, 1320, 120),
    ("daily 00:00-24:00", set(range(7)), 0, 1440),
    ("  Sun 07:15 - 07:45 ", {6}, 435, 465),
])
def test_opening_spans_parse(text: str, days: set[int], start: int, end: int) -> None:
    span = parse_span(text)
    assert (set(span.days), span.start, span.end) == (days, start, end)


@pytest.mark.parametrize(("text", "why"), [
    ("monday-friday 09:00-17:00", "'monday' is not a day (did you mean 'mon'?)"),
    ("mon-fri 9-17", "expected DAYS HH:MM-HH:MM"),
    ("mon 09:00-25:00", "'25:00' is not a time of day"),
    ("mon 09:00-09:00", "opens and closes at the same minute"),
    ("mon 24:00-09:00", "'24:00' is not a time of day"),
])
def test_bad_spans_say_why(text: str, why: str) -> None:
    with pytest.raises(ValueError, match=re.escape(why)):
        parse_span(text)


def test_holidays_are_dates_or_ranges() -> None:
    assert parse_holiday("2025-12-25").first == parse_holiday("2025-12-25").last
    span = parse_holiday("2025-12-31..2026-01-01")
    assert datetime.date(2026, 1, 1) in span and datetime.date(2026, 1, 2) not in span
    with pytest.raises(ValueError, match="ends"):
        parse_holiday("2026-01-02..2026-01-01")
    with pytest.raises(ValueError, match="YYYY-MM-DD"):
        parse_holiday("25.12.2025")


def hours(*spans: str, holidays: tuple[str, ...] = ()) -> OpeningHours:
    return OpeningHours(tuple(parse_span(s) for s in spans),
                        tuple(parse_holiday(h) for h in holidays))


def test_open_in_the_spans_closed_outside_and_on_holidays() -> None:
    week = hours("mon-fri 09:00-17:00", holidays=("2025-12-25",))
    assert week.is_open(at("2025-12-17", 9))  # a Wednesday, at opening
    assert week.is_open(at("2025-12-17", 16, 59))
    assert not week.is_open(at("2025-12-17", 17))  # closing time is closed
    assert not week.is_open(at("2025-12-17", 8, 59))
    assert not week.is_open(at("2025-12-20", 12))  # Saturday
    assert not week.is_open(at("2025-12-25", 12))  # Christmas, a Thursday


def test_a_span_past_midnight_belongs_to_the_day_it_starts() -> None:
    late = hours("fri 22:00-02:00")
    assert late.is_open(at("2025-12-19", 23))  # Friday night
    assert late.is_open(at("2025-12-20", 1, 59))  # early Saturday
    assert not late.is_open(at("2025-12-20", 2))
    assert not late.is_open(at("2025-12-18", 23))  # Thursday
    assert not late.is_open(at("2025-12-19", 1))  # early Friday: Thursday had no span


def test_next_change_is_the_next_opening_or_closing() -> None:
    week = hours("mon-fri 09:00-17:00", holidays=("2025-12-22",))
    assert week.next_change(at("2025-12-17", 10)) == at("2025-12-17", 17)
    assert week.next_change(at("2025-12-17", 17)) == at("2025-12-18", 9)
    # Friday evening: the weekend and Monday's holiday pass; Tuesday opens
    assert week.next_change(at("2025-12-19", 18)) == at("2025-12-23", 9)
    assert hours().next_change(at("2025-12-17", 10)) is None  # never open: no change


def test_next_change_across_a_daylight_saving_change() -> None:
    week = hours("daily 09:00-17:00")
    # Europe/Berlin moves to summer time on 2026-03-29
    assert week.next_change(at("2026-03-28", 18)) == at("2026-03-29", 9)


@given(st.integers(0, 6 * 24 * 60 - 1))
def test_next_change_really_changes_and_nothing_changes_before(minute: int) -> None:
    week = hours("mon-fri 09:00-17:00", "sat 10:00-13:00", "fri 22:00-02:00")
    start = at("2025-12-15", 0) + datetime.timedelta(minutes=minute)
    change = week.next_change(start)
    assert change is not None and week.is_open(change) != week.is_open(start)
    probe = start + datetime.timedelta(minutes=1)
    while probe < change:
        assert week.is_open(probe) == week.is_open(start)
        probe += datetime.timedelta(minutes=37)


# -- the office config ------------------------------------------------------------------------


def test_a_full_call_flow_loads_and_round_trips(sim: BoardConfig) -> None:
    office = parse_office(textwrap.dedent(FLOWS), "office.toml", sim)
    main = office.menus[0]
    assert (main.options["1"], main.timeout_retries, main.invalid_retries) == \
        ("group:sales", 2, 2)
    assert office.menus[1].greeting == ("menu-default",)  # one prompt may be one string
    assert office.groups[0].strategy == "hunt"
    assert office.fxo["fxo:1"].destination == "schedule:office"
    assert office.routes[0].trunk == "fxo:1"
    assert office.hours.opening().is_open(at("2025-12-20", 11))  # Saturday morning
    assert parse_office(office_to_toml(office), "saved.toml", sim) == office


@pytest.mark.parametrize(("old", "new", "key", "message"), [
    ('"2025-12-25", ', '"2025-12-25", "2025-12-24..2025-12-26", ', "hours.holidays[1]",
     "overlaps '2025-12-25'"),
    ('"sat 10:00-13:00"', '"saturday 10-13"', "hours.open[1]", "is not an opening time"),
    ('"2025-12-25"', '"12/25"', "hours.holidays[0]", "is not a holiday"),
    ('night = "hangup"', 'night = "schedule:office"', "schedule[0]",
     "leads back to itself"),
    ('members = ["101", "102"]', 'members = ["101", "109"]', "group[0].members[1]",
     "109 is not an extension"),
    ('members = ["101", "102"]', 'members = ["101", "101"]', "group[0].members[1]",
     "listed twice"),
    ('strategy = "hunt"', 'strategy = "random"', "group[0].strategy", "ring-all"),
    ('number = "600"', 'number = "101"', "group[0].number", "is already extension 101"),
    ('number = "600"', 'number = "10"', "group[0].number", "begin alike"),
    ('number = "500"', 'number = "701"', "menu[0].number", "call park lot"),
    ('number = "500"', 'number = "600"', "menu[0].number", "is already group 'sales'"),
    ('"1" = "group:sales"', '"#" = "group:sales"', 'menu[0].options."#"',
     "is not a key of the phone's keypad"),
    ('"1" = "group:sales"', '"1" = "group:sale"', "menu[0].options.1",
     'did you mean "group:sales"?'),
    ('greeting = "menu-default"', 'greeting = "../../etc/passwd"', "menu[1].greeting[0]",
     "is not a prompt name"),
    ('destination = "schedule:office"', 'destination = "schedule:ofice"',
     'fxo."fxo:1".destination', "there is no schedule 'ofice'"),
    ('[fxo."fxo:1"]', '[fxo."fxo:2"]', 'fxo."fxo:2"', "the board has no fxo:2"),
    ('trunk = "fxo:1"', 'trunk = "fxo:3"', "route[0].trunk", "the board has no fxo:3"),
    ('allow = ["NXXXXXX"]', 'allow = ["NXXXXXX"]\nprepend = "+1"', "route[0].prepend",
     "a telephone keypad has no +"),
])
def test_call_flow_mistakes_are_named(sim: BoardConfig, old: str, new: str, key: str,
                                      message: str) -> None:
    text = textwrap.dedent(FLOWS)
    assert old in text
    problem = one(office_problems(text.replace(old, new), sim), key)
    assert message in problem.message or message in problem.fix


def test_menus_that_only_lead_to_each_other_are_refused(sim: BoardConfig) -> None:
    loop = '''
    [[menu]]
    name = "a"
    dial_extensions = false
    timeout_destination = "menu:b"
    invalid_destination = "menu:b"
    [menu.options]
    "1" = "menu:b"

    [[menu]]
    name = "b"
    dial_extensions = false
    timeout_destination = "menu:a"
    invalid_destination = "menu:a"
    '''
    problems = office_problems(loop, sim)
    problem = one(problems, "menu[0]")
    assert "leads only to menus (a, b)" in problem.message
    assert "operator" in problem.fix
    # one way out anywhere in the loop is enough
    fixed = loop.replace('invalid_destination = "menu:a"', 'invalid_destination = "hangup"')
    assert len(parse_office(textwrap.dedent(fixed), "office.toml", sim).menus) == 2


def test_schedules_need_opening_hours(sim: BoardConfig) -> None:
    text = '[[schedule]]\nname = "office"\nday = "hangup"\nnight = "hangup"\n'
    problem = one(office_problems(text, sim), "schedule[0]")
    assert "no opening hours" in problem.message
    assert 'open = ["mon-fri 09:00-17:00"]' in problem.fix


def test_feature_codes_for_night_mode_and_greetings_are_settable() -> None:
    features = parse_office('[features]\nnight_toggle = "*29"\n', "office.toml").features
    assert (features.night_toggle, features.record_greeting) == ("*29", "*77")
    problem = one(office_problems('[features]\nrecord_greeting = "*78"\n'),
                  "features.record_greeting")
    assert "is also [features] dnd_on" in problem.message and '"*77"' in problem.fix
