"""The relay fast path: two SIP legs with the same codec exchange RTP without decoding.

Each leg's RTP session forwards what its phone sends to the other phone, inside the socket
callback (`RtpSession.relay`): no frames, no media clock, no per-packet objects. Packets are
passed as they are, so both legs must agree on the payload type numbers each phone expects
(codec and telephone-event): the number phone A sends with is the one its SDP exchange with
the box settled, which must be what phone B asked to receive.

Keys pressed in a relayed call still reach the in-call codes (`features.incall`: `##` and
`*2` transfers): each session shows the box its phone's telephone-event packets (a byte
compare of the payload type per packet, `RtpSession.event_pt`), the leg's media decodes
them and hands each key over once (`SipMedia.watch_relayed_events`); the packets of a key
a code took are not relayed, so the other phone never sees the code.

While either phone holds the call (or a re-INVITE leaves the two without a common codec)
the bridge decodes instead: both legs go on the media clock and frames pass as in a
`TwoPartyBridge`, so the other side hears the box's hold music and nothing is sent to a
phone that said it will not receive. When the hold ends the relay resumes. Each phone
hears one RTP stream throughout (`firmware.media.splice`).
"""

from __future__ import annotations

from typing import Any

from firmware.engine.channel import Channel
from firmware.logs import call_event
from firmware.media.frames import Frame


def _negotiated(channel: Channel) -> Any:
    media = getattr(channel, "media", None)
    return getattr(media, "negotiated", None)


def can_relay(a: Channel, b: Channel) -> bool:
    na, nb = _negotiated(a), _negotiated(b)
    if na is None or nb is None:
        return False
    return (na.codec.name == nb.codec.name and na.codec.payload_type == nb.codec.payload_type
            and na.dtmf_payload_type == nb.dtmf_payload_type)


class RelayBridge:
    def __init__(self, a: Channel, b: Channel) -> None:
        self.a, self.b = a, b
        a.bridge = b.bridge = self
        self.relays = not self._should_relay()  # so that update() sets the legs up
        self.update()
        call_event("bridge", a=a.name, b=b.name, kind="relay")

    def other(self, channel: Channel) -> Channel:
        return self.b if channel is self.a else self.a

    def update(self) -> None:
        """Relay or decode, as the legs now stand (after a hold, a resume, a re-INVITE)."""
        relay = self._should_relay()
        if relay == self.relays:
            if relay:
                self._watch_keys(True)  # a re-INVITE may have changed the event type
            return
        self.relays = relay
        a, b = self.a, self.b
        if relay:
            for ch in (a, b):
                ch.media_down()  # type: ignore[attr-defined]
                ch.media.hand_over_stream()  # type: ignore[attr-defined]
            a.media.session.relay(b.media.session)  # type: ignore[attr-defined]
            b.media.session.relay(a.media.session)  # type: ignore[attr-defined]
        else:
            for ch in (a, b):
                ch.media.session.relay(None)  # type: ignore[attr-defined]
                ch.media.take_over_stream()  # type: ignore[attr-defined]
                ch.media_up()  # type: ignore[attr-defined]
        self._watch_keys(relay)
        call_event("bridge-mode", a=a.name, b=b.name, kind="relay" if relay else "decoded")

    def _watch_keys(self, relay: bool) -> None:
        """Relayed, each leg's keys go to the codes from the event packets; decoded, the
        leg's media reads them as ever."""
        for ch in (self.a, self.b):
            on_key = getattr(ch, "relayed_key", None) if relay else None
            ch.media.watch_relayed_events(on_key)  # type: ignore[attr-defined]

    def _should_relay(self) -> bool:
        return can_relay(self.a, self.b) and not any(
            getattr(ch, "held", False) for ch in (self.a, self.b))

    def forward(self, source: Channel, frame: Frame) -> None:
        """While decoding: what `source` captured is the other leg's audio."""
        self.other(source).deliver(frame)

    def leave(self, channel: Channel) -> None:
        self.dissolve()

    def dissolve(self) -> None:
        self._watch_keys(False)
        for ch in (self.a, self.b):
            ch.media.session.relay(None)  # type: ignore[attr-defined]
            if ch.bridge is self:
                ch.bridge = None
