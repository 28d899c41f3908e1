"""systemd's notify protocol and the watchdog pings, which come from the loop's timers."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from firmware.service.notify import Notifier
from firmware.service.watchdog import Watchdog, watchdog_interval


@pytest.fixture
def systemd() -> Iterator[tuple[socket.socket, str]]:
    folder = tempfile.mkdtemp(prefix="pbx-notify-")  # short: Unix socket paths are limited
    path = str(Path(folder) / "notify")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    sock.setblocking(False)
    yield sock, path
    sock.close()
    shutil.rmtree(folder)


def received(sock: socket.socket) -> list[str]:
    messages = []
    while True:
        try:
            messages.append(sock.recv(4096).decode())
        except BlockingIOError:
            return messages


def test_without_systemd_nothing_is_sent() -> None:
    notifier = Notifier({})
    assert not notifier.enabled and notifier.send("READY=1") is False


def test_ready_and_stopping_reach_the_notify_socket(systemd: tuple[socket.socket, str]) -> None:
    sock, path = systemd
    notifier = Notifier({"NOTIFY_SOCKET": path})
    notifier.ready("ready: 4 extensions")
    notifier.stopping()
    notifier.close()
    assert received(sock) == ["READY=1\nSTATUS=ready: 4 extensions", "STOPPING=1"]


def test_the_watchdog_interval_is_half_what_systemd_asks_and_only_for_this_process() -> None:
    assert watchdog_interval({"WATCHDOG_USEC": "30000000"}) == 15.0
    assert watchdog_interval({"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": str(os.getpid())}) \
        == 15.0
    assert watchdog_interval({"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "1"}) is None
    assert watchdog_interval({}) is None


async def test_pings_follow_the_loop_and_stop_with_it(systemd: tuple[socket.socket, str]
                                                     ) -> None:
    sock, path = systemd
    watchdog = Watchdog(Notifier({"NOTIFY_SOCKET": path}), 15.0)
    watchdog.start()
    await asyncio.sleep(61)  # fake time: pings at 0, 15, 30, 45, 60 s
    assert received(sock) == ["WATCHDOG=1"] * 5
    watchdog.stop()
    await asyncio.sleep(60)
    assert received(sock) == []
