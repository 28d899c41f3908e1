"""Key paths in TOML data and where they are written in the TOML text.

A key path names one value of a parsed document: ("extension", 2, "devices", 0), written
`extension[2].devices[0]` (indices counted from 0). Problems name their key this way.

tomllib reports no positions for a valid document, so `LineIndex` scans the text once and
records the line where each key path is written; a key that is not written (a missing key)
gets the line of its nearest enclosing table.
"""

from __future__ import annotations

import bisect
import contextlib
import json
import re
import tomllib
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

__all__ = [
    "KeyPath",
    "LineIndex",
    "find_line",
    "format_key",
    "is_int",
    "lookup",
    "parse_key",
    "tables",
    "toml_value",
]

KeyPath = tuple[str | int, ...]  # a key path in the TOML data: ("extension", 2, "devices", 0)
_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


def format_key(path: KeyPath) -> str:
    """('analog', 'port', 'fxs:2', 'flash_max_ms') -> 'analog.port."fxs:2".flash_max_ms'."""
    out = ""
    for seg in path:
        if isinstance(seg, int):
            out += f"[{seg}]"
        else:
            name = seg if _BARE_KEY.fullmatch(seg) else json.dumps(seg, ensure_ascii=False)
            out += f".{name}" if out else name
    return out


_KEY_PART = re.compile(r'"((?:[^"\\]|\\.)*)"|([A-Za-z0-9_-]+)|\[(\d+)\]|(\.)')


def parse_key(key: str) -> KeyPath:
    """'analog.port."fxs:2".x' or 'extension[2].devices[0]' as a path (inverse of format_key)."""
    path: list[str | int] = []
    pos = 0
    while pos < len(key):
        match = _KEY_PART.match(key, pos)
        if match is None:
            raise ValueError(f"not a key path: {key!r}")
        quoted, bare, index, _dot = match.groups()
        if quoted is not None:
            path.append(json.loads(f'"{quoted}"'))
        elif bare is not None:
            path.append(bare)
        elif index is not None:
            path.append(int(index))
        pos = match.end()
    return tuple(path)


def toml_value(value: object) -> str:
    """A value written as TOML: 3, 2.5, true, "text", ["fxs:1", "sip"]."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, str):
        # JSON string escapes are TOML basic-string escapes; DEL must be escaped too.
        return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} as TOML")


def lookup(data: Any, path: KeyPath) -> Any:
    """The value at `path` in the TOML data, or None if it is not there."""
    for seg in path:
        try:
            data = data[seg]
        except (KeyError, IndexError, TypeError):
            return None
    return data


def is_int(value: object) -> bool:
    """A TOML integer (Python's bool is an int too, TOML's is not)."""
    return isinstance(value, int) and not isinstance(value, bool)


def tables(data: Mapping[str, Any], key: str) -> Iterator[tuple[KeyPath, Mapping[str, Any]]]:
    """(path, table) for each table of an array of tables, skipping malformed entries."""
    items = data.get(key)
    if isinstance(items, list | tuple):
        for i, item in enumerate(items):
            if isinstance(item, Mapping):
                yield (key, i), item


def find_line(text: str, key: str | KeyPath) -> int | None:
    """The line where `key` is written in the TOML `text`, else where its nearest enclosing
    table or key is; None if neither is (or the text is not valid TOML)."""
    path = parse_key(key) if isinstance(key, str) else key
    try:
        tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return None
    return LineIndex(text).find(path)


class _ScanError(Exception):
    pass


_SCALAR_END = re.compile(r"[,\]}#\n]")


class LineIndex:
    """Where each key path of a TOML document is written (first occurrence wins).

    A small scanner for documents tomllib has already accepted: table headers `[a.b]`,
    arrays of tables `[[extension]]` (counted per parent, so the third is
    ('extension', 2)), dotted keys, inline tables and array elements. If the scan meets
    something it does not understand it stops and keeps what it found: lines are a help,
    never a reason to fail.
    """

    def __init__(self, text: str) -> None:
        self._text = text
        self._newlines = [i for i, ch in enumerate(text) if ch == "\n"]
        self._lines: dict[KeyPath, int] = {}
        self._aot: dict[KeyPath, int] = {}  # array-of-tables path -> index of its last table
        with contextlib.suppress(_ScanError, IndexError, tomllib.TOMLDecodeError):
            self._scan_document()

    def find(self, path: KeyPath) -> int | None:
        """The line of `path`, else of its nearest written ancestor, else None."""
        for end in range(len(path), 0, -1):
            line = self._lines.get(path[:end])
            if line is not None:
                return line
        return None

    # scanning helpers -------------------------------------------------------------

    def _line_at(self, pos: int) -> int:
        return bisect.bisect_left(self._newlines, pos) + 1

    def _record(self, path: KeyPath, pos: int) -> None:
        self._lines.setdefault(path, self._line_at(pos))

    def _skip_blank(self, pos: int, *, newlines: bool) -> int:
        text = self._text
        while pos < len(text):
            ch = text[pos]
            if ch in " \t\r" or (newlines and ch == "\n"):
                pos += 1
            elif ch == "#" and newlines:
                end = text.find("\n", pos)
                pos = len(text) if end < 0 else end
            else:
                break
        return pos

    def _scan_document(self) -> None:
        pos, table = 0, ()
        text = self._text
        while True:
            pos = self._skip_blank(pos, newlines=True)
            if pos >= len(text):
                return
            if text.startswith("[[", pos):
                keys, pos = self._key(pos + 2)
                table = self._array_table(keys, pos)
                pos = self._expect(pos, "]]")
            elif text[pos] == "[":
                keys, pos = self._key(pos + 1)
                for end in range(1, len(keys) + 1):  # [a.b] also mentions a
                    table = self._resolve(keys[:end], last_is_table=True)
                    self._record(table, pos)
                pos = self._expect(pos, "]")
            else:
                pos = self._key_value(pos, table)

    def _expect(self, pos: int, token: str) -> int:
        pos = self._skip_blank(pos, newlines=False)
        if not self._text.startswith(token, pos):
            raise _ScanError(token)
        return pos + len(token)

    def _resolve(self, keys: Sequence[str], *, last_is_table: bool) -> KeyPath:
        """A header's keys as a concrete path, entering the last table of each array."""
        path: KeyPath = ()
        for i, key in enumerate(keys):
            path = (*path, key)
            if (i < len(keys) - 1 or last_is_table) and path in self._aot:
                path = (*path, self._aot[path])
        return path

    def _array_table(self, keys: Sequence[str], pos: int) -> KeyPath:
        for end in range(1, len(keys)):
            self._record(self._resolve(keys[:end], last_is_table=True), pos)
        array = (*self._resolve(keys[:-1], last_is_table=True), keys[-1])
        index = self._aot.get(array, -1) + 1
        self._aot[array] = index
        self._record(array, pos)
        self._record((*array, index), pos)
        return (*array, index)

    def _key(self, pos: int) -> tuple[list[str], int]:
        """A dotted key: bare, "basic" or 'literal' parts separated by dots."""
        keys: list[str] = []
        text = self._text
        while True:
            pos = self._skip_blank(pos, newlines=False)
            if text[pos] in "\"'":
                end = self._string_end(pos)
                keys.append(tomllib.loads(f"k = {text[pos:end]}")["k"])
                pos = end
            else:
                match = _BARE_KEY.match(text, pos)
                if match is None:
                    raise _ScanError("key")
                keys.append(match.group())
                pos = match.end()
            pos = self._skip_blank(pos, newlines=False)
            if text[pos] != ".":
                return keys, pos
            pos += 1

    def _key_value(self, pos: int, table: KeyPath) -> int:
        start = pos
        keys, pos = self._key(pos)
        for end in range(1, len(keys) + 1):
            self._record((*table, *keys[:end]), start)
        pos = self._expect(pos, "=")
        return self._value(self._skip_blank(pos, newlines=False), (*table, *keys))

    def _value(self, pos: int, path: KeyPath) -> int:
        text = self._text
        ch = text[pos]
        if ch in "\"'":
            return self._string_end(pos)
        if ch == "[":
            return self._array(pos + 1, path)
        if ch == "{":
            return self._inline_table(pos + 1, path)
        match = _SCALAR_END.search(text, pos)
        end = len(text) if match is None else match.start()
        if end == pos:
            raise _ScanError("value")
        return end

    def _array(self, pos: int, path: KeyPath) -> int:
        index = 0
        while True:
            pos = self._skip_blank(pos, newlines=True)
            if self._text[pos] == "]":
                return pos + 1
            self._record((*path, index), pos)
            pos = self._skip_blank(self._value(pos, (*path, index)), newlines=True)
            pos = self._separator(pos, "]")
            index += 1

    def _inline_table(self, pos: int, path: KeyPath) -> int:
        while True:
            pos = self._skip_blank(pos, newlines=True)
            if self._text[pos] == "}":
                return pos + 1
            pos = self._skip_blank(self._key_value(pos, path), newlines=True)
            pos = self._separator(pos, "}")

    def _separator(self, pos: int, close: str) -> int:
        """After an element: a comma (skipped) or the closing bracket (left for the caller)."""
        if self._text[pos] == ",":
            return pos + 1
        if self._text[pos] != close:
            raise _ScanError(close)
        return pos

    def _string_end(self, pos: int) -> int:
        """The position after the string (any of the four kinds) that starts at `pos`."""
        text = self._text
        quote = text[pos]
        delim = quote * 3 if text.startswith(quote * 3, pos) else quote
        i = pos + len(delim)
        while True:
            end = text.find(delim, i)
            if end < 0:
                raise _ScanError("string")
            escapes = 0
            while quote == '"' and text[end - 1 - escapes] == "\\":
                escapes += 1
            if escapes % 2 == 0:
                break
            i = end + 1
        # A multi-line string may end in up to two quotes of its own: """a""""" is 'a""'.
        extra = 0
        while len(delim) == 3 and extra < 2 and text.startswith(quote, end + 3 + extra):
            extra += 1
        return end + len(delim) + extra
