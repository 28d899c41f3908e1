"""A real softphone (baresip) transfers calls through the box with REFER.

Real time, as in test_baresip: every wait is for an event (a log line of the box, an event
of baresip), except the short stretches in which audio has to flow before it is measured.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.interop.baresip import Baresip, available
from tests.interop.test_baresip import AUDIO_S, OFFICE, SECRETS, phone
from tests.livebox import LiveBox, sip_port, start_box

REASON = available()
pytestmark = [pytest.mark.interop, pytest.mark.skipif(REASON is not None, reason=REASON or "")]


@pytest.fixture
def box() -> Iterator[LiveBox]:
    with start_box(office=OFFICE) as live:
        yield live


@pytest.fixture
def softphones() -> Iterator[list[Baresip]]:
    started: list[Baresip] = []
    yield started
    for softphone in started:
        softphone.stop()


def start(softphones: list[Baresip], box: LiveBox, tmp_path: Path, user: str,
          **kwargs: object) -> Baresip:
    sp = Baresip(tmp_path, user, SECRETS[user], sip_port(box), **kwargs)  # type: ignore[arg-type]
    softphones.append(sp)
    sp.wait_event("REGISTER_OK")
    return sp


def logged(box: LiveBox, needle: str) -> None:
    """`needle` was logged already (in whatever order with what was waited for) or is."""
    if not any(needle in line for line in box.log):
        box.wait_for_log(needle)


def commands(sp: Baresip) -> str:
    """What this baresip's control interface knows now (its `help` listing)."""
    reply = sp.command("help")
    return str(reply.get("data", ""))


def test_baresip_blind_transfers_an_analog_caller_to_an_analog_colleague(
        box: LiveBox, softphones: list[Baresip], tmp_path: Path) -> None:
    sp = start(softphones, box, tmp_path, "201", tone_hz=700, auto_answer=True)
    phone(box, "101", "offhook")
    phone(box, "101", "dial", "201")
    sp.wait_event("CALL_ESTABLISHED")
    box.wait_for_log("event=bridge")
    if "/transfer" not in commands(sp):  # listed while a call is up
        pytest.skip("this baresip has no transfer command")

    sp.command("transfer", f"sip:102@127.0.0.1:{sip_port(box)}")
    refer = box.wait_for_log("event=refer channel=sip:201")
    leg = refer.split("channel=")[1].split()[0]
    box.wait_for_log("event=refer-notify channel=sip:201")  # 100 Trying
    box.wait_for_log("status=200 final=True")
    closed = sp.wait_event("CALL_CLOSED")  # baresip ends its call on the 200 sipfrag ...
    assert "transfer" in str(closed.get("param", "")).lower(), closed
    # ... with a BYE of its own, and 102 rings meanwhile, showing the caller, not 201
    # (in either order: the box's loop may see the BYE before the transfer's first step).
    logged(box, f"event=bye channel={leg} by=phone")
    logged(box, "event=ring port=fxs:2 caller=101")

    phone(box, "102", "offhook")
    box.wait_for_log("event=answer channel=fxs:2")
    phone(box, "101", "say", "--tone", "1000", "--ms", "4000")
    time.sleep(AUDIO_S)
    assert phone(box, "102", "listen", "--seconds", "1")["freqs"] == pytest.approx([1000],
                                                                                   abs=10)


def test_baresip_attended_transfer(box: LiveBox, softphones: list[Baresip],
                                   tmp_path: Path) -> None:
    sp = start(softphones, box, tmp_path, "201", auto_answer=True)
    phone(box, "101", "offhook")
    phone(box, "101", "dial", "201")
    sp.wait_event("CALL_ESTABLISHED")
    if "/atransferexec" not in commands(sp):  # listed while a call is up
        pytest.skip("this baresip has no attended transfer (atransferstart/atransferexec "
                    "came after 1.0)")
    sp.command("atransferstart", f"sip:102@127.0.0.1:{sip_port(box)}")
    box.wait_for_log("event=ring port=fxs:2")
    phone(box, "102", "offhook")
    sp.wait_event("CALL_ESTABLISHED")
    sp.command("atransferexec")
    box.wait_for_log("kind=attended")
    phone(box, "101", "say", "--tone", "1000", "--ms", "4000")
    time.sleep(AUDIO_S)
    assert phone(box, "102", "listen", "--seconds", "1")["freqs"] == pytest.approx([1000],
                                                                                   abs=10)
