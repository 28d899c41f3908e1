"""Errors of the SIP stack: one root, and the parse error that carries the answer to send.

Principle 6 of STYLE.md splits errors at the boundary. Remote garbage becomes a `ParseError`
whose `status` is the response the shell should send to a *request* (RFC 3261 §21):

    400  Bad Request            malformed syntax (§8.2, and most of RFC 4475 §3.1.2)
    413  Request Entity Too Large   a body larger than we are willing to hold (§21.4.12)
    416  Unsupported URI Scheme     a Request-URI we cannot serve (§8.2.2.1)
    501  Not Implemented        unknown method whose CSeq disagrees (RFC 4475 §3.1.2.18)
    505  Version Not Supported  SIP-Version other than SIP/2.0 (§8.2.6 / RFC 4475 §3.1.2.16)
    513  Message Too Large      the whole message exceeds our limits (§21.5.14)

A malformed *response* is never answered: the shell drops it (§18.1.2, RFC 4475 §3.1.2.5 and
§3.1.2.19), whatever `status` says. On a stream transport a framing error (`FramingError`)
makes the rest of the byte stream meaningless, so the shell closes the connection (§18.3).

Anything else raised from this package is a bug in our own code, not in the peer's message.
"""

from __future__ import annotations

__all__ = ["FramingError", "ParseError", "SipError"]


class SipError(Exception):
    """Root of every error of firmware.sip."""


class ParseError(SipError):
    """A message (or part of one) from the network is malformed.

    `status` is the response code the shell should answer a request with; for a response
    it is informative only (responses are dropped, never answered).
    """

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        # The bytes of the offending message, when the raiser knows them (StreamParser sets
        # it): build any answer from these, not from whatever chunk was being fed.
        self.raw: bytes | None = None

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r}, status={self.status})"


class FramingError(ParseError):
    """A stream transport lost message boundaries (RFC 3261 §18.3): close the connection."""
