"""Real SIP phones (baresip) register with the box and call through it, with real audio.

These run in real time: two real peers exchange RTP as the clock goes. Every wait is for
an event (a log line of the box, an event of baresip), except the short stretches in which
audio has to flow before it can be measured.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.harness import office_toml
from tests.interop.baresip import Baresip, available
from tests.livebox import ROOT, LiveBox, sip_port, start_box

REASON = available()
pytestmark = [pytest.mark.interop, pytest.mark.skipif(REASON is not None, reason=REASON or "")]

SECRETS = {"201": "secret-of-201", "202": "secret-of-202"}
OFFICE = office_toml("us", "".join(
    f'[[extension]]\nnumber = "{n}"\nname = "Soft {n}"\ndevices = ["sip"]\nsecret = "{s}"\n'
    for n, s in SECRETS.items()))
AUDIO_S = 2.0  # how long audio flows before it is measured


def phone(box: LiveBox, *args: str) -> dict[str, object]:
    result = subprocess.run(
        [sys.executable, "-m", "tools.phone", "--state-dir", str(box.state), "--json", *args],
        cwd=ROOT, capture_output=True, text=True, timeout=30, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    reply: dict[str, object] = json.loads(result.stdout)
    return reply


@pytest.fixture
def box() -> Iterator[LiveBox]:
    with start_box(office=OFFICE) as live:
        yield live


@pytest.fixture
def phones(tmp_path: Path) -> Iterator[list[Baresip]]:
    started: list[Baresip] = []
    yield started
    for softphone in started:
        softphone.stop()


def softphone(phones: list[Baresip], box: LiveBox, tmp_path: Path, user: str,
              password: str | None = None, **kwargs: object) -> Baresip:
    sp = Baresip(tmp_path, user, password or SECRETS[user], sip_port(box), **kwargs)  # type: ignore[arg-type]
    phones.append(sp)
    return sp


def test_registers_with_digest_and_a_wrong_password_is_refused(
        box: LiveBox, phones: list[Baresip], tmp_path: Path) -> None:
    good = softphone(phones, box, tmp_path, "201")
    good.wait_event("REGISTER_OK")
    box.wait_for_log("event=register ext=201")
    bad = softphone(phones, box, tmp_path, "202", password="not-the-secret")
    bad.wait_event("REGISTER_FAIL")
    box.wait_for_log("event=register-refused")


def test_sip_phone_calls_an_analog_phone_with_audio_both_ways(
        box: LiveBox, phones: list[Baresip], tmp_path: Path) -> None:
    sp = softphone(phones, box, tmp_path, "201", tone_hz=700)
    sp.wait_event("REGISTER_OK")
    sp.command("dial", "101")
    box.wait_for_log('event=ring port=fxs:1 caller=201 name="Soft 201"')
    sp.wait_event("CALL_RINGING")
    phone(box, "101", "offhook")
    sp.wait_event("CALL_ESTABLISHED")
    phone(box, "101", "say", "--tone", "1000", "--ms", "4000")
    time.sleep(AUDIO_S)
    heard = phone(box, "101", "listen", "--seconds", "1")
    assert heard["freqs"] == pytest.approx([700], abs=10)
    phone(box, "101", "onhook")
    sp.wait_event("CALL_CLOSED")
    assert sp.heard_hz() == pytest.approx(1000, abs=10)


def test_analog_phone_calls_a_sip_phone_with_audio_both_ways(
        box: LiveBox, phones: list[Baresip], tmp_path: Path) -> None:
    sp = softphone(phones, box, tmp_path, "201", tone_hz=700, auto_answer=True)
    sp.wait_event("REGISTER_OK")
    phone(box, "101", "offhook")
    phone(box, "101", "dial", "201")
    sp.wait_event("CALL_ESTABLISHED")
    box.wait_for_log("event=bridge")
    phone(box, "101", "say", "--tone", "1000", "--ms", "4000")
    time.sleep(AUDIO_S)
    assert phone(box, "101", "listen", "--seconds", "1")["freqs"] == pytest.approx([700], abs=10)
    sp.command("hangup")
    sp.wait_event("CALL_CLOSED")
    box.wait_for_log("event=bye channel=sip:201")
    assert sp.heard_hz() == pytest.approx(1000, abs=10)


def test_two_sip_phones_talk_through_the_relay(
        box: LiveBox, phones: list[Baresip], tmp_path: Path) -> None:
    caller = softphone(phones, box, tmp_path, "201", tone_hz=700)
    callee = softphone(phones, box, tmp_path, "202", tone_hz=1100, auto_answer=True)
    caller.wait_event("REGISTER_OK")
    callee.wait_event("REGISTER_OK")
    caller.command("dial", "202")
    caller.wait_event("CALL_ESTABLISHED")
    box.wait_for_log("kind=relay")
    time.sleep(AUDIO_S)
    caller.command("hangup")
    callee.wait_event("CALL_CLOSED")
    assert caller.heard_hz() == pytest.approx(1100, abs=10)
    assert callee.heard_hz() == pytest.approx(700, abs=10)


def test_calling_an_unknown_number_is_refused(
        box: LiveBox, phones: list[Baresip], tmp_path: Path) -> None:
    sp = softphone(phones, box, tmp_path, "201")
    sp.wait_event("REGISTER_OK")
    sp.command("dial", "999")
    closed = sp.wait_event("CALL_CLOSED")
    assert "404" in json.dumps(closed)
