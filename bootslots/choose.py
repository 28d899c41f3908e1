"""Boot's decision, as a pure function of the slot state and the slots' verification: which
slot runs now, and what changes in the state first (one write, before anything runs).

1. Roll back: a trial slot that was already tried once (it never passed its health check:
   it crashed, hung, failed the check, or the power went) is failed, and so is a good slot
   started MAX_TRIES times in a row without becoming stable, when the other slot is good.
2. Run the first runnable slot (trial or good; the primary one first) that verifies: its
   signature is from a trusted key and every file matches. One that does not is marked
   corrupt and never chosen again until an image is installed into it.
3. Last resort, rather than no box at all: any slot that still verifies (a failed one).
A slot being installed (or empty) is never run: its files are not there yet.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from bootslots.layout import SLOT_NAMES, other_slot
from bootslots.state import MAX_TRIES, RUNNABLE, BoxSlots, Event, Status
from bootslots.verify import SlotError, Verified


@dataclass(frozen=True, slots=True)
class Decision:
    slot: str | None              # None: nothing can run
    state: BoxSlots               # to write before running it
    verified: Verified | None
    notes: list[str] = field(default_factory=list)  # what happened, for the log


def boot_order(state: BoxSlots) -> list[str]:
    return [state.primary, other_slot(state.primary)] if state.primary else list(SLOT_NAMES)


def roll_back(state: BoxSlots, notes: list[str]) -> BoxSlots:
    for name in boot_order(state):
        slot = state[name]
        fallback = state.good_other_than(name)
        if fallback is None:
            continue
        if slot.status is Status.TRIAL and slot.tries >= 1:
            why = "was tried and never passed its health check"
        elif slot.status is Status.GOOD and slot.tries >= MAX_TRIES:
            why = f"started {slot.tries} times in a row without staying up"
        else:
            continue
        state = state.apply(name, Event.FAILED, note=why)
        notes.append(f"rolled back: slot {name} ({slot.version}) {why}; slot {fallback} "
                     "runs instead")
    return state


def choose(state: BoxSlots, verify: Callable[[str], Verified]) -> Decision:
    notes: list[str] = []
    state = roll_back(state, notes)
    corrupt: set[str] = set()
    for name in boot_order(state):
        if state[name].status not in RUNNABLE:
            continue
        try:
            verified = verify(name)
        except SlotError as exc:
            corrupt.add(name)
            state = state.apply(name, Event.CORRUPT, note=str(exc))
            notes.append(f"refused slot {name}: {exc}")
            continue
        return Decision(name, state.apply(name, Event.BOOTED), verified, notes)
    for name in boot_order(state):
        if state[name].status is not Status.BAD or name in corrupt:
            continue
        try:
            verified = verify(name)
        except SlotError:
            continue
        notes.append(f"no good slot: running slot {name} ({state[name].version}) anyway, "
                     f"though it {state[name].note}")
        return Decision(name, state.apply(name, Event.BOOTED), verified, notes)
    return Decision(None, state, None, notes)
