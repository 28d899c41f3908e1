"""The relay fast path: two SIP legs with the same codec exchange RTP without decoding.

Each leg's RTP session forwards what its phone sends to the other phone, inside the socket
callback (`RtpSession.relay`): no frames, no media clock, no per-packet objects. Packets are
passed as they are, so both legs must agree on the payload type numbers each phone expects
(codec and telephone-event): the number phone A sends with is the one its SDP exchange with
the box settled, which must be what phone B asked to receive.
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
    relays = True

    def __init__(self, a: Channel, b: Channel) -> None:
        self.a, self.b = a, b
        a.bridge = b.bridge = self
        for ch in (a, b):
            ch.media_down()  # type: ignore[attr-defined]
        a.media.session.relay(b.media.session)  # type: ignore[attr-defined]
        b.media.session.relay(a.media.session)  # type: ignore[attr-defined]
        call_event("bridge", a=a.name, b=b.name, kind="relay")

    def other(self, channel: Channel) -> Channel:
        return self.b if channel is self.a else self.a

    def forward(self, source: Channel, frame: Frame) -> None:
        """Relayed legs are off the media clock; nothing arrives here."""

    def dissolve(self) -> None:
        for ch in (self.a, self.b):
            ch.media.session.relay(None)  # type: ignore[attr-defined]
            if ch.bridge is self:
                ch.bridge = None
