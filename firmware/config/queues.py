"""The office config's call queues ([[queue]]) and manager-callback promises ([escalation]).

A queue holds callers in order, with music, until one of its agents (extensions of the
office) takes the call (docs/queues.md). Each agent may carry a penalty (skills: lower
penalties are rung first) and a wrap-up time of their own.

    [[queue]]
    name = "support"
    number = "600"
    strategy = "longest-idle"
    agents = ["101", { extension = "102", penalty = 1, wrap_up_s = 30 }]
    max_wait_s = 600
    overflow = "voicemail:101"
    callback = true

`queue_checks` checks what involves the rest of the file: agents that are extensions,
queue numbers that clash with no other number, an overflow wherever a caller may need one.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    StrictInt,
    StrictStr,
    ValidationError,
)

from firmware.config.destinations import Target
from firmware.config.model import Model
from firmware.config.problems import Issue, fail
from firmware.config.tomlkeys import KeyPath, format_key, tables, toml_value

__all__ = ["STRATEGIES", "AgentConfig", "EscalationConfig", "QueueConfig",
           "escalation_to_toml", "queue_checks", "queues_to_toml"]

STRATEGIES = ("ring-all", "longest-idle", "round-robin", "fewest-calls")
Strategy = Literal["ring-all", "longest-idle", "round-robin", "fewest-calls"]

_NUMBER = re.compile(r"[0-9]{2,6}")
_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,31}")


def _check_number(value: str) -> str:
    if not _NUMBER.fullmatch(value):
        raise fail(f"{value!r} is not a number of the office", 'use 2 to 6 digits, e.g. "101"')
    return value


def _check_name(value: str) -> str:
    if not _NAME.fullmatch(value):
        raise fail(f"{value!r} is not a queue name", 'use lower-case letters, digits, - and '
                   '_, e.g. name = "support"')
    return value


Number = Annotated[StrictStr, AfterValidator(_check_number)]
Name = Annotated[StrictStr, AfterValidator(_check_name)]
WaitS = Annotated[float, Field(strict=True, gt=0, le=3600)]
PauseS = Annotated[float, Field(strict=True, ge=0, le=3600)]


def _agent_shorthand(value: object) -> object:
    """"101" is short for { extension = "101" }."""
    return {"extension": value} if isinstance(value, str) else value


class AgentConfig(Model):
    """One agent of a queue: an extension, its penalty and (optionally) its own wrap-up."""

    extension: Number
    # Skills as in Asterisk: agents with the lowest penalty among the free ones ring first.
    penalty: Annotated[StrictInt, Field(ge=0, le=99)] = 0
    wrap_up_s: PauseS | None = Field(None, description="this agent's own wrap-up time")


class QueueConfig(Model):
    """[[queue]]: callers wait in order, with music, for one of the agents."""

    name: Name
    number: Number | None = Field(None, description="dialled to join the queue")
    # (none: refused by queue_checks, with a message that says why and how)
    agents: tuple[Annotated[AgentConfig, BeforeValidator(_agent_shorthand)], ...] = ()
    strategy: Strategy = "ring-all"
    ring_s: WaitS = Field(15.0, description="how long an agent rings per attempt")
    wrap_up_s: PauseS = Field(0.0, description="an agent's pause after a queue call")
    max_wait_s: WaitS | None = Field(None, description="then the caller goes to overflow")
    overflow: Target | None = Field(None, description="where callers go after max_wait_s")
    no_agents: Literal["wait", "overflow"] = Field(
        "wait", description="nobody logged in: callers wait anyway, or go to overflow")
    announce_every_s: Annotated[float, Field(strict=True, ge=0, le=600)] = Field(
        45.0, description="position and estimated wait, this often (0: never)")
    service_level_s: WaitS = Field(20.0, description="'answered within' for the figures")
    callback: bool = Field(False, strict=True, description="key 1: be called back")
    callback_retries: Annotated[StrictInt, Field(ge=0, le=10)] = Field(
        2, description="more tries when the customer does not answer a callback")
    callback_retry_s: WaitS = Field(300.0, description="between callback tries")
    customer_ring_s: WaitS = Field(30.0, description="how long a called-back customer rings")

    def agent(self, extension: str) -> AgentConfig | None:
        return next((a for a in self.agents if a.extension == extension), None)

    def wrap_up(self, extension: str) -> float:
        agent = self.agent(extension)
        own = agent.wrap_up_s if agent is not None else None
        return self.wrap_up_s if own is None else own


class EscalationConfig(Model):
    """[escalation]: a manager callback promised to a customer, and how it is kept."""

    manager: Target = Field(description="who keeps promises: an extension, a ring group")
    promise_minutes: Annotated[StrictInt, Field(ge=1, le=999)] = Field(
        30, description="the customer is promised a call within this many minutes")
    manager_ring_s: WaitS = 30.0
    customer_ring_s: WaitS = 30.0
    retries: Annotated[StrictInt, Field(ge=0, le=20)] = Field(
        3, description="more tries when the manager or the customer does not answer")
    retry_s: WaitS = Field(300.0, description="between tries")


# -- checks against the rest of the file ------------------------------------------------


def _numbers_elsewhere(data: Mapping[str, Any]) -> dict[str, str]:
    """Numbers the dial plan has besides queues: number -> what it is. (Ring groups and
    menus check their numbers against queues themselves: config.groups.number_checks.)"""
    found: dict[str, str] = {}
    for _, t in tables(data, "extension"):
        number = t.get("number")
        if isinstance(number, str):
            found.setdefault(number, f"extension {number}")
    for _, route in tables(data, "route"):
        prefix = route.get("prefix")
        if isinstance(prefix, str):
            found.setdefault(prefix, f"the prefix of route {prefix}")
    features = data.get("features")
    features = features if isinstance(features, Mapping) else {}
    park, slots = features.get("park", "700"), features.get("park_slots", 8)
    if isinstance(park, str) and _NUMBER.fullmatch(park) and isinstance(slots, int):
        found.setdefault(park, f"the call park number {park}")
        for n in range(int(park) + 1, int(park) + 1 + slots):
            slot = str(n).zfill(len(park))
            found.setdefault(slot, f"call park slot {slot}")
    return found


def _number_issues(path: KeyPath, number: str, others: Mapping[str, str]) -> list[Issue]:
    if number in others:
        return [Issue(path, f"{number} is already {others[number]}",
                      "give the queue a number nothing else uses")]
    clash = sorted(n for n in others if n.startswith(number) or number.startswith(n))
    if clash:
        return [Issue(path, f"{number} and {others[clash[0]]} begin alike: whoever dials the "
                      "shorter one waits for the inter-digit timeout",
                      "renumber so that no number begins with another")]
    return []


# The [features] codes of queues and promises: each must differ from every other code.
OWN_CODES = ("agent_login", "manager_callback")


def _code_issues(data: Mapping[str, Any]) -> list[Issue]:
    from firmware.config.features import FeaturesConfig  # (features imports no queues)

    features = data.get("features")
    features = features if isinstance(features, Mapping) else {}
    try:
        parsed = FeaturesConfig.model_validate(features).model_dump()
    except ValidationError:
        return []  # its own problems are reported by the model
    issues = []
    for key in OWN_CODES:
        same = [k for k, v in parsed.items() if v == parsed[key] and k != key
                and isinstance(v, str) and v[:1] in "*#"]
        if same and key not in features and same[0] in OWN_CODES:
            continue  # (told once, at the one the file sets)
        if same:
            issues.append(Issue(("features", key), f"{parsed[key]} is also the code of "
                                f"{same[0]}", "give each feature its own code"))
    return issues


def queue_checks(data: Mapping[str, Any]) -> list[Issue]:
    """Agents are extensions; names and numbers are unique; an overflow where needed; the
    codes of queues and promises are their own."""
    extensions = {t.get("number") for _, t in tables(data, "extension")}
    others = _numbers_elsewhere(data)
    names: dict[str, KeyPath] = {}
    issues: list[Issue] = _code_issues(data)
    for path, queue in tables(data, "queue"):
        name = queue.get("name")
        if isinstance(name, str):
            if name in names:
                issues.append(Issue((*path, "name"), f"queue {name!r} is defined twice (also "
                                    f"at {format_key(names[name])})",
                                    "give each queue its own name"))
            names.setdefault(name, path)
        number = queue.get("number")
        if isinstance(number, str) and _NUMBER.fullmatch(number):
            issues += _number_issues((*path, "number"), number, others)
            others = {**others, number: f"queue {name}'s number"}
        issues += _agent_issues(path, queue, extensions)
        if queue.get("overflow") is None:
            for key, why in (("max_wait_s", "callers who waited max_wait_s"),
                             ("no_agents", "callers when no agent is logged in")):
                if key in queue and (key != "no_agents" or queue[key] == "overflow"):
                    issues.append(Issue((*path, key), f"there is no overflow for {why}",
                                        'add overflow = "..." (e.g. "voicemail:101", '
                                        '"group:sales", "hangup")'))
    return issues


def _agent_issues(path: KeyPath, queue: Mapping[str, Any], extensions: set[object]
                  ) -> list[Issue]:
    agents = queue.get("agents")
    issues: list[Issue] = []
    if not agents:
        return [Issue((*path, "agents"), "the queue has no agents: nobody would ever take "
                      "its callers", 'list the extensions that answer it, e.g. agents = '
                      '["101", "102"]')]
    seen: set[str] = set()
    for j, agent in enumerate(agents if isinstance(agents, list | tuple) else ()):
        extension = _agent_shorthand(agent)
        extension = extension.get("extension") if isinstance(extension, Mapping) else None
        if not isinstance(extension, str) or not _NUMBER.fullmatch(extension):
            continue  # the model reports it
        where: KeyPath = (*path, "agents", j)
        if extension in seen:
            issues.append(Issue(where, f"agent {extension} is listed twice in this queue",
                                "list each agent once"))
        elif extension not in extensions:
            issues.append(Issue(where, f"{extension} is not an extension of the office",
                                "agents are extensions: add it as an [[extension]], or "
                                "remove it here"))
        seen.add(extension)
    return issues


# -- writing back (office_to_toml) --------------------------------------------------------


def queues_to_toml(queues: list[dict[str, Any]]) -> list[str]:
    """[[queue]] tables, each agent written as an inline table."""
    out: list[str] = []
    for queue in queues:
        out.append("[[queue]]")
        for key, value in queue.items():
            if value is None:
                continue
            if key == "agents":
                agents = ", ".join(_inline(a) for a in value)
                out.append(f"agents = [{agents}]")
            else:
                out.append(f"{key} = {toml_value(value)}")
        out.append("")
    return out


def escalation_to_toml(escalation: dict[str, Any] | None) -> list[str]:
    if escalation is None:
        return []
    lines = [f"{k} = {toml_value(v)}" for k, v in escalation.items() if v is not None]
    return ["[escalation]", *lines, ""]


def _inline(agent: Mapping[str, Any]) -> str:
    pairs = ", ".join(f"{k} = {toml_value(v)}" for k, v in agent.items() if v is not None)
    return "{ " + pairs + " }"
