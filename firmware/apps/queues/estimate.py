"""What a waiting caller is told: their place in line and how long they may still wait.

The estimate is the number of rounds the agents need before it is the caller's turn
(`ceil(position / agents)`, every logged-in agent taking one call per round) times the
time a queue call takes them: talk plus wrap-up, averaged as Asterisk averages hold time
(each new call weighs a quarter). Before the queue has finished a call there is no such
time, and the caller hears only their place: a made-up estimate is worse than none.

Pure: no clock, no engine; the queue hands in what it measured.
"""

from __future__ import annotations

import math

from firmware.media.prompts import say_count

__all__ = ["HandleTime", "announcement", "estimated_wait_s", "wait_keys"]

NEW_CALL_WEIGHT = 0.25


class HandleTime:
    """The running average of how long agents are busy with one queue call."""

    def __init__(self) -> None:
        self.seconds: float | None = None

    def add(self, seconds: float) -> None:
        old = self.seconds
        self.seconds = seconds if old is None else \
            old + NEW_CALL_WEIGHT * (seconds - old)


def estimated_wait_s(position: int, agents: int, handle_s: float | None) -> float | None:
    """Seconds until the caller at `position` (1: the head) is likely answered; None if
    it cannot be known (no call measured yet, nobody logged in)."""
    if handle_s is None or agents < 1 or position < 1:
        return None
    return math.ceil(position / agents) * handle_s


def wait_keys(seconds: float) -> list[str]:
    """"less than one minute", or the nearest whole minutes: "three minutes"."""
    if seconds < 60:
        return ["less-than", *say_count(1), "minute"]
    minutes = min(math.floor(seconds / 60 + 0.5), 999)
    return [*say_count(minutes), "minute" if minutes == 1 else "minutes"]


def announcement(position: int, wait_s: float | None) -> list[str]:
    """"You are caller number three. Your estimated wait is four minutes." (The caller at
    the head hears none of it: their call is next.)"""
    keys = ["caller-number", *say_count(min(position, 999))]
    if wait_s is not None:
        keys += ["estimated-wait", *wait_keys(wait_s)]
    return keys
