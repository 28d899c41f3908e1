"""Escalation with a promise: an agent in a call with a customer flashes and dials *36 (or
transfers to it, or dials *36 + a number); the customer hears "a manager will call you back
within thirty minutes"; the box rings the manager at once and, when they answer, calls the
customer back and joins them; tries again when either does not answer; a promise not kept
by its due time is marked unkept and shown; an open promise survives a restart.
Judged from what the handsets hear, the store and the figures; fake time.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from pathlib import Path

import pytest

from tests.integration.calls import in_call, lift_and_dial, office, talking
from tests.integration.harness import running_box, wait
from tests.integration.queue_calls import (
    alerting,
    answer,
    caller_id,
    promises,
    resumed,
    rings,
    rows,
    said,
)
from tests.sipphone import SipPhone

MANAGER_RING_S = 30.0
CUSTOMER_RING_S = 30.0


def promise_office(escalation: str = "") -> str:
    """101 and 201 are agents, 102 the manager; 103 and 104 customers."""
    return office() + f'\n[escalation]\nmanager = "102"\n{escalation}'


async def take_by_flash(agent_phone: object, customer_phone: object) -> None:
    """The agent flashes and dials *36; the customer hears the promise, then the call ends."""
    await agent_phone.flash(500)  # type: ignore[attr-defined]
    await wait(1)
    ms = await agent_phone.dial("*36")  # type: ignore[attr-defined]
    await wait(ms / 1000 + 0.5)
    await agent_phone.onhook()  # type: ignore[attr-defined]


async def test_a_promise_is_kept_the_manager_first_then_the_customer() -> None:
    async with running_box(promise_office()) as box:
        p101, p102, p103 = await box.phones("101", "102", "103")
        await in_call(box, "103", "101")  # the customer 103 talks to the agent 101
        await take_by_flash(p101, p103)
        await wait(7)
        assert said(await p103.recording(8.0), "promise-taken", "count-30", "minutes",
                    "goodbye")
        await p103.onhook()
        shown = promises(box)["open"]
        assert [(p["customer"], p["taken_by"]) for p in shown] == [("103", "101")]
        assert await rings(p102, 3)  # the manager is rung at once ...
        assert await caller_id(p102) == "103"  # ... showing whom they promised
        assert not await alerting(p103)  # (not the customer: nobody is there yet)
        await answer(p102)
        await wait(5)
        assert said(await p102.recording(6.0), "promise-due")
        await answer(p103, 3)  # then the customer ...
        await wait(5)
        assert said(await p103.recording(6.0), "promise-hello")
        await talking(p103, p102)  # ... and they talk
        await wait(1)
        assert promises(box)["kept"] == 1 and promises(box)["open"] == []
        assert rows(box, "SELECT customer_number, taken_by, status, attempts, outcome "
                         "FROM promise") == [("103", "101", "kept", 1, "connected")]


async def test_the_manager_not_answering_is_rung_again_later() -> None:
    async with running_box(promise_office("retry_s = 120\n")) as box:
        p101, p102, p103 = await box.phones("101", "102", "103")
        await in_call(box, "103", "101")
        await take_by_flash(p101, p103)
        await wait(8)
        await p103.onhook()
        assert await rings(p102, 3)
        await wait(MANAGER_RING_S + 2)  # the manager is away
        assert not await alerting(p102)
        assert rows(box, "SELECT attempts, outcome FROM promise") == \
            [(1, "manager did not answer")]
        await wait(100)
        assert not await alerting(p102)
        await answer(p102, 25)  # 120 s after the first try ended
        await answer(p103, 8)
        await wait(5)
        await talking(p103, p102)
        assert rows(box, "SELECT status, attempts FROM promise") == [("kept", 2)]


async def test_the_customer_not_answering_the_manager_hears_so_and_it_is_tried_again() -> None:
    async with running_box(promise_office("retry_s = 120\n")) as box:
        p101, p102, p103 = await box.phones("101", "102", "103")
        await in_call(box, "103", "101")
        await take_by_flash(p101, p103)
        await wait(8)
        await p103.onhook()
        await answer(p102, 3)
        assert await rings(p103, 8)
        await wait(CUSTOMER_RING_S + 6)  # the customer stepped out
        assert said(await p102.recording(7.0), "callback-no-answer")
        await p102.onhook()
        assert rows(box, "SELECT status, outcome FROM promise") == \
            [("open", "customer did not answer")]
        await answer(p102, 130)
        await answer(p103, 8)
        await wait(5)
        await talking(p103, p102)
        assert rows(box, "SELECT status, attempts FROM promise") == [("kept", 2)]


async def test_a_promise_not_kept_by_its_due_time_is_marked_and_shown(
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="pbx.call")
    escalation = "promise_minutes = 10\nretry_s = 120\nretries = 20\n"
    async with running_box(promise_office(escalation)) as box:
        p101, p103 = await box.phones("101", "103")
        await in_call(box, "103", "101")
        await take_by_flash(p101, p103)
        await wait(8)
        assert said(await p103.recording(9.0), "promise-taken", "count-10", "minutes")
        await p103.onhook()
        await wait(9 * 60)  # the manager never answers
        assert promises(box)["unkept_count"] == 0
        await wait(60)
        shown = promises(box)
        assert shown["open"] == [] and shown["unkept_count"] == 1
        assert [(p["customer"], p["taken_by"], p["status"]) for p in shown["unkept"]] == \
            [("103", "101", "unkept")]
        info = await box.client.request("info")
        assert info["published"]["apps"]["promise"]["unkept_count"] == 1
        assert rows(box, "SELECT status FROM promise") == [("unkept",)]
        assert any("event=promise-unkept" in r.getMessage() and "taken_by=101" in
                   r.getMessage() for r in caplog.records)


async def test_an_open_promise_is_kept_after_a_restart() -> None:
    state = Path(tempfile.mkdtemp(prefix="pbx-"))
    try:
        async with running_box(promise_office("retry_s = 300\n"), state_dir=state) as box:
            p101, p102, p103 = await box.phones("101", "102", "103")
            await in_call(box, "103", "101")
            await take_by_flash(p101, p103)
            await wait(8)
            await p103.onhook()
            await wait(MANAGER_RING_S + 2)  # the first try goes unanswered; then the reboot
        async with running_box(promise_office("retry_s = 300\n"), state_dir=state) as box:
            p102, p103 = await box.phones("102", "103")
            await resumed(box)
            assert [p["customer"] for p in promises(box)["open"]] == ["103"]
            await answer(p102, 3)  # taken up again at once
            await answer(p103, 8)
            await wait(5)
            await talking(p103, p102)
            assert rows(box, "SELECT status, attempts FROM promise") == [("kept", 2)]
    finally:
        shutil.rmtree(state, ignore_errors=True)


async def test_star_36_and_a_number_promises_a_call_to_that_number() -> None:
    async with running_box(promise_office()) as box:
        p101, p102, p104 = await box.phones("101", "102", "104")
        await lift_and_dial(p101, "*36104")
        await wait(5)
        assert said(await p101.recording(6.0), "promise-taken", "count-30")
        await p101.onhook()
        await answer(p102, 3)
        await answer(p104, 8)
        await wait(5)
        await talking(p104, p102)
        assert rows(box, "SELECT customer_number, taken_by, status FROM promise") == \
            [("104", "101", "kept")]


async def test_a_sip_agent_transfers_the_customer_to_star_36() -> None:
    async with running_box(promise_office()) as box:
        assert box.box.sip is not None
        p102, p103 = await box.phones("102", "103")
        async with SipPhone(box.box.sip.address, "201", "secret-of-201") as soft:
            assert (await soft.register()) is not None
            await lift_and_dial(p103, "201")
            incoming = await soft.wait_incoming()
            await incoming.answer()
            await wait(1)
            await incoming.send_digits("##*36")  # (or the phone's TRANSFER key)
            await wait(8)
            assert said(await p103.recording(9.0), "promise-taken", "count-30", "goodbye")
        await p103.onhook()
        assert rows(box, "SELECT customer_number, taken_by FROM promise") == [("103", "201")]
        await answer(p102, 3)
        await answer(p103, 8)
        await wait(5)
        await talking(p103, p102)


async def test_star_36_keyed_in_a_call_takes_the_promise_on_any_phone() -> None:
    async with running_box(promise_office()) as box:
        assert box.box.sip is not None
        p101, p103, p104 = await box.phones("101", "103", "104")
        async with SipPhone(box.box.sip.address, "201", "secret-of-201") as soft:
            assert (await soft.register()) is not None
            await lift_and_dial(p103, "201")
            incoming = await soft.wait_incoming()
            await incoming.answer()
            await wait(1)
            await incoming.send_digits("*36")  # a SIP agent, no transfer key needed
            await wait(8)
            assert said(await p103.recording(9.0), "promise-taken", "count-30", "goodbye")
        await in_call(box, "104", "101")
        ms = await p101.dial("*36")  # an analog agent, keyed in the call without a flash
        await wait(ms / 1000 + 8)
        assert said(await p104.recording(9.0), "promise-taken", "count-30", "goodbye")
        assert sorted(rows(box, "SELECT customer_number, taken_by FROM promise")) == \
            [("103", "201"), ("104", "101")]


async def test_without_escalation_star_36_is_no_code() -> None:
    async with running_box(office()) as box:
        p101, p103 = await box.phones("101", "103")
        await in_call(box, "103", "101")
        await take_by_flash(p101, p103)
        await wait(2)
        assert rows(box, "SELECT count(*) FROM promise") == [(0,)]
