"""Building images: what goes in, signed, and the same bytes from the same inputs."""

from __future__ import annotations

import tarfile
from pathlib import Path

import pytest

from bootslots.container import read_header
from bootslots.manifest import Manifest
from bootslots.signing import load_public, verify
from firmware.config import ConfigError
from tests.install.imaging import build_image, office_file
from tools.image.__main__ import main as image_tool
from tools.image.contents import ContentsError
from tools.image.keys import KeyExists, KeyPair, keygen


def test_the_same_inputs_give_a_byte_identical_image(source: Path, keys: KeyPair,
                                                     tmp_path: Path) -> None:
    office = office_file(tmp_path / "office")
    first = build_image(source, keys.private, tmp_path / "a.img", "1.0", office)
    second = build_image(source, keys.private, tmp_path / "b.img", "1.0", office)
    assert first.path.read_bytes() == second.path.read_bytes()
    other = build_image(source, keys.private, tmp_path / "c.img", "1.1", office)
    assert other.path.read_bytes() != first.path.read_bytes()


def test_an_image_holds_the_firmware_the_board_and_the_prompts_and_no_tests(
        source: Path, keys: KeyPair, tmp_path: Path) -> None:
    built = build_image(source, keys.private, tmp_path / "box.img", "1.0", board="rpi4-2fxs1fxo")
    with tarfile.open(built.path) as tar:
        names = tar.getnames()
        members = tar.getmembers()
    assert names[:2] == ["manifest.json", "manifest.sig"]
    assert names[2:] == sorted(names[2:])
    assert {"boot.py", "main.py", "bootslots/verify.py", "firmware/box.py", "hal/backend.py",
            "firmware/media/sounds/en/welcome.wav", "firmware/media/sounds/en/prompts.json",
            "board-configs/rpi4-2fxs1fxo.toml", "packaging/pbx-box.service"} <= set(names)
    assert "board-configs/sim.toml" not in names
    assert not [n for n in names if n.startswith(("tests/", "tools/", ".venv"))
                or "__pycache__" in n or n.endswith(".pyc")]
    assert {(m.mtime, m.uid, m.gid, m.uname, m.mode) for m in members} == {(0, 0, 0, "", 0o644)}
    manifest = Manifest.parse(read_header(built.path).manifest)
    assert manifest.board.id == "rpi4-2fxs1fxo" and manifest.version == "1.0"
    assert set(manifest.files) == set(names[2:])


def test_the_manifest_is_signed_by_the_key_given(source: Path, keys: KeyPair,
                                                 other_keys: KeyPair, tmp_path: Path) -> None:
    built = build_image(source, keys.private, tmp_path / "box.img", "1.0")
    header = read_header(built.path)
    assert verify(header.manifest, header.signature, [load_public(keys.public)]) == keys.key_id
    with pytest.raises(ValueError, match="not from a trusted key"):
        verify(header.manifest, header.signature, [load_public(other_keys.public)])


def test_the_office_config_and_its_music_travel_in_the_image(source: Path, keys: KeyPair,
                                                             tmp_path: Path) -> None:
    office = office_file(tmp_path / "office")
    music = (source / "firmware/media/sounds/en/welcome.wav").read_bytes()
    (tmp_path / "office" / "music").mkdir()
    (tmp_path / "office" / "music" / "hold.wav").write_bytes(music)
    office.write_text(office.read_text() + '\n[features]\nhold_music = "music/hold.wav"\n')
    built = build_image(source, keys.private, tmp_path / "box.img", "1.0", office)
    assert built.manifest.office == "office/office.toml"
    assert "office/music/hold.wav" in built.manifest.files


def test_music_outside_the_config_folder_is_refused(source: Path, keys: KeyPair,
                                                    tmp_path: Path) -> None:
    office = office_file(tmp_path / "office")
    (tmp_path / "hold.wav").write_bytes(
        (source / "firmware/media/sounds/en/welcome.wav").read_bytes())
    office.write_text(office.read_text() + '\n[features]\nhold_music = "../hold.wav"\n')
    with pytest.raises(ContentsError, match="outside the config's folder"):
        build_image(source, keys.private, tmp_path / "box.img", "1.0", office)


def test_a_broken_office_config_is_refused_at_build_time(source: Path, keys: KeyPair,
                                                         tmp_path: Path) -> None:
    office = tmp_path / "office.toml"
    office.write_text('[[extension]]\nnumber = "1O1"\nname = "Typo"\ndevices = ["fxs:1"]\n')
    with pytest.raises(ConfigError, match=r"office\.toml"):
        build_image(source, keys.private, tmp_path / "box.img", "1.0", office)


def test_keygen_never_overwrites_a_key(tmp_path: Path) -> None:
    pair = keygen(tmp_path)
    assert pair.private.stat().st_mode & 0o777 == 0o600
    with pytest.raises(KeyExists):
        keygen(tmp_path)


def test_the_tool_builds_and_shows_an_image(source: Path, keys: KeyPair, tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "box.img"
    assert image_tool(["build", "--board", str(source / "board-configs/sim.toml"), "--key",
                       str(keys.private), "-o", str(out), "--version", "3.1",
                       "--source", str(source)]) == 0
    assert "version 3.1, board sim" in capsys.readouterr().out
    assert image_tool(["show", str(out)]) == 0
    assert "main.py" in capsys.readouterr().out
