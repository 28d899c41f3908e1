"""Voicemail on the virtual board (docs/voicemail.md): leaving a message, listening with
*97/*98, message waiting on analog lines and to SIP subscribers, and a restart.

Judged as the people would: the prompts each handset hears (found sample for sample in
the earpiece, `prompts_heard`), the beep, what the owner hears played back, the lamp and
the VMWI data the phone received, the stutter dial tone; and what the box keeps on its
card (the store's rows, the WAV files). Fake time throughout.
"""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
from pathlib import Path

import numpy as np
import pytest

from firmware.apps.voicemail.recording import BEEP_HZ
from firmware.media.callerid import MessageWaiting
from firmware.media.wav import read_wav
from firmware.sip.message import Request
from firmware.sip.message_summary import MessageSummary
from tests.integration.calls import in_call, lift_and_dial, office, talking
from tests.integration.harness import Harness, running_box, wait
from tests.integration.prompts_heard import heard_prompt as says
from tests.sipphone import SipPhone, dominant_hz
from tools.phone.handset import VirtualPhone

RING_S = 5.0  # the test office's ring time ([analog] ring_timeout_s)
PIN = "4711"


def vm_office(*, features: str = "", analog: str = "", voicemail: str = "",
              pin_102: str | None = PIN) -> str:
    """101-104 analog, 201 SIP; 102, 103 and 201 have mailboxes (102 with a PIN)."""
    pin = f'pin = "{pin_102}"\n' if pin_102 else ""
    return office(analog=f"ring_timeout_s = {RING_S}\n{analog}", features=features,
                  extension_extra={"102": f"voicemail = true\n{pin}",
                                   "103": "voicemail = true\n"}).replace(
        'secret = "secret-of-201"\n', 'secret = "secret-of-201"\nvoicemail = true\n'
        'pin = "2010"\n') + (f"[voicemail]\n{voicemail}\n" if voicemail else "")


async def rows(box: Harness, mailbox: str) -> list[sqlite3.Row]:
    assert box.box.store is not None
    return await box.box.store.run(lambda db: db.execute(
        "SELECT * FROM voicemail WHERE mailbox = ? ORDER BY id", (mailbox,)).fetchall())


def message_file(box: Harness, row: sqlite3.Row) -> Path:
    return box.box.state_dir / "voicemail" / row["file"]


async def until_beep(phone: VirtualPhone, within: float = 20.0) -> None:
    """Listen until the voicemail beep (then the recording runs)."""
    for _ in range(round(within / 0.1)):
        await wait(0.1)
        heard = await phone.recording(0.2)
        if np.sqrt(np.mean(heard.astype(np.float64) ** 2)) > 300 and \
                dominant_hz(heard) == pytest.approx(BEEP_HZ, abs=20):
            await wait(0.5)
            return
    raise AssertionError(f"no beep within {within} s")


async def dial(phone: VirtualPhone, digits: str, after: float = 0.5) -> None:
    ms = await phone.dial(digits)
    await wait(ms / 1000 + after)


async def leave(box: Harness, caller: str, mailbox: str, *, tone_hz: float = 700,
                seconds: float = 3.0, end: str = "#") -> VirtualPhone:
    """`caller` calls `mailbox`'s extension, nobody answers, and after the beep it says a
    tone for `seconds`, then presses `end` ('' : hangs up instead)."""
    phone = await box.phone(caller)
    await lift_and_dial(phone, mailbox)
    await until_beep(phone, RING_S + 15)
    await phone.say_tone(tone_hz, seconds * 1000)
    await wait(seconds)
    if end:
        await dial(phone, end)
    else:
        await phone.onhook()
    return phone


# ---------------------------------------------------------------------------------------------
# leaving a message


async def test_an_unanswered_call_leaves_a_message_and_hears_saved() -> None:
    async with running_box(vm_office()) as box:
        p101 = await box.phone("101")
        await lift_and_dial(p101, "102")
        await until_beep(p101, RING_S + 15)
        greeting = await p101.recording(9)
        assert says(greeting, "vm-unavailable")
        assert says(greeting, "digit-2")  # "extension one zero two"
        await p101.say_tone(700, 3000)
        await wait(3)
        await dial(p101, "#", after=4)
        assert says(await p101.recording(4.5), "vm-saved")
        [row] = await rows(box, "102")
        assert (row["folder"], row["caller_number"], row["caller_name"]) == \
            ("new", "101", "Desk 1")
        assert row["duration_s"] == pytest.approx(3.0, abs=0.4)
        samples = read_wav(message_file(box, row), max_seconds=60)
        assert dominant_hz(samples[8000:16000]) == pytest.approx(700, abs=10)
        assert dominant_hz(samples[-800:]) == pytest.approx(700, abs=10)  # no '#' tone


async def test_hanging_up_after_speaking_saves_the_message() -> None:
    async with running_box(vm_office()) as box:
        await leave(box, "101", "102", seconds=2.0, end="")
        await wait(2)
        [row] = await rows(box, "102")
        assert row["duration_s"] == pytest.approx(2.0, abs=0.4)
        assert message_file(box, row).exists()


async def test_a_message_shorter_than_the_minimum_is_dropped() -> None:
    async with running_box(vm_office(voicemail="min_message_s = 2")) as box:
        p101 = await leave(box, "101", "102", seconds=1.0)
        await wait(3)
        assert not says(await p101.recording(4), "vm-saved")
        await leave(box, "103", "102", seconds=0.5, end="")
        await wait(2)
        assert await rows(box, "102") == []
        assert not list((box.box.state_dir / "voicemail").rglob("*.wav"))


async def test_a_long_message_is_cut_at_the_limit_and_kept() -> None:
    async with running_box(vm_office(voicemail="max_message_s = 4")) as box:
        p101 = await leave(box, "101", "102", seconds=6.0, end="")
        await wait(1)
        [row] = await rows(box, "102")
        assert row["duration_s"] == pytest.approx(4.0, abs=0.1)
        del p101


# ---------------------------------------------------------------------------------------------
# message waiting on the analog line


async def login(phone: VirtualPhone, code: str, pin: str | None = PIN) -> np.ndarray:
    """Lift, dial `code`, key the PIN after "please enter your password": what the phone
    heard before keying it."""
    await lift_and_dial(phone, code)
    await wait(3.5)
    heard = await phone.recording(4)
    if pin is not None:
        await dial(phone, pin + "#")
    return heard


async def test_a_new_message_lights_the_lamp_sends_vmwi_and_stutters_the_dial_tone() -> None:
    async with running_box(vm_office()) as box:
        p101, p102 = await box.phones("101", "102")
        assert not (await p102.status())["message_waiting"]
        await leave(box, "101", "102")
        await wait(3)
        assert (await p102.status())["message_waiting"]
        assert await p102.callerid() == MessageWaiting(True)
        await p102.offhook()
        await wait(3)
        assert (await p102.listen(3)).tone == "stutter_dial"
        await p102.onhook()
        await p101.onhook()
        await wait(2)
        await p101.offhook()  # 101's own mailbox has nothing: plain dial tone
        await wait(3)
        assert (await p101.listen(3)).tone == "dial"


async def test_the_owner_listens_with_star_97_and_deletes_the_message() -> None:
    async with running_box(vm_office()) as box:
        p101 = await leave(box, "101", "102")
        await p101.onhook()
        p102 = await box.phone("102")
        assert says(await login(p102, "*97"), "vm-password")
        await wait(3)
        summary = await p102.recording(4.5)
        for key in ("vm-you-have", "digit-1", "vm-new", "vm-message"):
            assert says(summary, key), key
        await dial(p102, "1", after=6.5)
        heard = await p102.recording(6.5)
        assert says(heard, "vm-from") and says(heard, "digit-1")  # "from one zero one"
        assert dominant_hz(heard[-2 * 8000:]) == pytest.approx(700, abs=10)  # the message
        await wait(1)
        [row] = await rows(box, "102")
        assert row["folder"] == "saved"  # heard
        assert not (await p102.status())["message_waiting"]
        await dial(p102, "7", after=2.5)
        assert says(await p102.recording(2.5), "vm-deleted")
        assert await rows(box, "102") == []
        assert not message_file(box, row).exists()
        await p102.onhook()
        await wait(4)
        assert await p102.callerid() == MessageWaiting(False)


async def test_saving_keeps_the_message_and_the_next_login_says_so() -> None:
    async with running_box(vm_office()) as box:
        p101 = await leave(box, "101", "102")
        await p101.onhook()
        p102 = await box.phone("102")
        await login(p102, "*97")
        await wait(1)
        await dial(p102, "1", after=8)
        await dial(p102, "9", after=2)
        assert says(await p102.recording(2), "vm-kept")
        await p102.onhook()
        await wait(1)
        await login(p102, "*97")
        await wait(3)
        summary = await p102.recording(4.5)
        assert says(summary, "vm-old") and not says(summary, "vm-new")


async def test_three_wrong_pins_say_goodbye() -> None:
    async with running_box(vm_office()) as box:
        p102 = await box.phone("102")
        await login(p102, "*97", "1234")
        for _ in range(2):
            await wait(1.5)
            assert says(await p102.recording(2), "vm-wrong")
            await wait(3.5)
            await dial(p102, "0000#")
        await wait(3)
        heard = await p102.recording(4)
        assert says(heard, "vm-wrong") and says(heard, "goodbye")
        await wait(3)
        assert (await p102.listen(2)).tone == "congestion"  # the call is over (US cleared)


async def test_star_98_asks_the_mailbox_and_a_mailbox_without_pin_opens_only_at_home() -> None:
    async with running_box(vm_office()) as box:
        p101, p103 = await box.phones("101", "103")
        await leave(box, "104", "102")
        heard = await login(p101, "*98", None)
        assert says(heard, "vm-mailbox")
        await dial(p101, "102#", after=3.5)
        assert says(await p101.recording(3.5), "vm-password")
        await dial(p101, PIN + "#", after=4)
        assert says(await p101.recording(4.5), "vm-you-have")
        await p101.onhook()
        # 103 has no PIN: its own phone goes straight in, any other phone never does.
        heard = await login(p103, "*97", None)
        assert says(heard, "vm-you-have") and says(heard, "vm-no-messages")
        await p103.onhook()
        await wait(2)
        await login(p101, "*98", None)
        await dial(p101, "103#", after=3.5)
        await dial(p101, "#", after=2)
        assert says(await p101.recording(2), "vm-wrong")


async def test_the_busy_greeting_for_a_busy_extension() -> None:
    async with running_box(vm_office(analog="call_waiting = false")) as box:
        await in_call(box, "102", "103")
        p101 = await box.phone("101")
        await lift_and_dial(p101, "102")
        await until_beep(p101, 15)
        heard = await p101.recording(9)
        assert says(heard, "vm-busy") and not says(heard, "vm-unavailable")


async def test_the_owner_records_a_greeting_that_callers_then_hear() -> None:
    async with running_box(vm_office()) as box:
        p101, p102 = await box.phones("101", "102")
        await login(p102, "*97")
        await dial(p102, "3", after=6)  # greetings: "... press one ... press two"
        await dial(p102, "1")  # the unavailable greeting
        await until_beep(p102)
        assert says(await p102.recording(5), "record-greeting")
        await p102.say_tone(500, 2000)
        await wait(2)
        await dial(p102, "#", after=2)
        assert says(await p102.recording(2), "vm-greeting-saved")
        await p102.onhook()
        await wait(3)
        await lift_and_dial(p101, "102")
        await until_beep(p101, RING_S + 10)
        greeting = await p101.recording(3)
        assert dominant_hz(greeting[:8000]) == pytest.approx(500, abs=10)
        assert not says(await p101.recording(6), "vm-unavailable")


async def test_the_owner_changes_the_pin_by_phone() -> None:
    async with running_box(vm_office()) as box:
        p101, p102 = await box.phones("101", "102")
        await login(p102, "*97")
        await dial(p102, "4", after=4)  # "please enter your new password"
        await dial(p102, "123#", after=3)  # too short
        assert says(await p102.recording(3), "vm-password-invalid")
        await wait(6)
        await dial(p102, "4", after=4)
        await dial(p102, "2468#", after=4)
        assert says(await p102.recording(4), "vm-reenter-password")
        await dial(p102, "2468#", after=2)
        assert says(await p102.recording(2), "vm-password-saved")
        await p102.onhook()
        await wait(2)
        await login(p101, "*98", None)
        await dial(p101, "102#", after=3.5)
        await dial(p101, PIN + "#", after=2)  # the old one no longer
        assert says(await p101.recording(2), "vm-wrong")
        await wait(3)
        await dial(p101, "2468#", after=3)
        assert says(await p101.recording(3.5), "vm-you-have")


async def test_zero_during_the_greeting_goes_to_the_operator() -> None:
    async with running_box(vm_office(features='operator = "104"')) as box:
        p101, p104 = await box.phones("101", "104")
        await lift_and_dial(p101, "102")
        await wait(RING_S + 1.5)
        await dial(p101, "0", after=2)
        assert (await p104.listen(3)).ring_cadence_ms  # the operator's phone rings
        await p104.offhook()
        await wait(1)
        await talking(p101, p104)


async def test_a_full_mailbox_says_so_and_takes_nothing() -> None:
    async with running_box(vm_office(voicemail="max_messages = 1")) as box:
        await leave(box, "101", "102")
        p103 = await box.phone("103")
        await lift_and_dial(p103, "102")
        await wait(RING_S + 5)
        assert says(await p103.recording(5), "vm-full")
        assert len(await rows(box, "102")) == 1


# ---------------------------------------------------------------------------------------------
# a transfer that nobody takes, to the target's voicemail (issue 4, item 4)


async def test_a_bounced_transfer_whose_transferrer_is_gone_goes_to_the_targets_mailbox(
        ) -> None:
    features = "transfer_ring_s = 5\nrecall_ring_s = 5"
    async with running_box(vm_office(features=features)) as box:
        p101, p102 = await in_call(box, "101", "102")
        await p102.flash(500)
        await wait(1)
        await dial(p102, "##103")
        await p102.onhook()  # 103 rings 5 s, then 102 rings 5 s: nobody answers
        await until_beep(p101, 25)
        heard = await p101.recording(9)
        assert says(heard, "vm-unavailable") and says(heard, "digit-3")  # "... one zero three"
        await p101.say_tone(700, 2000)
        await wait(2)
        await dial(p101, "#", after=4)
        [row] = await rows(box, "103")
        assert row["caller_number"] == "101"
        assert await rows(box, "102") == []


async def test_hanging_up_on_a_consult_in_voicemail_gives_the_held_caller_back() -> None:
    async with running_box(vm_office()) as box:
        p101, p102 = await in_call(box, "101", "102")
        await p102.flash(500)
        await wait(1)
        await dial(p102, "103")  # 103 does not answer: its voicemail greets 102
        await until_beep(p102, RING_S + 15)
        await p102.onhook()  # as if to transfer 101 there: 101 comes back instead
        await wait(4)
        assert (await p102.listen(4)).ring_cadence_ms
        await p102.offhook()
        await wait(3)
        await talking(p101, p102)
        assert await rows(box, "103") == []


# ---------------------------------------------------------------------------------------------
# SIP phones: message-summary subscriptions (RFC 3842), leaving a message from SIP


def summary_of(notify: Request) -> MessageSummary:
    assert notify.headers.get("Event") == "message-summary"
    assert notify.headers.get("Content-Type") == "application/simple-message-summary"
    return MessageSummary.parse(notify.body)


async def test_a_sip_phone_subscribes_to_its_mailbox_and_is_told_of_every_change() -> None:
    async with running_box(vm_office()) as box, \
            SipPhone(box.box.sip.address, "201", "secret-of-201") as soft:
        assert (await soft.register()).status == 200
        response, subscription = await soft.subscribe()
        assert response is not None and response.status == 200
        assert response.headers.get("Expires") == "3600"
        first = await subscription.notified(1)
        assert (first.headers.get("Subscription-State") or "").startswith("active;expires=")
        summary = summary_of(first)
        assert (summary.waiting, summary.new, summary.old) == (False, 0, 0)
        assert (summary.account or "").startswith("sip:201@")  # the mailbox, as subscribed
        p101 = await box.phone("101")
        await lift_and_dial(p101, "201")
        call = await soft.wait_incoming()
        call.ring()  # nobody answers: after the ring time, voicemail
        await until_beep(p101, RING_S + 15)
        await p101.say_tone(700, 2000)
        await wait(2)
        await dial(p101, "#", after=2)
        new = summary_of(await subscription.notified(2))
        assert (new.waiting, new.new, new.old) == (True, 1, 0)
        # The owner listens from the softphone: heard, the lamp goes out.
        listen = await soft.call("*97")
        await listen.answered()
        await wait(4)
        await listen.send_digits("2010#")
        await wait(4)
        await listen.send_digits("1")
        heard = summary_of(await subscription.notified(3, within=15))
        assert (heard.waiting, heard.new, heard.old) == (False, 0, 1)
        await listen.hangup()
        # Unsubscribing: 200, and a last NOTIFY that says the subscription is over.
        assert (await subscription.refresh(0)).status == 200
        last = await subscription.notified(4)
        assert (last.headers.get("Subscription-State") or "").startswith("terminated")


async def test_a_sip_phone_may_watch_only_its_own_mailbox() -> None:
    async with running_box(vm_office()) as box, \
            SipPhone(box.box.sip.address, "201", "secret-of-201") as soft:
        response, _ = await soft.subscribe(user="102")
        assert response is not None and response.status == 403
        response, _ = await soft.subscribe(event="presence")
        assert response is not None and response.status == 489
        response, _ = await soft.subscribe(expires=10)
        assert response is not None and response.status == 423
        assert response.headers.get("Min-Expires") == "60"
        anonymous = SipPhone(box.box.sip.address, "201", "wrong-secret")
        async with anonymous:
            response, _ = await anonymous.subscribe()
            assert response is not None and response.status == 403


async def test_a_subscription_not_refreshed_ends_and_one_the_phone_forgot_is_dropped() -> None:
    async with running_box(vm_office()) as box, \
            SipPhone(box.box.sip.address, "201", "secret-of-201") as soft:
        response, short = await soft.subscribe(expires=60)
        assert response is not None and response.headers.get("Expires") == "60"
        await short.notified(1)
        await wait(61)
        final = await short.notified(2)
        assert (final.headers.get("Subscription-State") or "").startswith("terminated")
        _, forgetful = await soft.subscribe()
        await forgetful.notified(1)
        forgetful.answer = 481  # the phone restarted and knows nothing of it
        await leave(box, "101", "201")
        await wait(3)
        assert len(box.box.sip.mwi) == 0  # the box dropped it
        assert len(short.notifies) == 2


async def test_a_sip_caller_leaves_a_message_ended_with_pound() -> None:
    async with running_box(vm_office()) as box, \
            SipPhone(box.box.sip.address, "201", "secret-of-201") as soft:
        await soft.register()
        call = await soft.call("102")
        await call.answered(within=RING_S + 5)  # voicemail answers for 102
        await wait(8)  # the greeting and the beep
        call.play_tone(700)
        await wait(2)
        call.play_tone(None)
        await call.send_digits("#")
        await wait(4)
        [row] = await rows(box, "102")
        assert (row["caller_number"], row["caller_name"]) == ("201", "Soft")
        samples = read_wav(message_file(box, row), max_seconds=60)
        assert dominant_hz(samples) == pytest.approx(700, abs=10)


# ---------------------------------------------------------------------------------------------
# a new config, a restart


async def test_an_extension_that_loses_its_mailbox_loses_the_lamp_and_voicemail() -> None:
    async with running_box(vm_office()) as box:
        p101, p102 = await box.phones("101", "102")
        await leave(box, "101", "102")
        await p101.onhook()
        await wait(3)
        assert (await p102.status())["message_waiting"]
        config = Path(tempfile.mkdtemp(prefix="pbx-")) / "office.toml"
        config.write_text(vm_office().replace(f'voicemail = true\npin = "{PIN}"\n', ""))
        assert box.box.reload(config)
        await wait(3)
        assert not (await p102.status())["message_waiting"]
        assert await p102.callerid() == MessageWaiting(False)
        await lift_and_dial(p101, "102")
        await wait(RING_S + 2)
        assert (await p101.listen(2)).tone == "congestion"  # no answer, no mailbox
        assert len(await rows(box, "102")) == 1  # the message stays on the card
        shutil.rmtree(config.parent)


async def test_messages_and_message_waiting_survive_a_restart() -> None:
    state = Path(tempfile.mkdtemp(prefix="pbx-"))  # short: unix socket paths are limited
    try:
        async with running_box(vm_office(), state_dir=state) as box:
            await leave(box, "101", "102")
            await wait(2)
        async with running_box(vm_office(), state_dir=state) as box, \
                SipPhone(box.box.sip.address, "201", "secret-of-201") as soft:
            await wait(3)
            p102 = await box.phone("102")
            assert (await p102.status())["message_waiting"]
            assert await p102.callerid() == MessageWaiting(True)
            response, subscription = await soft.subscribe()
            assert response is not None and response.status == 200
            assert summary_of(await subscription.notified(1)).waiting is False  # 201's
            await login(p102, "*97")
            await wait(1)
            await dial(p102, "1", after=6.5)
            heard = await p102.recording(6.5)
            assert dominant_hz(heard[-2 * 8000:]) == pytest.approx(700, abs=10)  # played
    finally:
        shutil.rmtree(state, ignore_errors=True)
