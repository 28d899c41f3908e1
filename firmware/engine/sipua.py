"""The box's SIP user agent: phones register here, call through here, and are called.

The one shell around the sans-I/O SIP stack: messages from the transport go through the
transaction layer; what comes out is sent, or handled here (REGISTER to the registrar,
OPTIONS answered, INVITE/CANCEL/BYE turned into channels and their ends, REFER to a
transfer: `firmware.engine.refer`, an INVITE with Replaces: `.replaces`). All the layer's
timers share one `call_at`. Every request from a phone must authenticate (digest, 401);
the realm is the configured domain, else the box's host name. Requests from a SIP trunk's
provider are known by their source (`firmware.engine.trunks`) and become trunk legs.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import random
import socket
from collections.abc import Callable
from typing import TYPE_CHECKING

from firmware.config import ExtensionConfig, SipConfig, TrunkConfig
from firmware.deadline import DeadlineTimer
from firmware.engine.channel import Cause, ChannelState, Party
from firmware.engine.channels.sip import STATUS_FOR_CAUSE, SipChannel, cause_for_status
from firmware.engine.channels.sip_media import SipMedia
from firmware.engine.channels.trunk import TrunkChannel
from firmware.engine.guard import Guard, GuardSettings
from firmware.engine.mwi_subscriptions import MwiSubscriptions
from firmware.engine.refer import Transfers
from firmware.engine.registrar import Binding, Registrar
from firmware.engine.replaces import replaced_leg, take_over
from firmware.engine.sipauth import Authenticator, Verdict
from firmware.engine.trunks import TrunkLink
from firmware.logs import call_event
from firmware.media.errors import MediaError
from firmware.media.session import RtpSession
from firmware.sip.auth import AuthError
from firmware.sip.dialog import Dialog, DialogState, make_ack_for_2xx
from firmware.sip.headers import Headers, NameAddr, Via
from firmware.sip.message import Request, Response, make_response
from firmware.sip.offer_answer import make_answer, make_offer, negotiated
from firmware.sip.sdp import SdpError, SessionDescription
from firmware.sip.transaction import (
    AckTimedOut,
    Action,
    ClientInviteTransaction,
    RequestReceived,
    ResponseReceived,
    Send,
    ServerInviteTransaction,
    ServerTransaction,
    Terminated,
    TransactionLayer,
    new_branch,
)
from firmware.sip.transport import Address, SipTransport
from firmware.sip.uri import SipUri

if TYPE_CHECKING:
    from firmware.engine.pbx import Engine

log = logging.getLogger(__name__)

ALLOW = "INVITE, ACK, CANCEL, BYE, OPTIONS, REGISTER, REFER, SUBSCRIBE"
SUPPORTED = "replaces, norefersub"  # RFC 3891 (INVITE with Replaces), RFC 4488 (Refer-Sub)
QUALIFY_S = 60.0  # how often registered phones are asked whether they are still there
# Calls being set up at once (ringing, or waiting for the box): a small office has a few;
# a box this far behind is overloaded (a flood, or more than it can handle).
MAX_SETUPS = 200
RETRY_AFTER_S = 5
USER_AGENT = "pbx-box"


class SipDevice:
    """One registration of an extension: the engine rings it like an analog port."""

    def __init__(self, ua: SipUserAgent, binding: Binding) -> None:
        self.ua = ua
        self.binding = binding
        self.name = f"sip:{binding.extension}@{binding.source}"

    @property
    def available(self) -> bool:
        return True  # a SIP phone says itself whether it is busy (486)

    @property
    def in_call(self) -> bool:
        """The extension talks on a SIP phone now (a queue does not offer it a call)."""
        return self.ua.in_call(self.binding.extension)

    def claim(self) -> SipChannel:
        return self.ua.outbound_channel(self.binding)


class SipUserAgent:
    def __init__(self, engine: Engine, config: SipConfig, secrets: dict[str, str],
                 guard: Guard | None = None) -> None:
        self.engine = engine
        self.config = config
        self.loop = asyncio.get_running_loop()
        self.guard = guard or Guard(GuardSettings(config.ban_failures, config.ban_window_s,
                                                  config.ban_s))
        self.realm = config.domain or socket.gethostname().lower() or "pbx"
        self.auth = Authenticator(self.realm, secrets, self.guard, config.auth_algorithms)
        self.registrar = Registrar(self.auth)
        self.transport = SipTransport(self._receive, self._banned)
        self.layer = TransactionLayer()
        self._timer = DeadlineTimer(self.loop, self._on_timer)
        self._calls: dict[tuple[str, str], SipChannel] = {}  # (Call-ID, our tag)
        self._by_server: dict[ServerInviteTransaction, SipChannel] = {}
        self._by_client: dict[ClientInviteTransaction, SipChannel] = {}
        self._rng = random.Random()
        self._qualifying: dict[object, tuple[str, str]] = {}  # OPTIONS tx -> binding key
        self.unreachable: set[tuple[str, str]] = set()  # (extension, contact) not answering
        self.address: tuple[str, int] = ("0.0.0.0", 0)
        self.trunks: dict[str, TrunkLink] = {}
        self.unanswered: set[SipChannel] = set()  # inbound calls without a final response
        self.on_trunk_change: Callable[[], None] = lambda: None  # a trunk's state changed
        self.user_agent = USER_AGENT
        self._waiting: dict[object, asyncio.Future[Response | None]] = {}  # tx -> final
        self.transfers = Transfers(self)
        self.mwi = MwiSubscriptions(self)  # phones watching their mailbox (RFC 3842)

    async def start(self) -> tuple[str, int]:
        self.address = await self.transport.start(*self.config.listen_address)
        log.info("SIP listening on udp and tcp %s:%d, realm %s", *self.address, self.realm)
        self.engine.supervisor.spawn("qualify SIP phones", self._qualify_forever())
        self.apply_trunks(self.engine.office.trunks)
        return self.address

    async def stop(self) -> None:
        for channel in list(self._calls.values()):
            channel.hangup(Cause.NORMAL_CLEARING)
        self.transfers.stop()
        self.mwi.stop()
        self.apply_trunks(())
        self._timer.cancel()
        await self.transport.stop()

    def set_secrets(self, secrets: dict[str, str]) -> None:
        self.auth.secrets = secrets

    def apply_trunks(self, configs: tuple[TrunkConfig, ...]) -> None:
        """Run these trunks: a changed or removed one is unregistered, a new one started;
        an unchanged one carries on as it is."""
        wanted = {config.name: config for config in configs}
        for name, link in list(self.trunks.items()):
            if wanted.get(name) != link.config:
                link.stop()
                del self.trunks[name]
        for name, config in wanted.items():
            if name not in self.trunks:
                self.trunks[name] = link = TrunkLink(self, config)
                link.start()
        self.on_trunk_change()

    def devices_for(self, extension: ExtensionConfig) -> list[SipDevice]:
        if "sip" not in extension.devices:
            return []
        return [SipDevice(self, b)
                for b in self.registrar.bindings(extension.number, self.loop.time())
                if (b.extension, str(b.contact.uri)) not in self.unreachable]

    async def _qualify_forever(self) -> None:
        """Ask every registered phone OPTIONS now and then: one that stops answering (gone
        from the network, its registration not yet expired) is not rung meanwhile."""
        while True:
            await asyncio.sleep(QUALIFY_S)
            self.qualify()

    def qualify(self) -> None:
        now = self.loop.time()
        for binding in self.registrar.all_bindings(now):
            uri = binding.contact.uri
            if not isinstance(uri, SipUri):
                continue
            local_ip = local_ip_for(binding.source.host)
            request = Request("OPTIONS", uri, Headers([
                ("Via", self.via(binding.source)),
                ("Max-Forwards", "70"),
                ("From", str(NameAddr(uri=SipUri(host=self._domain(local_ip), user="pbx"))
                             .with_tag(_token(self._rng)))),
                ("To", str(NameAddr(uri=uri))),
                ("Call-ID", f"{_token(self._rng)}@{local_ip}"),
                ("CSeq", "1 OPTIONS"),
                ("User-Agent", USER_AGENT),
            ]))
            tx, actions = self.layer.send_request(request, binding.source,
                                                  binding.source.transport == "TCP", now)
            self._qualifying[tx] = (binding.extension, str(uri))
            self._run(actions)

    # -- requests of the box's own (REGISTER to a provider) -----------------------------

    def send_request(self, request: Request, dest: Address) -> object:
        """Send `request` on a client transaction; its transaction."""
        tx, actions = self.layer.send_request(request, dest, dest.transport == "TCP",
                                              self.loop.time())
        self._run(actions)
        return tx

    async def request(self, request: Request, dest: Address) -> Response | None:
        """Send `request`; its final response, or None when none came (Timer F, 32 s)."""
        future: asyncio.Future[Response | None] = self.loop.create_future()
        tx, actions = self.layer.send_request(request, dest, dest.transport == "TCP",
                                              self.loop.time())
        self._waiting[tx] = future
        self._run(actions)
        try:
            return await future
        finally:
            self._waiting.pop(tx, None)

    # -- the wire --------------------------------------------------------------------

    def _banned(self, host: str) -> bool:
        return self.guard.banned(host, self.loop.time())

    def _receive(self, message: Request | Response, source: Address) -> None:
        self._run(self.layer.receive(message, source, self.loop.time()))

    def _run(self, actions: list[Action]) -> None:
        for action in actions:
            if isinstance(action, Send):
                self.transport.send(action.message, action.dest)  # type: ignore[arg-type]
            elif isinstance(action, RequestReceived):
                self._request(action.request, action.source)  # type: ignore[arg-type]
            elif isinstance(action, ResponseReceived):
                self._response(action.transaction, action.response)
            elif isinstance(action, Terminated):
                self._terminated(action.transaction)
            elif isinstance(action, AckTimedOut):
                channel = self._call_for(action.response, ours_is_to=True)
                if channel is not None:
                    channel.gone_by_phone(Cause.FAILURE)
        self._reschedule()

    def _reschedule(self) -> None:
        self._timer.follow(self.layer.next_deadline())

    def _on_timer(self) -> None:
        self._run(self.layer.on_timer(self.loop.time()))

    def respond(self, tx: ServerTransaction, response: Response) -> None:
        _stamp_via(response, tx.peer)  # type: ignore[arg-type]
        if response.status > 100 and response.to_tag is None:
            # §8.2.6.2: a UAS tags To in every response but 100 Trying.
            response.headers.set("To", str(response.to.with_tag(_token(self._rng))))
        response.headers.add("Server", USER_AGENT)
        self._run(self.layer.respond(tx, response, self.loop.time()))

    # -- requests from phones ----------------------------------------------------------

    def _request(self, request: Request, source: Address) -> None:
        now = self.loop.time()
        if request.method == "ACK":
            return  # for our 2xx: the layer has stopped retransmitting it
        if request.method == "CANCEL":
            self._cancel(request, source, now)
            return
        tx = self.layer.create_server(request, source, now)
        if not self._addressed_to_us(request):
            # With a domain set, the box serves that domain only (it is no open proxy).
            self.respond(tx, make_response(request, 404, "Not Here"))
            return
        if request.method == "REGISTER":
            response = self.registrar.register(request, source, now)
            if response.status == 200:  # a phone that registers again is back
                self.unreachable -= {k for k in self.unreachable
                                     if k[0] == getattr(request.to.uri, "user", None)}
            self.respond(tx, response)
        elif request.method == "OPTIONS":
            self.respond(tx, make_response(request, 200, headers=[
                ("Allow", ALLOW), ("Accept", "application/sdp"), ("Supported", SUPPORTED)]))
        elif request.method == "SUBSCRIBE":
            self.mwi.receive(request, tx, source)
        elif request.method == "INVITE" and request.to_tag is None:
            assert isinstance(tx, ServerInviteTransaction)
            self._new_call(request, source, tx, now)
        elif request.method == "REFER" and request.to_tag is None:
            # RFC 3515 allows REFER outside a dialog; the box transfers calls only.
            self.respond(tx, make_response(request, 405, "Only In A Call",
                                           headers=[("Allow", ALLOW)]))
        elif request.method in ("INVITE", "BYE", "REFER"):
            self._in_dialog(request, tx, source)
        else:
            self.respond(tx, make_response(request, 405, headers=[("Allow", ALLOW)]))

    def _cancel(self, request: Request, source: Address, now: float) -> None:
        tx = self.layer.create_server(request, source, now)
        invite_tx = self.layer.find_invite_server(request)
        channel = self._by_server.get(invite_tx) if invite_tx is not None else None
        if channel is None:
            self.respond(tx, make_response(request, 481))
            return
        self.respond(tx, make_response(request, 200))
        if not channel.final_sent:
            channel.final_sent = True
            self.respond(invite_tx, self._final(channel, 487))  # type: ignore[arg-type]
        call_event("cancel", channel=channel.name)
        channel.gone_by_phone(Cause.NORMAL_CLEARING)

    def _new_call(self, request: Request, source: Address, tx: ServerInviteTransaction,
                  now: float) -> None:
        if self._setting_up() >= MAX_SETUPS:
            # More calls being set up than the box can finish: refuse new ones at once
            # (RFC 3261 §21.5.4) rather than let retransmissions pile up and slow them all.
            call_event("overload", setting_up=self._setting_up(), source=str(source))
            self.respond(tx, make_response(request, 503, "Overloaded",
                                           headers=[("Retry-After", str(RETRY_AFTER_S))]))
            return
        link = self._trunk_of(request, source)
        if link is not None:
            self._call_from_trunk(link, request, source, tx)
            return
        outcome = self.auth.check(request, source.host, now)
        if outcome.verdict is Verdict.CHALLENGE:
            self.respond(tx, make_response(request, 401, headers=outcome.challenge_headers))
            return
        caller = self.engine.office.extension(outcome.user or "")
        if outcome.verdict is not Verdict.OK or caller is None or "sip" not in caller.devices:
            self.respond(tx, make_response(request, 403))
            return
        number = getattr(request.uri, "user", None) or ""
        replaced = replaced_leg(self, request) if "Replaces" in request.headers else None
        if isinstance(replaced, int):
            self.respond(tx, make_response(request, replaced))
            return
        channel = self._inbound_channel(
            request, source, tx,
            lambda media: SipChannel(self, Party(caller.number, caller.name), media, source,
                                     inbound=True, label=caller.number))
        if channel is None:
            return
        channel.internal = True  # it authenticated as an office extension
        if replaced is not None:
            take_over(self, channel, replaced)
        else:
            self._route(channel, number)

    def _setting_up(self) -> int:
        """Calls from phones that have no final answer yet (and have not hung up)."""
        return len(self.unanswered)

    def _trunk_of(self, request: Request, source: Address) -> TrunkLink | None:
        """The trunk whose provider sent `request`: by source address; where several
        trunks share a provider, the one whose account the request is addressed to."""
        links = [link for link in self.trunks.values() if link.owns(source.host)]
        user = getattr(request.uri, "user", None)
        return next((link for link in links if link.config.username == user),
                    links[0] if links else None)

    def _call_from_trunk(self, link: TrunkLink, request: Request, source: Address,
                         tx: ServerInviteTransaction) -> None:
        """A call from outside: to the extension its called number (DID) leads to."""
        called = [getattr(request.to.uri, "user", None), getattr(request.uri, "user", None)]
        extension = next((e for n in called if n and (e := link.config.destination(n))), None)
        if extension is None:
            call_event("trunk-unknown-number", trunk=link.name, to=called[0] or called[1])
            self.respond(tx, make_response(request, 404))
            return
        who = request.from_
        party = Party(getattr(who.uri, "user", None), who.display_name or None)
        channel = self._inbound_channel(
            request, source, tx,
            lambda media: TrunkChannel(self, party, media, source, link, inbound=True))
        if channel is not None:
            self._route(channel, extension)

    def _inbound_channel(self, request: Request, source: Address,
                         tx: ServerInviteTransaction,
                         make: Callable[[SipMedia], SipChannel]) -> SipChannel | None:
        """A channel for an INVITE, with our SDP answer ready; None if refused (answered)."""
        local_ip = local_ip_for(source.host)
        try:
            offer = SessionDescription.parse(request.body)
            media = self._media(local_ip)
        except SdpError as exc:
            self.respond(tx, make_response(request, exc.status, str(exc)))
            return None
        except MediaError as exc:
            log.error("no RTP port for a call from %s: %s", source, exc)
            self.respond(tx, make_response(request, 503))
            return None
        try:
            ids = self._sdp_ids()
            answer = make_answer(offer, local_ip, media.session.port, **ids)
            media.start(negotiated(offer, answer, we_offered=False))
        except SdpError as exc:
            media.close()
            self.respond(tx, make_response(request, exc.status, str(exc)))
            return None
        channel = make(media)
        channel.sdp_session = ids["session_id"], ids["version"]
        channel.invite, channel.server_tx, channel.answer_sdp = request, tx, answer
        channel.local_tag = _token(self._rng)
        self._calls[(request.call_id, channel.local_tag)] = channel
        self._by_server[tx] = channel
        self.unanswered.add(channel)
        return channel

    def _route(self, channel: SipChannel, number: str) -> None:
        assert channel.invite is not None
        call_event("sip-invite", channel=channel.name, number=number,
                   source=str(channel.peer), caller=channel.party.number)
        channel.session = self.engine.supervisor.spawn(
            f"call from {channel.name}", self._run_call(channel, number),
            on_crash=lambda _exc: channel.hangup(Cause.FAILURE))

    async def _run_call(self, channel: SipChannel, number: str) -> None:
        if isinstance(channel, TrunkChannel):
            cause = await self.engine.take_outside_call(channel, number)
        else:
            cause = await self.engine.route(channel, number)
        channel.hangup(cause)

    def _in_dialog(self, request: Request, tx: ServerTransaction, source: Address) -> None:
        channel = self._calls.get((request.call_id, request.to_tag or ""))
        dialog = channel.dialog if channel is not None else None
        if channel is None or dialog is None:
            self.respond(tx, make_response(request, 481))
            return
        if not dialog.accept_request(request):
            self.respond(tx, make_response(request, 500, "CSeq out of order"))
            return
        if request.method == "BYE":
            self.respond(tx, make_response(request, 200))
            call_event("bye", channel=channel.name, by="phone")
            channel.gone_by_phone(Cause.NORMAL_CLEARING)
            self.transfers.forget(channel)
            self._forget(channel)
        elif request.method == "REFER":
            self.transfers.receive(channel, request, tx, source)
        else:
            self._reinvite(channel, request, tx)

    def _reinvite(self, channel: SipChannel, request: Request, tx: ServerTransaction) -> None:
        """A target refresh or a hold/resume (sendonly/inactive) from the phone."""
        try:
            offer = SessionDescription.parse(request.body)
            answer = make_answer(offer, channel.media.session.local[0],
                                 channel.media.session.port, **self._next_sdp(channel))
            channel.media.start(negotiated(offer, answer, we_offered=False))
        except SdpError as exc:
            self.respond(tx, make_response(request, exc.status, str(exc)))
            return
        call_event("reinvite", channel=channel.name, hold=offer.on_hold)
        channel.set_held(offer.on_hold)
        response = make_response(request, 200, to_tag=channel.local_tag)
        response.headers.add("Contact", self.contact(channel.peer))  # §13.3.1.4: a 2xx has one
        self.respond(tx, self._with_sdp(response, answer))

    # -- what the engine asks of inbound calls -----------------------------------------

    def provisional(self, channel: SipChannel, status: int) -> None:
        """180 Ringing, or 183 Session Progress with our SDP answer (early media: the
        caller hears the far end's tones and announcements before it answers)."""
        assert channel.server_tx is not None and channel.invite is not None
        response = make_response(channel.invite, status, to_tag=channel.local_tag)
        response.headers.add("Contact", self.contact(channel.peer))
        if status == 183 and channel.answer_sdp is not None:
            self._with_sdp(response, channel.answer_sdp)
        self.respond(channel.server_tx, response)

    def accept_call(self, channel: SipChannel) -> None:
        assert channel.server_tx is not None and channel.invite is not None
        assert channel.answer_sdp is not None
        response = make_response(channel.invite, 200, to_tag=channel.local_tag)
        response.headers.add("Contact", self.contact(channel.peer))
        response.headers.add("Allow", ALLOW)
        response.headers.add("Supported", SUPPORTED)
        self._with_sdp(response, channel.answer_sdp)
        channel.final_sent = True
        channel.dialog = Dialog.from_uas(channel.invite, response)
        channel.peer_allows = allowed_methods(channel.invite)
        self.respond(channel.server_tx, response)

    def release(self, channel: SipChannel, cause: Cause) -> None:
        """The engine cleared `channel`: refuse, cancel or hang up, as the call stands."""
        if channel.inbound and not channel.final_sent:
            channel.final_sent = True
            assert channel.server_tx is not None
            self.respond(channel.server_tx, self._final(channel,
                                                        STATUS_FOR_CAUSE.get(cause, 500)))
        elif channel.transferred:
            return  # the phone hangs up after the REFER's final NOTIFY (or `refer` does)
        elif channel.dialog is not None and channel.dialog.state is DialogState.CONFIRMED:
            self.send_in_dialog(channel, "BYE")
        elif channel.client_tx is not None:
            self._run(self.layer.cancel(channel.client_tx, self.loop.time()))
        self._forget(channel)

    def end_transferred(self, channel: SipChannel) -> None:
        """A transferred call whose phone did not hang up after the final NOTIFY: BYE."""
        channel.transferred = False
        channel.hangup()  # released with a BYE, if the engine had not released it yet
        if channel.dialog is not None and channel.dialog.state is DialogState.CONFIRMED:
            self.send_in_dialog(channel, "BYE")
        self._forget(channel)

    def _final(self, channel: SipChannel, status: int) -> Response:
        assert channel.invite is not None
        return make_response(channel.invite, status, to_tag=channel.local_tag)

    # -- calls the box places ------------------------------------------------------------

    def in_call(self, extension: str) -> bool:
        """Whether a phone of `extension` has an answered call through the box."""
        return any(channel.party.number == extension and not isinstance(channel, TrunkChannel)
                   and channel.state in (ChannelState.UP, ChannelState.HELD)
                   for channel in self._calls.values())

    def outbound_channel(self, binding: Binding) -> SipChannel:
        media = self._media(local_ip_for(binding.source.host))
        extension = self.engine.office.extension(binding.extension)
        party = Party(binding.extension, extension.name if extension else None)
        channel = SipChannel(self, party, media, binding.source, inbound=False,
                             label=binding.extension)
        channel.internal = True  # it registered as an office extension (it may transfer)
        return channel

    def trunk_leg(self, trunk: str, number: str) -> TrunkChannel | None:
        """A leg to `number` through `trunk`, ready to ring; None if the trunk is not up
        (unknown, or its provider's address not yet known) or no RTP port is free."""
        link = self.trunks.get(trunk)
        if link is None or link.address is None:
            return None
        try:
            media = self._media(local_ip_for(link.address.host))
        except MediaError as exc:
            log.error("no RTP port for a call out on %s: %s", trunk, exc)
            return None
        return TrunkChannel(self, Party(number, None), media, link.address, link,
                            inbound=False, number=number)

    def invite(self, channel: SipChannel, caller: Party) -> None:
        local_ip = channel.media.session.local[0]
        offer = make_offer(local_ip, channel.media.session.port, **self._next_sdp(channel))
        channel.offer = offer
        channel.local_tag = _token(self._rng)
        call_id = f"{_token(self._rng)}@{local_ip}"
        if isinstance(channel, TrunkChannel):
            target = channel.target()
            caller_uri = SipUri(host=target.host, user=caller.number or "anonymous")
            to = NameAddr(uri=target)
            contact = channel.link.contact(channel.peer)
        else:
            target = self._binding_uri(channel)
            domain = self._domain(local_ip)
            caller_uri = SipUri(host=domain, user=caller.number or "anonymous")
            to = NameAddr(uri=SipUri(host=domain, user=channel.party.number))
            contact = self.contact(channel.peer)
        from_ = NameAddr(uri=caller_uri, display_name=caller.name).with_tag(channel.local_tag)
        headers = Headers([
            ("Via", self.via(channel.peer)),
            ("Max-Forwards", "70"),
            ("From", str(from_)),
            ("To", str(to)),
            ("Call-ID", call_id),
            ("CSeq", "1 INVITE"),
            ("Contact", contact),
            ("Allow", ALLOW),
            ("Supported", SUPPORTED),
            ("User-Agent", USER_AGENT),
            ("Content-Type", "application/sdp"),
        ])
        request = Request("INVITE", target, headers, bytes(offer))
        self._calls[(call_id, channel.local_tag)] = channel
        call_event("sip-call", channel=channel.name, to=str(target), caller=caller.number)
        self._send_invite(channel, request)

    def _send_invite(self, channel: SipChannel, request: Request) -> None:
        tx, actions = self.layer.send_request(request, channel.peer,
                                              channel.peer.transport == "TCP", self.loop.time())
        assert isinstance(tx, ClientInviteTransaction)
        channel.invite, channel.client_tx = request, tx
        self._by_client[tx] = channel
        self._run(actions)

    def _answer_challenge(self, channel: TrunkChannel, response: Response) -> bool:
        """The provider challenged our INVITE: send it again with the trunk's credentials,
        once (a second challenge means the credentials are wrong)."""
        if channel.challenged or channel.gone.is_set() or channel.invite is None:
            return False
        channel.challenged = True
        try:
            request = channel.link.with_credentials(channel.invite, response)
        except AuthError as exc:
            log.warning("%s: cannot answer the provider's challenge: %s", channel.name, exc)
            return False
        self._send_invite(channel, request)
        return True

    def _response(self, tx: object, response: Response) -> None:
        waiting = self._waiting.get(tx)
        if waiting is not None:
            if response.status >= 200 and not waiting.done():
                waiting.set_result(response)
            return
        key = self._qualifying.pop(tx, None)
        if key is not None:
            if key in self.unreachable:
                self.unreachable.discard(key)
                call_event("reachable", ext=key[0], contact=key[1])
            return
        channel = self._by_client.get(tx)  # type: ignore[call-overload]
        if channel is None or response.cseq.method != "INVITE":
            return
        if response.status < 200:
            self._progress(channel, response)
            return
        if response.status >= 300:
            self._by_client.pop(tx, None)  # type: ignore[call-overload]
            if response.status in (401, 407) and isinstance(channel, TrunkChannel) and \
                    self._answer_challenge(channel, response):
                return
            channel.gone_by_phone(cause_for_status(response.status))
            self._forget(channel)
            return
        assert channel.invite is not None and channel.offer is not None
        if channel.dialog is None:
            channel.dialog = Dialog.from_uac(channel.invite, response)
            channel.peer_allows = allowed_methods(response)
        else:
            channel.dialog.receive_response(response)
        ack = make_ack_for_2xx(channel.dialog, channel.invite, sent_by=self._sent_by(channel.peer),
                               transport=channel.peer.transport, branch=new_branch(self._rng))
        self.transport.send(ack, channel.peer)
        if channel.gone.is_set():
            self.send_in_dialog(channel, "BYE")  # answered after we gave up: end it
            return
        try:
            answer = SessionDescription.parse(response.body)
            channel.media.start(negotiated(channel.offer, answer, we_offered=True))
        except SdpError as exc:
            log.warning("%s answered with unusable SDP: %s", channel.name, exc)
            self.send_in_dialog(channel, "BYE")
            channel.gone_by_phone(Cause.FAILURE)
            return
        channel.answered_by_phone()

    def _progress(self, channel: SipChannel, response: Response) -> None:
        """A provisional answer with SDP (183 Session Progress, some 180s): the far end
        plays its ringback or an announcement; the caller may hear it before the answer."""
        if response.status == 100 or not response.body or channel.offer is None or \
                channel.early.is_set() or channel.gone.is_set():
            return
        try:
            answer = SessionDescription.parse(response.body)
            channel.media.start(negotiated(channel.offer, answer, we_offered=True))
        except SdpError as exc:
            log.info("%s: early media with unusable SDP ignored: %s", channel.name, exc)
            return
        call_event("early-media", channel=channel.name, status=response.status)
        channel.early.set()

    def _terminated(self, tx: object) -> None:
        waiting = self._waiting.get(tx)
        if waiting is not None and not waiting.done():
            waiting.set_result(None)
        key = self._qualifying.pop(tx, None)
        if key is not None:  # no answer to OPTIONS at all (Timer F)
            if key not in self.unreachable:
                self.unreachable.add(key)
                call_event("unreachable", ext=key[0], contact=key[1])
            return
        channel = self._by_client.pop(tx, None)  # type: ignore[call-overload]
        if channel is not None and channel.dialog is None:
            channel.gone_by_phone(Cause.NO_ANSWER)  # no final response at all: Timer B
            self._forget(channel)
        self._by_server.pop(tx, None)  # type: ignore[call-overload]

    # -- helpers -----------------------------------------------------------------------

    def send_in_dialog(self, channel: SipChannel, method: str, *, body: bytes = b"",
                       content_type: str | None = None,
                       headers: list[tuple[str, str]] | None = None) -> None:
        assert channel.dialog is not None
        request = channel.dialog.new_request(
            method, body=body, content_type=content_type, headers=headers or (),
            sent_by=self._sent_by(channel.peer), transport=channel.peer.transport,
            branch=new_branch(self._rng))
        _tx, actions = self.layer.send_request(request, channel.peer,
                                               channel.peer.transport == "TCP",
                                               self.loop.time())
        if method == "BYE":
            call_event("bye", channel=channel.name, by="box")
        self._run(actions)

    def show_identity(self, channel: SipChannel, party: Party) -> None:
        """Tell a phone in a call who it talks to now (after a transfer joined it with
        someone else): an UPDATE with P-Asserted-Identity (RFC 3311, RFC 3325), which desk
        phones show as the connected party."""
        domain = self._domain(channel.media.session.local[0])
        who = NameAddr(uri=SipUri(host=domain, user=party.number or "anonymous"),
                       display_name=party.name)
        call_event("sip-identity", channel=channel.name, number=party.number,
                   name=party.name)
        self.send_in_dialog(channel, "UPDATE", headers=[("P-Asserted-Identity", str(who))])

    def dialog_of(self, call_id: str, tag: str, other_tag: str) -> SipChannel | None:
        """The leg of the dialog (Call-ID, the two tags), which tag is ours either way:
        RFC 3891 §3 names them as the box sees them, but not every phone does."""
        for ours, theirs in ((tag, other_tag), (other_tag, tag)):
            channel = self._calls.get((call_id, ours))
            if channel is None:
                continue
            if channel.dialog is not None:
                remote = channel.dialog.remote_tag
            else:  # a call of the phone's still ringing: no dialog of ours yet
                remote = channel.invite.from_tag if channel.inbound and channel.invite else None
            if remote == theirs:
                return channel
        return None

    def _forget(self, channel: SipChannel) -> None:
        self.unanswered.discard(channel)
        if channel.invite is not None:
            self._calls.pop((channel.invite.call_id, channel.local_tag), None)

    def _call_for(self, message: Request | Response, *, ours_is_to: bool) -> SipChannel | None:
        tag = message.to_tag if ours_is_to else message.from_tag
        return self._calls.get((message.call_id, tag or ""))

    def _media(self, local_ip: str) -> SipMedia:
        return SipMedia(RtpSession(local_ip, self.config.rtp_port_range), self._rng)

    def _sdp_ids(self) -> dict[str, int]:
        session = self._rng.getrandbits(31)
        return {"session_id": session, "version": session}

    def _next_sdp(self, channel: SipChannel) -> dict[str, int]:
        """The o= line of the channel's next SDP: same session, next version (RFC 3264 §8)."""
        if channel.sdp_session is None:
            ids = self._sdp_ids()
        else:
            ids = {"session_id": channel.sdp_session[0], "version": channel.sdp_session[1] + 1}
        channel.sdp_session = ids["session_id"], ids["version"]
        return ids

    def _with_sdp(self, response: Response, sdp: SessionDescription) -> Response:
        response.headers.set("Content-Type", "application/sdp")
        response.body = bytes(sdp)
        return response

    def _binding_uri(self, channel: SipChannel) -> SipUri:
        for binding in self.registrar.bindings(channel.party.number or "", self.loop.time()):
            if binding.source == channel.peer and isinstance(binding.contact.uri, SipUri):
                return binding.contact.uri
        return SipUri(host=channel.peer.host, port=channel.peer.port,
                      user=channel.party.number)

    def _addressed_to_us(self, request: Request) -> bool:
        """Without a domain, any host means the box; with one, that domain or our address.
        A REGISTER's address of record (To) must be ours too (RFC 3261 §10.3 step 3)."""
        if self.config.domain is None:
            return True
        hosts = [getattr(request.uri, "host", None)]
        if request.method == "REGISTER":
            hosts.append(getattr(request.to.uri, "host", None))
        return all(host is None or self.is_ours(host) for host in hosts)

    def is_ours(self, host: str) -> bool:
        """Our domain, name or one of our addresses. Names are compared as text: looking a
        stranger's host name up would stall the loop on the resolver (and tell it)."""
        if host in (self.config.domain, self.address[0], "127.0.0.1", "localhost",
                    socket.gethostname().lower()):
            return True
        try:
            ipaddress.ip_address(host.strip("[]"))
        except ValueError:
            return False
        return host.strip("[]") == local_ip_for(host.strip("[]"))

    def _domain(self, local_ip: str) -> str:
        return self.config.domain or local_ip

    def _sent_by(self, peer: Address) -> str:
        return f"{local_ip_for(peer.host)}:{self.address[1]}"

    def via(self, peer: Address) -> str:
        """A Via for a request of ours to `peer`, with a new branch."""
        branch = new_branch(self._rng)
        return f"SIP/2.0/{peer.transport} {self._sent_by(peer)};branch={branch};rport"

    def contact(self, peer: Address, user: str | None = None) -> str:
        """Our Contact for `peer`: the address of ours it reaches, optionally with a user."""
        transport = ";transport=tcp" if peer.transport == "TCP" else ""
        at = f"{user}@" if user else ""
        return f"<sip:{at}{local_ip_for(peer.host)}:{self.address[1]}{transport}>"



def _stamp_via(response: Response, peer: Address) -> None:
    """RFC 3581 / §18.2.1: tell the phone where its request really came from (NAT), and
    send the response there (the transaction layer replies to the source already)."""
    vias = response.headers.get_all("Via")
    if not vias:
        return
    top = Via.parse(vias[0])
    if top.host != peer.host:
        top = top.with_param("received", peer.host)
    if top.param("rport") is not None:
        top = top.with_param("rport", str(peer.port))
    response.headers.remove("Via")
    for value in [str(top), *vias[1:]]:
        response.headers.add("Via", value)


def local_ip_for(peer_host: str) -> str:
    """The address of ours a peer reaches us on: the source a route to it would use.
    (Connecting a UDP socket sends nothing; it only picks the route.) Remembered for a
    minute: a call asks this a dozen times, and routes change rarely (a new DHCP lease)."""
    now = asyncio.get_running_loop().time()
    known = _local_ips.get(peer_host)
    if known is not None and known[1] > now:
        return known[0]
    family = socket.AF_INET6 if ":" in peer_host else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect((peer_host, 9))
            ours = str(probe.getsockname()[0])
        except OSError:
            ours = "127.0.0.1" if family == socket.AF_INET else "::1"
    if len(_local_ips) >= LOCAL_IP_CACHE:
        _local_ips.clear()  # a flood of strangers' addresses must not grow it
    _local_ips[peer_host] = (ours, now + LOCAL_IP_TTL_S)
    return ours


LOCAL_IP_TTL_S = 60.0
LOCAL_IP_CACHE = 1024
_local_ips: dict[str, tuple[str, float]] = {}


def allowed_methods(message: Request | Response) -> frozenset[str]:
    """The methods a peer's Allow headers name ("INVITE, ACK, UPDATE" -> {...})."""
    return frozenset(m.strip().upper() for value in message.headers.values("Allow")
                     for m in value.split(",") if m.strip())


def _token(rng: random.Random) -> str:
    return f"{rng.getrandbits(64):016x}"
