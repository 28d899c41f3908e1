"""Failed-authentication limits per source address, and bans.

Scanners guess extensions and passwords with one or two tries per address (REFERENCE.md,
"Security facts"), so a first 401 challenge is never a failure: only credentials that do not
verify count. `max_failures` within `window_s` from one IP bans that IP for `ban_s`; a
banned source's datagrams are dropped by the transport before they are parsed, so it costs
the box almost nothing. The source is the packet's address, never a header's.
"""

from __future__ import annotations

import logging
from collections import deque
from dataclasses import dataclass

log = logging.getLogger(__name__)

MAX_TRACKED = 4096  # addresses with recent failures kept in memory; the oldest go first
MAX_BANNED = 4096  # bans kept; a spray of addresses cannot grow the table without bound


@dataclass(frozen=True, slots=True)
class GuardSettings:
    max_failures: int = 5
    window_s: float = 60.0
    ban_s: float = 600.0


class Guard:
    def __init__(self, settings: GuardSettings | None = None) -> None:
        self.settings = settings or GuardSettings()
        self._failures: dict[str, deque[float]] = {}
        self._banned: dict[str, float] = {}  # ip -> ban end

    def banned(self, ip: str, now: float) -> bool:
        until = self._banned.get(ip)
        if until is None:
            return False
        if now < until:
            return True
        del self._banned[ip]
        log.info("ban on %s lifted", ip)
        return False

    # A success does not wipe the failures: knowing one extension's password must not buy
    # unlimited guesses at another's. Failures age out of the window instead.

    def failed(self, ip: str, now: float) -> None:
        s = self.settings
        times = self._failures.get(ip)
        if times is None:
            if len(self._failures) >= MAX_TRACKED:
                self._failures.pop(next(iter(self._failures)))
            times = self._failures[ip] = deque(maxlen=s.max_failures)
        times.append(now)
        while times and now - times[0] > s.window_s:
            times.popleft()
        if len(times) >= s.max_failures:
            self._ban(ip, now)
            del self._failures[ip]
            log.warning("banned %s for %.0f s after %d failed authentications in %.0f s",
                        ip, s.ban_s, s.max_failures, s.window_s)

    def _ban(self, ip: str, now: float) -> None:
        if len(self._banned) >= MAX_BANNED:
            for old in [a for a, until in self._banned.items() if until <= now]:
                del self._banned[old]
        if len(self._banned) >= MAX_BANNED:
            self._banned.pop(next(iter(self._banned)))  # the oldest ban goes first
        self._banned[ip] = now + self.settings.ban_s
