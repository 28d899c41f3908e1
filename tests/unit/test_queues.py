"""The pure parts of queues: which agent rings (strategies and penalties), the estimated
wait and how it is said, the figures, the order of the line, and the number a caller is
called back on."""

from __future__ import annotations

import asyncio
import math
import textwrap

import pytest

from firmware.apps.queues.estimate import HandleTime, announcement, estimated_wait_s, wait_keys
from firmware.apps.queues.figures import QueueFigures
from firmware.apps.queues.line import Entry, Line
from firmware.apps.queues.strategy import AgentView, choose
from firmware.apps.reach import callback_number
from firmware.config import parse_office
from firmware.engine.channel import Cause, Channel, Party
from firmware.media.errors import MediaError
from firmware.media.frames import Frame
from firmware.media.prompts import say_count

ORDER = ["101", "102", "103", "104"]


def agent(ext: str, penalty: int = 0, idle_since: float = -math.inf, calls: int = 0
          ) -> AgentView:
    return AgentView(ext, penalty, ORDER.index(ext), idle_since, calls)


def picked(strategy: str, free: list[AgentView], last: str | None = None) -> list[str]:
    return [a.extension for a in choose(strategy, free, last, ORDER)]


# -- strategies ------------------------------------------------------------------------


def test_ring_all_rings_every_free_agent_of_the_lowest_penalty() -> None:
    free = [agent("103"), agent("101"), agent("102", penalty=1)]
    assert picked("ring-all", free) == ["101", "103"]


def test_nobody_free_nobody_rings() -> None:
    for strategy in ("ring-all", "longest-idle", "round-robin", "fewest-calls"):
        assert picked(strategy, []) == []


def test_longest_idle_never_called_first_then_the_oldest_call_end() -> None:
    free = [agent("101", idle_since=50.0), agent("102", idle_since=10.0), agent("103")]
    assert picked("longest-idle", free) == ["103"]
    assert picked("longest-idle", free[:2]) == ["102"]


def test_longest_idle_ties_go_to_the_order_of_the_config() -> None:
    assert picked("longest-idle", [agent("102"), agent("101")]) == ["101"]


def test_round_robin_takes_the_next_after_the_last_one_rung_and_wraps() -> None:
    free = [agent("101"), agent("102"), agent("104")]
    assert picked("round-robin", free) == ["101"]
    assert picked("round-robin", free, last="101") == ["102"]
    assert picked("round-robin", free, last="102") == ["104"]  # 103 is not free
    assert picked("round-robin", free, last="104") == ["101"]
    assert picked("round-robin", free, last="gone") == ["101"]


def test_fewest_calls_then_longest_idle() -> None:
    free = [agent("101", calls=3), agent("102", calls=1, idle_since=20.0),
            agent("103", calls=1, idle_since=5.0)]
    assert picked("fewest-calls", free) == ["103"]


@pytest.mark.parametrize("strategy", ["ring-all", "longest-idle", "round-robin",
                                      "fewest-calls"])
def test_a_higher_penalty_only_when_no_lower_one_is_free(strategy: str) -> None:
    low, high = agent("102", penalty=0, calls=9), agent("101", penalty=5)
    assert picked(strategy, [high, low]) == ["102"]
    assert picked(strategy, [high]) == ["101"]


def test_an_unknown_strategy_is_a_bug() -> None:
    with pytest.raises(ValueError):
        choose("random", [agent("101")])


# -- the estimate and its words ------------------------------------------------------------


def test_the_estimate_is_rounds_of_agents_times_the_handle_time() -> None:
    assert estimated_wait_s(1, 2, 120.0) == 120.0
    assert estimated_wait_s(3, 2, 120.0) == 240.0
    assert estimated_wait_s(4, 2, 120.0) == 240.0
    assert estimated_wait_s(2, 1, None) is None  # nothing measured yet
    assert estimated_wait_s(2, 0, 120.0) is None  # nobody logged in


def test_handle_time_averages_as_asterisk_does() -> None:
    handle = HandleTime()
    assert handle.seconds is None
    handle.add(100.0)
    assert handle.seconds == 100.0
    handle.add(200.0)
    assert handle.seconds == pytest.approx(125.0)


def test_waits_are_said_in_whole_minutes() -> None:
    assert wait_keys(20) == ["less-than", "digit-1", "minute"]
    assert wait_keys(60) == ["digit-1", "minute"]
    assert wait_keys(170) == ["digit-3", "minutes"]
    assert wait_keys(45 * 60) == ["count-40", "digit-5", "minutes"]


def test_an_announcement_says_the_place_then_the_wait_if_known() -> None:
    assert announcement(3, None) == ["caller-number", "digit-3"]
    assert announcement(12, 300.0) == ["caller-number", "count-12", "estimated-wait",
                                       "digit-5", "minutes"]


def test_counts_are_said_as_words() -> None:
    assert say_count(0) == ["digit-0"]
    assert say_count(7) == ["digit-7"]
    assert say_count(13) == ["count-13"]
    assert say_count(30) == ["count-30"]
    assert say_count(45) == ["count-40", "digit-5"]
    assert say_count(100) == ["digit-1", "count-hundred"]
    assert say_count(240) == ["digit-2", "count-hundred", "count-40"]
    with pytest.raises(MediaError):
        say_count(1000)


# -- figures -------------------------------------------------------------------------------


def test_figures_service_level_and_average_wait() -> None:
    figures = QueueFigures(service_level_s=20.0)
    assert figures.as_dict()["service_level"] is None
    for waited in (5.0, 20.0, 95.0):
        figures.answer(waited)
    figures.abandoned += 1
    shown = figures.as_dict()
    assert shown["answered"] == 3 and shown["answered_within"] == 2
    assert shown["service_level"] == pytest.approx(0.667)
    assert shown["average_wait_s"] == 40.0
    assert shown["abandoned"] == 1


# -- the line ------------------------------------------------------------------------------


async def test_the_line_keeps_join_order_and_a_restored_request_its_old_place() -> None:
    line = Line()
    first = Entry(Party("103", None), joined_at=100.0)
    later = Entry(Party("104", None), joined_at=300.0)
    line.add(first)
    line.add(later)
    restored = Entry(Party("105", None), joined_at=200.0)  # from before a restart
    line.add(restored)
    assert [line.position(e) for e in (first, restored, later)] == [1, 2, 3]
    line.remove(first)
    assert line.position(restored) == 1
    assert line.oldest() == 200.0
    await asyncio.sleep(0)


# -- the number a caller is called back on -----------------------------------------------

OFFICE = textwrap.dedent('''
    [site]
    country = "us"
    [[extension]]
    number = "101"
    name = "Desk"
    devices = ["fxs:1"]
    [[trunk]]
    name = "provider"
    host = "sip.example.net"
    username = "office"
    secret = "secret"
    [[route]]
    prefix = "9"
    trunk = "provider"
    allow = ["NXXNXXXXXX", "1NXXNXXXXXX"]
    prepend = "+1"
    [[route]]
    prefix = "8"
    trunk = "provider"
    allow = ["X."]
''')


class Leg(Channel):
    def indicate(self, tone: str | None) -> None: ...
    def ring(self, caller: Party) -> None: ...
    def deliver(self, frame: Frame) -> None: ...
    def _release(self, cause: Cause) -> None: ...


def leg(number: str | None, internal: bool = False) -> Leg:
    channel = Leg("test", Party(number, None))
    channel.internal = internal
    return channel


async def test_callback_numbers() -> None:
    office = parse_office(OFFICE, "office.toml")
    assert callback_number(office, leg("101", internal=True)) == "101"
    assert callback_number(office, leg("+15125550123")) == "95125550123"  # prepend off
    assert callback_number(office, leg("15125550123")) == "95125550123"
    assert callback_number(office, leg("5125550123")) == "85125550123"  # the other route
    assert callback_number(office, leg(None)) is None  # withheld
    # International numbers only where a route allows them: a spoofed caller ID must
    # not make the box call a premium line abroad.
    assert callback_number(office, leg("+442071234567")) is None
    assert callback_number(office, leg("011442071234567")) is None
