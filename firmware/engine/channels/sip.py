"""A SIP leg as a channel: a phone that called the box, or a phone the box calls.

Signalling goes through the engine's user agent (`firmware.engine.sipua`); this module
maps the channel's life onto it:

    inbound (the phone called)          outbound (the box calls the phone)
    indicate("ringback") -> 180         ring() -> INVITE with our offer
    accept()             -> 200 + SDP   2xx -> ACK, answer()
    hangup before 200    -> 4xx/5xx     hangup before 2xx -> CANCEL
    hangup after 200     -> BYE         hangup after 2xx  -> BYE
    phone's CANCEL / BYE -> device_hangup()
    phone's REFER        -> a transfer (`firmware.engine.refer`); the leg ends on the
                            phone's BYE after the final NOTIFY, or the box's

Call-progress tones are the phone's own business: a SIP phone plays ringback on 180 and
shows busy on 486, so `indicate` plays nothing.
"""

from __future__ import annotations

import asyncio
import itertools
from typing import TYPE_CHECKING

from firmware.engine.channel import Cause, Channel, ChannelState, Party
from firmware.engine.channels.sip_media import SipMedia
from firmware.engine.features.incall import in_call_key
from firmware.logs import call_event
from firmware.media.frames import Frame
from firmware.media.music import HoldMusic
from firmware.sip.dialog import Dialog, DialogState
from firmware.sip.message import Request
from firmware.sip.sdp import SessionDescription
from firmware.sip.transaction import ClientInviteTransaction, ServerInviteTransaction
from firmware.sip.transport import Address

if TYPE_CHECKING:
    from firmware.engine.sipua import SipUserAgent

# What a caller's phone is told when its call attempt fails, by cause (RFC 3261 §21).
STATUS_FOR_CAUSE = {
    Cause.USER_BUSY: 486,
    Cause.UNALLOCATED_NUMBER: 404,
    Cause.NO_ANSWER: 480,
    Cause.CONGESTION: 503,
    Cause.CALL_BARRED: 403,
    Cause.FAILURE: 500,
    Cause.ANSWERED_ELSEWHERE: 487,
    Cause.NORMAL_CLEARING: 487,
}


def cause_for_status(status: int) -> Cause:
    """Why a call the box placed failed, from the phone's final response."""
    if status in (486, 600):
        return Cause.USER_BUSY
    if status == 403:
        return Cause.CALL_BARRED
    if status in (404, 484, 604):
        return Cause.UNALLOCATED_NUMBER
    if status in (408, 480, 603):
        return Cause.NO_ANSWER
    if status == 487:
        return Cause.NORMAL_CLEARING
    if status >= 500:
        return Cause.CONGESTION
    return Cause.FAILURE


_numbers = itertools.count(1)


class SipChannel(Channel):
    def __init__(self, ua: SipUserAgent, party: Party, media: SipMedia, peer: Address,
                 *, inbound: bool, label: str) -> None:
        super().__init__(f"sip:{label}/{next(_numbers)}", party)
        self.ua = ua
        self.media = media
        self.peer = peer
        self.inbound = inbound
        self.invite: Request | None = None
        self.server_tx: ServerInviteTransaction | None = None
        self.client_tx: ClientInviteTransaction | None = None
        self.offer: SessionDescription | None = None  # ours, when we call out
        self.answer_sdp: SessionDescription | None = None  # ours, when called
        self.sdp_session: tuple[int, int] | None = None  # our o= session id and version
        self.local_tag = ""
        self.dialog: Dialog | None = None
        self.peer_frame: Frame | None = None
        self._final_sent = False
        self.held = False  # the phone put the call on hold (re-INVITE sendonly/inactive)
        # A REFER moved this call elsewhere: the phone hangs up after the final NOTIFY,
        # so the box keeps the dialog until then (`firmware.engine.refer`).
        self.transferred = False
        self.early = asyncio.Event()  # outbound: the far end sends audio before answering
        self.peer_allows: frozenset[str] = frozenset()  # the phone's Allow, once answered
        self._music: HoldMusic | None = None
        self._ringing_sent = False
        media.on_digit = self._digit_from_phone

    @property
    def final_sent(self) -> bool:
        """A call to the box got its final response (or is over): no longer being set up."""
        return self._final_sent

    @final_sent.setter
    def final_sent(self, sent: bool) -> None:
        self._final_sent = sent
        if sent:
            self.ua.unanswered.discard(self)

    # -- engine side -----------------------------------------------------------------

    def indicate(self, tone: str | None) -> None:
        if tone == "ringback" and self.inbound and not self._ringing_sent and \
                not self.final_sent:
            self._ringing_sent = True
            self.ua.provisional(self, 180)

    def progress(self) -> None:
        if self.inbound and not self.final_sent and self.state is not ChannelState.GONE:
            self.ua.provisional(self, 183)

    def accept(self) -> None:
        if self.inbound and not self.final_sent and self.state is not ChannelState.GONE:
            self.ua.accept_call(self)
            self.state = ChannelState.UP
            self.answered.set()

    def ring(self, caller: Party) -> None:
        self.state = ChannelState.RINGING
        self.ua.invite(self, caller)

    def deliver(self, frame: Frame) -> None:
        self.peer_frame = frame

    def show_connected(self, party: Party) -> None:
        dialog = self.dialog
        if "UPDATE" in self.peer_allows and dialog is not None and \
                dialog.state is DialogState.CONFIRMED and not self.gone.is_set():
            self.ua.show_identity(self, party)

    def send_digit(self, key: str) -> None:
        """A digit pressed on the other side of the bridge, for this phone."""
        self.media.send_digit(key)

    def _release(self, cause: Cause) -> None:
        self.media_down()
        self.ua.release(self, cause)
        self._close_media()

    # -- device side -------------------------------------------------------------------

    def answered_by_phone(self) -> None:
        self.answer()

    def gone_by_phone(self, cause: Cause) -> None:
        if self.state is ChannelState.GONE:
            return  # the box had released it (a transfer waits for the phone's BYE)
        self.media_down()
        self.device_hangup(cause)
        self._close_media()

    def _close_media(self) -> None:
        self.ua.unanswered.discard(self)
        session = self.media.session
        call_event("rtp", channel=self.name, received=session.received, sent=session.sent,
                   dropped=session.dropped)
        self.media.close()

    # -- media -----------------------------------------------------------------------

    def media_up(self) -> None:
        """Decode and send on the media clock. Called by a bridge that decodes; a relay
        bridge that switches between relaying and decoding keeps each phone's RTP stream
        one stream (`firmware.media.splice`)."""
        if self.state is not ChannelState.GONE and not self.relayed:
            self.ua.engine.clock.add(self)

    def media_down(self) -> None:
        self.ua.engine.clock.discard(self)

    @property
    def relayed(self) -> bool:
        return self.bridge is not None and getattr(self.bridge, "relays", False)

    def set_held(self, held: bool) -> None:
        """The phone holds (or resumes): the other party hears hold music meanwhile. Called
        after every re-INVITE: a relay bridge checks whether it may still relay."""
        if held != self.held:
            self.held = held
            self._music = self.ua.engine.hold_music() if held else None
            call_event("hold" if held else "resume", channel=self.name)
        update = getattr(self.bridge, "update", None)
        if update is not None:
            update()

    def capture(self) -> None:
        frame = self.media.capture()
        if self._music is not None:
            frame = self._music.next_frame()  # what a held call "says" to the other side
        bridge = self.bridge
        if frame is not None and bridge is not None:
            bridge.forward(self, frame)

    def render(self) -> None:
        frame, self.peer_frame = self.peer_frame, None
        self.media.send(frame)

    def crashed(self, exc: BaseException) -> None:
        self.hangup(Cause.FAILURE)

    def relayed_key(self, key: str) -> bool:
        """A key the phone sent in a relayed call (`bridges.relay`); True if a transfer
        code took it, so that its packets are not relayed."""
        return in_call_key(self.ua.engine, self, key)

    def _digit_from_phone(self, key: str) -> None:
        """A digit the phone sent as an RFC 4733 event: on to a SIP peer as an event, to an
        analog phone as tones in the audio; the keys of a transfer code stay here, and an
        application that listens (a menu) takes them all."""
        if self.key_pressed(key) or in_call_key(self.ua.engine, self, key):
            return
        bridge = self.bridge
        if bridge is None:
            return
        send = getattr(bridge.other(self), "send_digit", None)
        if send is not None:
            send(key)
        else:
            self.media.play_digit(key)
