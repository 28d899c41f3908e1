"""The board and office configs: shipped files, defaults, round trips and installer errors.

Every refused file must produce problems naming the file, the key, the line and a fix,
worded without a traceback or pydantic jargon.
"""

from __future__ import annotations

import json
import textwrap
import tomllib
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from firmware.config import (
    COUNTRIES,
    BoardConfig,
    ConfigError,
    ConfigProblem,
    LineSettings,
    OfficeConfig,
    default_office,
    find_line,
    format_key,
    format_problems,
    load_board,
    load_office,
    office_to_toml,
    parse_board,
    parse_key,
    parse_office,
)
from firmware.media.wav import write_wav

ROOT = Path(__file__).resolve().parents[2]
SIM = ROOT / "board-configs" / "sim.toml"
RPI = ROOT / "board-configs" / "rpi4-2fxs1fxo.toml"


@pytest.fixture(scope="module")
def sim() -> BoardConfig:
    return load_board(SIM)


def office_problems(text: str, board: BoardConfig | None = None) -> list[ConfigProblem]:
    with pytest.raises(ConfigError) as info:
        parse_office(textwrap.dedent(text), "office.toml", board)
    assert_readable(info.value)
    return info.value.problems


def board_problems(text: str) -> list[ConfigProblem]:
    with pytest.raises(ConfigError) as info:
        parse_board(textwrap.dedent(text), "board.toml")
    assert_readable(info.value)
    return info.value.problems


def assert_readable(err: ConfigError) -> None:
    text = str(err)
    assert text == format_problems(err.problems)
    assert len(text.splitlines()) == len(err.problems)
    for banned in ("Traceback", "pydantic", "Input should", 'File "', "ValidationError"):
        assert banned not in text
    for problem in err.problems:
        assert problem.message
        assert problem.fix
        assert "Fix: " in str(problem)


def one(problems: list[ConfigProblem], key: str) -> ConfigProblem:
    found = [p for p in problems if p.key == key]
    assert len(found) == 1, f"expected one problem at {key!r}, got:\n{format_problems(problems)}"
    return found[0]


# --------------------------------------------------------------------------------------
# Shipped board configs


def test_sim_board_loads(sim: BoardConfig) -> None:
    assert sim.backend == "sim"
    assert [p.port for p in sim.fxs] == [1, 2, 3, 4]
    assert [p.port for p in sim.fxo] == [1]
    assert sim.dect is not None and sim.dect.slots == 4
    assert [b.name for b in sim.buttons] == ["night", "pair", "reset"]
    assert [led.name for led in sim.leds] == ["power", "trunk", "line", "mwi", "night", "dect"]
    assert all(b.pin is None for b in sim.buttons)
    assert sim.source == str(SIM)
    assert sim.device_names() == {
        "fxs:1", "fxs:2", "fxs:3", "fxs:4", "fxo:1", "dect:1", "dect:2", "dect:3", "dect:4",
    }


def test_rpi_board_loads() -> None:
    board = load_board(RPI)
    assert board.backend == "rpi"
    assert [(p.port, p.chip, p.spi_bus, p.spi_cs) for p in board.fxs] == [
        (1, "si3215", 0, 0),
        (2, "si3215", 0, 1),
    ]
    assert [(p.chip, p.spi_bus, p.spi_cs) for p in board.fxo] == [("si3050", 0, 2)]
    assert board.audio is not None and board.audio.device
    assert board.dect is not None and board.dect.uart == "/dev/serial0"
    assert board.dect.baud == 115200
    pins = [b.pin for b in board.buttons] + [led.pin for led in board.leds]
    assert None not in pins and len(set(pins)) == len(pins)
    assert board.device_names() == {"fxs:1", "fxs:2", "fxo:1", "dect:1", "dect:2", "dect:3",
                                    "dect:4"}


def test_board_models_are_frozen(sim: BoardConfig) -> None:
    with pytest.raises(ValidationError):
        sim.name = "other"  # type: ignore[misc]


# --------------------------------------------------------------------------------------
# The default office and round trips


def test_default_office_on_sim_board(sim: BoardConfig) -> None:
    office = default_office(sim)
    assert [(e.number, e.name, e.devices) for e in office.extensions] == [
        ("101", "Extension 101", ("fxs:1",)),
        ("102", "Extension 102", ("fxs:2",)),
        ("103", "Extension 103", ("fxs:3",)),
        ("104", "Extension 104", ("fxs:4",)),
    ]
    assert office.site.country == "us"
    assert office.site.timezone == "UTC"
    # It is a valid office for that board, also when written out and read back.
    assert parse_office(office_to_toml(office), "default.toml", sim) == office


def test_default_office_on_rpi_board() -> None:
    office = default_office(load_board(RPI))
    assert [e.number for e in office.extensions] == ["101", "102"]


def test_empty_office_is_valid() -> None:
    office = parse_office("", "office.toml")
    assert office.extensions == ()
    assert office.site.country == "us"
    assert office.line_settings("fxs:1") == LineSettings()


def test_full_office_round_trips(sim: BoardConfig) -> None:
    text = """
        [site]
        country = "de"
        timezone = "Europe/Berlin"
        name = "Zahnarzt \\"Müller\\" \\\\ Söhne"

        [analog]
        flash_max_ms = 1000
        interdigit_timeout_s = 4.5
        callerid = false

        [analog.port."fxs:2"]
        flash_max_ms = 1250
        callerid = true

        [[extension]]
        number = "101"
        name = "Empfang"
        devices = ["fxs:1", "dect:1", "sip"]

        [[extension]]
        number = "2000"
        name = "Labor"
        devices = ["sip"]
    """
    office = parse_office(textwrap.dedent(text), "office.toml", sim)
    assert office.site.name == 'Zahnarzt "Müller" \\ Söhne'
    written = office_to_toml(office)
    assert parse_office(written, "saved.toml", sim) == office
    assert office_to_toml(parse_office(written, "saved.toml", sim)) == written


names = st.text(
    st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")), min_size=1, max_size=40
).filter(str.isprintable)


@st.composite
def offices(draw: st.DrawFn) -> OfficeConfig:
    count = draw(st.integers(0, 4))
    numbers = draw(st.lists(st.integers(100, 999).filter(lambda n: not 700 <= n <= 708),
                            min_size=count, max_size=count, unique=True))  # the park lot
    extensions = [
        {"number": str(n), "name": draw(names), "devices": [f"fxs:{i + 1}", "sip"]}
        for i, n in enumerate(numbers)
    ]
    flash_max = draw(st.integers(101, 5000))
    analog = {
        "flash_max_ms": flash_max,
        "ring_timeout_s": draw(st.floats(0.001, 3600)),
        "callerid": draw(st.booleans()),
        "port": {"fxs:1": {"flash_max_ms": draw(st.integers(101, 5000))}},
    }
    site = {"country": draw(st.sampled_from(COUNTRIES)), "name": draw(names)}
    return OfficeConfig.model_validate({"site": site, "analog": analog, "extension": extensions})


@settings(max_examples=60, deadline=None)
@given(offices())
def test_office_to_toml_round_trips(office: OfficeConfig) -> None:
    assert parse_office(office_to_toml(office), "office.toml") == office


# --------------------------------------------------------------------------------------
# Problems: how they read


def test_problem_reads_file_line_key_message_fix() -> None:
    problem = ConfigProblem("office.toml", "extension[1].number", 12, "'10a' is not a number",
                            'use digits only, e.g. number = "102"')
    assert str(problem) == (
        "office.toml:12: extension[1].number: '10a' is not a number. "
        'Fix: use digits only, e.g. number = "102"'
    )
    assert str(ConfigProblem("o.toml", "", None, "the file does not exist", "x")) == (
        "o.toml: the file does not exist. Fix: x"
    )


def test_the_brief_example(sim: BoardConfig) -> None:
    problems = office_problems(
        """\
        [[extension]]
        number = "101"
        name = "Front desk"
        devices = ["fxs:1"]

        [[extension]]
        number = "10a"
        name = "Back office"
        devices = ["fxs:2"]
        """,
        sim,
    )
    assert [str(p) for p in problems] == [
        "office.toml:7: extension[1].number: '10a' is not a number. "
        'Fix: use digits only, e.g. number = "102"'
    ]


# --------------------------------------------------------------------------------------
# Problems: every kind


def test_unknown_key_suggests_the_close_one() -> None:
    problems = office_problems(
        """\
        [site]
        country = "us"
        tmezone = "UTC"
        """
    )
    problem = one(problems, "site.tmezone")
    assert (problem.file, problem.line) == ("office.toml", 3)
    assert "unknown key 'tmezone'" in problem.message
    assert "did you mean 'timezone'?" in problem.fix


def test_unknown_table_suggests_the_close_one() -> None:
    problems = office_problems(
        """\
        [[extensions]]
        number = "101"
        """
    )
    problem = one(problems, "extensions")
    assert problem.line == 1
    assert "did you mean 'extension'?" in problem.fix


def test_key_in_the_wrong_table_says_where_it_belongs() -> None:
    problem = one(office_problems('[analog]\ncountry = "us"\n'), "analog.country")
    assert problem.line == 2
    assert problem.fix == "move it to [site]"


def test_unknown_key_without_a_close_match_lists_the_allowed_keys() -> None:
    problem = one(office_problems("[site]\ncolour = 3\n"), "site.colour")
    assert "country, timezone, name" in problem.fix


@pytest.mark.parametrize(
    ("line", "key", "message", "fix"),
    [
        ('number = 101', "extension[0].number", "101 is not text in quotes", 'number = "101"'),
        ('devices = "fxs:1"', "extension[0].devices", "'fxs:1' is not a list",
         'devices = ["fxs:1"]'),
    ],
)
def test_wrong_types_in_an_extension(line: str, key: str, message: str, fix: str) -> None:
    fields = {"number": 'number = "101"', "name": 'name = "A"', "devices": 'devices = ["sip"]'}
    fields[line.split(" =")[0]] = line
    text = "[[extension]]\n" + "\n".join(fields.values()) + "\n"
    problem = one(office_problems(text), key)
    assert problem.line == text.splitlines().index(line) + 1
    assert message in problem.message
    assert fix in problem.fix


@pytest.mark.parametrize(
    ("value", "message", "fix"),
    [
        ('"15"', "'15' is not a whole number", "remove the quotes: debounce_ms = 15"),
        ("15.5", "15.5 is not a whole number", "debounce_ms = 16"),
        ("true", "true is not a whole number", "debounce_ms = 15"),
        ("-1", "-1 must be at least 0", "debounce_ms = 15"),
    ],
)
def test_wrong_numbers(value: str, message: str, fix: str) -> None:
    problem = one(office_problems(f"[analog]\ndebounce_ms = {value}\n"), "analog.debounce_ms")
    assert problem.line == 2
    assert message in problem.message
    assert fix in problem.fix


def test_wrong_boolean() -> None:
    problem = one(office_problems('[analog]\ncallerid = "yes"\n'), "analog.callerid")
    assert problem.line == 2
    assert "callerid = true or callerid = false" in problem.fix


@pytest.mark.parametrize(
    "key", ["first_digit_timeout_s", "interdigit_timeout_s", "reorder_s", "ring_timeout_s"]
)
def test_timeouts_must_be_positive(key: str) -> None:
    problem = one(office_problems(f"[analog]\n{key} = 0\n"), f"analog.{key}")
    assert problem.line == 2
    assert "must be greater than 0" in problem.message


def test_country_must_be_a_tone_plan() -> None:
    problem = one(office_problems('[site]\ncountry = "US"\n'), "site.country")
    assert problem.line == 2
    assert "did you mean 'us'?" in problem.fix
    assert "us, uk, de, fr" in problem.fix


def test_timezone_is_checked_with_zoneinfo() -> None:
    problem = one(office_problems('[site]\ntimezone = "America/Chicgo"\n'), "site.timezone")
    assert problem.line == 2
    assert "'America/Chicgo' is not a known time zone" in problem.message
    assert 'timezone = "America/Chicago"' in problem.fix
    assert "Europe/Berlin" in problem.fix


def test_timezone_without_a_close_match_still_gives_an_example() -> None:
    problem = one(office_problems('[site]\ntimezone = "../../etc/passwd"\n'), "site.timezone")
    assert 'e.g. timezone = "Europe/Berlin"' in problem.fix


@pytest.mark.parametrize(
    ("number", "message"),
    [
        ("*72", "feature codes"),
        ("#1", "feature codes"),
        ("1", "2 to 6"),
        ("1234567", "2 to 6"),
        ("12 3", "is not a number"),
        ("١٢٣", "is not a number"),  # Arabic-Indic digits are digits, but not dialable
    ],
)
def test_extension_number_format(number: str, message: str) -> None:
    text = f'[[extension]]\nnumber = "{number}"\nname = "A"\ndevices = ["sip"]\n'
    problem = one(office_problems(text), "extension[0].number")
    assert problem.line == 2
    assert message in problem.message
    assert "number = " in problem.fix


def test_missing_required_key_points_at_its_table() -> None:
    text = """\
        [[extension]]
        number = "101"
        name = "A"
        devices = ["sip"]

        [[extension]]
        number = "102"
        devices = ["sip"]
        """
    problem = one(office_problems(text), "extension[1].name")
    assert problem.line == 6
    assert "'name' is missing" in problem.message
    assert problem.fix == 'add name = "Front desk" to this [[extension]]'


def test_empty_device_list() -> None:
    text = '[[extension]]\nnumber = "101"\nname = "A"\ndevices = []\n'
    problem = one(office_problems(text), "extension[0].devices")
    assert problem.line == 4
    assert "empty" in problem.message


def test_duplicate_extension_numbers() -> None:
    text = """\
        [[extension]]
        number = "101"
        name = "A"
        devices = ["sip"]

        [[extension]]
        number = "101"
        name = "B"
        devices = ["sip"]
        """
    problem = one(office_problems(text), "extension[1].number")
    assert problem.line == 7
    assert "defined twice" in problem.message
    assert "extension[0].number" in problem.message


def test_number_that_is_a_prefix_of_another() -> None:
    text = """\
        [[extension]]
        number = "101"
        name = "A"
        devices = ["sip"]

        [[extension]]
        number = "10"
        name = "B"
        devices = ["sip"]
        """
    problem = one(office_problems(text), "extension[1].number")
    assert problem.line == 7
    assert "10 is the start of 101" in problem.message
    assert "always waits 4 s for the inter-digit timeout" in problem.message
    assert 'e.g. number = "100"' in problem.fix


def test_device_in_two_extensions(sim: BoardConfig) -> None:
    text = """\
        [[extension]]
        number = "101"
        name = "A"
        devices = ["fxs:1", "sip"]

        [[extension]]
        number = "102"
        name = "B"
        devices = [
            "sip",
            "fxs:1",
        ]
        """
    problems = office_problems(text, sim)
    problem = one(problems, "extension[1].devices[1]")
    assert problem.line == 11
    assert "fxs:1 already belongs to extension 101" in problem.message
    assert len(problems) == 1  # "sip" in two extensions is fine


def test_device_listed_twice_in_one_extension() -> None:
    text = '[[extension]]\nnumber = "101"\nname = "A"\ndevices = ["dect:1", "dect:1"]\n'
    problem = one(office_problems(text), "extension[0].devices[1]")
    assert "listed twice" in problem.message


def test_device_the_board_lacks_names_the_board_file(sim: BoardConfig) -> None:
    text = '[[extension]]\nnumber = "101"\nname = "A"\ndevices = ["sip", "fxs:9"]\n'
    problem = one(office_problems(text, sim), "extension[0].devices[1]")
    assert problem.line == 4
    assert "the board has no fxs:9" in problem.message
    assert str(SIM) in problem.message
    assert "fxs:1, fxs:2, fxs:3, fxs:4, dect:1, dect:2, dect:3, dect:4" in problem.message


def test_only_device_the_board_lacks_is_one_problem(sim: BoardConfig) -> None:
    # pydantic also calls the list too short (it counts only the good items); it is not empty.
    text = '[[extension]]\nnumber = "101"\nname = "A"\ndevices = ["fxs:9"]\n'
    problems = office_problems(text, sim)
    assert len(problems) == 1, format_problems(problems)
    assert problems[0].key == "extension[0].devices[0]"
    assert problems[0].line == 4
    assert "the board has no fxs:9" in problems[0].message


def test_list_of_bad_items_is_not_also_called_empty() -> None:
    office = office_problems('[[extension]]\nnumber = "101"\nname = "A"\n'
                             'devices = ["phone", "fxo:1"]\n')
    assert [p.key for p in office] == ["extension[0].devices[0]", "extension[0].devices[1]"]
    board = board_problems(SIM_HEAD + "[[fxs]]\nport = 1\n[[led]]\nname = \"line\"\n"
                           "ports = [\"1\"]\n")
    assert [p.key for p in board] == ["led[0].ports[0]"]


def test_devices_are_not_checked_against_a_board_when_none_is_given() -> None:
    office = parse_office('[[extension]]\nnumber = "101"\nname = "A"\ndevices = ["fxs:9"]\n',
                          "office.toml")
    assert office.extension("101") is not None


@pytest.mark.parametrize(
    ("device", "fix"),
    [("FXS:1", 'did you mean "fxs:1"?'), ("fxs1", 'did you mean "fxs:1"?'),
     ("fxo:1", '"fxs:N", "dect:N" or "sip"'), ("phone", '"fxs:N" (analog port)')],
)
def test_malformed_device(device: str, fix: str) -> None:
    text = f'[[extension]]\nnumber = "101"\nname = "A"\ndevices = ["{device}"]\n'
    problem = one(office_problems(text), "extension[0].devices[0]")
    assert problem.line == 4
    assert fix in problem.fix


def test_port_override_must_exist_on_the_board(sim: BoardConfig) -> None:
    problems = office_problems('[analog.port."fxs:7"]\nflash_max_ms = 1250\n', sim)
    problem = one(problems, 'analog.port."fxs:7"')
    assert problem.line == 1
    assert str(SIM) in problem.message
    assert "fxs:1, fxs:2, fxs:3, fxs:4" in problem.message


def test_port_override_must_be_an_fxs_port() -> None:
    problem = one(office_problems('[analog.port."fxo:1"]\ncallerid = false\n'),
                  'analog.port."fxo:1"')
    assert problem.line == 1
    assert '[analog.port."fxs:2"]' in problem.fix


def test_port_override_rejects_unknown_keys() -> None:
    problem = one(office_problems('[analog.port."fxs:1"]\nflash_max = 1250\n'),
                  'analog.port."fxs:1".flash_max')
    assert problem.line == 2
    assert "did you mean 'flash_max_ms'?" in problem.fix


# --------------------------------------------------------------------------------------
# Hook timings: debounce_ms < pulse_max_ms <= flash_min_ms < flash_max_ms


@pytest.mark.parametrize(
    ("settings_", "key", "names"),
    [
        ({"debounce_ms": 100}, "debounce_ms", ("pulse_max_ms", "debounce_ms")),
        ({"pulse_max_ms": 15}, "pulse_max_ms", ("pulse_max_ms", "debounce_ms")),
        ({"flash_min_ms": 80}, "flash_min_ms", ("flash_min_ms", "pulse_max_ms")),
        ({"pulse_max_ms": 120}, "pulse_max_ms", ("flash_min_ms", "pulse_max_ms")),
        ({"flash_max_ms": 100}, "flash_max_ms", ("flash_max_ms", "flash_min_ms")),
        ({"flash_min_ms": 950}, "flash_min_ms", ("flash_max_ms", "flash_min_ms")),
    ],
)
def test_hook_timings_out_of_order(settings_: dict[str, int], key: str,
                                   names: tuple[str, str]) -> None:
    body = "".join(f"{k} = {v}\n" for k, v in settings_.items())
    problem = one(office_problems("[analog]\n" + body), f"analog.{key}")
    assert problem.line == 2
    for name in names:
        assert name in problem.message
    assert "debounce_ms < pulse_max_ms <= flash_min_ms < flash_max_ms" in problem.fix


def test_hook_timings_in_order_at_the_limits() -> None:
    office = parse_office("[analog]\ndebounce_ms = 0\npulse_max_ms = 1\nflash_min_ms = 1\n"
                          "flash_max_ms = 2\n", "office.toml")
    assert office.analog.flash_max_ms == 2


def test_hook_timings_checked_for_a_port_override_merged_with_the_defaults() -> None:
    text = """\
        [analog]
        flash_min_ms = 300

        [analog.port."fxs:2"]
        flash_max_ms = 250
        """
    problem = one(office_problems(text), 'analog.port."fxs:2".flash_max_ms')
    assert problem.line == 5
    assert "flash_max_ms (250) must be greater than flash_min_ms (300)" in problem.message


def test_a_port_override_may_repair_nothing_it_does_not_touch() -> None:
    # The [analog] problem is reported once, at [analog], not again for every port.
    text = "[analog]\nflash_max_ms = 50\n\n[analog.port.\"fxs:2\"]\ncallerid = false\n"
    problems = office_problems(text)
    assert [p.key for p in problems] == ["analog.flash_max_ms"]


# --------------------------------------------------------------------------------------
# Per-port settings


def test_line_settings_merges_the_port_override() -> None:
    office = parse_office(
        textwrap.dedent("""\
            [analog]
            flash_max_ms = 1000
            callerid = false

            [analog.port."fxs:2"]
            flash_max_ms = 1250
            """),
        "office.toml",
    )
    two = office.line_settings("fxs:2")
    assert two.flash_max_ms == 1250
    assert two.callerid is False  # from [analog]
    assert two.debounce_ms == 15  # the built-in default
    one_ = office.line_settings("fxs:1")
    assert one_.flash_max_ms == 1000
    assert type(two) is LineSettings


# --------------------------------------------------------------------------------------
# Files and TOML syntax


def test_broken_toml_reports_tomllibs_line() -> None:
    problems = office_problems('[site]\ncountry = "us"\nname = Acme Dental\n')
    assert len(problems) == 1
    problem = problems[0]
    assert (problem.file, problem.key, problem.line) == ("office.toml", "", 3)
    assert "not valid TOML" in problem.message
    assert "column 8" in problem.message
    assert "double quotes" in problem.fix


def test_toml_key_set_twice() -> None:
    problem = office_problems("[site]\n[analog]\n[site]\n")[0]
    assert problem.line == 3
    assert "twice" in problem.fix


def test_unclosed_list_at_the_end_of_the_file() -> None:
    problem = office_problems('[[extension]]\ndevices = ["fxs:1",\n')[0]
    assert problem.line == 2
    assert "at the end of the file" in problem.message


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "office.toml"
    with pytest.raises(ConfigError) as info:
        load_office(path)
    (problem,) = info.value.problems
    assert (problem.file, problem.key, problem.line) == (str(path), "", None)
    assert "does not exist" in problem.message
    assert problem.fix


def test_folder_instead_of_a_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_board(tmp_path)
    assert "folder" in info.value.problems[0].message


def test_file_that_is_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "office.toml"
    path.write_bytes(b'[site]\nname = "Caf\xe9"\n')  # Latin-1
    with pytest.raises(ConfigError) as info:
        load_office(path)
    (problem,) = info.value.problems
    assert (problem.file, problem.line) == (str(path), 2)
    assert "not UTF-8" in problem.message
    assert "UTF-8" in problem.fix


def test_byte_order_mark_is_accepted(tmp_path: Path, sim: BoardConfig) -> None:
    path = tmp_path / "office.toml"
    path.write_bytes(b"\xef\xbb\xbf" + office_to_toml(default_office(sim)).encode())
    assert load_office(path, sim) == default_office(sim)


def test_load_office_checks_against_the_board(tmp_path: Path, sim: BoardConfig) -> None:
    path = tmp_path / "office.toml"
    path.write_text('[[extension]]\nnumber = "101"\nname = "A"\ndevices = ["dect:5"]\n')
    with pytest.raises(ConfigError) as info:
        load_office(path, sim)
    problem = one(info.value.problems, "extension[0].devices[0]")
    assert problem.file == str(path)
    assert problem.line == 4


def test_hold_music_beside_the_config_is_found_and_a_bad_file_is_an_error(
        tmp_path: Path, sim: BoardConfig) -> None:
    write_wav(tmp_path / "music.wav", np.full(8000, 1000, dtype=np.int16))
    (tmp_path / "recordings").mkdir()
    path = tmp_path / "office.toml"
    path.write_text('[features]\nhold_music = "music.wav"\nprompts_dir = "recordings"\n')
    features = load_office(path, sim).features
    assert features.hold_music == str(tmp_path / "music.wav")  # from the config's folder
    assert features.prompts_dir == str(tmp_path / "recordings")

    (tmp_path / "loud.wav").write_bytes(b"ID3 an mp3, renamed")
    path.write_text('[features]\nhold_music = "loud.wav"\nprompts_dir = "gone"\n')
    with pytest.raises(ConfigError) as info:
        load_office(path, sim)
    music = one(info.value.problems, "features.hold_music")
    assert music.line == 2 and "not a PCM WAV file" in music.message
    assert "built-in tune" in music.fix
    prompts = one(info.value.problems, "features.prompts_dir")
    assert prompts.line == 3 and "does not exist" in prompts.message


# --------------------------------------------------------------------------------------
# Everything at once


def test_all_problems_of_a_file_are_reported_in_line_order(sim: BoardConfig) -> None:
    text = """\
        [site]
        country = "gb"
        timezone = "Mars/Olympus"

        [analog]
        flash_min_ms = 80
        debounce = 10

        [[extension]]
        number = "101"
        name = "A"
        devices = ["fxs:1"]

        [[extension]]
        number = "101"
        name = ""
        devices = ["fxs:1", "fxs:8"]
        """
    problems = office_problems(text, sim)
    assert [(p.line, p.key) for p in problems] == [
        (2, "site.country"),
        (3, "site.timezone"),
        (6, "analog.flash_min_ms"),
        (7, "analog.debounce"),
        (15, "extension[1].number"),
        (16, "extension[1].name"),
        (17, "extension[1].devices[0]"),
        (17, "extension[1].devices[1]"),
    ]
    assert all(p.file == "office.toml" for p in problems)


# --------------------------------------------------------------------------------------
# Board problems


SIM_HEAD = 'name = "b"\nbackend = "sim"\n'
RPI_PORT = "chip = \"si3215\"\nspi_bus = 0\nspi_cs = {cs}\npcm_slot = {cs}\n"


def test_board_missing_name_and_backend() -> None:
    problems = board_problems("")
    assert {p.key for p in problems} == {"name", "backend"}
    assert all(p.line is None for p in problems)
    assert 'backend = "sim"' in one(problems, "backend").fix


def test_board_unknown_backend() -> None:
    problem = one(board_problems('name = "b"\nbackend = "pi"\n'), "backend")
    assert problem.line == 2
    assert "did you mean 'rpi'?" in problem.fix


def test_board_port_numbers_unique_and_at_least_one() -> None:
    problems = board_problems(SIM_HEAD + "[[fxs]]\nport = 1\n[[fxs]]\nport = 1\n"
                              "[[fxo]]\nport = 0\n")
    dup = one(problems, "fxs[1].port")
    assert dup.line == 6
    assert "listed twice" in dup.message
    zero = one(problems, "fxo[0].port")
    assert zero.line == 8
    assert "must be at least 1" in zero.message


def test_sim_board_refuses_pins_and_wiring() -> None:
    problems = board_problems(SIM_HEAD + '[[button]]\nname = "night"\npin = 5\n'
                              '[[fxs]]\nport = 1\nchip = "si3215"\n')
    pin = one(problems, "button[0].pin")
    assert pin.line == 5
    assert "virtual board" in pin.message
    assert 'backend = "rpi"' in pin.fix
    assert one(problems, "fxs[0].chip").line == 8


def test_rpi_board_requires_every_pin() -> None:
    text = ('name = "b"\nbackend = "rpi"\n[audio]\ndevice = "hw:0"\n'
            '[[button]]\nname = "night"\n[[led]]\nname = "power"\npin = 22\n'
            "[[fxs]]\nport = 1\n" + RPI_PORT.format(cs=0).replace("chip = \"si3215\"\n", ""))
    problems = board_problems(text)
    pin = one(problems, "button[0].pin")
    assert pin.line == 5  # the [[button]] that lacks it
    assert "pin = " in pin.fix
    chip = one(problems, "fxs[0].chip")
    assert chip.line == 10
    assert 'chip = "si3215"' in chip.fix
    assert len(problems) == 2


def test_rpi_board_requires_audio_and_dect_wiring() -> None:
    problems = board_problems('name = "b"\nbackend = "rpi"\n[dect]\nslots = 2\n')
    assert {p.key for p in problems} == {"audio", "dect.uart", "dect.baud"}
    assert one(problems, "dect.uart").line == 3


def test_rpi_pins_unique_except_shared_reset_lines() -> None:
    text = ('name = "b"\nbackend = "rpi"\n[audio]\ndevice = "hw:0"\n'
            "[[fxs]]\nport = 1\n" + RPI_PORT.format(cs=0) + "reset_pin = 17\n"
            "[[fxs]]\nport = 2\n" + RPI_PORT.format(cs=1) + "reset_pin = 17\n"
            '[[button]]\nname = "night"\npin = 17\n'
            '[[led]]\nname = "power"\npin = 22\n[[led]]\nname = "mwi"\npin = 22\n')
    problems = board_problems(text)
    assert [p.key for p in problems] == ["button[0].pin", "led[1].pin"]
    assert "fxs[0].reset_pin" in problems[0].message
    assert problems[0].line == 21
    assert problems[1].line == 27


def test_rpi_pins_used_by_the_buses_are_refused() -> None:
    text = ('name = "b"\nbackend = "rpi"\n[audio]\ndevice = "hw:0"\n'
            "[[fxs]]\nport = 1\n" + RPI_PORT.format(cs=0) +
            '[[led]]\nname = "power"\npin = 10\n[[led]]\nname = "mwi"\npin = 18\n')
    problems = board_problems(text)
    assert "SPI0 MOSI" in one(problems, "led[0].pin").message
    assert "PCM CLK" in one(problems, "led[1].pin").message


def test_rpi_chip_selects_and_pcm_slots_unique() -> None:
    text = ('name = "b"\nbackend = "rpi"\n[audio]\ndevice = "hw:0"\n'
            "[[fxs]]\nport = 1\n" + RPI_PORT.format(cs=0) +
            "[[fxo]]\nport = 1\n" + RPI_PORT.format(cs=0).replace("si3215", "si3050"))
    problems = board_problems(text)
    assert "/dev/spidev0.0" in one(problems, "fxo[0].spi_cs").message
    assert "PCM slot 0" in one(problems, "fxo[0].pcm_slot").message


def test_fxo_chip_must_be_a_daa() -> None:
    text = SIM_HEAD.replace("sim", "rpi") + '[audio]\ndevice = "x"\n[[fxo]]\nport = 1\n' + \
        RPI_PORT.format(cs=0)
    problem = one(board_problems(text), "fxo[0].chip")
    assert problem.line == 7
    assert "si3050" in problem.fix


def test_buttons_and_leds() -> None:
    text = SIM_HEAD + (
        '[[fxs]]\nport = 1\n'
        '[[button]]\nname = "nite"\n'
        '[[led]]\nname = "power"\nports = [1]\n'
        '[[led]]\nname = "line"\nports = [1, 2]\n'
        '[[led]]\nname = "line"\n'
        '[[led]]\nname = "mwi"\n[[led]]\nname = "mwi"\n'
    )
    problems = board_problems(text)
    assert "did you mean 'night'?" in one(problems, "button[0].name").fix
    assert "only a 'line' LED" in one(problems, "led[0].ports").message
    assert one(problems, "led[1].ports[1]").line == 12
    assert "two 'mwi' leds" in one(problems, "led[4].name").message
    assert len(problems) == 4  # two 'line' LEDs are allowed


def test_dect_baud_rate_must_be_standard() -> None:
    text = RPI.read_text().replace("baud = 115200", "baud = 115000")
    with pytest.raises(ConfigError) as info:
        parse_board(text, "rpi.toml")
    problem = one(info.value.problems, "dect.baud")
    assert problem.line == text.splitlines().index("baud = 115000") + 1
    assert "115200" in problem.fix


def test_extension_lookup(sim: BoardConfig) -> None:
    office = default_office(sim)
    ext = office.extension("102")
    assert ext is not None and ext.devices == ("fxs:2",)
    assert office.extension("999") is None


def test_dect_limits() -> None:
    problems = board_problems(SIM_HEAD + "[dect]\nslots = 0\n")
    assert one(problems, "dect.slots").line == 4


# --------------------------------------------------------------------------------------
# Models built from Python keep the same rules


def test_python_built_office_is_cross_checked() -> None:
    ext = {"number": "101", "name": "A", "devices": ["sip"]}
    with pytest.raises(ValidationError, match="defined twice"):
        OfficeConfig.model_validate({"extension": [ext, ext]})
    with pytest.raises(ValidationError, match="flash_max_ms"):
        OfficeConfig.model_validate({"analog": {"flash_max_ms": 50}})


def test_python_built_board_is_cross_checked() -> None:
    with pytest.raises(ValidationError, match="listed twice"):
        BoardConfig.model_validate({"name": "b", "backend": "sim",
                                    "fxs": [{"port": 1}, {"port": 1}]})


# --------------------------------------------------------------------------------------
# Finding lines in TOML text

LINES_TOML = """\
# [not] a table
a = 1  # [[nor]] this
s = \"\"\"
[[fake]]
x = \"\"\"\"
[[extension]]
number = "1"
devices = [
  "a",  # ]
  { q = 1, r.s = [1, 2] },
]
[extension.sub]
k."l m" = { z = 'w' }
[[extension]]
name = '''x'''
[[extension.inner]]
v = 1
[[extension.inner]]
v = 2
[analog.port."fxs:2"]
flash_max_ms = 1
when = 1979-05-27 07:32:00Z
after = "\\\\\\"]"
"""


@pytest.mark.parametrize(
    ("key", "line"),
    [
        ("a", 2),
        ("s", 3),
        ("extension", 6),
        ("extension[0]", 6),
        ("extension[0].devices", 8),
        ("extension[0].devices[0]", 9),
        ("extension[0].devices[1].r.s[1]", 10),
        ("extension[0].sub", 12),
        ('extension[0].sub.k."l m".z', 13),
        ("extension[1].name", 15),
        ("extension[1].inner[1].v", 19),
        ("analog", 20),
        ('analog.port."fxs:2".flash_max_ms', 21),
        ('analog.port."fxs:2".after', 23),
        ("extension[1].number", 14),  # not written: the table that lacks it
        ("extension[0].devices[7]", 8),
        ("fake", None),
        ("missing", None),
    ],
)
def test_find_line(key: str, line: int | None) -> None:
    assert find_line(LINES_TOML, key) == line


def test_find_line_on_text_it_cannot_read_gives_none() -> None:
    assert find_line("a = [1, 2", ("a",)) is None


@pytest.mark.parametrize(
    "path",
    [("extension", 2, "devices", 0), ("analog", "port", "fxs:2", "flash_max_ms"),
     ("a", 'b"c', "ü")],
)
def test_key_paths_round_trip(path: tuple[str | int, ...]) -> None:
    assert parse_key(format_key(path)) == path


# Property: in any document, every key is found on the line where it was written.

KEYS = st.sampled_from(["a", "b-c", "d_e", "fxs:1", "x y", "ü", "1", "#", "]"])
SCALARS = st.one_of(
    st.integers(-5, 5), st.booleans(), st.text(alphabet="ab[]{}#\"',=.\\\n ", max_size=8)
)


def toml_scalar(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value, ensure_ascii=False) if isinstance(value, str) else str(value)


class Writer:
    def __init__(self) -> None:
        self.lines: list[str] = []
        self.expected: dict[tuple[str | int, ...], int] = {}

    def emit(self, line: str, *paths: tuple[str | int, ...]) -> None:
        self.lines.append(line)
        for path in paths:
            self.expected.setdefault(path, len(self.lines))

    def key_value(self, draw: st.DrawFn, table: tuple[str | int, ...], key: str) -> None:
        path = (*table, key)
        kind = draw(st.sampled_from(["scalar", "array", "inline"]))
        if kind == "scalar":
            self.emit(f"{format_key((key,))} = {toml_scalar(draw(SCALARS))}  # ] [", path)
        elif kind == "array":
            self.emit(f"{format_key((key,))} = [", path)
            for i, item in enumerate(draw(st.lists(SCALARS, max_size=3))):
                self.emit(f"  {toml_scalar(item)},  # {{", (*path, i))
            self.emit("]")
        else:
            inner = draw(st.lists(KEYS, max_size=3, unique=True))
            body = ", ".join(f"{format_key((k,))} = {toml_scalar(draw(SCALARS))}" for k in inner)
            self.emit(f"{format_key((key,))} = {{ {body} }}", path,
                      *((*path, k) for k in inner))

    def table(self, draw: st.DrawFn, header: str, path: tuple[str | int, ...]) -> None:
        self.emit(header, path)
        if draw(st.booleans()):
            self.emit("# [[not]] a = 1")
        for key in draw(st.lists(KEYS, max_size=3, unique=True)):
            self.key_value(draw, path, key)


@st.composite
def documents(draw: st.DrawFn) -> Writer:
    doc = Writer()
    for key in draw(st.lists(KEYS, max_size=2, unique=True)):
        doc.key_value(draw, (), key)
    for name in draw(st.lists(st.sampled_from(["site", "analog", "x.y"]), unique=True)):
        path = parse_key(name)
        doc.table(draw, f"[{name}]", path)
    for i in range(draw(st.integers(0, 3))):
        doc.table(draw, "[[extension]]", ("extension", i))
        if draw(st.booleans()):
            doc.table(draw, "[extension.sub]", ("extension", i, "sub"))
    return doc


@settings(max_examples=150, deadline=None)
@given(documents())
def test_every_written_key_is_found_on_its_line(doc: Writer) -> None:
    text = "\n".join(doc.lines) + "\n"
    tomllib.loads(text)  # the writer makes valid TOML
    for path, line in doc.expected.items():
        assert find_line(text, path) == line, (path, text)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_any_text_is_an_office_or_a_config_error(text: str) -> None:
    try:
        parse_office(text, "fuzz.toml")
    except ConfigError as err:
        assert err.problems
        assert "Traceback" not in str(err)


# --------------------------------------------------------------------------------------
# SIP trunks and outbound routes

TRUNK = """
    [[extension]]
    number = "101"
    name = "Front desk"
    devices = ["fxs:1"]

    [[trunk]]
    name = "provider"
    host = "sip.provider.example:5080"
    username = "office-1"
    secret = "from-the-provider"
    caller_id = "+15125550100"

    [trunk.inbound]
    "+15125550100" = "101"

    [[route]]
    prefix = "9"
    trunk = "provider"
    allow = ["NXXNXXXXXX", "1NXXNXXXXXX", "911"]
    prepend = "+1"
"""


def test_a_trunk_and_a_route_read_and_round_trip(sim: BoardConfig) -> None:
    office = parse_office(textwrap.dedent(TRUNK), "office.toml", sim)
    trunk = office.trunks[0]
    assert (trunk.target, trunk.transport, trunk.registers) == (
        ("sip.provider.example", 5080), "udp", True)
    assert trunk.destination("15125550100") == "101"  # with or without the +
    assert trunk.destination("+15125550199") is None
    assert office.routes[0].international is False  # off unless asked for
    written = office_to_toml(office)
    assert parse_office(written, "saved.toml", sim) == office


@pytest.mark.parametrize(
    ("old", "new", "key", "message"),
    [
        ('host = "sip.provider.example:5080"', 'host = "sip provider"', "trunk[0].host",
         "is not a provider address"),
        ('secret = "from-the-provider"', "", "trunk[0]", "no password"),
        ('"+15125550100" = "101"', '"+15125550100" = "109"', 'trunk[0].inbound."+15125550100"',
         "109 is not a number of the office"),
        ('"+15125550100" = "101"', '"+15125550100" = "menu:mian"',
         'trunk[0].inbound."+15125550100"', "there is no menu 'mian'"),
        ('"+15125550100" = "101"', '"+15125550100" = "meny:main"',
         'trunk[0].inbound."+15125550100"', "'meny' is not a kind of destination"),
        ('"+15125550100" = "101"', '"call me" = "101"', 'trunk[0].inbound."call me"',
         "not a phone number"),
        ('trunk = "provider"', 'trunk = "provder"', "route[0].trunk",
         "there is no trunk 'provder' (provider)"),
        ('prefix = "9"', 'prefix = "1"', "route[0].prefix", "clashes with extension 101"),
        ('"911"]', '"911", "011X."]', "route[0].allow[3]", "international calls are off"),
        ('"911"]', '"9a1"]', "route[0].allow[2]", "is not a dial pattern"),
    ],
)
def test_trunk_and_route_mistakes_are_named(sim: BoardConfig, old: str, new: str, key: str,
                                            message: str) -> None:
    text = textwrap.dedent(TRUNK)
    assert old in text
    problem = one(office_problems(text.replace(old, new), sim), key)
    assert message in problem.message


def test_international_patterns_are_fine_on_a_route_that_allows_them(sim: BoardConfig) -> None:
    text = textwrap.dedent(TRUNK).replace('"911"]', '"911", "011X."]\ninternational = true')
    assert parse_office(text, "office.toml", sim).routes[0].allow[-1] == "011X."


def test_a_trunk_let_in_by_address_needs_no_password(sim: BoardConfig) -> None:
    text = textwrap.dedent(TRUNK).replace('secret = "from-the-provider"',
                                          'register = false\nalso_from = ["192.0.2.0/24"]')
    assert parse_office(text, "office.toml", sim).trunks[0].registers is False


# --------------------------------------------------------------------------------------
# [features]


def test_feature_defaults_follow_the_reference_table() -> None:
    features = parse_office("", "office.toml").features
    assert (features.blind_transfer, features.forward_all_on, features.dnd_on,
            features.pickup, features.park) == ("##", "*72", "*78", "*8", "700")
    assert features.park_numbers == [str(n) for n in range(701, 709)]


@pytest.mark.parametrize(("text", "key", "message"), [
    ('[[extension]]\nnumber = "701"\nname = "A"\ndevices = ["sip"]\n', "extension[0].number",
     "clashes with the call park number 701"),
    ('[[extension]]\nnumber = "70"\nname = "A"\ndevices = ["sip"]\n', "extension[0].number",
     "clashes with the call park number 700"),
    ('[features]\noperator = "150"\n', "features.operator", "150 is not an extension"),
    ('[features]\nforward_all_on = "72"\n', "features.forward_all_on", "not a feature code"),
])
def test_feature_mistakes_are_named(text: str, key: str, message: str) -> None:
    assert message in one(office_problems(text), key).message


def test_moving_the_park_lot_frees_its_numbers() -> None:
    text = ('[features]\npark = "800"\n'
            '[[extension]]\nnumber = "701"\nname = "A"\ndevices = ["sip"]\n')
    assert parse_office(text, "office.toml").features.park_numbers[0] == "801"


def test_the_typical_office_in_the_docs_loads(sim: BoardConfig) -> None:
    """docs/apps.md's whole example is a config an installer can start from as it is."""
    text = (Path(__file__).parents[2] / "docs" / "apps.md").read_text()
    example = text.split("### A typical small office", 1)[1].split("```toml\n", 1)[1]
    office = parse_office(example.split("```", 1)[0], "docs/apps.md", sim)
    assert [m.name for m in office.menus] == ["main", "closed"]
    assert office.trunks[0].destination("+15125550100") == "schedule:office"
