"""The office config's business hours ([hours]) and the schedules that use them ([[schedule]]).

    [hours]
    open = ["mon-fri 09:00-17:00", "sat 10:00-13:00"]   # in [site] timezone
    holidays = ["2025-12-25", "2025-12-24..2025-12-26"]  # closed all day

    [[schedule]]
    name = "office"
    day = "menu:main"           # while the office is open
    night = "menu:closed"       # outside the hours, on holidays, and in night mode

An opening span is `DAYS HH:MM-HH:MM`: DAYS is a day (`mon`), a range (`mon-fri`, `fri-mon`
wraps round the week), a list (`mon,wed,fri`) or `daily`; an end at or before the start
runs past midnight (`fri 22:00-02:00` is open until Saturday 02:00); `24:00` is midnight at
the end of the day. A holiday is a date or an inclusive range `FIRST..LAST`.

`OpeningHours` answers "open at this local time?" and "when does that next change?" (the
night-mode override lasts until then). The caller passes the time: nothing here reads a
clock (STYLE.md, "Time is an argument").
"""

from __future__ import annotations

import datetime
import difflib
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, StrictStr

from firmware.config.destinations import Target, split_target
from firmware.config.model import Model
from firmware.config.problems import Issue, fail
from firmware.config.tomlkeys import KeyPath, format_key, tables

__all__ = ["HolidaySpan", "HoursConfig", "OpenSpan", "OpeningHours", "ScheduleConfig",
           "hours_checks", "parse_holiday", "parse_span"]

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MINUTES_PER_DAY = 24 * 60
# How far ahead `next_change` looks: a year and a bit covers any holiday list.
LOOKAHEAD_DAYS = 400

_SPAN = re.compile(r"(?P<days>[a-z,\-]+)\s+(?P<start>\d{1,2}:\d{2})\s*-\s*(?P<end>\d{1,2}:\d{2})")
_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,31}")
SPAN_EXAMPLE = '"mon-fri 09:00-17:00"'
HOLIDAY_EXAMPLE = '"2025-12-25" or "2025-12-24..2025-12-26"'


@dataclass(frozen=True, slots=True)
class OpenSpan:
    """Open on `days` (0 = Monday) from `start` to `end`, in minutes after midnight; an end
    at or before the start is on the next day."""

    days: frozenset[int]
    start: int
    end: int

    @property
    def overnight(self) -> bool:
        return self.end <= self.start


@dataclass(frozen=True, slots=True)
class HolidaySpan:
    first: datetime.date
    last: datetime.date

    def __contains__(self, day: object) -> bool:
        return isinstance(day, datetime.date) and self.first <= day <= self.last

    def overlaps(self, other: HolidaySpan) -> bool:
        return self.first <= other.last and other.first <= self.last


def _day(word: str) -> int:
    if word not in DAYS:
        close = difflib.get_close_matches(word, DAYS, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ValueError(f"{word!r} is not a day{hint}; days are {', '.join(DAYS)}")
    return DAYS.index(word)


def _days(text: str) -> frozenset[int]:
    if text == "daily":
        return frozenset(range(7))
    days: set[int] = set()
    for part in text.split(","):
        first, sep, last = part.partition("-")
        a = _day(first)
        b = _day(last) if sep else a
        days.update((a + i) % 7 for i in range((b - a) % 7 + 1))  # fri-mon wraps
    return frozenset(days)


def _minutes(text: str, *, end: bool) -> int:
    hours, _, minutes = text.partition(":")
    h, m = int(hours), int(minutes)
    if end and (h, m) == (24, 0):
        return MINUTES_PER_DAY
    if not (0 <= h <= 23 and 0 <= m <= 59):
        raise ValueError(f"{text!r} is not a time of day (00:00 to 23:59, or 24:00 as an end)")
    return h * 60 + m


def parse_span(text: str) -> OpenSpan:
    """'mon-fri 09:00-17:00' -> OpenSpan; ValueError saying what is wrong."""
    found = _SPAN.fullmatch(text.strip().lower())
    if found is None:
        raise ValueError("expected DAYS HH:MM-HH:MM")
    start = _minutes(found["start"], end=False)
    end = _minutes(found["end"], end=True)
    if start == end:
        raise ValueError("it opens and closes at the same minute")
    return OpenSpan(_days(found["days"]), start, end)


def parse_holiday(text: str) -> HolidaySpan:
    """'2025-12-25' or '2025-12-24..2025-12-26' -> HolidaySpan; ValueError."""
    first_text, sep, last_text = text.strip().partition("..")
    try:
        first = datetime.date.fromisoformat(first_text.strip())
        last = datetime.date.fromisoformat(last_text.strip()) if sep else first
    except ValueError:
        raise ValueError("expected a date YYYY-MM-DD or a range FIRST..LAST") from None
    if last < first:
        raise ValueError(f"the range ends ({last}) before it starts ({first})")
    return HolidaySpan(first, last)


def _check_span(value: str) -> str:
    try:
        parse_span(value)
    except ValueError as exc:
        raise fail(f"{value!r} is not an opening time: {exc}",
                   f"write days and hours like {SPAN_EXAMPLE} or \"sat 10:00-13:00\"") from None
    return value


def _check_holiday(value: str) -> str:
    try:
        parse_holiday(value)
    except ValueError as exc:
        raise fail(f"{value!r} is not a holiday: {exc}", f"write {HOLIDAY_EXAMPLE}") from None
    return value


def _check_name(value: str) -> str:
    if not _NAME.fullmatch(value):
        raise fail(f"{value!r} is not a schedule name",
                   'use lower-case letters, digits, - and _, e.g. name = "office"')
    return value


SpanText = Annotated[StrictStr, AfterValidator(_check_span)]
HolidayText = Annotated[StrictStr, AfterValidator(_check_holiday)]


class HoursConfig(Model):
    """[hours]: when the office is open, in the [site] time zone."""

    open: tuple[SpanText, ...] = Field(
        (), description='opening times, e.g. ["mon-fri 09:00-17:00"]')
    holidays: tuple[HolidayText, ...] = Field(
        (), description="dates the office is closed all day")
    override: Literal["until-next-change", "until-toggled"] = Field(
        "until-next-change", description="how long *28 night/day mode lasts")

    def opening(self) -> OpeningHours:
        return OpeningHours(tuple(parse_span(s) for s in self.open),
                            tuple(parse_holiday(h) for h in self.holidays))


class ScheduleConfig(Model):
    """[[schedule]]: one destination while the office is open, another while it is not."""

    name: Annotated[StrictStr, AfterValidator(_check_name)]
    day: Target
    night: Target


class OpeningHours:
    """Open or closed at a local time, by weekly spans and holidays."""

    def __init__(self, spans: tuple[OpenSpan, ...], holidays: tuple[HolidaySpan, ...]) -> None:
        self.spans = spans
        self.holidays = holidays

    def holiday(self, day: datetime.date) -> bool:
        return any(day in h for h in self.holidays)

    def is_open(self, when: datetime.datetime) -> bool:
        """Open at `when` (a local, time-zone aware time)? Closed all day on a holiday."""
        day = when.date()
        if self.holiday(day):
            return False
        minute = when.hour * 60 + when.minute
        weekday = when.weekday()
        for span in self.spans:
            if span.overnight:
                if (weekday in span.days and minute >= span.start) or \
                        ((weekday - 1) % 7 in span.days and minute < span.end):
                    return True
            elif weekday in span.days and span.start <= minute < span.end:
                return True
        return False

    def next_change(self, when: datetime.datetime) -> datetime.datetime | None:
        """The first moment after `when` at which `is_open` differs from now; None if it
        never does within a year (never open, or always)."""
        now_open = self.is_open(when)
        for moment in self._boundaries(when):
            if self.is_open(moment) != now_open:
                return moment
        return None

    def _boundaries(self, when: datetime.datetime) -> Iterator[datetime.datetime]:
        """Every moment at which the answer may change, after `when`, in order."""
        zone = when.tzinfo
        marks = sorted({0, *(s.start for s in self.spans), *(s.end for s in self.spans)})
        start = when.date()
        for offset in range(LOOKAHEAD_DAYS):
            day = start + datetime.timedelta(days=offset)
            for minute in marks:
                moment = datetime.datetime.combine(
                    day, datetime.time(minute // 60 % 24, minute % 60), tzinfo=zone)
                if moment > when:
                    yield moment


# -- checks over the whole file ----------------------------------------------------------


def _holiday_overlaps(hours: Mapping[str, Any]) -> list[Issue]:
    issues: list[Issue] = []
    seen: list[tuple[int, HolidaySpan]] = []
    holidays = hours.get("holidays")
    for j, text in enumerate(holidays if isinstance(holidays, list | tuple) else ()):
        try:
            span = parse_holiday(text) if isinstance(text, str) else None
        except ValueError:
            continue  # reported by the model
        if span is None:
            continue
        clash = next((i for i, other in seen if other.overlaps(span)), None)
        if clash is not None:
            issues.append(Issue(("hours", "holidays", j), f"{text!r} overlaps "
                                f"{holidays[clash]!r} (hours.holidays[{clash}])",
                                "list each closed day once: merge the two into one range"))
        seen.append((j, span))
    return issues


def _schedule_loops(data: Mapping[str, Any]) -> list[Issue]:
    """A schedule whose day or night leads back to itself through other schedules would
    send a call round for ever."""
    leads: dict[str, list[str]] = {}
    paths: dict[str, KeyPath] = {}
    for path, table in tables(data, "schedule"):
        name = table.get("name")
        if isinstance(name, str):
            paths.setdefault(name, path)
            leads[name] = [split_target(table[k])[1] for k in ("day", "night")
                           if isinstance(table.get(k), str)
                           and split_target(table[k])[0] == "schedule"]
    issues = []
    for name, path in paths.items():
        if _reaches(name, name, leads, set()):
            issues.append(Issue(path, f"schedule {name!r} leads back to itself (day or "
                                "night names a schedule that comes back here)",
                                "let day and night lead to a menu, group, queue or number"))
    return issues


def _reaches(start: str, goal: str, leads: Mapping[str, list[str]], seen: set[str]) -> bool:
    for nxt in leads.get(start, []):
        if nxt == goal:
            return True
        if nxt not in seen:
            seen.add(nxt)
            if _reaches(nxt, goal, leads, seen):
                return True
    return False


def _names(data: Mapping[str, Any], table: str) -> Iterable[Issue]:
    first: dict[str, KeyPath] = {}
    for path, entry in tables(data, table):
        name = entry.get("name")
        if not isinstance(name, str):
            continue
        if name in first:
            yield Issue((*path, "name"), f"{table} {name!r} is defined twice (also at "
                        f"{format_key(first[name])})", f"give each [[{table}]] its own name")
        else:
            first[name] = path


def hours_checks(data: Mapping[str, Any]) -> list[Issue]:
    """Holidays that overlap, schedules without opening hours or in a loop, names twice."""
    hours = data.get("hours")
    hours = hours if isinstance(hours, Mapping) else {}
    issues = _holiday_overlaps(hours) + _schedule_loops(data) + list(_names(data, "schedule"))
    schedules = list(tables(data, "schedule"))
    if schedules and not hours.get("open"):
        issues.append(Issue(schedules[0][0], "there are no opening hours, so the office "
                            "would always be closed and every call would go to night",
                            'add [hours] open = ["mon-fri 09:00-17:00"] (your hours)'))
    return issues
