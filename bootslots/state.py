"""The slot state: which image each slot holds, how far it is trusted, which one boots.

Kept in DATA/slots.json, written whole and atomically by whoever changes it: the installer
(an image going into a slot), boot.py (a slot started, rolled back or found corrupt) and
the running box (healthy: committed; stable or stopped cleanly: its crash count cleared).
Each writer reads the file, applies one or more events and writes it back; a power cut
leaves the old file or the new one.

A slot's status moves only along this table; any other event raises StateError and
leaves the state as it was:

    empty       --install-begun-->  installing   (its files are being replaced: never run)
    installing  --installed------>  trial        (written and read back: to be tried once)
    trial       --booted--------->  trial        (tries + 1; a trial tried before is failed)
    trial       --healthy-------->  good         (the box passed its health check: committed)
    good        --booted--------->  good         (tries + 1; MAX_TRIES in a row: failed)
    good        --stable--------->  good         (tries = 0: up long enough, or stopped cleanly)
    trial/good  --failed--------->  bad          (health check failed, or crashed too often)
    any         --corrupt-------->  bad          (does not match its signed manifest)
    any         --install-begun-->  installing

A bad slot is run only when nothing else can be (see bootslots.choose), and becomes good
again if it then passes the health check.
"""

from __future__ import annotations

import dataclasses
import enum
import json
from dataclasses import dataclass
from pathlib import Path

from bootslots.atomic import write_atomic
from bootslots.layout import SLOT_NAMES, other_slot

FORMAT = 1
MAX_TRIES = 3  # starts in a row without becoming stable before a good slot is rolled back


class Status(enum.Enum):
    EMPTY = "empty"
    INSTALLING = "installing"
    TRIAL = "trial"
    GOOD = "good"
    BAD = "bad"


class Event(enum.Enum):
    INSTALL_BEGUN = "install-begun"
    INSTALLED = "installed"
    BOOTED = "booted"
    HEALTHY = "healthy"
    STABLE = "stable"
    FAILED = "failed"
    CORRUPT = "corrupt"


S, E = Status, Event
TRANSITIONS: dict[Status, dict[Event, Status]] = {
    S.EMPTY: {E.INSTALL_BEGUN: S.INSTALLING, E.CORRUPT: S.EMPTY},
    S.INSTALLING: {E.INSTALL_BEGUN: S.INSTALLING, E.INSTALLED: S.TRIAL,
                   E.CORRUPT: S.INSTALLING},
    S.TRIAL: {E.INSTALL_BEGUN: S.INSTALLING, E.BOOTED: S.TRIAL, E.HEALTHY: S.GOOD,
              E.STABLE: S.TRIAL, E.FAILED: S.BAD, E.CORRUPT: S.BAD},
    S.GOOD: {E.INSTALL_BEGUN: S.INSTALLING, E.BOOTED: S.GOOD, E.HEALTHY: S.GOOD,
             E.STABLE: S.GOOD, E.FAILED: S.BAD, E.CORRUPT: S.BAD},
    S.BAD: {E.INSTALL_BEGUN: S.INSTALLING, E.BOOTED: S.BAD, E.HEALTHY: S.GOOD,
            E.STABLE: S.BAD, E.FAILED: S.BAD, E.CORRUPT: S.BAD},
}
RUNNABLE = (Status.TRIAL, Status.GOOD)


class StateError(ValueError):
    """An event that the slot's status does not allow, or an unreadable state file."""


@dataclass(frozen=True, slots=True)
class SlotState:
    status: Status = Status.EMPTY
    version: str | None = None
    tries: int = 0        # starts since it was last stable
    note: str = ""        # why it is bad, for people


@dataclass(frozen=True, slots=True)
class BoxSlots:
    board: str | None = None      # the board id of the images this box takes
    primary: str | None = None    # the slot boot.py tries first
    slots: dict[str, SlotState] = dataclasses.field(
        default_factory=lambda: {name: SlotState() for name in SLOT_NAMES})

    def __getitem__(self, name: str) -> SlotState:
        return self.slots[name]

    def apply(self, name: str, event: Event, *, version: str | None = None,
              note: str = "") -> BoxSlots:
        """The state after `event` happened to slot `name`."""
        slot = self.slots[name]
        status = TRANSITIONS[slot.status].get(event)
        if status is None:
            raise StateError(f"slot {name} is {slot.status.value}: {event.value} cannot "
                             "happen to it")
        tries = {Event.BOOTED: slot.tries + 1, Event.STABLE: 0, Event.INSTALLED: 0,
                 Event.INSTALL_BEGUN: 0}.get(event, slot.tries)
        changed = SlotState(
            status,
            version if event is Event.INSTALLED else slot.version,
            tries,
            note if status is Status.BAD else "",
        )
        primary = self.primary
        if event in (Event.INSTALLED, Event.BOOTED, Event.HEALTHY):
            primary = name
        elif event is Event.INSTALL_BEGUN and primary == name:
            primary = other_slot(name)
        return dataclasses.replace(self, primary=primary, slots={**self.slots, name: changed})

    def with_board(self, board: str) -> BoxSlots:
        return dataclasses.replace(self, board=board)

    def good_other_than(self, name: str) -> str | None:
        other = other_slot(name)
        return other if self.slots[other].status is Status.GOOD else None

    def to_bytes(self) -> bytes:
        body = {
            "format": FORMAT,
            "board": self.board,
            "primary": self.primary,
            "slots": {name: {"status": s.status.value, "version": s.version, "tries": s.tries,
                             "note": s.note} for name, s in sorted(self.slots.items())},
        }
        return (json.dumps(body, indent=1, sort_keys=True) + "\n").encode()

    @classmethod
    def parse(cls, data: bytes) -> BoxSlots:
        try:
            body = json.loads(data)
            if body["format"] != FORMAT:
                raise StateError(f"slot state format {body['format']!r}, expected {FORMAT}")
            slots = {name: SlotState(Status(s["status"]), s["version"], int(s["tries"]),
                                     str(s.get("note", "")))
                     for name, s in body["slots"].items()}
            if sorted(slots) != sorted(SLOT_NAMES):
                raise StateError(f"slot state names slots {sorted(slots)}")
            primary = body["primary"]
            if primary is not None and primary not in SLOT_NAMES:
                raise StateError(f"slot state's primary slot is {primary!r}")
            return cls(body["board"], primary, slots)
        except (ValueError, KeyError, TypeError) as exc:
            if isinstance(exc, StateError):
                raise
            raise StateError(f"the slot state is unreadable ({exc!r})") from None


def load(path: Path) -> BoxSlots:
    """The state in `path`; a fresh one (both slots empty) if there is no file."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return BoxSlots()
    except OSError as exc:
        raise StateError(f"{path}: {exc.strerror}") from None
    return BoxSlots.parse(data)


def save(path: Path, slots: BoxSlots) -> None:
    write_atomic(path, slots.to_bytes())
