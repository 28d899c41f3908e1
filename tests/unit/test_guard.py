"""The failed-login guard: who gets banned, for how long, and what it remembers.

Default settings throughout (5 failures within 60 s ban an address for 600 s), the ones an
office gets unless the installer changes them.
"""

from __future__ import annotations

from firmware.engine.guard import MAX_BANNED, MAX_TRACKED, Guard, GuardSettings

SCANNER = "203.0.113.7"
PHONE = "192.0.2.10"
T0 = 5000.0


def fail(guard: Guard, ip: str, *times: float) -> None:
    for now in times:
        guard.failed(ip, now)


def test_five_failures_within_the_window_ban_the_address_for_ban_s() -> None:
    guard = Guard()
    settings = guard.settings
    assert settings == GuardSettings(max_failures=5, window_s=60.0, ban_s=600.0)
    fail(guard, SCANNER, T0, T0 + 10, T0 + 20, T0 + 30)
    assert not guard.banned(SCANNER, T0 + 30)  # four are not enough
    fail(guard, SCANNER, T0 + 59)
    assert guard.banned(SCANNER, T0 + 59)
    assert guard.banned(SCANNER, T0 + 59 + 599.999)
    assert not guard.banned(PHONE, T0 + 59)  # only the address that failed


def test_the_ban_lifts_exactly_at_its_end_and_counting_starts_over() -> None:
    guard = Guard()
    fail(guard, SCANNER, *(T0 + i for i in range(5)))
    end = T0 + 4 + 600
    assert guard.banned(SCANNER, end - 0.001)
    assert not guard.banned(SCANNER, end)
    fail(guard, SCANNER, end + 1)
    assert not guard.banned(SCANNER, end + 1)  # one failure after the ban is just one


def test_failures_spread_over_more_than_the_window_never_ban() -> None:
    guard = Guard()
    # A failure every 15.1 s: any five of them span 60.4 s, more than the 60 s window.
    times = [T0 + 15.1 * i for i in range(20)]
    for now in times:
        guard.failed(SCANNER, now)
        assert not guard.banned(SCANNER, now)
    fail(guard, SCANNER, times[-1] + 1)  # but five within 60 s again: banned
    assert guard.banned(SCANNER, times[-1] + 1)


def test_failures_age_out_of_the_window_and_nothing_else_clears_them() -> None:
    # Knowing one extension's password must not buy unlimited guesses at another's: a
    # successful login in between does not reset the count (the guard is not even told).
    guard = Guard()
    fail(guard, PHONE, T0, T0 + 1, T0 + 2, T0 + 3)
    assert not guard.banned(PHONE, T0 + 3)
    fail(guard, PHONE, T0 + 4)
    assert guard.banned(PHONE, T0 + 4)
    fail(guard, SCANNER, T0, T0 + 1, T0 + 2, T0 + 3)
    fail(guard, SCANNER, T0 + 70)  # the first four have aged out of the 60 s window
    assert not guard.banned(SCANNER, T0 + 70)


def test_the_ban_table_is_bounded_and_keeps_the_newest() -> None:
    guard = Guard(GuardSettings(max_failures=1))
    sprayed = [f"2001:db8::{i:x}" for i in range(MAX_BANNED + 10)]
    for ip in sprayed:
        guard.failed(ip, T0)
    assert len(guard._banned) == MAX_BANNED
    assert guard.banned(sprayed[-1], T0 + 1)
    assert not guard.banned(sprayed[0], T0 + 1)  # the oldest ban made room


def test_the_table_of_tracked_addresses_is_bounded_oldest_first() -> None:
    guard = Guard()
    fail(guard, SCANNER, T0, T0, T0, T0)
    # A spray of single failures from as many other addresses as the table holds.
    sprayed = [f"10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}" for i in range(MAX_TRACKED)]
    for ip in sprayed:
        guard.failed(ip, T0 + 1)
    # The oldest entry was dropped to make room, so its fifth failure starts a new count ...
    fail(guard, SCANNER, T0 + 2)
    assert not guard.banned(SCANNER, T0 + 2)
    # ... while a recent address is still remembered.
    fail(guard, sprayed[-1], T0 + 3, T0 + 3, T0 + 3, T0 + 3)
    assert guard.banned(sprayed[-1], T0 + 3)
