"""The front panel's pure parts: which LEDs a board has and under what names, each LED's
pattern for each state of the box, and how button holds are told."""

from __future__ import annotations

from pathlib import Path

import pytest

from firmware.config import load_board, parse_board
from firmware.panel.holds import HeldFor, HoldTracker, Released
from firmware.panel.layout import panel_layout
from firmware.panel.patterns import BoxState, Life, LineActivity, led_patterns
from hal.interfaces import LedPattern as P

ROOT = Path(__file__).resolve().parents[2]
SIM = load_board(ROOT / "board-configs" / "sim.toml")
PI_TOML = ROOT / "board-configs" / "rpi4-2fxs1fxo.toml"
PI = load_board(PI_TOML)
IDLE, IN_USE, RINGING = LineActivity.IDLE, LineActivity.IN_USE, LineActivity.RINGING


# -- layout -----------------------------------------------------------------------------


def test_the_virtual_board_draws_a_line_led_per_port() -> None:
    layout = panel_layout(SIM)
    assert layout.led_names == ("power", "trunk", "line:1", "line:2", "line:3", "line:4",
                                "mwi", "night", "dect")
    assert [led.ports for led in layout.leds if led.shows == "line"] == \
        [("fxs:1",), ("fxs:2",), ("fxs:3",), ("fxs:4",)]
    assert layout.button_names == ("night", "pair", "reset")
    assert layout.led_pins() == () and layout.button_pins() == ()


def test_a_real_boards_line_led_is_one_led_on_its_pin() -> None:
    layout = panel_layout(PI)
    [line] = [led for led in layout.leds if led.shows == "line"]
    assert (line.name, line.ports, line.pin) == ("line", ("fxs:1", "fxs:2"), 24)
    assert dict(layout.led_pins()) == {"power": 22, "trunk": 23, "line": 24, "mwi": 25,
                                       "night": 26, "dect": 27}
    assert dict(layout.button_pins()) == {"night": 5, "pair": 6, "reset": 13}


def test_several_line_leds_on_pins_are_named_for_their_ports() -> None:
    text = PI_TOML.read_text().replace('name = "line"\npin = 24\nports = [1, 2]',
                        'name = "line"\npin = 24\nports = [1]\n\n[[led]]\nname = "line"\n'
                        'pin = 2\nports = [2]')
    layout = panel_layout(parse_board(text, "two-lines.toml"))
    assert [(led.name, led.ports, led.pin) for led in layout.leds if led.shows == "line"] == \
        [("line:1", ("fxs:1",), 24), ("line:2", ("fxs:2",), 2)]


# -- patterns ---------------------------------------------------------------------------


def shown(state: BoxState, life: Life = Life.RUNNING) -> dict[str, P]:
    return led_patterns(panel_layout(SIM), life, state)


def test_while_booting_only_power_shows_and_it_flutters() -> None:
    assert shown(BoxState(), Life.BOOTING) == {
        "power": P.FLUTTER, "trunk": P.OFF, "line:1": P.OFF, "line:2": P.OFF,
        "line:3": P.OFF, "line:4": P.OFF, "mwi": P.OFF, "night": P.OFF, "dect": P.OFF}


@pytest.mark.parametrize(("life", "faults", "power"), [
    (Life.BOOTING, (), P.FLUTTER),
    (Life.RUNNING, (), P.ON),
    (Life.RUNNING, ("fxs:2",), P.FAST_FLASH),
    (Life.RESET_WARNING, ("fxs:2",), P.WARNING),
    (Life.RESTARTING, (), P.FLUTTER),
])
def test_power(life: Life, faults: tuple[str, ...], power: P) -> None:
    assert shown(BoxState(faults=faults), life)["power"] is power


@pytest.mark.parametrize(("up", "trunk"), [
    ((True, True), P.ON), ((True, False), P.SLOW_FLASH), ((False, False), P.OFF),
    ((), P.OFF), ((True,), P.ON),
])
def test_trunk(up: tuple[bool, ...], trunk: P) -> None:
    assert shown(BoxState(trunks_up=up))["trunk"] is trunk


def test_each_line_led_shows_its_port() -> None:
    leds = shown(BoxState(lines={"fxs:1": IN_USE, "fxs:2": RINGING, "fxs:3": IDLE}))
    assert [leds[f"line:{n}"] for n in (1, 2, 3, 4)] == [P.ON, P.FAST_FLASH, P.OFF, P.OFF]


@pytest.mark.parametrize(("ports", "led"), [
    ((IDLE, IDLE), P.OFF), ((IN_USE, IDLE), P.ON), ((IN_USE, RINGING), P.FAST_FLASH),
])
def test_one_line_led_for_two_ports_shows_a_ringing_phone_first(
        ports: tuple[LineActivity, LineActivity], led: P) -> None:
    state = BoxState(lines=dict(zip(("fxs:1", "fxs:2"), ports, strict=True)))
    assert led_patterns(panel_layout(PI), Life.RUNNING, state)["line"] is led


def test_mwi_night_and_dect() -> None:
    assert shown(BoxState())["mwi"] is P.OFF
    assert shown(BoxState(messages_waiting=True))["mwi"] is P.SLOW_FLASH
    assert shown(BoxState(night=True))["night"] is P.ON
    assert shown(BoxState(dect_ready=True))["dect"] is P.ON
    assert shown(BoxState(dect_ready=True, pairing=True))["dect"] is P.SLOW_FLASH
    assert shown(BoxState(dect_ready=False))["dect"] is P.OFF


# -- holds ------------------------------------------------------------------------------


def tracker() -> HoldTracker:
    return HoldTracker({"pair": (3.0,), "reset": (3.0, 10.0)})


def test_a_short_press_is_one_release_with_no_marks() -> None:
    t = tracker()
    assert t.press("pair", 100.0) == []
    assert t.next_deadline() == 103.0
    assert t.release("pair", 100.4) == [Released("pair", pytest.approx(0.4), 0)]
    assert t.next_deadline() is None


def test_marks_are_told_once_each_as_they_pass() -> None:
    t = tracker()
    t.press("reset", 0.0)
    assert t.on_timer(2.9) == []
    assert t.on_timer(3.0) == [HeldFor("reset", 3.0)]
    assert t.on_timer(3.5) == []
    assert t.next_deadline() == 10.0
    assert t.release("reset", 9.0) == [Released("reset", 9.0, 1)]


def test_a_release_at_the_mark_counts_the_mark() -> None:
    t = tracker()
    t.press("reset", 5.0)
    assert t.on_timer(8.0) == [HeldFor("reset", 3.0)]
    assert t.release("reset", 15.0) == [HeldFor("reset", 10.0), Released("reset", 10.0, 2)]


def test_buttons_are_tracked_apart_and_stray_events_are_ignored() -> None:
    t = tracker()
    assert t.release("night", 1.0) == []  # it went down before anyone listened
    t.press("reset", 0.0)
    t.press("pair", 1.0)
    t.press("pair", 2.0)  # a second press: the first counts
    assert t.next_deadline() == 3.0
    assert t.on_timer(4.0) == [HeldFor("reset", 3.0), HeldFor("pair", 3.0)]
    assert t.release("night", 4.0) == []
    t.press("night", 5.0)
    assert t.release("night", 5.2) == [Released("night", pytest.approx(0.2), 0)]
