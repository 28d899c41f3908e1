"""The box started from its data partition as systemd starts it (stage one, then the
slot's main.py, a real process): a new image is verified, runs, passes its health check and
is committed; an update that fails its check is rolled back; an update over the network."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from bootslots import state as slot_state
from bootslots.layout import DataPartition
from tests.install.imaging import ROOT, box_from, build_image, office_file, short_dir
from tests.livebox import LiveBox
from tools.image.__main__ import main as image_tool
from tools.image.flash_dir import flash_dir
from tools.image.keys import KeyPair

COMMITTED = "passed its health check: committed"
HEALTHY = "box healthy"


@pytest.fixture
def data() -> DataPartition:
    root = short_dir()
    yield DataPartition(root)
    shutil.rmtree(root, ignore_errors=True)


def slots(data: DataPartition) -> dict[str, tuple[str, str | None]]:
    state = slot_state.load(data.state_file)
    return {name: (s.status.value, s.version) for name, s in state.slots.items()}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def running_from(box: LiveBox) -> str:
    return Path(f"/proc/{box.proc.pid}/cmdline").read_bytes().split(b"\0")[1].decode()


def test_a_flashed_image_boots_verified_is_committed_and_updates_to_the_other_slot(
        source: Path, keys: KeyPair, tmp_path: Path, data: DataPartition) -> None:
    office = office_file(tmp_path / "office")
    v1 = build_image(source, keys.private, tmp_path / "v1.img", "1.0", office)
    flash_dir(v1.path, data.root, [keys.public])
    with box_from(data) as box:
        box.wait_for_log("slot A verified (version 1.0, board sim")
        box.wait_for_log("box ready")
        box.wait_for_log(COMMITTED)
        box.wait_for_log(HEALTHY)
        assert running_from(box) == str(data.slot("A") / "main.py")
    assert box.proc.returncode == 0
    assert slots(data) == {"A": ("good", "1.0"), "B": ("empty", None)}

    v2 = build_image(source, keys.private, tmp_path / "v2.img", "2.0", office)
    assert flash_dir(v2.path, data.root, []).slot == "B"
    with box_from(data) as box:
        box.wait_for_log("slot B verified (version 2.0")
        box.wait_for_log(COMMITTED)
        assert running_from(box) == str(data.slot("B") / "main.py")
    assert slots(data) == {"A": ("good", "1.0"), "B": ("good", "2.0")}
    assert slot_state.load(data.state_file)["B"].tries == 0  # stopped cleanly: no crash


def broken_firmware(source: Path, dest: Path) -> Path:
    """The same firmware but for one bug: its HAL loses the board's last analog port."""
    shutil.copytree(source, dest)
    with (dest / "hal" / "sim" / "board.py").open("a") as f:
        f.write("\n\n_ports = SimBoard.ports\n"
                "SimBoard.ports = lambda self: {**_ports(self), 'fxs': _ports(self)['fxs'][:-1]}"
                "  # the bug\n")
    return dest


def test_an_update_that_fails_its_health_check_is_rolled_back(
        source: Path, keys: KeyPair, tmp_path: Path, data: DataPartition) -> None:
    office = office_file(tmp_path / "office")
    flash_dir(build_image(source, keys.private, tmp_path / "v1.img", "1.0", office).path,
              data.root, [keys.public])
    with box_from(data) as box:
        box.wait_for_log(COMMITTED)
    broken = broken_firmware(source, tmp_path / "broken")
    flash_dir(build_image(broken, keys.private, tmp_path / "v2.img", "2.0", office).path,
              data.root, [])
    with box_from(data) as box:
        box.wait_for_log("slot B verified (version 2.0")
        line = box.wait_for_log("health check failed")
        assert "fxs:4" in line
        box.wait_for_log("rolling back at the next start")
        assert box.proc.wait(timeout=30) == 1  # systemd: Restart=on-failure
    assert slots(data)["B"][0] == "bad"
    with box_from(data) as box:
        box.wait_for_log("slot A verified (version 1.0")
        box.wait_for_log(HEALTHY)
    assert slots(data) == {"A": ("good", "1.0"), "B": ("bad", "2.0")}


def test_an_update_over_the_network_is_installed_restarted_into_and_committed(
        source: Path, keys: KeyPair, tmp_path: Path, data: DataPartition,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    office = office_file(tmp_path / "office")
    flash_dir(build_image(source, keys.private, tmp_path / "v1.img", "1.0", office).path,
              data.root, [keys.public])
    v2 = build_image(source, keys.private, tmp_path / "v2.img", "2.0", office)
    port = free_port()  # the box serves it again after its restart: a fixed port
    with box_from(data, "--admin-http", f"127.0.0.1:{port}") as box:
        box.wait_for_log(f"admin interface (image updates) on http 127.0.0.1:{port}")
        url = f"http://127.0.0.1:{port}"
        secret = (data.state_dir / "admin-secret").read_text().strip()
        assert secret not in "".join(box.log)  # never logged

        monkeypatch.setenv("PBX_ADMIN_SECRET", "not-the-secret")
        assert image_tool(["flash", str(v2.path), "--to", url]) == 1
        assert "the box answered 401: not authorized" in capsys.readouterr().err
        assert slots(data)["B"] == ("empty", None)

        monkeypatch.setenv("PBX_ADMIN_SECRET", secret)
        assert image_tool(["flash", str(v2.path), "--to", url]) == 0
        out = capsys.readouterr().out
        assert "slot B now holds version 2.0 on trial" in out
        assert "the box runs version 2.0 from slot B: committed" in out
        box.wait_for_log("slot B verified (version 2.0")
        assert running_from(box) == str(data.slot("B") / "main.py")
    assert slots(data) == {"A": ("good", "1.0"), "B": ("good", "2.0")}


def test_under_systemd_the_box_says_ready_once_healthy_and_pings_the_watchdog(
        tmp_path: Path) -> None:
    folder = Path(tempfile.mkdtemp(prefix="pbx-sd-"))  # short: Unix socket paths are limited
    notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    notify.bind(str(folder / "notify"))
    notify.settimeout(30)
    config = office_file(tmp_path / "office")
    env = {**os.environ, "NOTIFY_SOCKET": str(folder / "notify"), "WATCHDOG_USEC": "200000",
           "PYTHONUNBUFFERED": "1"}
    env.pop("PBX_DATA", None)
    proc = subprocess.Popen(  # from the checkout, as ./run.sh starts it
        [sys.executable, "boot.py", "--config", str(config), "--state-dir", str(folder)],
        cwd=ROOT, env=env, stderr=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
    try:
        messages = [notify.recv(4096).decode() for _ in range(3)]
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
        notify.close()
    assert messages[0] == "READY=1\nSTATUS=ready: 4 extensions"
    assert messages[1:] == ["WATCHDOG=1", "WATCHDOG=1"]  # every 0.1 s: half of WatchdogSec
    shutil.rmtree(folder)
