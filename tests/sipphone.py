"""A SIP phone for tests: it registers, calls, answers, holds, talks, keys digits, listens.

Built only from the box's own SIP stack (`firmware.sip`: messages, transactions, dialogs,
digest auth, SDP offer/answer) and media code (`firmware.media`: RTP, G.711, RFC 4733
telephone-events, DTMF detection), over asyncio UDP sockets on loopback. It lives in the
test's event loop beside the in-process box, so under looptime it runs in fake time too:
SIP timers go through one `loop.call_at(layer.next_deadline())`, RTP frames are due at
t0 + n * 20 ms (`loop.call_at`, never a sleep of 20 ms), and nothing runs in a thread.

    async with SipPhone(box_address, "201", "secret-of-201") as phone:
        assert (await phone.register()).status == 200
        call = await phone.call("101")  # INVITE with an SDP offer; a 401 is answered
        await call.answered()           # 200 OK: the ACK went, RTP flows both ways
        call.play_tone(700)             # what the phone's microphone picks up
        ...
        assert call.heard_hz() == pytest.approx(1000, abs=10)
        await call.hangup()             # BYE

    Transfers (the TRANSFER key): `call.refer("103")` blind, `call.refer_replaces(other)`
    attended; the box's NOTIFYs about it are kept in `call.notifies` (`await call.notified()`
    for the final one's sipfrag).

Waits are in loop time and end with `PhoneTimeout` (an AssertionError: a test failure that
says what did not happen). Not here on purpose: TCP, forking, PRACK, early media.
Being built from the box's stack, it shares that stack's reading of the RFCs: it checks
what the box does, not the parser against a second opinion (tests/interop does that).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import random
import socket
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

import numpy as np

from firmware.deadline import DeadlineTimer
from firmware.media.dtmf import DtmfDetector
from firmware.media.dtmf_events import DigitReceived, DtmfEventReceiver, DtmfEventSender
from firmware.media.errors import MediaError
from firmware.media.frames import FRAME_SAMPLES, FRAME_SECONDS, SAMPLE_RATE, Frame, amplitude
from firmware.media.frames import silence as silent_frame
from firmware.media.g711 import alaw_decode, alaw_encode, ulaw_decode, ulaw_encode
from firmware.media.rtp import RtpPacket, RtpSender
from firmware.sip.auth import client_credentials, select_challenge
from firmware.sip.dialog import Dialog, make_ack_for_2xx
from firmware.sip.errors import ParseError
from firmware.sip.headers import Headers, NameAddr
from firmware.sip.message import Request, Response, make_response, parse_message
from firmware.sip.offer_answer import Negotiated, make_answer, make_offer, negotiated
from firmware.sip.refer import ReferTo, Replaces, SipFrag
from firmware.sip.sdp import Codec, Direction, SessionDescription
from firmware.sip.transaction import (
    Action,
    ClientTransaction,
    RequestReceived,
    ResponseReceived,
    Send,
    ServerInviteTransaction,
    ServerTransaction,
    Terminated,
    TransactionLayer,
    new_branch,
)
from firmware.sip.uri import SipUri, parse_uri

T = TypeVar("T")
Address = tuple[str, int]

WAIT_S = 10.0  # default wait for something the box should do (loop time: costs nothing)
NO_ANSWER_S = 33.0  # a non-INVITE transaction gives up after 64*T1 = 32 s (RFC 3261 §17.1.2.2)
TONE_DBM0 = -10.0
CODECS = {"PCMU": (ulaw_decode, ulaw_encode), "PCMA": (alaw_decode, alaw_encode)}
_numbers = itertools.count(1)


class PhoneTimeout(AssertionError):
    """Something the test waited for did not happen in time."""


def dominant_hz(samples: np.ndarray) -> float:
    """The strongest frequency in `samples` (0.0 for silence or too little audio)."""
    if len(samples) < FRAME_SAMPLES or not np.any(samples):
        return 0.0
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))
    return float(np.argmax(spectrum) * SAMPLE_RATE / len(samples))


class _UdpSocket:
    """A non-blocking UDP socket on `host` (any free port), read by the loop (`add_reader`)
    and drained at each wake-up, as the box reads its own."""

    def __init__(self, host: str, receive: Callable[[bytes, Address], None]) -> None:
        self._loop = asyncio.get_running_loop()
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._sock.bind((host, 0))
        self._sock.setblocking(False)
        self.port: int = self._sock.getsockname()[1]
        self._receive = receive
        self._loop.add_reader(self._sock.fileno(), self._drain)

    def sendto(self, data: bytes, dest: Address) -> None:
        self._sock.sendto(data, dest)

    def close(self) -> None:
        if self._sock.fileno() >= 0:
            self._loop.remove_reader(self._sock.fileno())
            self._sock.close()

    def _drain(self) -> None:
        while self._sock.fileno() >= 0:
            try:
                data, source = self._sock.recvfrom(65535)
            except (BlockingIOError, InterruptedError):
                return
            self._receive(data, source[:2])


# ---------------------------------------------------------------------------------------------
# Media: one RTP socket per call


class CallMedia:
    """A call's audio: G.711 frames of a tone (or silence) every 20 ms, RFC 4733 digits in
    their place when keyed; what arrives is decoded and kept with its arrival time."""

    def __init__(self, host: str, sdp_host: str | None = None) -> None:
        self._loop = asyncio.get_running_loop()
        self._rtp = _UdpSocket(host, lambda data, _source: self._packet(data))
        self.host = host
        self.port = self._rtp.port
        self.sdp_host = sdp_host or host  # the address our SDP claims (NAT: not `host`)
        self.tone_hz: float | None = None
        self.negotiated: Negotiated | None = None
        self.receiving: dict[int, Codec] = {}  # payload type -> codec, from our own SDP
        self.heard: list[tuple[float, Frame]] = []  # (arrival, decoded samples)
        self.stream: list[tuple[int, int, int]] = []  # (SSRC, sequence, timestamp) received
        self.events = DtmfEventReceiver()
        self.digits = ""  # RFC 4733 digits received, each once when it ended
        self.sent = self.received = 0
        self._sender: RtpSender | None = None
        self._keys: deque[str | None] = deque()  # digits to key; None: a frame of audio
        self._event: deque[bytes] = deque()  # payloads of the digit being sent
        self._timer: asyncio.TimerHandle | None = None
        self._sample = 0

    def offered(self, ours: SessionDescription) -> None:
        audio = ours.audio
        self.receiving = {c.payload_type: c for c in audio.codecs} if audio else {}

    def start(self, agreed: Negotiated) -> None:
        """Send as agreed (again after a re-INVITE), paced by deadline from now on."""
        self.negotiated = agreed
        if self._sender is None or self._sender.payload_type != agreed.codec.payload_type:
            self._sender = RtpSender.with_random_start(agreed.codec.payload_type,
                                                       random.Random(self.port))
        if self._timer is None:
            self._tick(self._loop.time(), 0)

    def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._rtp.close()

    def key(self, digits: str, gap_frames: int) -> float:
        """Queue `digits` as RFC 4733 events; returns the seconds they take to send."""
        agreed = self.negotiated
        assert agreed is not None and agreed.dtmf_payload_type is not None, \
            "no telephone-event agreed for this call"
        for digit in digits:
            self._keys.append(digit)
            self._keys.extend([None] * gap_frames)
        packets = len(list(DtmfEventSender().packets("0", 0)))
        return len(digits) * (packets + gap_frames) * FRAME_SECONDS

    def recording(self, seconds: float | None = None) -> np.ndarray:
        since = -1.0 if seconds is None else self._loop.time() - seconds
        chunks = [samples for when, samples in self.heard if when >= since]
        return np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.int16)

    # -- sending

    def _tick(self, t0: float, n: int) -> None:
        self._timer = self._loop.call_at(t0 + (n + 1) * FRAME_SECONDS, self._tick, t0, n + 1)
        agreed, sender = self.negotiated, self._sender
        if agreed is None or sender is None or not agreed.direction.sends:
            self._sample += FRAME_SAMPLES
            return
        packet = self._next_packet(agreed, sender)
        try:
            self._rtp.sendto(packet, (agreed.remote_address, agreed.remote_port))
        except OSError:
            return  # lost, as on a real network
        self.sent += 1

    def _next_packet(self, agreed: Negotiated, sender: RtpSender) -> bytes:
        if not self._event and self._keys:
            key = self._keys.popleft()
            if key is not None:
                assert agreed.dtmf_payload_type is not None
                start = sender.timestamp
                self._event.extend(sender.packet_at(p.payload, start, p.marker,
                                                    agreed.dtmf_payload_type)
                                   for p in DtmfEventSender().packets(key, start))
        if self._event:
            sender.skip(FRAME_SAMPLES)  # the audio an event replaces still takes its time
            self._sample += FRAME_SAMPLES
            return self._event.popleft()
        encode = CODECS[agreed.codec.name.upper()][1]
        return sender.packet(encode(self._next_frame()), FRAME_SAMPLES)

    def _next_frame(self) -> Frame:
        n = self._sample + np.arange(FRAME_SAMPLES)
        self._sample += FRAME_SAMPLES
        if self.tone_hz is None:
            return silent_frame()
        wave = amplitude(TONE_DBM0) * np.sin(2 * np.pi * self.tone_hz * n / SAMPLE_RATE)
        return wave.astype(np.int16)

    # -- receiving

    def _packet(self, data: bytes) -> None:
        try:
            packet = RtpPacket.parse(data)
        except MediaError:
            return
        self.received += 1
        self.stream.append((packet.ssrc, packet.sequence, packet.timestamp))
        now = self._loop.time()
        codec = self.receiving.get(packet.payload_type)
        if codec is None:
            return
        if codec.is_dtmf:
            for event in self.events.feed_packet(packet, now):
                if isinstance(event, DigitReceived):
                    self.digits += event.key
        elif codec.name.upper() in CODECS:
            self.heard.append((now, CODECS[codec.name.upper()][0](packet.payload)))


# ---------------------------------------------------------------------------------------------
# Calls


class Call:
    """One call of the phone, placed (`SipPhone.call`) or received (`wait_incoming`)."""

    def __init__(self, phone: SipPhone, media: CallMedia, invite: Request, *,
                 incoming: bool) -> None:
        self.phone = phone
        self.media = media
        self.invite = invite  # ours (the last one sent, after a 401) or the box's
        self.incoming = incoming
        self.responses: list[Response] = []  # to our INVITE, 401 included, in order
        self.dialog: Dialog | None = None
        self.state = "ringing" if incoming else "calling"  # ... "up", "ended"
        self.ended_by: str | None = None  # "bye", "cancel", "hangup", or the final status
        self.acked = False  # the box's ACK for our 200
        self.local_sdp: SessionDescription | None = None
        self.remote_sdp: SessionDescription | None = None
        self.server_tx: ServerInviteTransaction | None = None
        self.notifies: list[Request] = []  # the box's NOTIFYs in this call (a REFER's progress)
        self.shown: list[NameAddr] = []  # who the display shows, as UPDATEs told it
        self._tag = f"{phone.rng.getrandbits(48):012x}"
        self._session = phone.rng.getrandbits(31)
        self._version = self._session
        self._authenticated = False
        self._rung = False

    # -- what a person sees

    @property
    def caller(self) -> NameAddr:
        """Who calls (the From of the box's INVITE)."""
        return self.invite.from_

    @property
    def statuses(self) -> list[int]:
        return [r.status for r in self.responses]

    async def response(self, status: int, within: float = WAIT_S) -> Response:
        """The first response with `status` to our INVITE."""
        return await self.phone.until(
            lambda: next((r for r in self.responses if r.status == status), None),
            within, f"{status} to the INVITE of {self.phone.user}")

    async def final(self, within: float = WAIT_S) -> Response:
        """The final response to our INVITE (after the 401 challenge, if any)."""
        return await self.phone.until(self._final, within,
                                      f"a final response to the INVITE of {self.phone.user}")

    async def answered(self, within: float = WAIT_S) -> Response:
        response = await self.final(within)
        if response.status >= 300:
            raise PhoneTimeout(f"the call was refused: {response.status} {response.reason}")
        return response

    async def ended(self, within: float = WAIT_S) -> str:
        """Why the call ended: "bye" / "cancel" (the box's), "hangup" (ours), or a status."""
        return await self.phone.until(lambda: self.ended_by, within,
                                      f"the end of the call of {self.phone.user}")

    # -- answering a call from the box

    def ring(self) -> None:
        self._respond(180)
        self._rung = True

    async def answer(self, within: float = WAIT_S) -> None:
        """180 (unless sent), then 200 with our SDP answer; returns when the ACK came."""
        if not self._rung:
            self.ring()
        offer = SessionDescription.parse(self.invite.body)
        answer = make_answer(offer, self.media.sdp_host, self.media.port,
                             session_id=self._session, version=self._version)
        response = self._response(200, answer)
        self.dialog = Dialog.from_uas(self.invite, response)
        self._media_up(answer, offer, negotiated(offer, answer, we_offered=False))
        self._send_response(response)
        self.state = "up"
        await self.phone.until(lambda: self.acked, within, "the ACK for our 200")

    def reject(self, status: int = 486) -> None:
        self._respond(status)
        self._end(str(status))

    # -- in the call

    async def hangup(self) -> Response | None:
        """BYE when up, CANCEL while our call rings, else decline (603)."""
        if self.state == "up" and self.dialog is not None:
            bye = self.dialog.new_request("BYE", sent_by=self.phone.sent_by,
                                          branch=new_branch(self.phone.rng))
            self._end("hangup")
            return await self.phone.request(bye)
        if not self.incoming and self.state in ("calling", "ringing"):
            return await self.cancel()
        if self.incoming and self.state == "ringing":
            self.reject(603)
        return None

    async def cancel(self, within: float = WAIT_S) -> Response:
        """CANCEL our ringing call; returns the INVITE's final response (487 expected)."""
        tx = self.phone.transaction_of(self.invite)
        if tx is not None:
            self.phone.run(self.phone.layer.cancel(tx, self.phone.now()))  # type: ignore[arg-type]
        return await self.final(within)

    async def hold(self) -> Response | None:
        """re-INVITE with a=sendonly (RFC 3264 §8.4); the 200 carries the box's answer."""
        return await self.reinvite(Direction.SENDONLY)

    async def resume(self) -> Response | None:
        return await self.reinvite(Direction.SENDRECV)

    async def reinvite(self, direction: Direction) -> Response | None:
        assert self.dialog is not None, "no dialog yet"
        self._version += 1
        offer = self._offer(direction)
        request = self.dialog.new_request(
            "INVITE", body=bytes(offer), content_type="application/sdp",
            sent_by=self.phone.sent_by, branch=new_branch(self.phone.rng))
        response = await self.phone.request(
            request, on_response=lambda r: self._reinvite_answered(request, r))
        if response is not None and response.status < 300:
            answer = SessionDescription.parse(response.body)
            self._media_up(offer, answer, negotiated(offer, answer, we_offered=True))
        return response

    # -- transfer (RFC 3515, RFC 3891)

    async def refer(self, target: str, *, refer_sub: bool = True,
                    headers: list[tuple[str, str]] | None = None) -> Response | None:
        """The TRANSFER key, blind: REFER with Refer-To `target` (a number at the box, or a
        whole URI such as "sip:103@elsewhere.example"). The final response to it."""
        uri = parse_uri(target) if ":" in target else self.phone._box_uri(target)
        refer_to = str(ReferTo(uri))
        return await self.send_refer(refer_to, refer_sub=refer_sub, headers=headers)

    async def refer_replaces(self, other: Call, *, refer_sub: bool = True) -> Response | None:
        """The TRANSFER key, attended: REFER in this call to the party of `other` (the
        consult call), which the Replaces names (RFC 5589 §7)."""
        assert other.dialog is not None, "the consult call has no dialog"
        uri = parse_uri(str(other.dialog.remote_uri))
        return await self.send_refer(str(ReferTo(uri, other.replaces())), refer_sub=refer_sub)

    async def send_refer(self, refer_to: str, *, refer_sub: bool = True,
                         headers: list[tuple[str, str]] | None = None) -> Response | None:
        """REFER in this call with this Refer-To value, as it is."""
        assert self.dialog is not None, "no dialog yet"
        extra = [("Refer-To", refer_to), ("Referred-By", f"<{self.phone.aor}>"),
                 *(headers or [])]
        if not refer_sub:
            extra.append(("Refer-Sub", "false"))  # RFC 4488: no NOTIFY, please
        request = self.dialog.new_request("REFER", headers=extra, sent_by=self.phone.sent_by,
                                          branch=new_branch(self.phone.rng))
        return await self.phone.request(request)

    def replaces(self) -> Replaces:
        """The Replaces header that names this call's dialog to the box (RFC 3891 §3: the
        to-tag is the recipient's, the box's)."""
        assert self.dialog is not None and self.dialog.remote_tag and self.dialog.local_tag
        return Replaces(self.dialog.call_id, to_tag=self.dialog.remote_tag,
                        from_tag=self.dialog.local_tag)

    @property
    def sipfrags(self) -> list[SipFrag]:
        """What each NOTIFY of the box reported, in order."""
        return [SipFrag.parse(n.body) for n in self.notifies]

    async def notified(self, within: float = WAIT_S) -> SipFrag:
        """The sipfrag of the final NOTIFY (Subscription-State: terminated)."""
        final = await self.phone.until(
            lambda: next((n for n in self.notifies if (n.headers.get("Subscription-State")
                                                       or "").startswith("terminated")), None),
            within, f"final NOTIFY to {self.phone.user}")
        return SipFrag.parse(final.body)

    def _notified(self, request: Request, tx: ServerTransaction) -> None:
        assert self.dialog is not None
        if self.state != "up" or not self.dialog.accept_request(request):
            self.phone._answer(tx, make_response(request, 481))
            return
        self.notifies.append(request)
        self.phone._answer(tx, make_response(request, 200))

    def _updated(self, request: Request, tx: ServerTransaction) -> None:
        """An UPDATE: a P-Asserted-Identity in it is who the display shows from now on."""
        assert self.dialog is not None
        if not self.dialog.accept_request(request):
            self.phone._answer(tx, make_response(request, 500))
            return
        identity = request.headers.get("P-Asserted-Identity")
        if identity is not None:
            self.shown.append(NameAddr.parse(identity))
        self.phone._answer(tx, make_response(request, 200))

    def play_tone(self, hz: float | None) -> None:
        """Say a steady sine of `hz` into the call (None: silence)."""
        self.media.tone_hz = hz

    async def send_digits(self, digits: str, gap_ms: int = 100) -> None:
        """Key `digits` as RFC 4733 telephone-events, each 100 ms then `gap_ms` of audio."""
        seconds = self.media.key(digits, gap_ms // 20)
        await asyncio.sleep(seconds + 2 * FRAME_SECONDS)

    def recording(self, seconds: float | None = None) -> np.ndarray:
        """What the phone's earpiece got in the last `seconds` (all of it: None)."""
        return self.media.recording(seconds)

    def heard_hz(self, seconds: float = 1.0) -> float:
        return dominant_hz(self.recording(seconds))

    def heard_dtmf(self, seconds: float | None = None) -> str:
        """DTMF tones in the received audio (in-band), as a string of keys."""
        return "".join(DtmfDetector().feed(self.recording(seconds)))

    @property
    def received_digits(self) -> str:
        """Digits received as RFC 4733 telephone-events."""
        return self.media.digits

    # -- the phone's side of the signalling

    def _offer(self, direction: Direction = Direction.SENDRECV) -> SessionDescription:
        offer = make_offer(self.media.sdp_host, self.media.port, direction=direction,
                           session_id=self._session, version=self._version)
        self.media.offered(offer)
        return offer

    def _media_up(self, ours: SessionDescription, theirs: SessionDescription,
                  agreed: Negotiated) -> None:
        self.local_sdp, self.remote_sdp = ours, theirs
        self.media.offered(ours)
        self.media.start(agreed)

    def _final(self) -> Response | None:
        finals = [r for r in self.responses if r.status >= 200]
        if finals and finals[-1].status in (401, 407) and self._authenticated and \
                finals[-1].cseq.number < self.invite.cseq.number:
            return None  # the challenge was answered with a new INVITE
        return finals[-1] if finals else None

    def invite_answered(self, response: Response) -> None:
        """A response to our INVITE (every copy of a 2xx comes here and is ACKed)."""
        self.responses.append(response)
        status = response.status
        if status in (401, 407) and not self._authenticated and self.phone.password:
            self._authenticated = True
            self.invite = self.phone.authorized(self.invite, response)
            self.phone.request_nowait(self.invite, on_response=self.invite_answered)
            return
        if 101 <= status < 300 and response.to_tag is not None:
            if self.dialog is None:
                self.dialog = Dialog.from_uac(self.invite, response)
            else:
                self.dialog.receive_response(response)
        if status < 200:
            self.state = "ringing" if status > 100 else self.state
        elif status < 300:
            self._acknowledge(self.invite, response)
            if self.state != "up":
                self.state = "up"
                offer = SessionDescription.parse(self.invite.body)
                answer = SessionDescription.parse(response.body)
                self._media_up(offer, answer, negotiated(offer, answer, we_offered=True))
        else:
            self._end(str(status))

    def _reinvite_answered(self, request: Request, response: Response) -> None:
        assert self.dialog is not None
        self.dialog.receive_response(response)
        if 200 <= response.status < 300:
            self._acknowledge(request, response)  # every copy of the 2xx (§13.2.2.4)

    def _acknowledge(self, invite: Request, response: Response) -> None:
        assert self.dialog is not None
        ack = make_ack_for_2xx(self.dialog, invite, sent_by=self.phone.sent_by,
                               branch=new_branch(self.phone.rng))
        self.phone.send_datagram(bytes(ack))

    def _reinvited(self, request: Request, tx: ServerTransaction) -> None:
        """A re-INVITE from the box (it holds, resumes, moves its media): answered in kind."""
        assert self.dialog is not None
        self.dialog.accept_request(request)
        offer = SessionDescription.parse(request.body)
        self._version += 1
        answer = make_answer(offer, self.media.sdp_host, self.media.port,
                             session_id=self._session, version=self._version)
        self._media_up(answer, offer, negotiated(offer, answer, we_offered=False))
        response = self._response(200, answer, request)
        self.phone.run(self.phone.layer.respond(tx, response, self.phone.now()))

    def _response(self, status: int, sdp: SessionDescription | None = None,
                  request: Request | None = None) -> Response:
        response = make_response(request or self.invite, status, to_tag=self._tag)
        response.headers.add("Contact", self.phone.contact)
        if self.phone.allow and status == 200:
            response.headers.add("Allow", self.phone.allow)
        if sdp is not None:
            response.headers.add("Content-Type", "application/sdp")
            response.body = bytes(sdp)
        return response

    def _respond(self, status: int) -> None:
        self._send_response(self._response(status))

    def _send_response(self, response: Response) -> None:
        assert self.server_tx is not None
        self.phone.run(self.phone.layer.respond(self.server_tx, response, self.phone.now()))

    def _end(self, why: str) -> None:
        if self.ended_by is None:
            self.ended_by = why
        self.state = "ended"
        self.media.close()


# ---------------------------------------------------------------------------------------------
# The phone


class Subscription:
    """An event subscription of the phone's (RFC 6665), e.g. to its mailbox's message
    summary: the box's NOTIFYs in it, answered 200 while it lasts."""

    def __init__(self, phone: SipPhone, request: Request) -> None:
        self.phone = phone
        self.request = request  # the SUBSCRIBE that made it (after any 401)
        self.dialog: Dialog | None = None
        self.notifies: list[Request] = []
        self.answer = 200  # what the phone answers NOTIFYs with (481: it forgot it)

    async def notified(self, count: int = 1, within: float = WAIT_S) -> Request:
        """The `count`th NOTIFY received in this subscription."""
        return await self.phone.until(
            lambda: self.notifies[count - 1] if len(self.notifies) >= count else None,
            within, f"NOTIFY number {count} to {self.phone.user}")

    async def refresh(self, expires: int = 3600) -> Response | None:
        """SUBSCRIBE again in the dialog (Expires: 0 ends the subscription)."""
        assert self.dialog is not None
        request = self.dialog.new_request(
            "SUBSCRIBE", headers=[("Event", self.request.headers.get("Event") or ""),
                                  ("Expires", str(expires))],
            sent_by=self.phone.sent_by, branch=new_branch(self.phone.rng))
        return await self.phone.request(request)

    def _notified(self, request: Request, tx: ServerTransaction) -> None:
        if self.dialog is not None and not self.dialog.accept_request(request):
            self.phone._answer(tx, make_response(request, 500))
            return
        if self.answer == 200:
            self.notifies.append(request)
        self.phone._answer(tx, make_response(request, self.answer))


@dataclass
class _Exchange:
    """A request we sent on a client transaction, and what came back."""

    request: Request
    on_response: Callable[[Response], None] | None = None
    responses: list[Response] = field(default_factory=list)
    done: bool = False  # a final response came, or the transaction gave up


class SipPhone:
    """A SIP phone registered (or not) as `user`, talking to the box at `box`."""

    def __init__(self, box: Address, user: str, password: str | None = None, *,
                 host: str = "127.0.0.1", domain: str | None = None,
                 private_host: str | None = None, allow: str | None = None) -> None:
        """A phone with its SIP socket on `host` (each 127.x.y.z is a source of its own).

        `allow`: the Allow header of its INVITEs and 200s (a desk phone says it takes UPDATE).

        `domain`: the host of its SIP URIs (To, From, Request-URIs), else the box's address.
        `private_host`: the phone is behind NAT and believes this is its address: its Via,
        Contact (port 5060) and SDP say so, while its packets come from `host`."""
        self.box = box
        self.user = user
        self.password = password
        self.host = host
        self.domain = domain
        self.private_host = private_host
        self.allow = allow
        self._sip = _UdpSocket(host, self._datagram)
        self.port = self._sip.port
        claimed = f"{private_host}:5060" if private_host else f"{host}:{self.port}"
        self.sent_by = claimed
        self.contact = f"<sip:{user}@{claimed}>"
        self.offline = False  # True: whatever arrives is lost (unplugged, off the network)
        self.layer = TransactionLayer()
        self.rng = random.Random(f"{user}@{host}#{next(_numbers)}")
        self.received: list[Request | Response] = []  # every SIP message, in order
        self.unparsed: list[bytes] = []  # datagrams that are not SIP
        self.calls: list[Call] = []
        self.subscriptions: list[Subscription] = []
        self._loop = asyncio.get_running_loop()
        self._timer = DeadlineTimer(self._loop, self._on_timer)
        self._changed = asyncio.Event()
        self._exchanges: dict[ClientTransaction, _Exchange] = {}
        self._incoming: asyncio.Queue[Call] = asyncio.Queue()
        self._register_call_id = self._token() + f"@{host}"
        self._cseq = itertools.count(1)

    async def close(self) -> None:
        for call in self.calls:
            call.media.close()
        self._timer.cancel()
        self._sip.close()

    async def __aenter__(self) -> SipPhone:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.close()

    def now(self) -> float:
        return self._loop.time()

    # -- what a person does

    async def register(self, *, password: str | None = None, expires: int = 3600,
                       authenticate: bool = True) -> Response | None:
        """REGISTER, answering a 401 with digest credentials unless `authenticate` is False.
        The final response, or None when the box did not answer at all."""
        password = self.password if password is None else password
        request = self._request("REGISTER", self._box_uri(),
                                NameAddr(uri=self.aor), call_id=self._register_call_id,
                                headers=[("Expires", str(expires))])
        response = await self.request(request)
        if response is None or response.status not in (401, 407) or not authenticate \
                or password is None:
            return response
        return await self.request(self.authorized(request, response, password))

    async def options(self) -> Response | None:
        """OPTIONS to the box (what a phone sends to see whether it is there)."""
        return await self.request(self._request("OPTIONS", self._box_uri(),
                                                NameAddr(uri=self._box_uri())))

    async def call(self, number: str, *,
                   headers: list[tuple[str, str]] | None = None) -> Call:
        """Send an INVITE with an SDP offer to `number` (a 401 is answered by itself);
        `headers` are added (a Replaces, say)."""
        uri = self._box_uri(number)
        call = Call(self, CallMedia(self.host, self.private_host), Request("INVITE", uri),
                    incoming=False)
        offer = call._offer()  # the INVITE needs the call's SDP ids and tag: built second
        call.invite = self._request("INVITE", uri, NameAddr(uri=uri), from_tag=call._tag,
                                    headers=[("Content-Type", "application/sdp"),
                                             *([("Allow", self.allow)] if self.allow else []),
                                             *(headers or [])],
                                    body=bytes(offer))
        self.calls.append(call)
        self.request_nowait(call.invite, on_response=call.invite_answered)
        return call

    async def subscribe(self, *, user: str | None = None, event: str = "message-summary",
                        expires: int = 3600) -> tuple[Response | None, Subscription]:
        """SUBSCRIBE to `event` of `user` (its own by default; a 401 is answered); the
        final response, and the subscription that NOTIFYs arrive in."""
        uri = self._box_uri(user or self.user)
        request = self._request("SUBSCRIBE", uri, NameAddr(uri=uri), headers=[
            ("Event", event), ("Expires", str(expires)),
            ("Accept", "application/simple-message-summary")])
        subscription = Subscription(self, request)
        self.subscriptions.append(subscription)
        response = await self.request(request)
        if response is not None and response.status == 401 and self.password is not None:
            subscription.request = request = self.authorized(request, response)
            response = await self.request(request)
        if response is not None and response.status == 200 and response.to_tag:
            subscription.dialog = Dialog.from_uac(request, response)
        return response, subscription

    async def wait_incoming(self, within: float = WAIT_S) -> Call:
        try:
            return await asyncio.wait_for(self._incoming.get(), within)
        except TimeoutError:
            raise PhoneTimeout(f"{self.user} was not called within {within} s") from None

    def send_datagram(self, data: bytes, dest: Address | None = None) -> None:
        """Put raw bytes on the wire to the box (for bad-input tests)."""
        self._sip.sendto(data, dest or self.box)

    # -- waiting

    async def until(self, check: Callable[[], T | None], within: float = WAIT_S,
                    what: str = "it") -> T:
        """Wait until `check()` gives something other than None/False, in loop time."""
        deadline = self.now() + within
        while not (result := check()):
            remaining = deadline - self.now()
            if remaining <= 0:
                raise PhoneTimeout(f"no {what} within {within} s")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), remaining)
        return result

    async def message(self, check: Callable[[Request | Response], bool],
                      within: float = WAIT_S) -> Request | Response:
        """The first SIP message received that passes `check`."""
        return await self.until(lambda: next((m for m in self.received if check(m)), None),
                                within, "such SIP message")

    # -- requests on client transactions

    async def request(self, request: Request, *,
                      on_response: Callable[[Response], None] | None = None
                      ) -> Response | None:
        """Send `request`; its final response, or None if none came (Timer F: 32 s)."""
        exchange = self.request_nowait(request, on_response=on_response)
        await self.until(lambda: exchange.done, NO_ANSWER_S, f"answer to {request.method}")
        finals = [r for r in exchange.responses if r.status >= 200]
        return finals[0] if finals else None

    def request_nowait(self, request: Request, *,
                       on_response: Callable[[Response], None] | None = None) -> _Exchange:
        tx, actions = self.layer.send_request(request, self.box, False, self.now())
        exchange = self._exchanges[tx] = _Exchange(request, on_response)
        self.run(actions)
        return exchange

    def transaction_of(self, request: Request) -> ClientTransaction | None:
        return next((tx for tx, ex in self._exchanges.items() if ex.request is request), None)

    @property
    def aor(self) -> SipUri:
        return SipUri(host=self.domain or self.box[0], user=self.user)

    def _box_uri(self, user: str | None = None) -> SipUri:
        if self.domain is not None:
            return SipUri(host=self.domain, user=user)
        return SipUri(host=self.box[0], port=self.box[1], user=user)

    def authorized(self, request: Request, challenge: Response,
                   password: str | None = None) -> Request:
        """`request` again, with credentials for `challenge`: a new branch and CSeq."""
        name = "Proxy" if challenge.status == 407 else "WWW"
        chosen = select_challenge(challenge.headers.get_all(f"{name}-Authenticate"))
        credentials = client_credentials(chosen, request.method, str(request.uri), self.user,
                                         password or self.password or "",
                                         cnonce=self._token())
        headers = request.headers.copy()
        headers.set("Via", self._via())
        headers.set("CSeq", f"{next(self._cseq)} {request.method}")
        headers.set("Proxy-Authorization" if name == "Proxy" else "Authorization",
                    credentials.header_value())
        return Request(request.method, request.uri, headers, request.body)

    def _request(self, method: str, uri: SipUri, to: NameAddr, *, call_id: str | None = None,
                 from_tag: str | None = None, headers: list[tuple[str, str]] | None = None,
                 body: bytes = b"") -> Request:
        tag = from_tag or self._token()
        return Request(method, uri, Headers([
            ("Via", self._via()),
            ("Max-Forwards", "70"),
            ("From", str(NameAddr(uri=self.aor).with_tag(tag))),
            ("To", str(to)),
            ("Call-ID", call_id or f"{self._token()}@{self.host}"),
            ("CSeq", f"{next(self._cseq)} {method}"),
            ("Contact", self.contact),
            ("User-Agent", "tests.sipphone"),
            *(headers or []),
        ]), body)

    def _via(self) -> str:
        return f"SIP/2.0/UDP {self.sent_by};branch={new_branch(self.rng)};rport"

    def _token(self) -> str:
        return f"{self.rng.getrandbits(64):016x}"

    # -- the wire and the transaction layer

    def _datagram(self, data: bytes, source: Address) -> None:
        if self.offline:
            return
        try:
            message = parse_message(data)
        except ParseError:
            self.unparsed.append(data)
        else:
            self.received.append(message)
            self.run(self.layer.receive(message, source, self.now()))
        self._wake()

    def _wake(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    def run(self, actions: list[Action]) -> None:
        for action in actions:
            if isinstance(action, Send):
                self._sip.sendto(bytes(action.message), action.dest)  # type: ignore[arg-type]
            elif isinstance(action, ResponseReceived):
                self._response(action.transaction, action.response)
            elif isinstance(action, RequestReceived):
                self._incoming_request(action.request, action.source)  # type: ignore[arg-type]
            elif isinstance(action, Terminated):
                exchange = self._exchanges.pop(action.transaction, None)  # type: ignore[arg-type]
                if exchange is not None:
                    exchange.done = True
        self._timer.follow(self.layer.next_deadline())

    def _on_timer(self) -> None:
        self.run(self.layer.on_timer(self.now()))
        self._wake()

    def _response(self, tx: ClientTransaction, response: Response) -> None:
        exchange = self._exchanges.get(tx)
        if exchange is None:
            return  # e.g. the 200 for a CANCEL: the INVITE's 487 is what counts
        exchange.responses.append(response)
        if response.status >= 200:
            exchange.done = True
        if exchange.on_response is not None:
            exchange.on_response(response)

    def _incoming_request(self, request: Request, source: Address) -> None:
        call = next((c for c in self.calls if c.invite.call_id == request.call_id), None)
        if request.method == "ACK":
            if call is not None:
                call.acked = True
            return
        tx = self.layer.create_server(request, source, self.now())
        if request.method == "INVITE" and request.to_tag is None:
            self._new_call(request, tx)  # type: ignore[arg-type]
        elif request.method == "CANCEL":
            self._cancelled(request, tx, call)
        elif request.method == "INVITE" and call is not None and call.dialog is not None:
            call._reinvited(request, tx)
        elif request.method == "BYE" and call is not None and call.dialog is not None:
            call.dialog.accept_request(request)
            self._answer(tx, make_response(request, 200))
            call._end("bye")
        elif request.method == "NOTIFY" and call is not None and call.dialog is not None:
            call._notified(request, tx)
        elif request.method == "NOTIFY" and (subscription := next(
                (s for s in self.subscriptions if s.request.call_id == request.call_id
                 and s.request.from_tag == request.to_tag), None)) is not None:
            subscription._notified(request, tx)
        elif request.method == "UPDATE" and call is not None and call.dialog is not None \
                and self.allow and "UPDATE" in self.allow:
            call._updated(request, tx)
        elif request.method == "OPTIONS":
            self._answer(tx, make_response(request, 200, headers=[("Allow", "INVITE, ACK, "
                                                                    "CANCEL, BYE, OPTIONS")]))
        else:
            self._answer(tx, make_response(request, 481 if request.to_tag else 501))

    def _new_call(self, request: Request, tx: ServerInviteTransaction) -> None:
        call = Call(self, CallMedia(self.host, self.private_host), request, incoming=True)
        call.server_tx = tx
        self.calls.append(call)
        self._incoming.put_nowait(call)

    def _cancelled(self, cancel: Request, tx: ServerTransaction, call: Call | None) -> None:
        invite_tx = self.layer.find_invite_server(cancel)
        if call is None or invite_tx is None or call.state != "ringing":
            self._answer(tx, make_response(cancel, 481))
            return
        self._answer(tx, make_response(cancel, 200))
        call._respond(487)
        call._end("cancel")

    def _answer(self, tx: ServerTransaction, response: Response) -> None:
        if response.to_tag is None and response.status > 100:
            response.headers.set("To", str(response.to.with_tag(self._token())))
        self.run(self.layer.respond(tx, response, self.now()))
