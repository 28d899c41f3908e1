"""The real commands, as an installer and a script run them: main.py and phone."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.harness import ROOT, office_toml
from tests.livebox import LiveBox, start_box


def python(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, *args], cwd=cwd, capture_output=True, text=True,
                          timeout=60, check=False)


def phone(state: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return python("-m", "tools.phone", "--state-dir", str(state), *args)


def write(tmp: Path, name: str, text: str) -> Path:
    path = tmp / name
    path.write_text(text)
    return path


def test_check_config_accepts_a_good_office(tmp_path: Path) -> None:
    good = write(tmp_path, "office.toml", office_toml("de"))
    result = python("main.py", "--check-config", str(good))
    assert result.returncode == 0, result.stderr
    assert "OK" in result.stdout


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('[site\ncountry = "us"\n', ["office.toml:1"]),
        ('[site]\ncountri = "us"\n', ["office.toml:2", "countri", "country"]),
        ('[[extension]]\nnumber = "101"\nname = "A"\ndevices = ["fxs:1"]\n'
         '[[extension]]\nnumber = "101"\nname = "B"\ndevices = ["fxs:2"]\n',
         ["office.toml:6", "101"]),
        ('[[extension]]\nnumber = "101"\nname = "A"\ndevices = ["fxs:9"]\n',
         ["office.toml:4", "fxs:9", "fxs:1"]),
    ],
    ids=["broken-toml", "unknown-key", "duplicate-number", "missing-device"],
)
def test_check_config_names_file_line_key_and_fix(tmp_path: Path, text: str,
                                                  expected: list[str]) -> None:
    bad = write(tmp_path, "office.toml", text)
    result = python("main.py", "--check-config", str(bad))
    assert result.returncode == 1
    for needle in expected:
        assert needle in result.stderr
    assert "Fix:" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_default_config_prints_and_validates(tmp_path: Path) -> None:
    printed = python("main.py", "--print-default-config")
    assert printed.returncode == 0
    path = write(tmp_path, "office.toml", printed.stdout)
    assert python("main.py", "--check-config", str(path)).returncode == 0
    for number in ("101", "102", "103", "104"):
        assert f'"{number}"' in printed.stdout


def test_a_broken_config_at_start_without_a_last_good_one_exits_1(tmp_path: Path) -> None:
    bad = write(tmp_path, "office.toml", "[site]\ncountry = 'xx'\n")
    result = python("main.py", "--config", str(bad), "--state-dir", str(tmp_path / "s"))
    assert result.returncode == 1
    assert "country" in result.stderr and "Traceback" not in result.stderr


@pytest.fixture
def live_box() -> Iterator[LiveBox]:
    with start_box() as box:
        yield box


def test_phone_finds_the_box_by_a_tcp_control_address(tmp_path: Path) -> None:
    with start_box("--control-tcp", "127.0.0.1:0") as box:
        line = next(entry for entry in box.log if "control interface also on tcp" in entry)
        address = "tcp:" + line.rsplit(" ", 1)[1].strip()
        result = python("-m", "tools.phone", "--control", address, "103", "offhook", "--json")
        assert result.returncode == 0, result.stderr
        status = python("-m", "tools.phone", "--control", address, "103", "status", "--json")
        assert json.loads(status.stdout)["hook"] == "off"


def test_phone_drives_a_running_box_from_a_script(live_box: LiveBox) -> None:
    state = live_box.state
    lifted = phone(state, "101", "offhook", "--json")
    assert lifted.returncode == 0, lifted.stderr
    assert json.loads(lifted.stdout) == {"port": "fxs:1", "hook": "off"}
    live_box.wait_for_log("event=offhook port=fxs:1")

    status = phone(state, "101", "status", "--json")
    assert status.returncode == 0
    assert json.loads(status.stdout)["hook"] == "off"

    dialled = phone(state, "101", "dial", "102", "--json")
    assert dialled.returncode == 0
    assert json.loads(dialled.stdout)["ms"] == pytest.approx(600)
    live_box.wait_for_log("event=ring port=fxs:2 caller=101")

    listened = phone(state, "102", "listen", "--json", "--seconds", "1")
    assert listened.returncode == 0
    assert json.loads(listened.stdout)["port"] == "fxs:2"

    info = json.loads(phone(state, "info", "--json").stdout)
    assert info["ports"]["fxs"] == ["fxs:1", "fxs:2", "fxs:3", "fxs:4"]
    assert info["published"]["extensions"]["104"]["devices"] == ["fxs:4"]

    unknown = phone(state, "999", "offhook")
    assert unknown.returncode == 1
    assert "no extension 999" in unknown.stderr

    assert phone(state, "101", "onhook").returncode == 0
    live_box.wait_for_log("event=onhook port=fxs:1")
    assert live_box.proc.poll() is None  # still running after all that


def test_phone_without_a_box_says_so(tmp_path: Path) -> None:
    result = phone(tmp_path, "101", "offhook", "--json")
    assert result.returncode == 3
    assert "no box answers" in json.loads(result.stdout)["error"]


def test_box_stops_cleanly_on_sigterm(live_box: LiveBox) -> None:
    live_box.proc.send_signal(signal.SIGTERM)
    assert live_box.proc.wait(timeout=30) == 0
    live_box.wait_for_log("stopping")


def test_sighup_reloads_the_config_and_keeps_the_running_one_when_broken(
        live_box: LiveBox) -> None:
    config = live_box.state / "office.toml"
    config.write_text("[site]\ncountry = 'xx'\n")
    live_box.proc.send_signal(signal.SIGHUP)
    live_box.wait_for_log("was not loaded; keeping the running config")
    live_box.wait_for_log("office.toml:2: site.country")
    assert phone(live_box.state, "104", "status").returncode == 0

    config.write_text(office_toml("us").replace('number = "104"', 'number = "204"'))
    live_box.proc.send_signal(signal.SIGHUP)
    live_box.wait_for_log("loaded")
    assert phone(live_box.state, "204", "status").returncode == 0
    assert phone(live_box.state, "104", "status").returncode == 1
