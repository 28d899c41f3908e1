"""What is wrong with a config file, worded for an installer.

Every problem names the file, the key, the line, what is wrong and how to fix it; all
problems of a file are raised together in one `ConfigError` (DESIGN.md, "Reliability
rules": the box then keeps running its last good config). Checks and validators first
produce an `Issue` (key path, message, fix); `locate` gives each its file and line.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import NoReturn

from pydantic_core import PydanticCustomError

from firmware.config.tomlkeys import KeyPath, LineIndex, format_key

__all__ = ["ConfigError", "ConfigProblem", "Issue", "fail", "format_problems", "locate", "reject"]


@dataclass(frozen=True, slots=True)
class ConfigProblem:
    """One thing wrong in a config file, worded for an installer."""

    file: str
    key: str  # dotted path, e.g. 'extension[1].number'; '' for the file as a whole
    line: int | None  # 1-based; None when the key is not written in the file
    message: str  # what is wrong
    fix: str  # how to fix it

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        head = f"{where}: {self.key}: " if self.key else f"{where}: "
        return f"{head}{self.message.rstrip('.')}. Fix: {self.fix}"


def format_problems(problems: Iterable[ConfigProblem]) -> str:
    """All problems, one per line."""
    return "\n".join(str(p) for p in problems)


class ConfigError(Exception):
    """A config file was refused; `problems` lists everything wrong with it."""

    def __init__(self, problems: Iterable[ConfigProblem]) -> None:
        self.problems: list[ConfigProblem] = list(problems)
        super().__init__(format_problems(self.problems))


@dataclass(frozen=True, slots=True)
class Issue:
    """A problem before it knows its file and line."""

    path: KeyPath
    message: str
    fix: str


def fail(message: str, fix: str) -> PydanticCustomError:
    """A validation error that carries our own wording through pydantic."""
    return PydanticCustomError("config", "{message}", {"message": message, "fix": fix})


def reject(message: str, fix: str) -> NoReturn:
    """Raise `fail(message, fix)` (for validators written as statements)."""
    raise fail(message, fix)


def locate(issues: Iterable[Issue], text: str, file: str) -> list[ConfigProblem]:
    """Issues as problems with lines, in the order an installer reads the file."""
    index = LineIndex(text)
    located = [(index.find(i.path), i) for i in issues]
    located.sort(key=lambda li: (li[0] is None, li[0] or 0,
                                 [(isinstance(s, str), s) for s in li[1].path]))
    return [ConfigProblem(file, format_key(i.path), line, i.message, i.fix) for line, i in located]
