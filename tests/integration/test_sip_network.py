"""The box's SIP service on the network: domains, OPTIONS, qualify, NAT, TCP, floods.

What an installer sees when phones sit behind routers, use TCP or another name for the
box, and what the office sees when someone throws junk at the SIP port. Phones are
`tests.sipphone.SipPhone`s (UDP) or a hand-written TCP phone; everything runs in fake time
and every packet stays on loopback.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import random
import socket
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager

import pytest

from firmware.engine import sipua
from firmware.sip.auth import Challenge, client_credentials, select_challenge
from firmware.sip.headers import Via
from firmware.sip.message import Request, Response, StreamParser, make_response
from firmware.sip.transport import TCP_IDLE_S
from tests.integration.harness import SIP_SECTION, Harness, running_box, wait
from tests.integration.test_sip_calls import answered_call, incoming_call, talk
from tests.sipphone import Address, SipPhone

SECRETS = {"201": "secret-of-201", "202": "secret-of-202", "203": "secret-of-203"}
DOMAIN = "pbx.example.com"
PRIVATE = "10.0.0.99"  # what a phone behind NAT thinks its address is
QUALIFY_S = 60.0  # docs/sip.md: registered phones are asked OPTIONS every minute
TIMER_F_S = 32.0  # an OPTIONS nobody answers is given up after 64*T1 (RFC 3261 §17.1.2.2)
ALLOW = {"INVITE", "ACK", "CANCEL", "BYE", "OPTIONS", "REGISTER"}


def office_toml(domain: str | None = None) -> str:
    sip = SIP_SECTION + (f'domain = "{domain}"\n' if domain else "")
    return "\n".join([
        '[site]\ncountry = "us"\ntimezone = "UTC"\n',
        sip,
        '[[extension]]\nnumber = "101"\nname = "Desk 1"\ndevices = ["fxs:1"]\n',
        *(f'[[extension]]\nnumber = "{n}"\nname = "Soft {n}"\ndevices = ["sip"]\n'
          f'secret = "{secret}"\n' for n, secret in SECRETS.items()),
    ])


# ---------------------------------------------------------------------------------------------
# helpers


@pytest.fixture(autouse=True)
def names_looked_up(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Host names the box tried to resolve. The box checks whether a request's host is one
    of its own with `local_ip_for`, which for a name is a DNS query: here it never leaves
    loopback (the name counts as unresolvable, as the real function answers then)."""
    names: list[str] = []
    real = sipua.local_ip_for

    def local_ip_for(host: str) -> str:
        try:
            ipaddress.ip_address(host)
        except ValueError:
            names.append(host)
            return "127.0.0.1"
        return real(host)

    monkeypatch.setattr(sipua, "local_ip_for", local_ip_for)
    return names


@asynccontextmanager
async def office(domain: str | None = None) -> AsyncIterator[tuple[Harness, Address]]:
    async with running_box(office_toml(domain)) as box:
        assert box.box.sip is not None
        yield box, box.box.sip.address


@asynccontextmanager
async def softphones(box: Address, *users: str, **options: str) -> AsyncIterator[list[SipPhone]]:
    """Phones for `users`, registered with their right secrets (`options`: SipPhone's)."""
    async with AsyncExitStack() as stack:
        phones = []
        for user in users:
            phone = await stack.enter_async_context(
                SipPhone(box, user, SECRETS[user], **options))
            registered = await phone.register()
            assert registered is not None and registered.status == 200
            phones.append(phone)
        yield phones


def options_from_box(phone: SipPhone) -> int:
    """How many OPTIONS the box has asked `phone` (retransmissions not counted)."""
    return len({m.call_id for m in phone.received
                if isinstance(m, Request) and m.method == "OPTIONS"})


async def rings(caller: SipPhone, callee: SipPhone) -> None:
    """`caller` calls `callee`'s extension: the callee rings, the caller sees 180, gives up."""
    call = await caller.call(callee.user)
    incoming = await callee.wait_incoming()
    incoming.ring()
    assert (await call.response(180)).status == 180
    assert (await call.cancel()).status == 487
    assert await incoming.ended() == "cancel"


class TcpPhone:
    """A phone on one TCP connection to the box, its messages written out by hand and
    what comes back framed by Content-Length. It does not listen: whatever the box sends
    it can only come over this connection."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                 box: Address, user: str, domain: str) -> None:
        self.reader, self.writer = reader, writer
        self.user = user
        self.aor = f"sip:{user}@{domain}"
        host, port = writer.get_extra_info("sockname")[:2]
        self.sent_by = f"{host}:{port}"
        self.contact = f"<sip:{user}@{host}:{port};transport=tcp>"
        self.registrar = f"sip:{box[0]}:{box[1]};transport=tcp"
        self.received: list[Request | Response] = []
        self._parser = StreamParser()
        self._cseq = 0

    def send(self, data: bytes | Request | Response) -> None:
        self.writer.write(data if isinstance(data, bytes) else bytes(data))

    def register(self, authorization: str | None = None) -> bytes:
        self._cseq += 1
        lines = [
            f"REGISTER {self.registrar} SIP/2.0",
            f"Via: SIP/2.0/TCP {self.sent_by};branch=z9hG4bK-tcp-{self._cseq};rport",
            "Max-Forwards: 70",
            f"From: <{self.aor}>;tag=tcp-{self.user}",
            f"To: <{self.aor}>",
            f"Call-ID: tcp-register-{self.user}@127.0.0.1",
            f"CSeq: {self._cseq} REGISTER",
            f"Contact: {self.contact}",
            "Expires: 3600",
            *([f"Authorization: {authorization}"] if authorization else []),
            "Content-Length: 0",
        ]
        return ("\r\n".join(lines) + "\r\n\r\n").encode()

    async def login(self, password: str) -> Response:
        """REGISTER, then again with digest credentials: the final response. The second
        arrives in pieces, as a stream may deliver it (framing is the box's job)."""
        self.send(self.register())
        challenge = await self.response("REGISTER")
        assert challenge.status == 401, f"{challenge.status} {challenge.reason}"
        chosen = select_challenge(challenge.headers.get_all("WWW-Authenticate"))
        credentials = client_credentials(chosen, "REGISTER", self.registrar, self.user,
                                         password, cnonce="tcp-cnonce")
        data = self.register(credentials.header_value())
        for start in range(0, len(data), 100):
            self.send(data[start:start + 100])
            await wait(0.01)
        return await self.response("REGISTER")

    async def message(self, check: Callable[[Request | Response], bool],
                      within: float = 10.0) -> Request | Response:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while (found := next((m for m in self.received if check(m)), None)) is None:
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise AssertionError(f"nothing such came over TCP within {within} s")
            with contextlib.suppress(TimeoutError):
                data = await asyncio.wait_for(self.reader.read(65536), remaining)
                if not data:
                    raise AssertionError("the box closed the TCP connection")
                self.received += self._parser.feed(data)
        return found

    async def response(self, method: str) -> Response:
        """The final response to our last `method` request."""
        found = await self.message(lambda m: isinstance(m, Response) and m.status >= 200
                                   and m.cseq.method == method and m.cseq.number == self._cseq)
        assert isinstance(found, Response)
        return found

    async def request(self, method: str) -> Request:
        found = await self.message(lambda m: isinstance(m, Request) and m.method == method)
        assert isinstance(found, Request)
        return found


@asynccontextmanager
async def tcp_phone(box: Address, user: str,
                    domain: str = "127.0.0.1") -> AsyncIterator[TcpPhone]:
    reader, writer = await asyncio.open_connection(*box)
    try:
        yield TcpPhone(reader, writer, box, user, domain)
    finally:
        writer.close()


# ---------------------------------------------------------------------------------------------
# 1. domain


async def test_without_a_domain_any_host_in_the_uri_is_the_same_extension() -> None:
    async with office() as (_, box), \
            softphones(box, "202", "203", domain="pbx.local") as [sp202, sp203], \
            softphones(box, "201") as [sp201]:
        # 202 registered as sip:202@pbx.local; 201 knows the box by its address.
        for caller, host in ((sp203, "pbx.local"), (sp201, box[0])):
            call = await caller.call("202")
            assert getattr(call.invite.uri, "host", None) == host
            incoming = await sp202.wait_incoming()
            incoming.ring()
            assert (await call.response(180)).status == 180
            assert (await call.cancel()).status == 487
            assert await incoming.ended() == "cancel"


async def test_with_a_domain_it_is_the_realm_and_other_domains_are_not_served() -> None:
    async with office(DOMAIN) as (_, box), \
            SipPhone(box, "202", SECRETS["202"], domain=DOMAIN) as sp202, \
            SipPhone(box, "201", SECRETS["201"], domain="other.example") as stranger:
        challenge = await sp202.register(authenticate=False)
        assert challenge is not None and challenge.status == 401
        assert Challenge.parse(challenge.headers.get("WWW-Authenticate") or "").realm == DOMAIN
        registered = await sp202.register()
        assert registered is not None and registered.status == 200

        # sip:202@other.example: not this box's, whoever asks (it is no open proxy).
        call = await stranger.call("202")
        assert (await call.final()).status == 404
        refused = await stranger.register()
        assert refused is not None and refused.status == 404
        await wait(2)
        assert sp202.calls == []
        # The box's own address still means the box, and 202 is rung that way.
        async with softphones(box, "201") as [sp201]:
            await rings(sp201, sp202)


async def test_a_request_for_another_domain_costs_no_dns_lookup(
        names_looked_up: list[str]) -> None:
    """Anyone may send requests naming any host; a lookup per request stalls every call on
    the box for as long as the resolver takes, and sends the names to it."""
    async with office(DOMAIN) as (_, box), \
            SipPhone(box, "201", SECRETS["201"], domain="other.example") as stranger:
        call = await stranger.call("202")
        assert (await call.final()).status == 404
        assert names_looked_up == []


async def test_with_a_domain_a_registration_for_another_domain_is_refused() -> None:
    # Request-URI: the box's own address (accepted); To: sip:203@other.example.
    async with office(DOMAIN) as (_, box), tcp_phone(box, "203", "other.example") as phone:
        phone.send(phone.register())
        refused = await phone.response("REGISTER")
        assert refused.status == 404  # not even challenged: it is not ours to bind


# ---------------------------------------------------------------------------------------------
# 2. OPTIONS


async def test_options_is_answered_with_the_methods_the_box_allows() -> None:
    async with office() as (_, box), SipPhone(box, "201") as phone:  # no login needed
        answer = await phone.options()
        assert answer is not None and answer.status == 200
        allowed = {m.strip() for m in (answer.headers.get("Allow") or "").split(",")}
        assert allowed >= ALLOW


# ---------------------------------------------------------------------------------------------
# 3. qualify: is a registered phone still there?


async def test_a_registered_phone_is_asked_options_every_minute() -> None:
    async with office() as (_, box), softphones(box, "202") as [sp202]:
        registered_at = sp202.now()
        await sp202.until(lambda: options_from_box(sp202) >= 1, QUALIFY_S + 5, "OPTIONS")
        first = sp202.now()
        await sp202.until(lambda: options_from_box(sp202) >= 2, QUALIFY_S + 5, "OPTIONS")
        assert first - registered_at <= QUALIFY_S + 1
        assert sp202.now() - first == pytest.approx(QUALIFY_S, abs=1)


async def test_a_phone_that_stops_answering_is_not_rung_until_it_registers_again() -> None:
    async with office() as (_, box), softphones(box, "201", "202") as [sp201, sp202]:
        sp202.offline = True  # unplugged: its registration still runs for an hour
        await wait(QUALIFY_S + TIMER_F_S + 2)
        call = await sp201.call("202")
        asked = sp201.now()
        final = await call.final(within=5)  # not a ring time or Timer B into the void
        assert final.status in (480, 486)
        assert sp201.now() - asked < 2

        sp202.offline = False
        registered = await sp202.register()
        assert registered is not None and registered.status == 200
        await rings(sp201, sp202)


async def test_an_unreachable_phone_that_answers_options_again_is_rung_again() -> None:
    async with office() as (_, box), softphones(box, "201", "202") as [sp201, sp202]:
        sp202.offline = True
        await wait(QUALIFY_S + TIMER_F_S + 2)
        call = await sp201.call("202")
        assert (await call.final(within=5)).status in (480, 486)

        sp202.offline = False  # back on the network; the next OPTIONS is answered
        await sp202.until(lambda: options_from_box(sp202) >= 1, QUALIFY_S + 5, "OPTIONS")
        await wait(0.5)
        await rings(sp201, sp202)


# ---------------------------------------------------------------------------------------------
# 4. phones behind NAT: their Via, Contact and SDP say 10.0.0.99, their packets come from
# 127.0.0.1. (The box's sockets are bound to 127.0.0.1, so nothing it sends to 10.0.0.99
# leaves the host: the kernel refuses a loopback source towards it.)


async def test_a_phone_behind_nat_is_answered_where_its_requests_come_from() -> None:
    async with office() as (_, box), \
            SipPhone(box, "201", SECRETS["201"], private_host=PRIVATE) as natted:
        registered = await natted.register()  # the 401 and the 200 both had to find it
        assert registered is not None and registered.status == 200
        top = Via.parse(registered.headers.get_all("Via")[0])
        assert (top.host, top.port) == (PRIVATE, 5060)  # its own Via, as sent
        assert top.param("received") == "127.0.0.1"
        assert top.param("rport") == str(natted.port)


async def test_a_phone_behind_nat_is_called_where_it_registered_from_and_both_talk() -> None:
    async with office() as (harness, box), \
            softphones(box, "201", private_host=PRIVATE) as [natted]:
        p101 = await harness.phone("101")
        call = await incoming_call(p101, natted)  # at its socket, not at 10.0.0.99:5060
        await call.answer()
        sip_heard, analog_heard = await talk(call, p101)
        assert analog_heard == pytest.approx([700], abs=10)
        assert sip_heard == pytest.approx(1000, abs=10)  # sent where its RTP comes from
        await p101.onhook()
        assert await call.ended() == "bye"  # in the dialog too: not to its Contact


async def test_a_phone_behind_nat_calls_out_and_both_talk() -> None:
    async with office() as (harness, box), \
            softphones(box, "201", private_host=PRIVATE) as [natted]:
        p101 = await harness.phone("101")
        call = await answered_call(natted, p101)
        sip_heard, analog_heard = await talk(call, p101)
        assert analog_heard == pytest.approx([700], abs=10)
        assert sip_heard == pytest.approx(1000, abs=10)
        # Hold and resume: its new SDP names 10.0.0.99 again; the box must find it again.
        for reinvite in (call.hold, call.resume):
            answer = await reinvite()
            assert answer is not None and answer.status == 200
        sip_heard, analog_heard = await talk(call, p101)
        assert analog_heard == pytest.approx([700], abs=10)
        assert sip_heard == pytest.approx(1000, abs=10)
        bye = await call.hangup()
        assert bye is not None and bye.status == 200


async def test_two_phones_behind_nat_talk_through_the_relay() -> None:
    # Two homes with the same private address: common, and only their sources differ.
    async with office() as (_, box), \
            softphones(box, "201", "202", private_host=PRIVATE) as [sp201, sp202]:
        call = await sp201.call("202")
        incoming = await sp202.wait_incoming()
        await incoming.answer()
        await call.answered()
        call.play_tone(700)
        incoming.play_tone(1100)
        await wait(2)
        assert call.heard_hz() == pytest.approx(1100, abs=10)
        assert incoming.heard_hz() == pytest.approx(700, abs=10)


# ---------------------------------------------------------------------------------------------
# 5. TCP


async def test_a_phone_registers_over_tcp_and_is_called_over_the_same_connection() -> None:
    async with office() as (_, box), softphones(box, "201") as [sp201], \
            tcp_phone(box, "203") as tcp:
        registered = await tcp.login(SECRETS["203"])  # 401, then 200, on one connection
        assert registered.status == 200
        assert "transport=tcp" in (registered.headers.get("Contact") or "")

        call = await sp201.call("203")  # a UDP phone calls it
        invite = await tcp.request("INVITE")
        assert Via.parse(invite.headers.get_all("Via")[0]).transport == "TCP"
        assert getattr(invite.from_.uri, "user", None) == "201"
        tcp.send(make_response(invite, 180, to_tag="tcp-203"))
        assert (await call.response(180)).status == 180
        tcp.send(make_response(invite, 486, to_tag="tcp-203"))
        assert (await call.final()).status == 486
        ack = await tcp.request("ACK")  # the box acknowledges the 486 on that connection
        assert ack.call_id == invite.call_id


# ---------------------------------------------------------------------------------------------
# 6. floods


def garbage(rng: random.Random) -> bytes:
    """Random bytes; every fourth behind a request line, so the parser reads on into them."""
    junk = rng.randbytes(rng.randrange(1, 1400))
    if rng.random() < 0.25:
        return b"INVITE sip:202@127.0.0.1 SIP/2.0\r\nVia: " + junk
    return junk


async def relayed_call_works(caller: SipPhone, callee: SipPhone) -> None:
    call = await caller.call(callee.user)
    incoming = await callee.wait_incoming()
    await incoming.answer()
    await call.answered()
    call.play_tone(700)
    incoming.play_tone(1100)
    await wait(2)
    assert call.heard_hz() == pytest.approx(1100, abs=10)
    assert incoming.heard_hz() == pytest.approx(700, abs=10)
    await call.hangup()
    assert await incoming.ended() == "bye"


async def test_a_flood_of_garbage_datagrams_does_not_stop_the_service(
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.ERROR)
    async with office() as (harness, box), softphones(box, "201", "202") as [sp201, sp202]:
        assert harness.box.sip is not None
        stats = harness.box.sip.transport.stats
        rejected = stats.parse_errors
        rng = random.Random(2000)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as flood:
            flood.bind(("127.0.0.1", 0))
            flood.setblocking(False)
            for _ in range(20):  # 2000 datagrams, in bursts the box reads between
                for _ in range(100):
                    with contextlib.suppress(BlockingIOError):
                        flood.sendto(garbage(rng), box)
                await wait(0.02)
            await wait(1)
        assert stats.parse_errors - rejected >= 1000  # the flood did reach the box

        registered = await sp201.register()
        assert registered is not None and registered.status == 200
        await relayed_call_works(sp201, sp202)
        assert harness.box.supervisor.crashes == 0
        assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []


async def test_half_open_tcp_connections_do_not_stop_the_service(
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.ERROR)
    async with office() as (harness, box), softphones(box, "201", "202") as [sp201, sp202], \
            AsyncExitStack() as stack:
        half_open = []
        for i in range(100):  # each starts a request and never finishes it
            reader, writer = await asyncio.open_connection(*box)
            stack.callback(writer.close)
            writer.write(f"INVITE sip:202@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP "
                         f"127.0.0.1:9;branch=z9hG4bK-half-{i}\r\nFrom: <sip:".encode())
            half_open.append(reader)
        await wait(1)

        registered = await sp201.register()
        assert registered is not None and registered.status == 200
        await relayed_call_works(sp201, sp202)
        async with tcp_phone(box, "203") as tcp:  # a real TCP phone still gets in
            assert (await tcp.login(SECRETS["203"])).status == 200

        # Nor do they hold the box's connection slots for ever: idle ones are closed.
        await wait(TCP_IDLE_S + 1)
        for reader in half_open:
            with contextlib.suppress(ConnectionError):
                assert await asyncio.wait_for(reader.read(), 1) == b""
        assert harness.box.supervisor.crashes == 0
        assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []


async def test_more_calls_being_set_up_than_the_box_can_finish_get_503(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # An overloaded box refuses new calls at once (RFC 3261 §21.5.4) instead of letting
    # retransmissions slow every call down; the limit, 200, is lowered to see it here.
    monkeypatch.setattr(sipua, "MAX_SETUPS", 2)
    async with office() as (_, box), softphones(box, "201", "202") as [sp201, sp202]:
        ringing = [await sp201.call("202") for _ in range(2)]
        for call in ringing:
            await call.response(180)  # both ring 202, which does not answer
        refused = await sp201.call("202")
        final = await refused.final()
        assert final.status == 503
        assert final.headers.get("Retry-After") == "5"
        await ringing[0].cancel()
        await wait(1)
        taken = await sp201.call("202")  # one fewer being set up: room again
        assert (await taken.response(180)).status == 180
        assert len([c for c in sp202.calls if c.incoming]) == 3  # the refused one never rang
