"""The slot state machine and boot's choice of slot, as pure functions (no files)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from bootslots.choose import choose
from bootslots.install import target_slot
from bootslots.layout import data_option
from bootslots.manifest import Board, Manifest
from bootslots.state import MAX_TRIES, TRANSITIONS, BoxSlots, Event, SlotState, StateError, Status
from bootslots.verify import SlotError, Verified


def box(a: Status, b: Status, primary: str | None = "A", tries_a: int = 0,
        tries_b: int = 0) -> BoxSlots:
    return BoxSlots("sim", primary, {"A": SlotState(a, "1", tries_a),
                                     "B": SlotState(b, "2", tries_b)})


def verifier(corrupt: frozenset[str] = frozenset()) -> Callable[[str], Verified]:
    def verify(name: str) -> Verified:
        if name in corrupt:
            raise SlotError(f"slot {name}: main.py does not match its SHA-256")
        return Verified(Manifest("1", Board("sim", "Virtual board", "b.toml"), {}), "key")
    return verify


def test_every_status_has_a_row_and_an_illegal_event_changes_nothing() -> None:
    assert set(TRANSITIONS) == set(Status)
    state = box(Status.EMPTY, Status.GOOD)
    with pytest.raises(StateError, match="slot A is empty: healthy cannot happen to it"):
        state.apply("A", Event.HEALTHY)
    assert state == box(Status.EMPTY, Status.GOOD)


def test_an_installed_slot_is_on_trial_primary_and_its_tries_start_again() -> None:
    state = box(Status.GOOD, Status.BAD, tries_b=3).apply("B", Event.INSTALL_BEGUN)
    assert state["B"].status is Status.INSTALLING and state.primary == "A"
    state = state.apply("B", Event.INSTALLED, version="3")
    assert state["B"] == SlotState(Status.TRIAL, "3", 0) and state.primary == "B"


def test_the_state_file_round_trips() -> None:
    state = box(Status.GOOD, Status.TRIAL, "B", 1, 0).apply("A", Event.FAILED, note="why")
    assert BoxSlots.parse(state.to_bytes()) == state


def test_a_trial_slot_runs_once_then_the_good_one() -> None:
    first = choose(box(Status.GOOD, Status.TRIAL, "B"), verifier())
    assert first.slot == "B" and first.state["B"].tries == 1
    second = choose(first.state, verifier())
    assert second.slot == "A" and second.state["B"].status is Status.BAD
    assert second.state.primary == "A"
    assert "rolled back: slot B (2) was tried and never passed its health check" in \
        second.notes[0]


def test_a_trial_slot_with_nothing_to_fall_back_to_is_tried_again() -> None:
    decision = choose(box(Status.TRIAL, Status.EMPTY, tries_a=1), verifier())
    assert decision.slot == "A" and decision.state["A"].tries == 2


def test_a_good_slot_failing_to_start_max_tries_times_is_rolled_back() -> None:
    state = box(Status.GOOD, Status.GOOD, "B", tries_b=MAX_TRIES - 1)
    assert choose(state, verifier()).slot == "B"
    decision = choose(box(Status.GOOD, Status.GOOD, "B", tries_b=MAX_TRIES), verifier())
    assert decision.slot == "A" and decision.state["B"].status is Status.BAD


def test_a_corrupt_slot_is_never_run_and_never_tried_again() -> None:
    decision = choose(box(Status.GOOD, Status.TRIAL, "B"), verifier(frozenset({"B"})))
    assert decision.slot == "A" and decision.state["B"].status is Status.BAD
    assert "main.py does not match" in decision.state["B"].note


def test_slots_being_installed_are_never_run_even_as_a_last_resort() -> None:
    decision = choose(box(Status.INSTALLING, Status.EMPTY), verifier())
    assert decision.slot is None


def test_a_failed_slot_runs_as_a_last_resort_rather_than_no_box() -> None:
    decision = choose(box(Status.BAD, Status.GOOD), verifier(frozenset({"B"})))
    assert decision.slot == "A"
    assert "no good slot: running slot A" in decision.notes[-1]


def test_updates_never_overwrite_the_firmware_to_keep() -> None:
    assert target_slot(BoxSlots()) == "A"
    assert target_slot(box(Status.GOOD, Status.EMPTY)) == "B"
    assert target_slot(box(Status.GOOD, Status.GOOD, "B")) == "A"
    # An untried update is replaced, not the good slot beside it.
    assert target_slot(box(Status.GOOD, Status.TRIAL, "B")) == "B"
    assert target_slot(box(Status.BAD, Status.GOOD, "A")) == "A"


def test_boot_runs_from_a_data_partition_only_when_given_one(tmp_path: Path) -> None:
    assert data_option(["--board", "x.toml"], {}) == (None, ["--board", "x.toml"])
    assert data_option(["--data", str(tmp_path), "-v"], {}) == (tmp_path, ["-v"])
    assert data_option([f"--data={tmp_path}"], {}) == (tmp_path, [])
    assert data_option([], {"PBX_DATA": str(tmp_path)}) == (tmp_path, [])
