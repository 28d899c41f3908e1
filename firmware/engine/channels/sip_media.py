"""The audio of one SIP leg when the box decodes it (bridged to an analog line, a prompt).

Incoming RTP: audio payloads go into a jitter buffer, RFC 4733 telephone-events into their
receiver (a digit becomes DTMF tones in the audio handed on, so an analog phone hears it).
Outgoing: one G.711 packet per 20 ms tick; a digit to send replaces the audio with its
telephone-event packets for the event's length (RFC 4733 §2.5).
Legs that share a codec with the other side are not decoded at all: see
`firmware.engine.bridges.relay`. Their telephone-events are still read (`watch_relayed_events`):
each key goes to the in-call codes once, at the first packet of its event, and the packets
of a key a code took are kept back from the other phone.
"""

from __future__ import annotations

import asyncio
import random
from collections import deque
from collections.abc import Callable

from firmware.media.dtmf import DtmfGenerator
from firmware.media.dtmf_events import (
    DigitEvent,
    DigitStarted,
    DtmfEventReceiver,
    DtmfEventSender,
)
from firmware.media.errors import MediaError
from firmware.media.frames import FRAME_SAMPLES, Frame, silence
from firmware.media.g711 import alaw_decode, alaw_encode, ulaw_decode, ulaw_encode
from firmware.media.jitter import JitterBuffer
from firmware.media.player import SamplePlayer
from firmware.media.rtp import RtpPacket, RtpSender
from firmware.media.session import RtpSession
from firmware.media.splice import StreamSplice, continuation
from firmware.sip.offer_answer import Negotiated

CODECS: dict[str, tuple[Callable[[bytes], Frame], Callable[[Frame], bytes]]] = {
    "PCMU": (ulaw_decode, ulaw_encode),
    "PCMA": (alaw_decode, alaw_encode),
}


class SipMedia:
    def __init__(self, session: RtpSession, rng: random.Random | None = None) -> None:
        self.session = session
        self._now = asyncio.get_running_loop().time
        self._rng = rng or random.Random()
        self.negotiated: Negotiated | None = None
        self._decode: Callable[[bytes], Frame] | None = None
        self._encode: Callable[[Frame], bytes] | None = None
        self._sender: RtpSender | None = None
        self._jitter = JitterBuffer()
        self._events = DtmfEventReceiver()
        self._event_out: deque[bytes] = deque()
        self._tone: SamplePlayer | None = None
        self.on_digit: Callable[[str], None] | None = None
        self._on_relayed_key: Callable[[str], bool] | None = None
        self._kept: deque[int] = deque(maxlen=8)  # RTP timestamps of events kept back
        session.on_packet = self._on_packet

    @property
    def codec_name(self) -> str | None:
        return self.negotiated.codec.name if self.negotiated else None

    def start(self, negotiated: Negotiated) -> None:
        """Media as agreed by offer/answer (again after a re-INVITE)."""
        self.negotiated = negotiated
        self._decode, self._encode = CODECS[negotiated.codec.name]
        if self._sender is None or self._sender.payload_type != negotiated.codec.payload_type:
            self._sender = RtpSender.with_random_start(negotiated.codec.payload_type, self._rng)
        self.session.set_remote(negotiated.remote_address, negotiated.remote_port)

    def take_over_stream(self) -> None:
        """The box makes this leg's packets from now on, after a relay: go on with the
        stream the phone was hearing (`firmware.media.splice`)."""
        session, n = self.session, self.negotiated
        last, session.last_out, session.splice = session.last_out, None, None
        going_on = continuation(last) if last is not None else None
        if going_on is not None and n is not None:
            self._sender = RtpSender(going_on[0], n.codec.payload_type, *going_on[1:])

    def hand_over_stream(self) -> None:
        """Packets relayed from the other phone go to this leg's phone from now on: if
        the box sent it packets of its own, the relayed ones continue that stream."""
        sender = self._sender
        if sender is not None and sender.packets:
            self.session.splice = StreamSplice(sender.ssrc, sender.sequence, sender.timestamp)

    def capture(self) -> Frame | None:
        """The next 20 ms from the peer, or None when there is nothing to play."""
        for digit in self._events.poll(self._now()):
            self._heard_digit(digit)
        tone = self._tone
        if tone is not None:
            frame = tone.next_frame()
            if tone.finished:
                self._tone = None
            return frame
        payload = self._jitter.get()
        if payload is None or self._decode is None:
            return None
        try:
            return self._decode(payload)
        except MediaError:
            return None

    def send(self, frame: Frame | None) -> None:
        """Send one tick's worth: a pending telephone-event packet, else audio."""
        sender, encode = self._sender, self._encode
        if sender is None or encode is None or not self._may_send():
            return
        if self._event_out:
            self.session.send(self._event_out.popleft())
            return
        self.session.send(sender.packet(encode(silence() if frame is None else frame),
                                        FRAME_SAMPLES))

    def send_digit(self, key: str) -> None:
        """Send `key` as RFC 4733 events if the peer takes them, else as in-band tones."""
        n = self.negotiated
        if n is None or self._sender is None:
            return
        if n.dtmf_payload_type is None:
            return  # in-band: the DTMF already travels in the audio
        for _due, datagram in DtmfEventSender().rtp_packets(key, self._sender,
                                                              n.dtmf_payload_type):
            self._event_out.append(datagram)

    def close(self) -> None:
        self.session.close()

    def _may_send(self) -> bool:
        n = self.negotiated
        return n is not None and n.direction.sends

    def _on_packet(self, data: bytes, arrival: float) -> None:
        n = self.negotiated
        if n is None:
            return
        try:
            packet = RtpPacket.parse(data)
        except MediaError:
            return  # garbage on the RTP port: dropped, counted by the session
        if packet.payload_type == n.dtmf_payload_type:
            for digit in self._events.feed_packet(packet, arrival):
                self._heard_digit(digit)
        elif packet.payload_type == n.codec.payload_type:
            self._jitter.put(packet, arrival)

    def watch_relayed_events(self, on_key: Callable[[str], bool] | None) -> None:
        """While relayed: the phone's telephone-events are shown to the box first; each key
        goes to `on_key` once, which says whether to keep the event from the other phone
        (None: stop watching)."""
        n = self.negotiated
        pt = n.dtmf_payload_type if n is not None and on_key is not None else None
        self._on_relayed_key = on_key
        self.session.event_pt = -1 if pt is None else pt
        self.session.on_event = None if pt is None else self._relayed_event

    def _relayed_event(self, data: bytes, arrival: float) -> bool:
        """One telephone-event packet passing the relay; True: do not relay it."""
        on_key = self._on_relayed_key
        try:
            packet = RtpPacket.parse(data)
            events = self._events.feed_packet(packet, arrival)
        except MediaError:
            return False  # not ours to judge: relayed as it came
        for event in events:
            # A key counts at its event's first packet (the receiver reports that once):
            # deciding then keeps every packet of a code's key from the other phone.
            if isinstance(event, DigitStarted) and on_key is not None and on_key(event.key):
                self._kept.append(event.timestamp)
        return packet.timestamp in self._kept

    def play_digit(self, key: str) -> None:
        """Put `key` into the audio handed on, as DTMF tones (for an analog phone)."""
        self._tone = SamplePlayer(DtmfGenerator().samples(key))

    def _heard_digit(self, event: DigitEvent) -> None:
        if isinstance(event, DigitStarted) and self.on_digit is not None:
            self.on_digit(event.key)  # acted on at its start; its end changes nothing
