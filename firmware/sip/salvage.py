"""An error response for a request the parser refused, built from what can still be read.

RFC 3261 §8.2 wants malformed requests answered (400, 505 ...) rather than dropped, but a
response can only find its way back with the request's Via, From, To, Call-ID and CSeq.
This module reads just those lines, as text, and copies them into the response unparsed.
Responses and ACKs are never answered (§17.1.1.3, §17.2.1); nor is anything lacking one of
the five headers (the sender could not match an answer anyway).
"""

from __future__ import annotations

import re

_REQUEST_LINE = re.compile(rb"(?:\r\n)*([A-Za-z!%*_+`'~.-]+) [^ \r\n]+ SIP/[0-9.]+\r?\n")
_COMPACT = {b"v": b"via", b"f": b"from", b"t": b"to", b"i": b"call-id"}
_NEEDED = (b"via", b"from", b"to", b"call-id", b"cseq")
_CANONICAL = {b"via": b"Via", b"from": b"From", b"to": b"To", b"call-id": b"Call-ID",
              b"cseq": b"CSeq"}
_HEADER = re.compile(rb"^([A-Za-z0-9!%*_+`'~.-]+)[ \t]*:[ \t]*(.*?)\r?$", re.M)
MAX_REASON = 120


def salvage_response(data: bytes, status: int, reason: str) -> bytes | None:
    start = _REQUEST_LINE.match(data)
    if start is None or start.group(1).upper() == b"ACK":
        return None
    head = data.split(b"\r\n\r\n", 1)[0]
    found: dict[bytes, list[bytes]] = {}
    for name, value in _HEADER.findall(head):
        key = _COMPACT.get(name.lower(), name.lower())
        if key in _CANONICAL and value.strip():
            found.setdefault(key, []).append(value.strip())
    if any(key not in found for key in _NEEDED):
        return None
    phrase = _phrase(reason)
    lines = [b"SIP/2.0 %d %s" % (status, phrase)]
    for key in _NEEDED:
        values = found[key] if key == b"via" else found[key][:1]
        lines += [_CANONICAL[key] + b": " + value for value in values]
    lines += [b"Content-Length: 0", b"", b""]
    return b"\r\n".join(lines)


def _phrase(reason: str) -> bytes:
    """A reason phrase that cannot break the response: printable ASCII, one line."""
    text = "".join(c if " " <= c <= "~" else "?" for c in reason)[:MAX_REASON]
    return text.encode("ascii") or b"Bad Request"
