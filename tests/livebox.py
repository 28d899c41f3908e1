"""A box in its own process, started from boot.py as an installer would, with its log read
line by line: tests wait for what the box logs, never for a fixed time."""

from __future__ import annotations

import contextlib
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BOOT_LIMIT_S = 30.0  # a guard against a hung box, not a pause: the test waits on its output


class LiveBox:
    """A box in its own process; its log is read line by line on a thread."""

    def __init__(self, proc: subprocess.Popen[str], state: Path) -> None:
        self.proc, self.state = proc, state
        self.log: list[str] = []
        self._lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self._lines.put(line)
        self._lines.put(None)

    def wait_for_log(self, needle: str) -> str:
        """Wait for a log line containing `needle` (blocks on the box's output, not a timer)."""
        deadline = time.monotonic() + BOOT_LIMIT_S
        while (left := deadline - time.monotonic()) > 0:
            try:
                line = self._lines.get(timeout=left)
            except queue.Empty:
                break
            if line is None:
                break
            self.log.append(line)
            if needle in line:
                return line
        raise AssertionError(f"box never logged {needle!r}; log:\n{''.join(self.log)}")


@contextlib.contextmanager
def start_box(*extra: str, office: str | None = None,
              seed: Callable[[Path], None] | None = None) -> Iterator[LiveBox]:
    """The box as a process of its own; `seed` fills its state directory first."""
    from tests.integration.harness import office_toml

    state = Path(tempfile.mkdtemp(prefix="pbx-"))
    if seed is not None:
        seed(state)
    config = state / "office.toml"
    config.write_text(office if office is not None else office_toml("us"))
    proc = subprocess.Popen(
        [sys.executable, "boot.py", "--config", str(config), "--state-dir", str(state), *extra],
        cwd=ROOT, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    box = LiveBox(proc, state)
    try:
        box.wait_for_log("box ready")
        yield box
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=30)
        shutil.rmtree(state, ignore_errors=True)


def sip_port(box: LiveBox) -> int:
    """The port the box's SIP listens on, from its start-up log."""
    for entry in box.log:
        found = re.search(r"SIP listening on udp and tcp \S+:(\d+),", entry)
        if found:
            return int(found.group(1))
    raise AssertionError("the box logged no SIP address")
