"""Progress of a long write on stderr: one line redrawn on a terminal, a line per quarter
otherwise (a log or CI reads those)."""

from __future__ import annotations

import sys
from typing import TextIO

from bootslots.install import Step

MB = 1_000_000


class ProgressLine:
    def __init__(self, what: str, stream: TextIO | None = None) -> None:
        self.what = what
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self._shown = -1

    def __call__(self, step: Step) -> None:
        self.show(step.done, step.total)

    def show(self, done: int, total: int) -> None:
        percent = 100 * done // total if total else 100
        if self.tty:
            if percent != self._shown:
                print(f"\r{self.what}: {percent:3d}% ({done / MB:.1f} of {total / MB:.1f} MB)",
                      end="", file=self.stream, flush=True)
        elif percent // 25 != self._shown // 25 or self._shown < 0:
            print(f"{self.what}: {percent}% ({done / MB:.1f} of {total / MB:.1f} MB)",
                  file=self.stream, flush=True)
        self._shown = percent

    def done(self) -> None:
        if self.tty and self._shown >= 0:
            print(file=self.stream)
