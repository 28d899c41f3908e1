"""Call queues: callers wait in order with music and hear their place and estimated wait;
agents log in and out with *45 and are rung by the queue's strategy, one call at a time,
with wrap-up between; callers overflow after max_wait_s or when nobody is logged in; a
caller presses 1 to be called back keeping their place, across a restart too; the figures
are there for the tools. Judged from what the handsets hear and show; fake time.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from pathlib import Path

import pytest

from firmware.apps.queues.queue import RECHECK_S
from tests.integration.calls import hears_music, lift_and_dial, spoken, talking
from tests.integration.harness import running_box, tones_heard, wait
from tests.integration.queue_calls import (
    alerting,
    answer,
    caller_id,
    figures,
    join,
    press,
    queue_office,
    resumed,
    rings,
    rows,
    said,
)
from tests.integration.test_sip_calls import second_address
from tests.integration.test_trunks import ACCOUNT, MAIN_NUMBER, PASSWORD
from tests.integration.test_trunks import office_toml as trunk_office
from tests.sipphone import SipPhone, dominant_hz
from tests.sipprovider import CALLER, FakeProvider

RING_S = 15.0  # the queue's default ring time per attempt


async def test_callers_wait_with_music_and_are_answered_in_order() -> None:
    async with running_box(queue_office()) as box:
        p101, p103, p104 = await box.phones("101", "103", "104")
        await p101.offhook()  # the only agent is on the phone: nobody is rung
        await join(p103)
        await join(p104)
        await wait(3)
        assert hears_music(await p103.recording(3.0))
        assert not await alerting(p101)
        assert figures(box)["callers_waiting"] == 2
        await p101.onhook()  # free again: the first caller in line rings the agent
        assert await rings(p101, RECHECK_S + 1)
        assert await caller_id(p101) == "103"
        await answer(p101)
        await talking(p103, p101)
        assert hears_music(await p104.recording(2.0))  # the second still waits
        await p103.onhook()
        await wait(1)
        await p101.onhook()
        assert await rings(p101, RECHECK_S + 1)
        assert await caller_id(p101) == "104"
        await answer(p101)
        await talking(p104, p101)
        assert figures(box)["answered"] == 2


async def test_place_and_estimated_wait_are_said_but_not_to_the_head() -> None:
    queue = 'announce_every_s = 30\n'
    async with running_box(queue_office(queue)) as box:
        p101, p102, p103, p104 = await box.phones("101", "102", "103", "104")
        # A first call of 90 s (talk) teaches the queue how long a call takes.
        await join(p102)
        await answer(p101)
        await wait(89)
        await p102.onhook()
        await wait(1)
        await p101.offhook()  # the agent is busy now (ringing elsewhere counts as busy too)
        await join(p103)
        await join(p104)
        await wait(8)
        assert said(await p104.recording(10.0), "caller-number", "digit-2", "estimated-wait",
                    "digit-3", "minutes")  # 2 rounds of 90 s: "three minutes"
        heard = await p103.recording(12.0)
        assert not said(heard, "caller-number") and hears_music(heard)
        await wait(25)  # and again 30 s later, for the caller who is not at the head
        assert said(await p104.recording(10.0), "caller-number", "digit-2")
        assert not said(await p103.recording(15.0), "caller-number")


async def test_an_announcement_stops_the_moment_an_agent_answers() -> None:
    queue = 'announce_every_s = 30\ncallback = true\n'
    async with running_box(queue_office(queue)) as box:
        p101, p103 = await box.phones("101", "103")
        await p101.offhook()
        await join(p103)
        await wait(29.5 - 0.5)  # the head hears the callback offer 30 s after joining
        await p101.onhook()  # the agent comes free while it plays ...
        await answer(p101, RECHECK_S + 1)  # ... and answers within 2.5 s of its start
        await p101.say_tone(1000, 3000)
        await wait(2)
        heard = await p103.recording(2.0)
        assert not spoken(heard)  # the rest of the offer (4.7 s) is not heard
        assert dominant_hz(heard) == pytest.approx(1000, abs=10)


async def test_ring_all_rings_every_free_agent_and_the_first_to_answer_takes_it() -> None:
    async with running_box(queue_office('agents = ["101", "102"]\n')) as box:
        p101, p102, p103 = await box.phones("101", "102", "103")
        await join(p103)
        assert await rings(p101, 2) and await rings(p102, 2)
        await p102.offhook()
        await wait(1)
        assert not await alerting(p101)
        await talking(p103, p102)


async def test_round_robin_takes_turns() -> None:
    queue = 'agents = ["101", "102"]\nstrategy = "round-robin"\n'
    async with running_box(queue_office(queue)) as box:
        p101, p102, p103 = await box.phones("101", "102", "103")
        for agent, other in ((p101, p102), (p102, p101), (p101, p102)):
            await join(p103)
            await answer(agent, 3)
            assert not await alerting(other)
            await p103.onhook()
            await wait(1)
            await agent.onhook()
            await wait(1)


async def test_callers_behind_the_head_ring_other_free_agents_at_the_same_time() -> None:
    queue = 'agents = ["101", "102"]\nstrategy = "longest-idle"\n'
    async with running_box(queue_office(queue)) as box:
        p101, p102, p103, p104 = await box.phones("101", "102", "103", "104")
        await p101.offhook()
        await p102.offhook()
        await join(p103)
        await join(p104)
        await p101.onhook()
        await p102.onhook()
        assert await rings(p101, RECHECK_S + 1) and await rings(p102, 1)
        assert {await caller_id(p101), await caller_id(p102)} == {"103", "104"}
        await answer(p101)
        await answer(p102)
        await talking(p103, p101)
        await talking(p104, p102)


async def test_longest_idle_rings_the_agent_idle_longest() -> None:
    queue = 'agents = ["101", "102"]\nstrategy = "longest-idle"\n'
    async with running_box(queue_office(queue)) as box:
        p101, p102, p103 = await box.phones("101", "102", "103")
        for agent in (p101, p102, p101):  # 101 ended its call before 102 ended theirs
            await join(p103)
            await answer(agent, 3)
            await p103.onhook()
            await wait(1)
            await agent.onhook()
            await wait(1)


async def test_fewest_calls_rings_the_agent_with_fewest_calls() -> None:
    queue = 'agents = ["101", "102"]\nstrategy = "fewest-calls"\n'
    async with running_box(queue_office(queue)) as box:
        p101, p102, p103, p104 = await box.phones("101", "102", "103", "104")
        await join(p103)
        await answer(p101, 3)  # 101 takes the first (ties: the order of the config)
        await join(p104)
        await answer(p102, 3)  # 101 is busy: 102
        for phone in (p103, p104, p101, p102):
            await phone.onhook()
        await wait(1)
        await join(p103)
        await answer(p101, 3)  # both took one: 101 idle longer
        await p103.onhook()
        await wait(1)
        await p101.onhook()
        await wait(1)
        await join(p103)
        await answer(p102, 3)  # 101 took two now, 102 one


async def test_a_higher_penalty_rings_only_when_the_lower_ones_cannot() -> None:
    queue = 'agents = ["101", { extension = "102", penalty = 1 }]\nstrategy = "ring-all"\n'
    async with running_box(queue_office(queue)) as box:
        p101, p102, p103 = await box.phones("101", "102", "103")
        await join(p103)
        assert await rings(p101, 2)
        assert not await alerting(p102)
        await wait(RING_S)  # 101 does not answer: after the pause between tries, 102
        assert not await alerting(p101)
        await answer(p102, 8)
        await talking(p103, p102)


async def test_an_agent_on_another_call_is_not_rung() -> None:
    async with running_box(queue_office('agents = ["101", "102"]\n')) as box:
        p101, p102, p103, p104 = await box.phones("101", "102", "103", "104")
        await lift_and_dial(p104, "101")  # 101 takes an ordinary call
        await answer(p101)
        await join(p103)
        assert await rings(p102, 2)
        await wait(2)
        assert not await alerting(p101)
        assert "440" not in str((await p101.listen(1)).freqs)  # no call-waiting beep either


async def test_an_agent_talking_on_a_sip_phone_is_not_rung() -> None:
    async with running_box(queue_office('agents = ["201", "102"]\n')) as box:
        assert box.box.sip is not None
        async with SipPhone(box.box.sip.address, "201", "secret-of-201") as soft:
            assert (await soft.register()) is not None
            p102, p103, p104 = await box.phones("102", "103", "104")
            call = await soft.call("104")  # 201 takes an ordinary call on its softphone
            await answer(p104)
            await call.answered()
            await join(p103)
            assert await rings(p102, 2)
            await wait(2)
            assert [c for c in soft.calls if c.incoming] == []  # the queue left 201 alone


async def test_wrap_up_time_passes_before_the_agent_is_rung_again() -> None:
    queue = 'agents = [{ extension = "101", wrap_up_s = 30 }]\nwrap_up_s = 5\n'
    async with running_box(queue_office(queue)) as box:
        p101, p103, p104 = await box.phones("101", "103", "104")
        await join(p103)
        await answer(p101)
        await join(p104)
        await wait(5)
        await p103.onhook()  # the first call ends; 101's own wrap-up (30 s) starts
        await wait(0.5)
        await p101.onhook()
        await wait(20)
        assert not await alerting(p101)
        assert figures(box)["agents"] == {"101": "wrap-up"}
        await answer(p101, 12)
        await talking(p104, p101)


async def test_a_caller_waiting_max_wait_s_goes_to_the_overflow() -> None:
    queue = 'max_wait_s = 60\noverflow = "102"\n'
    async with running_box(queue_office(queue)) as box:
        p101, p102, p103 = await box.phones("101", "102", "103")
        await p101.offhook()
        await join(p103)
        await wait(50)
        assert not await alerting(p102)
        assert await rings(p102, 12)
        assert await caller_id(p102) == "103"
        await answer(p102)
        await talking(p103, p102)
        assert figures(box)["overflowed"] == 1 and figures(box)["waiting"] == 0


async def test_nobody_logged_in_overflow_at_once_when_so_set() -> None:
    queue = 'no_agents = "overflow"\noverflow = "102"\n'
    async with running_box(queue_office(queue)) as box:
        p101, p102, p103 = await box.phones("101", "102", "103")
        await lift_and_dial(p101, "*45")  # the only agent logs out
        await wait(3)
        await p101.onhook()
        await join(p103)
        await wait(3)
        assert said(await p103.recording(5.0), "no-agents")
        await answer(p102, 8)
        await talking(p103, p102)


async def test_the_last_agent_logging_out_sends_the_waiting_callers_on() -> None:
    queue = 'no_agents = "overflow"\noverflow = "102"\n'
    async with running_box(queue_office(queue)) as box:
        p101, p102, p103 = await box.phones("101", "102", "103")
        await lift_and_dial(p101, "*78")  # do not disturb: logged in, but not rung
        await wait(2)
        await p101.onhook()
        await join(p103)
        await wait(20)
        assert figures(box)["callers_waiting"] == 1
        await lift_and_dial(p101, "*45")
        await wait(5)
        assert said(await p103.recording(6.0), "no-agents")
        await answer(p102, 8)
        await talking(p103, p102)


async def test_nobody_logged_in_callers_wait_until_an_agent_logs_in() -> None:
    async with running_box(queue_office()) as box:
        p101, p103 = await box.phones("101", "103")
        await lift_and_dial(p101, "*45")
        await wait(3)
        await p101.onhook()
        await join(p103)
        await wait(30)
        assert hears_music(await p103.recording(3.0))
        assert not await alerting(p101)
        await lift_and_dial(p101, "*45")  # back in
        await wait(3)
        await p101.onhook()
        await answer(p101, RECHECK_S + 1)
        await talking(p103, p101)


async def test_star_45_logs_out_and_in_and_survives_a_restart() -> None:
    state = Path(tempfile.mkdtemp(prefix="pbx-"))
    try:
        async with running_box(queue_office(), state_dir=state) as box:
            p101, p102 = await box.phones("101", "102")
            await lift_and_dial(p101, "*45")
            await wait(1)
            assert said(await p101.recording(2.5), "agent-out")
            assert figures(box)["agents"] == {"101": "logged-out"}
            await lift_and_dial(p102, "*45")  # not an agent: refused (intercept tone)
            assert "sit" in await tones_heard(p102, 3)
        async with running_box(queue_office(), state_dir=state) as box:
            p101, p103 = await box.phones("101", "103")
            assert figures(box)["agents"] == {"101": "logged-out"}
            await join(p103)
            await wait(5)
            assert not await alerting(p101)
            await p103.onhook()
            await lift_and_dial(p101, "*45")
            await wait(1)
            assert said(await p101.recording(2.5), "agent-in")
            await p101.onhook()
            await wait(1)
            assert figures(box)["agents"] == {"101": "free"}
    finally:
        shutil.rmtree(state, ignore_errors=True)


async def test_a_caller_who_hangs_up_is_counted_abandoned() -> None:
    async with running_box(queue_office()) as box:
        p101, p103 = await box.phones("101", "103")
        await p101.offhook()
        await join(p103)
        await wait(10)
        await p103.onhook()
        await wait(1)
        shown = figures(box)
        assert shown["abandoned"] == 1 and shown["waiting"] == 0 and shown["answered"] == 0


async def test_the_figures_are_published_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="pbx.call")
    queue = 'service_level_s = 20\ncallback = true\n'
    async with running_box(queue_office(queue)) as box:
        p101, p102, p103, p104 = await box.phones("101", "102", "103", "104")
        await join(p102)
        await answer(p101)  # answered at once: within the service level
        await join(p103)
        await join(p104)
        await wait(30)
        await p104.onhook()  # abandons
        await press(p103, "1")  # asks to be called back
        await wait(8)
        await p103.onhook()
        await wait(1)
        await p102.onhook()  # the first call ends after 40 s
        await wait(0.5)
        await p101.onhook()
        info = await box.client.request("info")
        shown = info["published"]["apps"]["queue"]["support"]
        assert shown["answered"] == 1 and shown["answered_within"] == 1
        assert shown["service_level"] == 1.0 and shown["abandoned"] == 1
        assert shown["average_wait_s"] < 5
        assert shown["callbacks_pending"] == 1 and shown["callbacks_requested"] == 1
        assert shown["waiting"] == 1 and shown["callers_waiting"] == 0
        logged = [r.getMessage() for r in caplog.records if "event=queue-figures" in
                  r.getMessage()]
        assert logged and "abandoned=1" in logged[-1] and "answered=1" in logged[-1]


# -- callbacks -------------------------------------------------------------------------------


CALLBACK = 'callback = true\ncallback_retries = 1\ncallback_retry_s = 120\n'


async def test_press_1_the_agent_is_rung_first_then_the_caller_keeping_the_place() -> None:
    async with running_box(queue_office(CALLBACK)) as box:
        p101, p103, p104 = await box.phones("101", "103", "104")
        await p101.offhook()
        await join(p103)
        await join(p104)
        await press(p103, "1")
        await wait(5)
        assert said(await p103.recording(6.0), "callback-taken")
        await p103.onhook()
        assert figures(box)["callbacks_pending"] == 1
        assert rows(box, "SELECT number, status FROM callback") == [("103", "waiting")]
        await p101.onhook()  # the agent comes free: the callback had the first place
        await answer(p101, RECHECK_S + 1)
        await wait(3.5)
        assert said(await p101.recording(4.0), "callback-due")
        assert await rings(p103, 3)  # then the box calls the caller back ...
        assert not await alerting(p104)
        await p103.offhook()
        await wait(5)
        assert said(await p103.recording(5.0), "callback-hello")
        await talking(p103, p101)  # ... and they talk
        assert rows(box, "SELECT status, attempts FROM callback") == [("done", 1)]
        assert figures(box)["callbacks_done"] == 1
        assert hears_music(await p104.recording(2.0))  # the next caller still waits


async def test_a_callback_request_survives_a_restart_and_keeps_its_place() -> None:
    state = Path(tempfile.mkdtemp(prefix="pbx-"))
    try:
        async with running_box(queue_office(CALLBACK), state_dir=state) as box:
            p101, p103 = await box.phones("101", "103")
            await lift_and_dial(p101, "*45")  # the agent leaves for the day
            await wait(3)
            await p101.onhook()
            await join(p103)
            await press(p103, "1")
            await wait(8)
            await p103.onhook()
        async with running_box(queue_office(CALLBACK), state_dir=state) as box:
            p101, p103, p104 = await box.phones("101", "103", "104")
            await resumed(box)
            await join(p104)  # a new caller: behind the request made before the restart
            await wait(8)
            assert figures(box)["callbacks_pending"] == 1
            assert said(await p104.recording(10.0), "caller-number", "digit-2")
            await lift_and_dial(p101, "*45")  # the agent is back
            await wait(3)
            await p101.onhook()
            assert await rings(p101, RECHECK_S + 1)
            assert await caller_id(p101) == "103"  # the request from before the restart
            await answer(p101)
            assert await rings(p103, 8)
            await p103.offhook()
            await wait(5)
            await talking(p103, p101)
            assert hears_music(await p104.recording(2.0))
    finally:
        shutil.rmtree(state, ignore_errors=True)


async def test_a_callback_nobody_answers_is_tried_again_then_given_up() -> None:
    async with running_box(queue_office(CALLBACK)) as box:
        p101, p103 = await box.phones("101", "103")
        await p101.offhook()
        await join(p103)
        await press(p103, "1")
        await wait(8)
        await p103.onhook()
        await p101.onhook()
        for attempt in (1, 2):  # callback_retries = 1: two tries
            await answer(p101, RECHECK_S + 1)
            assert await rings(p103, 8)
            await wait(36)  # the customer's phone rings out (customer_ring_s)
            assert said(await p101.recording(7.0), "callback-no-answer")
            await p101.onhook()
            assert rows(box, "SELECT attempts FROM callback") == [(attempt,)]
            if attempt == 1:
                await wait(100)
                assert not await alerting(p101)  # not before callback_retry_s
                assert figures(box)["callbacks_pending"] == 1
                await wait(25)
        await wait(3)
        assert rows(box, "SELECT status, outcome FROM callback") == [("failed", "no-answer")]
        assert figures(box)["callbacks_failed"] == 1 and figures(box)["waiting"] == 0


async def test_a_caller_the_box_cannot_call_back_is_not_offered_it() -> None:
    async with running_box(queue_office('callback = true\nannounce_every_s = 30\n')) as box:
        p101, p103 = await box.phones("101", "103")
        await p101.offhook()
        await join(p103)
        engine = box.box.engine
        assert engine is not None
        # A caller with no number (a withheld caller ID): nothing to call back.
        queue = engine.apps["queue"].queues["support"]  # type: ignore[attr-defined]
        entry = next(iter(queue.line))
        entry.dial = None
        await wait(30)
        assert not said(await p103.recording(8.0), "callback-offer")
        await press(p103, "1")
        await wait(2)
        assert figures(box)["callbacks_pending"] == 0 and figures(box)["callers_waiting"] == 1


async def test_an_outside_caller_is_called_back_through_the_trunk_they_came_in_on() -> None:
    host = second_address()
    async with FakeProvider(("127.0.0.1", 0), ACCOUNT, PASSWORD, host=host) as provider:
        toml = trunk_office(provider.port).replace(
            f'"{MAIN_NUMBER}" = "101"', f'"{MAIN_NUMBER}" = "queue:support"') + \
            '\n[[queue]]\nname = "support"\nnumber = "600"\nagents = ["101"]\n' + CALLBACK
        async with running_box(toml) as box:
            assert box.box.sip is not None
            provider.box = box.box.sip.address
            await provider.registered()
            p101 = await box.phone("101")
            await p101.offhook()
            await wait(1)
            call = await provider.call(MAIN_NUMBER)  # +15125550123 calls the office
            assert (await call.answered()).status == 200
            await wait(3)
            await call.send_digits("1")
            await wait(6)
            assert said(call.recording(), "callback-taken")  # (the whole call)
            await call.hangup()
            assert rows(box, "SELECT number FROM callback") == [("95125550123",)]
            await p101.onhook()
            await answer(p101, RECHECK_S + 1)
            back = await provider.wait_incoming(within=10)
            assert back.invite.uri.user == CALLER  # dialled out as the office's phones do
            await back.answer()
            await wait(5)
            assert said(back.recording(), "callback-hello")
            await p101.say_tone(1000, 1500)
            await wait(1)
            assert back.heard_hz() == pytest.approx(1000, abs=10)


async def test_a_crash_while_offering_a_caller_keeps_them_in_line(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import firmware.apps.queues.queue as queue_module

    real_offer = queue_module.offer
    crashes = []

    async def offer_that_fails_once(queue: object, entry: object, chosen: list[str]) -> None:
        if not crashes:
            crashes.append(chosen)
            raise RuntimeError("a bug in offering")
        await real_offer(queue, entry, chosen)  # type: ignore[arg-type]

    monkeypatch.setattr(queue_module, "offer", offer_that_fails_once)
    async with running_box(queue_office()) as box:
        p101, p103 = await box.phones("101", "103")
        await join(p103)
        assert crashes == [["101"]]
        assert box.box.supervisor.crashes == 1
        await answer(p101, RECHECK_S + 1)  # offered again: the caller never left the line
        await talking(p103, p101)
