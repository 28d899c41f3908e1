"""The `message-summary` event package (RFC 3842): the body of an MWI NOTIFY, sans-I/O.

    Messages-Waiting: yes
    Message-Account: sip:101@pbx.local
    Voice-Message: 2/8 (0/0)

RFC 3842 §5.2 (ABNF, abridged):

    message-summary   = msg-status-line CRLF [msg-account CRLF]
                        [*(msg-summary-line CRLF)] [*opt-msg-headers]
    msg-status-line   = "Messages-Waiting" HCOLON msg-status     ; "yes" / "no"
    msg-account       = "Message-Account" HCOLON Account-URI
    msg-summary-line  = message-context-class HCOLON newmsgs SLASH oldmsgs
                        [ LPAREN new-urgentmsgs SLASH old-urgentmsgs RPAREN ]

Names are case-insensitive; only the `voice-message` class is kept (the box has no fax or
text messages); other lines are skipped, as a phone would.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from firmware.sip.errors import ParseError

__all__ = ["CONTENT_TYPE", "EVENT", "MessageSummary"]

EVENT = "message-summary"
CONTENT_TYPE = "application/simple-message-summary"
MAX_BODY = 4096  # a summary is a few lines; anything longer is not one

# newmsgs "/" oldmsgs [ "(" new-urgent "/" old-urgent ")" ], with optional whitespace (LWS)
_COUNTS = re.compile(r"(\d{1,9})\s*/\s*(\d{1,9})(?:\s*\(\s*(\d{1,9})\s*/\s*(\d{1,9})\s*\))?")


@dataclass(frozen=True, slots=True)
class MessageSummary:
    waiting: bool
    account: str | None = None  # the mailbox's URI
    new: int = 0  # voice messages
    old: int = 0
    new_urgent: int = 0
    old_urgent: int = 0

    def __bytes__(self) -> bytes:
        lines = [f"Messages-Waiting: {'yes' if self.waiting else 'no'}"]
        if self.account is not None:
            lines.append(f"Message-Account: {self.account}")
        lines.append(f"Voice-Message: {self.new}/{self.old} "
                     f"({self.new_urgent}/{self.old_urgent})")
        return ("\r\n".join(lines) + "\r\n").encode("ascii")

    @classmethod
    def parse(cls, body: bytes) -> MessageSummary:
        """Raises ParseError (status 400) for a body that is no message summary."""
        if len(body) > MAX_BODY:
            raise ParseError(f"message summary of {len(body)} bytes (at most {MAX_BODY})")
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            raise ParseError("message summary is not UTF-8 text") from None
        fields: dict[str, str] = {}
        for line in text.splitlines():
            name, colon, value = line.partition(":")
            if colon and name.strip():
                fields.setdefault(name.strip().lower(), value.strip())
        status = fields.get("messages-waiting", "").lower()
        if status not in ("yes", "no"):
            raise ParseError("message summary without Messages-Waiting: yes or no")
        counts = (0, 0, 0, 0)
        voice = fields.get("voice-message")
        if voice is not None:
            found = _COUNTS.fullmatch(voice)
            if found is None:
                raise ParseError(f"Voice-Message {voice!r} is not new/old (urgent/urgent)")
            counts = tuple(int(g or 0) for g in found.groups())  # type: ignore[assignment]
        return cls(status == "yes", fields.get("message-account"), *counts)
