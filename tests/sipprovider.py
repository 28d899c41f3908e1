"""A SIP provider for trunk tests: the far end of the office's [[trunk]].

It is a `tests.sipphone.SipPhone` on its own loopback address (127.0.0.2, so the box can tell
it from the office's phones on 127.0.0.1), which in addition

- is a registrar for one account, with digest authentication (the box's own `Authenticator`,
  realm "provider.test"): every REGISTER it accepts is kept in `registrations`;
- challenges each new INVITE from the box with 407 (a proxy asking for the account's
  credentials), as most providers do, then offers it to the test (`wait_incoming`);
- calls the office from the outside world (`call(did)`), as the caller `CALLER`;
- plays early media on a call from the box (`early_media(call)`: 183 Session Progress with
  its SDP answer, then audio before answering), as the telephone network does with
  ringback from abroad and "the number you have called is not in service".

    async with FakeProvider(box_address, "office-1", "provider-password") as provider:
        await provider.registered()
        call = await provider.call("+15125550100")     # someone outside dials the office
        out = await provider.wait_incoming()           # the office calls out
        assert out.invite.uri.user == "+15125550199"
"""

from __future__ import annotations

from firmware.engine.guard import Guard, GuardSettings
from firmware.engine.sipauth import Authenticator, Verdict
from firmware.sip.message import Request, make_response
from firmware.sip.offer_answer import make_answer, negotiated
from firmware.sip.sdp import SessionDescription
from tests.sipphone import Address, Call, SipPhone

CALLER = "+15125550123"  # the outside caller's number, as the provider presents it
REALM = "provider.test"


class FakeProvider(SipPhone):
    def __init__(self, box: Address, account: str, password: str, *,
                 host: str = "127.0.0.2", challenge_invites: bool = True) -> None:
        super().__init__(box, CALLER, None, host=host)
        self.account = account
        guard = Guard(GuardSettings(max_failures=1000, window_s=60.0, ban_s=1.0))
        self.auth = Authenticator(REALM, {account: password}, guard)
        self.challenge_invites = challenge_invites
        self.registrations: list[Request] = []  # REGISTERs accepted, in order
        self.refused: list[Request] = []  # REGISTERs and INVITEs with wrong credentials
        self.min_expires: int | None = None  # set: shorter registrations get 423

    async def registered(self, count: int = 1, within: float = 10.0) -> Request:
        """The `count`th REGISTER accepted (waiting up to `within` seconds of loop time)."""
        await self.until(lambda: len(self.registrations) >= count, within,
                         what=f"registration number {count} of the box")
        return self.registrations[count - 1]

    def early_media(self, call: Call) -> None:
        """183 Session Progress with our SDP answer: audio flows before the answer."""
        offer = SessionDescription.parse(call.invite.body)
        answer = make_answer(offer, call.media.host, call.media.port,
                             session_id=call._session, version=call._version)
        call._media_up(answer, offer, negotiated(offer, answer, we_offered=False))
        call._send_response(call._response(183, answer))

    def _incoming_request(self, request: Request, source: Address) -> None:
        if request.method == "REGISTER":
            self._register(request, source)
        elif request.method == "INVITE" and request.to_tag is None and self.challenge_invites:
            outcome = self.auth.check(request, source[0], self.now(), "Proxy-Authorization")
            if outcome.verdict is Verdict.OK:
                super()._incoming_request(request, source)
                return
            tx = self.layer.create_server(request, source, self.now())
            if outcome.verdict is Verdict.CHALLENGE:
                self._answer(tx, make_response(request, 407,
                                               headers=outcome.challenge_headers))
            else:
                self.refused.append(request)
                self._answer(tx, make_response(request, 403))
        else:
            super()._incoming_request(request, source)

    def _register(self, request: Request, source: Address) -> None:
        tx = self.layer.create_server(request, source, self.now())
        outcome = self.auth.check(request, source[0], self.now())
        if outcome.verdict is Verdict.CHALLENGE:
            self._answer(tx, make_response(request, 401, headers=outcome.challenge_headers))
            return
        if outcome.verdict is not Verdict.OK or outcome.user != self.account:
            self.refused.append(request)
            self._answer(tx, make_response(request, 403))
            return
        expires = int(request.headers.get("Expires") or "3600")
        if self.min_expires is not None and 0 < expires < self.min_expires:
            self._answer(tx, make_response(request, 423, headers=[
                ("Min-Expires", str(self.min_expires))]))
            return
        self.registrations.append(request)
        contact = request.headers.get("Contact") or ""
        self._answer(tx, make_response(request, 200, headers=[
            ("Contact", f"{contact};expires={expires}")]))
