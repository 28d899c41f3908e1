"""[[queue]] and [escalation] in the office config: what loads, what is refused and how the
installer is told, and the round trip through the last-good copy."""

from __future__ import annotations

import textwrap

import pytest

from firmware.config import ConfigError, office_to_toml, parse_office

EXTENSIONS = textwrap.dedent('''
    [[extension]]
    number = "101"
    name = "Desk 1"
    devices = ["fxs:1"]
    [[extension]]
    number = "102"
    name = "Desk 2"
    devices = ["fxs:2"]
''')


def problems(text: str) -> list[str]:
    with pytest.raises(ConfigError) as info:
        parse_office(EXTENSIONS + textwrap.dedent(text), "office.toml")
    return [f"{p.key}: {p.message}. Fix: {p.fix}" for p in info.value.problems]


def test_a_queue_with_agents_penalties_and_an_escalation_loads_and_round_trips() -> None:
    office = parse_office(EXTENSIONS + textwrap.dedent('''
        [[queue]]
        name = "support"
        number = "600"
        strategy = "longest-idle"
        agents = ["101", { extension = "102", penalty = 2, wrap_up_s = 30 }]
        max_wait_s = 300
        overflow = "102"
        callback = true
        [escalation]
        manager = "102"
        promise_minutes = 15
    '''), "office.toml")
    queue = office.queues[0]
    assert [(a.extension, a.penalty) for a in queue.agents] == [("101", 0), ("102", 2)]
    assert queue.wrap_up("101") == 0.0 and queue.wrap_up("102") == 30.0
    assert office.escalation is not None and office.escalation.promise_minutes == 15
    assert office.features.agent_login == "*45" and office.features.manager_callback == "*36"
    assert parse_office(office_to_toml(office), "last-good.toml") == office


def test_a_queue_without_agents_is_refused_saying_why() -> None:
    found = problems('[[queue]]\nname = "support"\n')
    assert found == ['queue[0].agents: the queue has no agents: nobody would ever take its '
                     'callers. Fix: list the extensions that answer it, e.g. agents = '
                     '["101", "102"]']


def test_agents_must_be_extensions_listed_once() -> None:
    found = problems('[[queue]]\nname = "support"\nagents = ["101", "105", "101"]\n')
    assert any("queue[0].agents[1]: 105 is not an extension" in p for p in found)
    assert any("queue[0].agents[2]: agent 101 is listed twice" in p for p in found)


def test_queue_numbers_clash_with_nothing() -> None:
    found = problems('[[queue]]\nname = "a"\nnumber = "101"\nagents = ["101"]\n'
                     '[[queue]]\nname = "b"\nnumber = "70"\nagents = ["101"]\n')
    assert any(p.startswith("queue[0].number: 101 is already extension 101") for p in found)
    assert any(p.startswith("queue[1].number: 70 and the call park number 700") for p in found)


def test_an_overflow_is_needed_where_callers_may_be_sent_on() -> None:
    found = problems('[[queue]]\nname = "support"\nagents = ["101"]\nmax_wait_s = 60\n'
                     'no_agents = "overflow"\n')
    assert [p.split(":")[0] for p in found] == ["queue[0].max_wait_s", "queue[0].no_agents"]


def test_destinations_are_checked() -> None:
    found = problems('[[queue]]\nname = "support"\nagents = ["101"]\noverflow = "queue:suport"'
                     '\n[escalation]\nmanager = "group:managers"\n')
    assert any('queue[0].overflow: queue:suport: there is no queue' in p and
               'did you mean "queue:support"' in p for p in found)
    assert any(p.startswith("escalation.manager: group:managers") for p in found)


def test_bad_values_are_explained() -> None:
    found = problems('[[queue]]\nname = "Support"\nagents = [{ extension = "1x" }]\n'
                     'strategy = "random"\n')
    assert any("'Support' is not a queue name" in p for p in found)
    assert any("queue[0].agents[0].extension: '1x' is not a number" in p for p in found)
    assert any("queue[0].strategy" in p and "ring-all" in p for p in found)


def test_the_codes_of_queues_and_promises_are_their_own() -> None:
    found = problems('[features]\nmanager_callback = "*45"\n')
    assert found == ["features.manager_callback: *45 is also the code of agent_login. Fix: "
                     "give each feature its own code"]
