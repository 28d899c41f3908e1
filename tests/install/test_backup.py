"""Backup, factory reset and restore: an office's extensions, secrets, settings and
voicemail come back exactly; a reset keeps nothing and the box makes new secrets."""

from __future__ import annotations

import json
import shutil
import socket
import sqlite3
import tempfile
from pathlib import Path

import pytest

from bootslots.layout import DataPartition
from firmware.config import load_board, load_office
from firmware.credentials import SECRETS_FILE, resolve_secrets
from firmware.engine.features.forward import SETTINGS_FILE
from firmware.service.admin import admin_secret
from firmware.store import STORE_FILE, Store
from tests.integration.harness import ROOT, SIM_BOARD, office_toml
from tools.backup.__main__ import main as backup_tool

SIP_OFFICE = office_toml("us", '\n[[extension]]\nnumber = "201"\nname = "Soft"\n'
                         'devices = ["sip"]\n\n[[extension]]\nnumber = "202"\nname = "Desk"\n'
                         'devices = ["sip"]\n\n[features]\nhold_music = "music/hold.wav"\n')
MUSIC = (ROOT / "firmware/media/sounds/en/please-hold.wav").read_bytes()
VOICEMAILS = [("101", "new", "555-0101", "msg-1.wav"), ("102", "saved", "555-0102", "msg-2.wav")]


def make_box_data(data: DataPartition) -> dict[str, str]:
    """A box that has run a while: its office, generated secrets, a forward, voicemail."""
    (data.office.parent / "music").mkdir(parents=True)
    (data.office.parent / "music" / "hold.wav").write_bytes(MUSIC)
    data.office.write_text(SIP_OFFICE)
    office = load_office(data.office, load_board(SIM_BOARD))
    secrets = resolve_secrets(office, data.state_dir)
    admin_secret(data.state_dir)
    (data.state_dir / SETTINGS_FILE).write_text(json.dumps(
        {"101": {"forward_all": "102", "forward_busy": None, "forward_no_answer": None,
                 "dnd": False}}))
    store = Store(data.state_dir / STORE_FILE)
    store.open()
    store.run_now(lambda db: db.executemany(
        "INSERT INTO voicemail (mailbox, folder, caller_number, received_at, duration_s, file)"
        " VALUES (?, ?, ?, '2026-01-02T03:04:05Z', 4.5, ?)", VOICEMAILS))
    store.run_now(lambda db: db.execute(
        "INSERT INTO call_record (started_at, source, destination) VALUES ('x', '101', '102')"))
    store.close()  # the WAL is checkpointed here: the backup must not depend on it
    for _, _, _, name in VOICEMAILS:
        (data.state_dir / "voicemail").mkdir(exist_ok=True)
        (data.state_dir / "voicemail" / name).write_bytes(name.encode() * 100)
    return secrets


def voicemail_rows(data: DataPartition) -> list[tuple[str, str, str, str]]:
    db = sqlite3.connect(data.state_dir / STORE_FILE)
    try:
        return [tuple(r) for r in db.execute(
            "SELECT mailbox, folder, caller_number, file FROM voicemail ORDER BY id")]
    finally:
        db.close()


def snapshot(data: DataPartition) -> dict[str, bytes]:
    """What a person would miss: every state file but the store (compared by rows)."""
    return {str(p.relative_to(data.root)): p.read_bytes() for p in sorted(data.root.rglob("*"))
            if p.is_file() and not p.name.startswith(STORE_FILE)}


@pytest.fixture
def data(tmp_path: Path) -> DataPartition:
    return DataPartition(tmp_path / "data")


def test_backup_reset_restore_gives_back_extensions_secrets_and_voicemail(
        data: DataPartition, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    secrets = make_box_data(data)
    before, rows = snapshot(data), voicemail_rows(data)
    archive = tmp_path / "backup.tar"
    state = str(data.state_dir)
    assert backup_tool(["save", "--state", state, "-o", str(archive)]) == 0
    assert "with the office config" in capsys.readouterr().out

    assert backup_tool(["factory-reset", "--state", state]) == 0
    assert not data.office.parent.exists() and list(data.state_dir.iterdir()) == []
    # A box starting now makes new secrets.
    fresh = resolve_secrets(load_office(_write(tmp_path / "o.toml", SIP_OFFICE.replace(
        'hold_music = "music/hold.wav"', "")), load_board(SIM_BOARD)), data.state_dir)
    assert set(fresh) == set(secrets) and fresh.items().isdisjoint(secrets.items())

    assert backup_tool(["restore", str(archive), "--state", state]) == 0
    assert "the office config into" in capsys.readouterr().out
    assert snapshot(data) == before
    assert voicemail_rows(data) == rows
    restored = load_office(data.office, load_board(SIM_BOARD))
    assert [e.number for e in restored.extensions] == ["101", "102", "103", "104", "201", "202"]
    assert resolve_secrets(restored, data.state_dir) == secrets


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_a_backup_onto_a_new_box(data: DataPartition, tmp_path: Path) -> None:
    secrets = make_box_data(data)
    archive = tmp_path / "backup.tar"
    assert backup_tool(["save", "--state", str(data.state_dir), "-o", str(archive)]) == 0
    new_box = DataPartition(tmp_path / "new-box")
    assert backup_tool(["restore", str(archive), "--state", str(new_box.state_dir)]) == 0
    assert voicemail_rows(new_box) == voicemail_rows(data)
    assert (new_box.state_dir / SECRETS_FILE).read_bytes() == \
        (data.state_dir / SECRETS_FILE).read_bytes()
    assert (new_box.office.parent / "music" / "hold.wav").read_bytes() == MUSIC
    assert secrets


def test_a_reset_can_keep_the_voicemail_and_nothing_else(data: DataPartition) -> None:
    make_box_data(data)
    rows = voicemail_rows(data)
    assert backup_tool(["factory-reset", "--state", str(data.state_dir),
                        "--keep-voicemail"]) == 0
    assert sorted(p.name for p in data.state_dir.iterdir()) == [STORE_FILE, "voicemail"]
    assert voicemail_rows(data) == rows
    db = sqlite3.connect(data.state_dir / STORE_FILE)
    assert db.execute("SELECT count(*) FROM call_record").fetchone() == (0,)
    db.close()


def test_a_damaged_backup_is_refused_and_nothing_is_replaced(
        data: DataPartition, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    make_box_data(data)
    archive = tmp_path / "backup.tar"
    assert backup_tool(["save", "--state", str(data.state_dir), "-o", str(archive)]) == 0
    raw = bytearray(archive.read_bytes())
    raw[raw.index(b"msg-2.wavmsg-2.wav") + 3] ^= 0xFF
    archive.write_bytes(bytes(raw))
    before = snapshot(data)
    assert backup_tool(["restore", str(archive), "--state", str(data.state_dir)]) == 1
    assert "is damaged" in capsys.readouterr().err
    assert snapshot(data) == before
    assert not [p for p in data.root.iterdir() if p.name.startswith(".")]


def test_restore_and_reset_refuse_a_running_box(capsys: pytest.CaptureFixture[str]) -> None:
    state = Path(tempfile.mkdtemp(prefix="pbx-"))  # short: a Unix socket's path is limited
    with socket.socket(socket.AF_UNIX) as listening:
        listening.bind(str(state / "control.sock"))
        listening.listen()
        assert backup_tool(["factory-reset", "--state", str(state)]) == 1
        assert backup_tool(["restore", "backup.tar", "--state", str(state)]) == 1
    assert "a box is running on" in capsys.readouterr().err
    assert (state / "control.sock").exists()
    shutil.rmtree(state)
