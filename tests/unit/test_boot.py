"""boot.py picks the board config; main.py falls back to the last good office config."""

from __future__ import annotations

from pathlib import Path

import pytest

import boot
import main
from firmware.config import ConfigError, load_board


def test_board_from_the_command_line_wins() -> None:
    assert boot.pick_board(["--board", "x.toml"], {"PBX_BOARD": "y.toml"}) == ["--board",
                                                                                "x.toml"]
    assert boot.pick_board(["--board=x.toml"], {}) == ["--board=x.toml"]


def test_board_from_the_environment_then_the_virtual_board() -> None:
    assert boot.pick_board(["-v"], {"PBX_BOARD": "y.toml"}) == ["--board", "y.toml", "-v"]
    assert boot.pick_board([], {})[1].endswith("board-configs/sim.toml")


GOOD = '[[extension]]\nnumber = "101"\nname = "Desk"\ndevices = ["fxs:1"]\n'


def test_a_good_config_becomes_the_last_good_one(tmp_path: Path) -> None:
    board = load_board(main.DEFAULT_BOARD)
    config = tmp_path / "office.toml"
    config.write_text(GOOD)
    office = main.choose_office(config, board, tmp_path)
    assert [e.number for e in office.extensions] == ["101"]
    assert (tmp_path / main.LAST_GOOD_OFFICE).exists()


def test_a_broken_config_runs_the_last_good_one(tmp_path: Path,
                                                caplog: pytest.LogCaptureFixture) -> None:
    board = load_board(main.DEFAULT_BOARD)
    config = tmp_path / "office.toml"
    config.write_text(GOOD)
    main.choose_office(config, board, tmp_path)
    config.write_text('[[extension]]\nnumber = "1O2"\nname = "Typo"\ndevices = ["fxs:2"]\n')
    office = main.choose_office(config, board, tmp_path)
    assert [e.number for e in office.extensions] == ["101"]
    assert "office.toml:2" in caplog.text and "last good" in caplog.text


def test_a_broken_config_without_a_last_good_one_is_refused(tmp_path: Path) -> None:
    board = load_board(main.DEFAULT_BOARD)
    config = tmp_path / "office.toml"
    config.write_text("[site]\ncountry = 'xx'\n")
    with pytest.raises(ConfigError):
        main.choose_office(config, board, tmp_path)
