"""The virtual phone tool: what it sends for dialling, and how it tells a person what it hears."""

from __future__ import annotations

import pytest

from tools.phone.cli import describe
from tools.phone.client import PhoneError, control_address
from tools.phone.handset import Heard, pulse_steps, ring_cadence


def test_pulse_steps_dial_like_a_rotary_dial() -> None:
    steps = pulse_steps("20")
    assert steps[:4] == [["on", 60.0], ["off", 40.0], ["on", 60.0], ["off", 800.0]]
    assert len(steps) == 2 * (2 + 10)  # "0" is ten pulses
    assert steps[-1] == ["off", 800.0]
    with pytest.raises(PhoneError, match="rotary dial has no '\\*'"):
        pulse_steps("1*")


def test_ring_cadence_from_ring_history() -> None:
    rings: list[list[float | None]] = [[10.0, 12.0], [16.0, 18.0], [22.0, None]]
    assert ring_cadence(rings) == [2000, 4000, 2000, 4000]
    assert ring_cadence([[3.0, None]]) == []


def test_control_address(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PBX_STATE_DIR", raising=False)
    assert control_address(None, None) == "state/control.sock"
    assert control_address("/srv/box", None) == "/srv/box/control.sock"
    assert control_address("/srv/box", "tcp:127.0.0.1:7070") == "tcp:127.0.0.1:7070"
    monkeypatch.setenv("PBX_STATE_DIR", "/var/lib/pbx")
    assert control_address(None, None) == "/var/lib/pbx/control.sock"


def heard(**overrides: object) -> Heard:
    base = {"port": "fxs:2", "extension": "102", "hook": "on", "tone": "silence", "freqs": [],
            "cadence_ms": [], "level_dbm0": None, "candidates": [], "ringing": False,
            "ring_cadence_ms": [], "callerid": None}
    return Heard(**{**base, **overrides})  # type: ignore[arg-type]


def test_describe_a_ringing_phone_with_caller_id() -> None:
    text = describe(heard(ringing=True, ring_cadence_ms=[2000, 4000, 2000, 4000, 2000],
                          callerid={"number": "101", "name": "Front desk",
                                    "when": "11-23 09:15", "absent": None}))
    assert text.splitlines() == [
        "102 (fxs:2) is on-hook and hears silence",
        "ringing: yes (cadence 2000/4000/2000/4000/... ms)",
        "last caller ID: 101 'Front desk' 11-23 09:15",
    ]


def test_describe_tones_and_doubt() -> None:
    assert describe(heard(hook="off", tone="busy", freqs=[480.0, 620.0],
                          cadence_ms=[500, 500])) == (
        "102 (fxs:2) is off-hook and hears busy tone (480+620 Hz, 500/500 ms)")
    assert describe(heard(hook="off", tone=None, freqs=[480.0, 620.0],
                          candidates=["busy", "congestion"])).endswith(
        "hears not sure yet (busy or congestion) (480+620 Hz, steady)")


def test_describe_message_waiting_sent_on_hook() -> None:
    assert describe(heard(callerid={"message_waiting": True})).splitlines() == [
        "102 (fxs:2) is on-hook and hears silence", "message waiting: on"]
    assert describe(heard(callerid={"message_waiting": False})).endswith("waiting: off")


def test_describe_the_caller_id_of_a_waiting_call() -> None:
    text = describe(heard(hook="off", waiting_callerid={"number": "103", "name": "Desk 3",
                                                         "when": "11-23 09:16", "absent": None}))
    assert text.splitlines()[-1] == "call waiting caller ID: 103 'Desk 3' 11-23 09:16"
