"""Reading a config file's text and parsing it as TOML, or the problem that stops us."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

from firmware.config.problems import ConfigError, ConfigProblem

__all__ = ["parse_toml", "read_text"]


def read_text(path: Path) -> tuple[str | None, list[ConfigProblem]]:
    """The text of `path`, or the problem that stops us reading it."""
    file = str(path)
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        fix = "check the path and the file name (config files end in .toml)"
        return None, [ConfigProblem(file, "", None, "the file does not exist", fix)]
    except IsADirectoryError:
        fix = "give the path of a .toml file, not of a folder"
        return None, [ConfigProblem(file, "", None, "this is a folder, not a file", fix)]
    except OSError as exc:
        fix = "check the path and the file's permissions"
        msg = f"the file cannot be read ({exc.strerror or exc})"
        return None, [ConfigProblem(file, "", None, msg, fix)]
    try:
        # utf-8-sig: an editor that saved a byte-order mark should not be an error.
        return data.decode("utf-8-sig"), []
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        msg = f"the file is not UTF-8 text (byte {data[exc.start]:#04x})"
        fix = "save the file as UTF-8 plain text (an editor's 'Save as ... UTF-8')"
        return None, [ConfigProblem(file, "", line, msg, fix)]


_TOML_FIXES = (
    ("Invalid value", 'text needs double quotes (name = "Front desk"); numbers, true and '
     "false do not"),
    ("Expected '=' after a key", 'write one key = value per line; a key has no spaces '
     '(use debounce_ms, or quote it: "fxs:1")'),
    ("Cannot overwrite a value", "this key is set twice; keep one of the two lines"),
    ("Cannot declare", "this [table] appears twice; merge the two or remove one"),
    ("Unterminated string", 'close the quote on the same line: name = "Front desk"'),
    ("Unclosed array", 'close the list with ]: devices = ["fxs:1", "dect:1"]'),
    ("Unclosed inline table", "close the table with }"),
    ("Expected newline", "put each key = value on its own line"),
)


def _toml_problem(text: str, exc: tomllib.TOMLDecodeError, file: str) -> ConfigProblem:
    """tomllib's message says '(at line X, column Y)' or '(at end of document)'."""
    raw = str(exc)
    line: int | None = None
    message = raw
    match = re.search(r"\s*\(at line (\d+), column (\d+)\)\s*$", raw)
    if match is not None:
        line = int(match.group(1))
        message = f"{raw[: match.start()]} at column {match.group(2)}"
    elif raw.endswith("(at end of document)"):
        line = text.count("\n") + (0 if text.endswith("\n") else 1)
        message = raw.replace("(at end of document)", "at the end of the file").strip()
    fix = next(
        (fix for start, fix in _TOML_FIXES if raw.startswith(start)),
        "check the quotes, brackets and '=' on this line (see docs/config.md)",
    )
    return ConfigProblem(file, "", line, f"not valid TOML: {message}", fix)


def parse_toml(text: str, file: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([_toml_problem(text, exc, file)]) from None
