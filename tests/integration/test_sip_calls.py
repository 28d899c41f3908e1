"""SIP phones on the box, judged by what their users see and hear.

The phones are `tests.sipphone.SipPhone`s (the box's own SIP stack and media code, on
loopback) and the analog handsets of the virtual board; everything runs in fake time.
"""

from __future__ import annotations

import itertools
import logging
import random
import socket
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager

import numpy as np
import pytest

from firmware.media.dtmf import DtmfDetector
from firmware.sip.auth import Challenge
from firmware.sip.message import Request, Response
from firmware.sip.sdp import Direction, SessionDescription
from tests.integration.harness import SIP_SECTION, Harness, running_box, wait
from tests.sipphone import Address, Call, SipPhone, dominant_hz
from tools.phone.handset import VirtualPhone

SECRETS = {"104": "secret-of-104", "201": "secret-of-201", "202": "secret-of-202",
           "203": "secret-of-203"}
OFFICE = "\n".join([
    '[site]\ncountry = "us"\ntimezone = "UTC"\n',
    SIP_SECTION,
    *(f'[[extension]]\nnumber = "10{n}"\nname = "Desk {n}"\ndevices = ["fxs:{n}"]\n'
      for n in (1, 2, 3)),
    # 104: an analog phone and a softphone; both ring, the first to answer talks.
    '[[extension]]\nnumber = "104"\nname = "Desk 4"\ndevices = ["fxs:4", "sip"]\n'
    'secret = "secret-of-104"\n',
    # 201-203: softphones only; 203 never registers in these tests.
    *(f'[[extension]]\nnumber = "{n}"\nname = "Soft {n}"\ndevices = ["sip"]\n'
      f'secret = "{SECRETS[n]}"\n' for n in ("201", "202", "203")),
])
RING_TIMEOUT_S = 30.0  # the [analog] default, which SIP-only extensions ring for too
BAN_S = 600.0  # [sip] ban_s default: 5 failures within 60 s ban a source for 10 minutes
# An extension with no phone to ring: the box answers 486 Busy Here (no free device).
# 480 Temporarily Unavailable would do as well; these tests pin what the box says today.
NO_PHONE = 486


# ---------------------------------------------------------------------------------------------
# helpers


def second_address() -> str:
    """Another loopback address, for a second source (Linux routes all of 127/8 to lo)."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.bind(("127.0.0.2", 0))
    except OSError:
        pytest.skip("needs a second loopback address (127.0.0.2) for a second source")
    return "127.0.0.2"


@asynccontextmanager
async def office() -> AsyncIterator[tuple[Harness, Address]]:
    async with running_box(OFFICE) as box:
        assert box.box.sip is not None
        yield box, box.box.sip.address


@asynccontextmanager
async def softphones(box: Address, *users: str, allow: str | None = None
                     ) -> AsyncIterator[list[SipPhone]]:
    """Phones for `users`, registered with their right secrets (`allow`: see SipPhone)."""
    async with AsyncExitStack() as stack:
        phones = []
        for user in users:
            phone = await stack.enter_async_context(SipPhone(box, user, SECRETS[user],
                                                             allow=allow))
            registered = await phone.register()
            assert registered is not None and registered.status == 200
            phones.append(phone)
        yield phones


async def answered_call(sip: SipPhone, analog: VirtualPhone) -> Call:
    """`sip` calls the analog phone, which answers."""
    call = await sip.call(analog.extension or "")
    await call.response(180)
    await wait(1)
    await analog.offhook()
    await call.answered()
    await wait(0.5)
    return call


async def incoming_call(analog: VirtualPhone, sip: SipPhone) -> Call:
    """The analog phone dials the SIP phone's extension; the SIP phone is rung."""
    await analog.offhook()
    await wait(1)
    await analog.dial(sip.user)
    return await sip.wait_incoming()


async def talk(sip: Call, analog: VirtualPhone) -> tuple[float, list[float]]:
    """Both speak a tone (700 Hz at the SIP phone, 1000 Hz at the handset): what each hears."""
    sip.play_tone(700)
    await analog.say_tone(1000, 3000)
    await wait(2)
    heard_at_analog = (await analog.listen(1)).freqs
    return sip.heard_hz(), heard_at_analog


def header_shape(response: Response) -> list[str]:
    """The header names of a response, in order: what a scanner compares."""
    return [name for name, _ in response.headers]


def pitch_changes(samples: np.ndarray, window_s: float = 0.25) -> int:
    """How many times the strongest frequency moves by more than 20 Hz (music does)."""
    size = int(window_s * 8000)
    pitches = [dominant_hz(samples[i:i + size]) for i in range(0, len(samples) - size, size)]
    return sum(abs(a - b) > 20 for a, b in itertools.pairwise(pitches))


# ---------------------------------------------------------------------------------------------
# 1. registration, authentication, bans


async def test_a_sip_phone_registers_with_digest_authentication() -> None:
    async with office() as (_, box), SipPhone(box, "201", SECRETS["201"]) as phone:
        challenge = await phone.register(authenticate=False)
        assert challenge is not None and challenge.status == 401
        digest = Challenge.parse(challenge.headers.get("WWW-Authenticate") or "")
        assert digest.qop == ("auth",)
        registered = await phone.register()
        assert registered is not None and registered.status == 200
        assert f"{phone.host}:{phone.port}" in (registered.headers.get("Contact") or "")


async def test_wrong_password_and_unknown_extension_get_the_same_answer() -> None:
    async with office() as (_, box), \
            SipPhone(box, "201", "not-the-secret") as wrong, \
            SipPhone(box, "299", "a-guessed-secret") as unknown:
        refusals = [await wrong.register(), await unknown.register()]
        assert all(r is not None and r.status == 403 for r in refusals)
        a, b = refusals
        assert a is not None and b is not None
        assert (a.reason, header_shape(a), a.body) == (b.reason, header_shape(b), b.body)
        # ... and so do the challenges before them: nothing tells a scanner which exists.
        first = [await wrong.register(authenticate=False),
                 await unknown.register(authenticate=False)]
        assert [r.status for r in first if r is not None] == [401, 401]
        a, b = first
        assert a is not None and b is not None
        assert header_shape(a) == header_shape(b)
        ca, cb = (Challenge.parse(r.headers.get("WWW-Authenticate") or "") for r in first)
        assert (ca.realm, ca.algorithm, ca.qop) == (cb.realm, cb.algorithm, cb.qop)
        # A call attempt tells no more than a registration does.
        a, b = [await (await phone.call("101")).final() for phone in (wrong, unknown)]
        assert (a.status, a.reason, header_shape(a)) == (b.status, b.reason, header_shape(b))
        assert a.status == 403


async def test_five_failed_logins_ban_the_source_and_the_ban_ends() -> None:
    async with office() as (_, box), \
            SipPhone(box, "201", "not-the-secret", host=second_address()) as scanner, \
            SipPhone(box, "202", SECRETS["202"]) as colleague:
        # Challenges are part of every login: any number of them is no failure.
        for _ in range(10):
            challenge = await scanner.register(authenticate=False)
            assert challenge is not None and challenge.status == 401
        for _ in range(4):
            refused = await scanner.register()
            assert refused is not None and refused.status == 403
        still = await scanner.register(authenticate=False)
        assert still is not None and still.status == 401  # four failures: not banned yet
        refused = await scanner.register()
        assert refused is not None and refused.status == 403  # the fifth
        banned_at = scanner.now()
        heard_before = len(scanner.received)
        # Banned: not even the right password gets an answer (32 s of retransmissions).
        assert await scanner.register(password=SECRETS["201"]) is None
        assert len(scanner.received) == heard_before
        # Other addresses are not touched by the ban.
        colleague_ok = await colleague.register()
        assert colleague_ok is not None and colleague_ok.status == 200
        await wait(banned_at + BAN_S + 1 - scanner.now())
        back = await scanner.register(password=SECRETS["201"])
        assert back is not None and back.status == 200


# ---------------------------------------------------------------------------------------------
# 2. SIP phone -> analog phone


async def test_sip_phone_calls_an_analog_phone_that_answers_talks_and_hangs_up() -> None:
    async with office() as (harness, box), softphones(box, "201") as [sp]:
        p101 = await harness.phone("101")
        call = await sp.call("101")
        await call.response(180)
        assert call.statuses[0] == 401  # every INVITE from a phone must authenticate
        assert set(call.statuses[1:]) <= {100, 180}
        await wait(8)  # a whole ring cycle, with caller ID after the first ring
        ringing = await p101.listen(2)
        assert ringing.ring_cadence_ms[:2] == [2000, 4000]
        assert ringing.callerid is not None
        assert (ringing.callerid["number"], ringing.callerid["name"]) == ("201", "Soft 201")

        await p101.offhook()
        ok = await call.answered()
        assert ok.status == 200
        answer = SessionDescription.parse(ok.body)
        assert answer.audio is not None and answer.audio.direction is Direction.SENDRECV
        assert answer.audio.codecs[0].name == "PCMU"
        sip_heard, analog_heard = await talk(call, p101)
        assert analog_heard == pytest.approx([700], abs=10)
        assert sip_heard == pytest.approx(1000, abs=10)

        await p101.onhook()
        assert await call.ended() == "bye"


async def test_sip_phone_hanging_up_gives_the_analog_phone_the_cleared_tone() -> None:
    async with office() as (harness, box), softphones(box, "201") as [sp]:
        p101 = await harness.phone("101")
        call = await answered_call(sp, p101)
        bye = await call.hangup()
        assert bye is not None and bye.status == 200
        await wait(2)
        assert (await p101.listen(3)).tone == "congestion"


async def test_a_sip_call_the_analog_phone_does_not_answer_ends_after_the_ring_time() -> None:
    async with office() as (harness, box), softphones(box, "201") as [sp]:
        p101 = await harness.phone("101")
        call = await sp.call("101")
        await call.response(180)
        rung_at = sp.now()
        final = await call.final(within=RING_TIMEOUT_S + 5)
        assert final.status == 480  # Temporarily Unavailable: nobody answered
        assert sp.now() - rung_at == pytest.approx(RING_TIMEOUT_S, abs=1)
        await wait(1)
        assert not (await p101.status())["ringing"]


# ---------------------------------------------------------------------------------------------
# 3. analog phone -> SIP phone


async def test_analog_phone_calls_a_sip_phone_that_answers_and_talks() -> None:
    async with office() as (harness, box), softphones(box, "201") as [sp]:
        p101 = await harness.phone("101")
        call = await incoming_call(p101, sp)
        assert call.caller.uri.user == "101"  # type: ignore[union-attr]
        assert call.caller.display_name == "Desk 1"
        offer = SessionDescription.parse(call.invite.body)
        assert offer.audio is not None and "PCMU" in [c.name for c in offer.audio.codecs]
        call.ring()
        await wait(7)
        assert (await p101.listen(7)).tone == "ringback"

        await call.answer()
        await wait(0.5)
        sip_heard, analog_heard = await talk(call, p101)
        assert analog_heard == pytest.approx([700], abs=10)
        assert sip_heard == pytest.approx(1000, abs=10)
        await p101.onhook()
        assert await call.ended() == "bye"


async def test_a_busy_sip_phone_gives_the_analog_caller_busy_tone() -> None:
    async with office() as (harness, box), softphones(box, "201") as [sp]:
        p101 = await harness.phone("101")
        call = await incoming_call(p101, sp)
        call.ring()
        await wait(1)
        call.reject(486)
        await wait(2)
        heard = await p101.listen(3)
        assert heard.tone == "busy"


async def test_an_unanswered_sip_phone_is_cancelled_after_the_ring_time() -> None:
    async with office() as (harness, box), softphones(box, "201") as [sp]:
        p101 = await harness.phone("101")
        call = await incoming_call(p101, sp)
        call.ring()
        rung_at = sp.now()
        assert await call.ended(within=RING_TIMEOUT_S + 5) == "cancel"
        assert sp.now() - rung_at == pytest.approx(RING_TIMEOUT_S, abs=1)
        await wait(2)
        assert (await p101.listen(3)).tone == "congestion"


async def test_an_analog_caller_giving_up_stops_the_sip_phone_ringing() -> None:
    async with office() as (harness, box), softphones(box, "201") as [sp]:
        p101 = await harness.phone("101")
        call = await incoming_call(p101, sp)
        call.ring()
        await wait(3)
        await p101.onhook()
        assert await call.ended() == "cancel"


async def test_calls_outlast_the_sip_retransmission_timers() -> None:
    """Each side's ACK was understood: neither call is dropped after 64*T1 = 32 s."""
    async with office() as (harness, box), softphones(box, "201", "202") as [sp201, sp202]:
        p101, p102 = await harness.phones("101", "102")
        placed = await answered_call(sp201, p101)  # the box answers the SIP phone
        received = await incoming_call(p102, sp202)  # the SIP phone answers the box
        await received.answer()
        await wait(40)
        assert placed.statuses.count(200) == 1  # no 200 resent for want of an ACK
        for call, analog in ((placed, p101), (received, p102)):
            assert call.state == "up" and call.ended_by is None
            sip_heard, analog_heard = await talk(call, analog)
            assert analog_heard == pytest.approx([700], abs=10)
            assert sip_heard == pytest.approx(1000, abs=10)


# ---------------------------------------------------------------------------------------------
# 4. the SIP caller gives up


async def test_sip_caller_cancelling_stops_the_analog_ringing() -> None:
    async with office() as (harness, box), softphones(box, "201") as [sp]:
        p101 = await harness.phone("101")
        call = await sp.call("101")
        await call.response(180)
        await wait(1)
        assert (await p101.status())["ringing"]
        final = await call.cancel()
        assert final.status == 487
        await wait(1)
        status = await p101.status()
        assert not status["ringing"]
        assert status["rings"][-1][1] is not None  # the ring that was on has ended
        # The freed extension can be called again.
        again = await sp.call("101")
        assert (await again.response(180)).status == 180
        await wait(1)
        assert (await p101.status())["ringing"]


# ---------------------------------------------------------------------------------------------
# 5. calls that cannot be put through


async def test_an_unknown_number_is_not_found() -> None:
    async with office() as (_, box), softphones(box, "201") as [sp]:
        call = await sp.call("999")
        assert (await call.final()).status == 404


async def test_an_extension_without_a_registered_phone_is_unavailable_or_busy() -> None:
    assert NO_PHONE in (480, 486)
    async with office() as (_, box), softphones(box, "201") as [sp]:
        call = await sp.call("203")
        assert (await call.final()).status == NO_PHONE


async def test_a_phone_that_unregistered_is_not_rung() -> None:
    async with office() as (_, box), softphones(box, "201", "202") as [sp201, sp202]:
        gone = await sp202.register(expires=0)
        assert gone is not None and gone.status == 200
        call = await sp201.call("202")
        assert (await call.final()).status == NO_PHONE
        assert sp202.calls == []


async def test_a_registration_that_is_not_refreshed_expires() -> None:
    async with office() as (_, box), softphones(box, "201") as [sp201], \
            SipPhone(box, "202", SECRETS["202"]) as sp202:
        registered = await sp202.register(expires=60)
        assert registered is not None and registered.status == 200
        await wait(61)
        call = await sp201.call("202")
        assert (await call.final()).status == NO_PHONE
        assert sp202.calls == []


async def test_a_sip_phone_calling_its_own_extension_is_busy() -> None:
    async with office() as (_, box), softphones(box, "201") as [sp]:
        call = await sp.call("201")
        assert (await call.final()).status == 486
        assert [c for c in sp.calls if c.incoming] == []  # it was not rung by itself


async def test_an_off_hook_analog_phone_is_busy() -> None:
    async with office() as (harness, box), softphones(box, "201") as [sp]:
        p102 = await harness.phone("102")
        await p102.offhook()
        await wait(1)
        call = await sp.call("102")
        assert (await call.final()).status == 486
        assert not (await p102.status())["ringing"]


# ---------------------------------------------------------------------------------------------
# 6. DTMF


async def test_rfc4733_digits_from_a_sip_phone_are_heard_as_dtmf_on_an_analog_phone() -> None:
    async with office() as (harness, box), softphones(box, "201") as [sp]:
        p101 = await harness.phone("101")
        call = await answered_call(sp, p101)
        await wait(1)
        await call.send_digits("123")
        await wait(0.5)
        heard = await p101.recording(2.0)
        assert "".join(DtmfDetector().feed(heard)) == "123"


async def test_digits_keyed_on_an_analog_phone_reach_the_sip_phone_as_rfc4733_events() -> None:
    async with office() as (harness, box), softphones(box, "201") as [sp]:
        p101 = await harness.phone("101")
        call = await answered_call(sp, p101)
        await wait(1)
        ms = await p101.dial("456")
        await wait(ms / 1000 + 0.5)
        assert call.received_digits == "456"
        # ... once: the tones themselves are taken out of the audio, so a far end that
        # also listens for in-band DTMF (an IVR, a voicemail box) does not get them twice.
        assert call.heard_dtmf() == ""


# ---------------------------------------------------------------------------------------------
# 7. hold


async def test_hold_and_resume_from_a_sip_phone() -> None:
    async with office() as (harness, box), softphones(box, "201") as [sp]:
        p101 = await harness.phone("101")
        call = await answered_call(sp, p101)
        held = await call.hold()
        assert held is not None and held.status == 200
        answer = SessionDescription.parse(held.body)
        assert answer.audio is not None and answer.audio.direction is Direction.RECVONLY
        await wait(1)
        resumed = await call.resume()
        assert resumed is not None and resumed.status == 200
        answer = SessionDescription.parse(resumed.body)
        assert answer.audio is not None and answer.audio.direction is Direction.SENDRECV
        sip_heard, analog_heard = await talk(call, p101)
        assert analog_heard == pytest.approx([700], abs=10)
        assert sip_heard == pytest.approx(1000, abs=10)


async def test_the_held_analog_party_hears_hold_music() -> None:
    async with office() as (harness, box), softphones(box, "201") as [sp]:
        p101 = await harness.phone("101")
        call = await answered_call(sp, p101)
        call.play_tone(700)  # the holding phone's microphone: not what the held party hears
        await call.hold()
        await wait(3)
        heard = await p101.recording(2.0)
        assert (await p101.listen(1)).level_dbm0 is not None  # not silence
        assert dominant_hz(heard) != pytest.approx(700, abs=10)
        assert pitch_changes(heard) >= 3  # a tune, not a steady tone


async def test_in_a_relayed_call_the_held_sip_phone_hears_the_box_s_hold_music() -> None:
    async with office() as (_, box), softphones(box, "201", "202") as [sp201, sp202]:
        call = await sp201.call("202")
        incoming = await sp202.wait_incoming()
        await incoming.answer()
        await call.answered()
        call.play_tone(700)
        incoming.play_tone(1100)
        await wait(2)
        assert incoming.heard_hz() == pytest.approx(700, abs=10)  # relayed

        await call.hold()  # sendonly: 201 goes on sending its microphone
        await wait(3)
        heard = incoming.recording(2.0)
        assert dominant_hz(heard) != pytest.approx(700, abs=10)
        assert pitch_changes(heard) >= 3  # the box's tune
        received = call.media.received
        await wait(1)
        assert call.media.received == received  # the holder said it would not listen

        await call.resume()
        await wait(2)
        assert incoming.heard_hz() == pytest.approx(700, abs=10)  # relayed again
        assert call.heard_hz() == pytest.approx(1100, abs=10)

        # All along, 202 heard one RTP stream: one SSRC, sequence numbers one by one,
        # time moving on (no jump back when the relay resumed).
        stream = incoming.media.stream
        assert len({ssrc for ssrc, _, _ in stream}) == 1
        assert all((b[1] - a[1]) % 65536 == 1 for a, b in itertools.pairwise(stream))
        steps = [(b[2] - a[2]) % 2**32 for a, b in itertools.pairwise(stream)]
        assert all(0 < step <= 8000 for step in steps)  # on by up to a second, never back
        await call.hangup()


# ---------------------------------------------------------------------------------------------
# 8. an extension with an analog phone and a SIP phone


async def test_both_phones_of_a_mixed_extension_ring_and_the_first_to_answer_talks() -> None:
    async with office() as (harness, box), softphones(box, "104") as [sp]:
        p101, p104 = await harness.phones("101", "104")
        call = await incoming_call(p101, sp)
        call.ring()
        await wait(1)
        assert (await p104.status())["ringing"]
        await call.answer()
        await wait(1)
        status = await p104.status()
        assert not status["ringing"]
        assert status["rings"][-1][1] is not None
        sip_heard, analog_heard = await talk(call, p101)
        assert analog_heard == pytest.approx([700], abs=10)
        assert sip_heard == pytest.approx(1000, abs=10)
        await call.hangup()
        await wait(2)
        assert (await p101.listen(3)).tone == "congestion"


async def test_two_sip_phones_of_one_extension_both_ring_and_one_answers() -> None:
    async with office() as (_, box), softphones(box, "201") as [sp201], \
            SipPhone(box, "202", SECRETS["202"]) as desk, \
            SipPhone(box, "202", SECRETS["202"]) as soft:  # same host, another port
        for phone in (desk, soft):
            registered = await phone.register()
            assert registered is not None and registered.status == 200
        call = await sp201.call("202")
        at_desk, at_soft = await desk.wait_incoming(), await soft.wait_incoming()
        at_desk.ring()
        at_soft.ring()
        await at_soft.answer()
        await call.answered()
        assert await at_desk.ended() == "cancel"
        assert at_soft.state == "up"


async def test_when_the_analog_phone_of_a_mixed_extension_answers_the_sip_phone_stops() -> None:
    async with office() as (harness, box), softphones(box, "104") as [sp]:
        p101, p104 = await harness.phones("101", "104")
        call = await incoming_call(p101, sp)
        call.ring()
        await wait(1)
        await p104.offhook()
        assert await call.ended() == "cancel"
        await p101.say_tone(1000, 3000)
        await wait(2)
        assert (await p104.listen(1)).freqs == pytest.approx([1000], abs=10)


# ---------------------------------------------------------------------------------------------
# 9. garbage on the SIP port


def malformed_invite(call_id: str, phone: SipPhone, extra: str = "") -> bytes:
    """An INVITE whose Via, From, To, Call-ID and CSeq can be read but which cannot be
    parsed as a whole (a Max-Forwards that is no number)."""
    return (
        f"INVITE sip:101@{phone.box[0]} SIP/2.0\r\n"
        f"Via: SIP/2.0/UDP {phone.sent_by};branch=z9hG4bK-{call_id};rport\r\n"
        f"Max-Forwards: many\r\n"
        f"From: <sip:201@{phone.box[0]}>;tag=t-{call_id}\r\n"
        f"To: <sip:101@{phone.box[0]}>\r\n"
        f"Call-ID: {call_id}\r\n"
        f"CSeq: 1 INVITE\r\n"
        f"{extra}"
        f"Content-Length: 0\r\n\r\n"
    ).encode()


def answer_to(call_id: str) -> Callable[[Request | Response], bool]:
    return lambda m: isinstance(m, Response) and m.headers.get("Call-ID") == call_id


async def test_garbage_gets_an_answer_where_one_can_be_given_and_the_box_goes_on() -> None:
    async with office() as (_, box), SipPhone(box, "201", SECRETS["201"]) as phone:
        rng = random.Random(4475)
        for _ in range(20):
            phone.send_datagram(bytes(rng.getrandbits(8) for _ in range(rng.randrange(1, 1500))))
        phone.send_datagram(b"\x00" * 65507)  # the largest UDP datagram, all junk
        phone.send_datagram(malformed_invite("bad-1", phone))
        bad = await phone.message(answer_to("bad-1"))
        assert isinstance(bad, Response) and bad.status == 400
        assert bad.headers.get("CSeq") == "1 INVITE"
        # Far too many header fields, in a datagram of almost 64 KB: 513 Message Too Large.
        pad = "".join(f"X-Pad-{i}: {'x' * 180}\r\n" for i in range(300))
        phone.send_datagram(malformed_invite("big-1", phone, pad).replace(b"many", b"70"))
        big = await phone.message(answer_to("big-1"))
        assert isinstance(big, Response) and big.status == 513
        # Nothing else came back (random bytes have no request to answer), and the box serves.
        assert [m for m in phone.received if isinstance(m, Request)] == []
        assert len(phone.received) == 2 and phone.unparsed == []
        registered = await phone.register()
        assert registered is not None and registered.status == 200


# ---------------------------------------------------------------------------------------------
# 10. SIP phone -> SIP phone


async def test_two_sip_phones_talk_through_the_relay(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="pbx.call")
    async with office() as (_, box), softphones(box, "201", "202") as [sp201, sp202]:
        call = await sp201.call("202")
        incoming = await sp202.wait_incoming()
        assert incoming.caller.uri.user == "201"  # type: ignore[union-attr]
        assert incoming.caller.display_name == "Soft 201"
        incoming.ring()
        await call.response(180)
        await incoming.answer()
        await call.answered()
        call.play_tone(700)
        incoming.play_tone(1100)
        await wait(2)
        assert call.heard_hz() == pytest.approx(1100, abs=10)
        assert incoming.heard_hz() == pytest.approx(700, abs=10)
        assert "kind=relay" in caplog.text
        await call.send_digits("789")
        assert incoming.received_digits == "789"  # telephone-events pass the relay as sent
        await call.hangup()
        assert await incoming.ended() == "bye"
