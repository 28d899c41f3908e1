"""Logging set-up and the one-line-per-call-event log.

Call events are logfmt lines (`call event=answer port=fxs:2 ext=102 ...`) on the
`pbx.call` logger so an installer can grep a call's life and a tool can parse it.
"""

from __future__ import annotations

import logging
import sys

CALL_LOG = logging.getLogger("pbx.call")

LEVELS = ("debug", "info", "warning", "error")


def setup(level: str = "info") -> None:
    logging.basicConfig(
        level=getattr(logging, level.upper()),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )


def _value(value: object) -> str:
    text = str(value)
    if text == "" or any(c in text for c in ' "='):
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return text


def call_event(event: str, **fields: object) -> None:
    """Log one structured line for something that happened to a call."""
    if CALL_LOG.isEnabledFor(logging.INFO):
        parts = [f"event={event}"]
        parts += [f"{key}={_value(value)}" for key, value in fields.items() if value is not None]
        CALL_LOG.info("call %s", " ".join(parts))
