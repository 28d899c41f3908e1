"""Factory reset: the box forgets everything but its firmware.

The state directory is emptied (SIP and admin secrets, forwards, night mode, the store,
voicemail) and the office config removed; at its next start the box makes new secrets and
runs the built-in office. With keep_voicemail the voicemail files and the store's
voicemail and mailbox rows stay (everything else in the store is deleted).

Two ways in: `python -m tools.backup factory-reset` on a stopped box, and the front
panel's RESET button on a running one. A running box cannot empty its own state directory
(the store is open, apps write files), so the button only *asks* (`request_reset`: one
small atomic file) and restarts; main.py carries the reset out once the box is down
(`finish_pending_reset`), and again at the next start if the power went in between.
"""

from __future__ import annotations

import json
import logging
import shutil
import sqlite3
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

from bootslots.layout import OFFICE_DIR
from firmware.statefiles import write_atomic
from firmware.store import STORE_FILE

__all__ = ["KEPT_TABLES", "RESET_REQUEST", "VOICEMAIL_DIR", "ResetRequest", "clear_store",
           "factory_reset", "finish_pending_reset", "pending_reset", "request_reset"]

log = logging.getLogger(__name__)

VOICEMAIL_DIR = "voicemail"  # the voicemail application's files, in the state directory
KEPT_TABLES = ("voicemail", "mailbox")
RESET_REQUEST = "factory-reset.json"  # a reset asked for and not yet done


def clear_store(path: Path) -> None:
    """Delete every row but the voicemail index and mailboxes."""
    db = sqlite3.connect(path, isolation_level=None)
    try:
        tables = [row[0] for row in db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")]
        db.execute("BEGIN IMMEDIATE")
        for table in tables:
            if table not in KEPT_TABLES:
                db.execute(f'DELETE FROM "{table}"')
        db.execute("COMMIT")
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        db.close()


def factory_reset(state: Path, office: Path | None, keep_voicemail: bool = False,
                  spare: Collection[str] = ()) -> list[str]:
    """Reset; the names of what was deleted. Files named in `spare` are left for the
    caller (the reset request, deleted last so a power cut mid-way resets again)."""
    kept = {VOICEMAIL_DIR, STORE_FILE, f"{STORE_FILE}-wal", f"{STORE_FILE}-shm"} \
        if keep_voicemail else set()
    kept |= set(spare)
    deleted = []
    if state.is_dir():
        for path in sorted(state.iterdir()):
            if path.name in kept:
                continue
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            else:
                path.unlink()
            deleted.append(path.name)
        if keep_voicemail and (state / STORE_FILE).exists():
            clear_store(state / STORE_FILE)
    if office is not None and office.exists():
        # A box's office folder (DATA/office) holds only the office's files: all of it goes.
        if office.parent == state.parent / OFFICE_DIR:
            shutil.rmtree(office.parent)
        else:
            office.unlink()
        deleted.append(str(office))
    return deleted


@dataclass(frozen=True, slots=True)
class ResetRequest:
    keep_voicemail: bool = True


def request_reset(state: Path, keep_voicemail: bool = True) -> None:
    """Ask for a factory reset at the next stop or start (blocking: one small atomic
    write; call it off the loop)."""
    write_atomic(state / RESET_REQUEST,
                 json.dumps({"keep_voicemail": keep_voicemail}).encode())


def pending_reset(state: Path) -> ResetRequest | None:
    """The reset asked for, if any. A damaged request still resets, keeping voicemail
    (the careful choice: messages cannot be made again)."""
    path = state / RESET_REQUEST
    try:
        raw = json.loads(path.read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        log.error("%s is damaged (%s); resetting and keeping the voicemail", path, exc)
        return ResetRequest()
    keep = raw.get("keep_voicemail", True) if isinstance(raw, dict) else True
    return ResetRequest(keep_voicemail=keep is not False)


def finish_pending_reset(state: Path, office: Path | None) -> list[str] | None:
    """Carry out the reset asked for, if one was (the box must not be running): what was
    deleted, or None when no reset was asked for."""
    request = pending_reset(state)
    if request is None:
        return None
    deleted = factory_reset(state, office, request.keep_voicemail, spare=(RESET_REQUEST,))
    (state / RESET_REQUEST).unlink(missing_ok=True)
    log.warning("factory reset done: deleted %s%s; new secrets and the built-in office "
                "from this start on", ", ".join(deleted) or "nothing",
                "; voicemail kept" if request.keep_voicemail else "")
    return deleted
