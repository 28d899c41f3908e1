"""The factory reset the front panel asks for: recorded at once, carried out when the box is
down (or at the next start, after a power cut), keeping the voicemail; and the restart of a
box run from a checkout, which comes back on the built-in office."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from bootslots.layout import DataPartition
from firmware.box import Box
from firmware.service.lifecycle import Outcome
from firmware.service.reset import (
    RESET_REQUEST,
    ResetRequest,
    finish_pending_reset,
    pending_reset,
    request_reset,
)
from firmware.service.restart import restart_argv
from firmware.store import STORE_FILE, Store


@pytest.fixture
def data(tmp_path: Path) -> DataPartition:
    """A box's data partition with an office config, secrets, settings, the store and a
    voicemail message."""
    data = DataPartition(tmp_path / "data")
    state = data.state_dir
    state.mkdir(parents=True)
    data.office.parent.mkdir(parents=True)
    data.office.write_text('[site]\ncountry = "us"\n')
    for name in ("sip-secrets.json", "admin-secret", "night-mode.json", "forwards.json"):
        (state / name).write_text("{}")
    (state / "voicemail" / "102").mkdir(parents=True)
    (state / "voicemail" / "102" / "msg-1.wav").write_bytes(b"RIFF")
    store = Store(state / STORE_FILE)
    store.open()
    store.run_now(lambda db: db.execute(
        "INSERT INTO voicemail (mailbox, received_at, duration_s, file) "
        "VALUES ('102', '2025-01-01T09:00:00+00:00', 3.0, '102/msg-1.wav')"))
    store.run_now(lambda db: db.execute(
        "INSERT INTO call_record (started_at) VALUES ('2025-01-01T09:00:00+00:00')"))
    store.close()
    return data


def count(state: Path, table: str) -> int:
    db = sqlite3.connect(state / STORE_FILE)
    try:
        return int(db.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
    finally:
        db.close()


def test_nothing_happens_unless_a_reset_was_asked_for(data: DataPartition) -> None:
    assert pending_reset(data.state_dir) is None
    assert finish_pending_reset(data.state_dir, data.office) is None
    assert (data.state_dir / "sip-secrets.json").exists() and data.office.exists()


def test_a_reset_asked_for_forgets_everything_but_the_voicemail(data: DataPartition) -> None:
    state = data.state_dir
    request_reset(state)
    assert pending_reset(state) == ResetRequest(keep_voicemail=True)
    deleted = finish_pending_reset(state, data.office)
    assert deleted is not None and "sip-secrets.json" in deleted
    assert sorted(p.name for p in state.iterdir()) == [STORE_FILE, "voicemail"]
    assert (state / "voicemail" / "102" / "msg-1.wav").exists()
    assert (count(state, "voicemail"), count(state, "call_record")) == (1, 0)
    assert not data.office_dir.exists()  # the office's own folder: the built-in office next
    assert pending_reset(state) is None  # done once only
    assert finish_pending_reset(state, data.office) is None


def test_a_reset_may_take_the_voicemail_too(data: DataPartition) -> None:
    request_reset(data.state_dir, keep_voicemail=False)
    finish_pending_reset(data.state_dir, None)
    assert list(data.state_dir.iterdir()) == []
    assert data.office.exists()  # not the box's own office: left alone


def test_a_damaged_request_still_resets_and_keeps_the_voicemail(data: DataPartition) -> None:
    (data.state_dir / RESET_REQUEST).write_text("{not json")
    assert pending_reset(data.state_dir) == ResetRequest(keep_voicemail=True)
    finish_pending_reset(data.state_dir, data.office)
    assert sorted(p.name for p in data.state_dir.iterdir()) == [STORE_FILE, "voicemail"]


@pytest.mark.parametrize(("argv", "kept"), [
    (["main.py", "--config", "office.toml", "--state-dir", "s"], ["main.py", "--state-dir", "s"]),
    (["boot.py", "--config=office.toml"], ["boot.py"]),
    (["main.py", "--board", "b.toml"], ["main.py", "--board", "b.toml"]),
])
def test_a_checkout_restarts_without_its_office_config(argv: list[str], kept: list[str]) -> None:
    assert restart_argv(argv) == kept


# -- main.py: when the reset is carried out ------------------------------------------------


def run_main(monkeypatch: pytest.MonkeyPatch, argv: list[str],
             while_running: Callable[[Box], None], outcome: Outcome
             ) -> tuple[int, list[str]]:
    """main.py with the box's run replaced: `while_running` is what happens meanwhile."""
    import main

    restarted: list[str] = []

    def fake_run(box: Box, *_: object) -> Outcome:
        while_running(box)
        return outcome

    monkeypatch.setattr(main, "run", fake_run)
    monkeypatch.setattr(main, "restart_checkout", lambda: restarted.append("exec") or 0)
    monkeypatch.delenv("PBX_DATA", raising=False)
    monkeypatch.delenv("PBX_SLOT", raising=False)
    return main.main(argv), restarted


def test_main_resets_once_the_box_is_down_then_restarts(
        monkeypatch: pytest.MonkeyPatch, data: DataPartition) -> None:
    state = data.state_dir

    def pressed_reset(box: Box) -> None:
        assert (state / "sip-secrets.json").exists()  # untouched while the box runs
        request_reset(state)

    status, restarted = run_main(monkeypatch, ["--state-dir", str(state)], pressed_reset,
                                 Outcome.RESTART)
    assert (status, restarted) == (0, ["exec"])
    assert sorted(p.name for p in state.iterdir()) == [STORE_FILE, "voicemail"]


def test_main_finishes_a_reset_the_power_cut_short_before_starting(
        monkeypatch: pytest.MonkeyPatch, data: DataPartition) -> None:
    state = data.state_dir
    request_reset(state)  # asked for, then the power went
    config = state / "office.toml"  # an office config the reset takes with it
    config.write_text('[site]\ncountry = "de"\n')
    offices: list[str] = []

    def started(box: Box) -> None:
        offices.append(box.office.site.country)
        assert not (state / "sip-secrets.json").exists()

    status, restarted = run_main(monkeypatch, ["--state-dir", str(state), "--config",
                                               str(config)], started, Outcome.STOPPED)
    assert (status, restarted, offices) == (0, [], ["us"])  # the built-in office
    assert pending_reset(state) is None
