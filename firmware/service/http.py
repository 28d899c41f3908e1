"""Just enough HTTP/1.1 for the admin interface: one request per connection, a bounded
head, a Content-Length body read by the caller, JSON answers. Anything else is a 400."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

HEAD_LIMIT = 16 * 1024
REASONS = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 404: "Not Found",
           405: "Method Not Allowed", 409: "Conflict", 413: "Content Too Large",
           422: "Unprocessable Content", 500: "Internal Server Error"}


class HttpError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True, slots=True)
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # names in lower case

    @property
    def content_length(self) -> int:
        value = self.headers.get("content-length", "0")
        if not value.isdigit():
            raise HttpError(400, "Content-Length is not a number")
        return int(value)


def parse_head(head: bytes) -> Request:
    try:
        lines = head.decode("latin-1").split("\r\n")
        method, target, version = lines[0].split(" ")
    except ValueError:
        raise HttpError(400, "malformed request line") from None
    if not version.startswith("HTTP/1."):
        raise HttpError(400, f"unsupported version {version!r}")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if not line:
            continue
        name, sep, value = line.partition(":")
        if not sep or not name.strip():
            raise HttpError(400, f"malformed header line {line[:40]!r}")
        headers[name.strip().lower()] = value.strip()
    url = urlsplit(target)
    return Request(method, url.path, parse_qs(url.query), headers)


async def read_request(reader: asyncio.StreamReader) -> Request:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.LimitOverrunError:
        raise HttpError(400, "request head too large") from None
    except asyncio.IncompleteReadError:
        raise HttpError(400, "connection closed mid-request") from None
    return parse_head(head[:-4])


async def respond(writer: asyncio.StreamWriter, status: int, body: dict[str, object]) -> None:
    data = (json.dumps(body, sort_keys=True) + "\n").encode()
    writer.write(f"HTTP/1.1 {status} {REASONS.get(status, 'Error')}\r\n"
                 "Content-Type: application/json\r\n"
                 f"Content-Length: {len(data)}\r\nConnection: close\r\n\r\n".encode() + data)
    await writer.drain()
