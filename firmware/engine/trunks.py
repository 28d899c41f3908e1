"""The office's SIP trunks: registering to the provider, and knowing its calls when they come.

One `TrunkLink` per [[trunk]]. Its task resolves the provider's host, registers (RFC 3261
§10.2: REGISTER, answer the 401/407 challenge once, refresh before the granted expiry;
423 Interval Too Brief raises the expiry to the provider's Min-Expires) and retries with a
growing pause after a failure, so a provider that is down is not hammered and a wrong
password is not tried thousands of times. Its state is what an installer needs to see:
registered, or the reason it is not.

A call from the provider is recognised by where it comes from: the provider's resolved
addresses and the trunk's `also_from` networks. Such calls skip the phones' digest
challenge (providers do not answer one) and are never internal: they may not use an
outside line (see `firmware.engine.outbound`).
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import ipaddress
import logging
import secrets
import socket
from typing import TYPE_CHECKING

from firmware.config import TrunkConfig
from firmware.logs import call_event
from firmware.sip.auth import AuthError, client_credentials, select_challenge
from firmware.sip.headers import Headers, NameAddr
from firmware.sip.message import Request, Response
from firmware.sip.transport import Address
from firmware.sip.uri import SipUri

if TYPE_CHECKING:
    from firmware.engine.sipua import SipUserAgent

log = logging.getLogger(__name__)

REFRESH_SHARE = 0.9  # re-register when this share of the granted time has passed
MIN_REFRESH_S = 30.0
RETRY_S = (30.0, 60.0, 120.0, 300.0, 600.0)  # pauses after successive failures


class TrunkState(enum.Enum):
    STARTING = "starting"
    REGISTERED = "registered"
    FAILED = "failed"  # see `problem`; retried
    NOT_REGISTERING = "not-registering"  # register = false: the provider knows our address


class TrunkLink:
    def __init__(self, ua: SipUserAgent, config: TrunkConfig) -> None:
        self.ua = ua
        self.config = config
        self.name = config.name
        self.state = TrunkState.STARTING
        self.problem = ""
        self.addresses: set[str] = set()  # the provider's host, resolved
        self.address: Address | None = None  # where requests to the provider go
        self._networks = [ipaddress.ip_network(n, strict=False) for n in config.also_from]
        self._call_id = f"{secrets.token_hex(8)}@trunk-{config.name}"
        self._from_tag = secrets.token_hex(8)
        self._cseq = 0
        self._failures = 0
        self._task: asyncio.Task[None] | None = None

    # -- life --------------------------------------------------------------------------

    def start(self) -> None:
        self._task = self.ua.engine.supervisor.spawn(f"trunk {self.name}", self._run())

    def stop(self) -> None:
        """Stop registering; a registered trunk is unregistered (Expires: 0)."""
        if self._task is not None:
            self._task.cancel()
        if self.state is TrunkState.REGISTERED and self.address is not None:
            self.ua.engine.supervisor.spawn(f"unregister trunk {self.name}",
                                            self._unregister(self.address))
        self.state = TrunkState.STARTING

    async def _unregister(self, address: Address) -> None:
        request = self._register_request(address, 0)
        response = await self.ua.request(request, address)
        if response is not None and response.status in (401, 407):
            with contextlib.suppress(AuthError):
                await self.ua.request(self.with_credentials(request, response), address)
        call_event("trunk", trunk=self.name, state="unregistered")

    async def _run(self) -> None:
        while True:
            pause = await self._attempt()
            await asyncio.sleep(pause)

    async def _attempt(self) -> float:
        """One resolve-and-register round; how long to wait before the next."""
        try:
            self.address = await self._resolve()
        except OSError as exc:
            return self._failed(f"cannot find {self.config.target[0]}: {exc}")
        if not self.config.registers:
            self._set(TrunkState.NOT_REGISTERING, "")
            return 300.0  # only to notice a changed address
        granted = await self._register(self.address)
        if granted is None:
            return self._failed(self.problem)
        self._failures = 0
        self._set(TrunkState.REGISTERED, "")
        return max(MIN_REFRESH_S, granted * REFRESH_SHARE)

    async def _resolve(self) -> Address:
        host, port = self.config.target
        infos = await asyncio.get_running_loop().getaddrinfo(
            host, port, type=socket.SOCK_DGRAM, proto=socket.IPPROTO_UDP)
        self.addresses = {str(info[4][0]) for info in infos}
        first = str(infos[0][4][0])
        return Address(self.config.transport.upper(), first, port)

    async def _register(self, address: Address) -> int | None:
        """REGISTER until the provider grants it (the seconds granted) or refuses (None,
        with `problem` set)."""
        expires = self.config.expires_s
        request = self._register_request(address, expires)
        answered = False
        for _round in range(5):  # challenge, 423, challenge again, stale nonce: enough
            response = await self.ua.request(request, address)
            if response is None:
                self.problem = "no answer from the provider"
                return None
            status = response.status
            if 200 <= status < 300:
                return self._granted(response, expires)
            if status in (401, 407) and (not answered or _stale(response)):
                try:
                    request = self.with_credentials(request, response)
                except AuthError as exc:
                    self.problem = f"cannot answer the provider's challenge: {exc}"
                    return None
                answered = True
                continue
            minimum = (response.headers.get("Min-Expires") or "").strip()
            if status == 423 and minimum.isdigit() and int(minimum) > expires:
                expires = int(minimum)
                request = self._register_request(address, expires)
                answered = False
                continue
            if status in (401, 403, 407):
                self.problem = "the provider refused the user name or password"
            else:
                self.problem = f"the provider answered {status} {response.reason}"
            return None
        self.problem = "the provider kept challenging"
        return None

    # -- messages ----------------------------------------------------------------------

    def _register_request(self, address: Address, expires: int) -> Request:
        host, port = self.config.target
        registrar = SipUri(host=host, port=None if port == 5060 else port)
        aor = SipUri(host=host, user=self.config.username)
        self._cseq += 1
        headers = Headers([
            ("Via", self.ua.via(address)),
            ("Max-Forwards", "70"),
            ("From", str(NameAddr(uri=aor).with_tag(self._from_tag))),
            ("To", str(NameAddr(uri=aor))),
            ("Call-ID", self._call_id),
            ("CSeq", f"{self._cseq} REGISTER"),
            ("Contact", self.contact(address)),
            ("Expires", str(expires)),
            ("User-Agent", self.ua.user_agent),
        ])
        return Request("REGISTER", registrar, headers)

    def contact(self, address: Address) -> str:
        """Where the provider sends our calls: our address, with the account name."""
        return self.ua.contact(address, user=self.config.username)

    def with_credentials(self, request: Request, challenge: Response) -> Request:
        """`request` again (new branch, next CSeq) answering `challenge` (401 or 407)."""
        proxy = challenge.status == 407
        chosen = select_challenge(challenge.headers.get_all(
            "Proxy-Authenticate" if proxy else "WWW-Authenticate"))
        credentials = client_credentials(chosen, request.method, str(request.uri),
                                         self.config.auth_user, self.config.secret or "",
                                         cnonce=secrets.token_hex(8))
        headers = request.headers.copy()
        assert self.address is not None
        headers.set("Via", self.ua.via(self.address))
        number = int(request.cseq.number) + 1
        if request.method == "REGISTER":
            self._cseq = number
        headers.set("CSeq", f"{number} {request.method}")
        headers.set("Proxy-Authorization" if proxy else "Authorization",
                    credentials.header_value())
        return Request(request.method, request.uri, headers, request.body)

    def _granted(self, response: Response, asked: int) -> int:
        """The expiry the provider granted our contact (§10.2.4), else what we asked."""
        for value in response.headers.get_all("Contact"):
            try:
                contact = NameAddr.parse(value)
            except ValueError:
                continue
            uri = contact.uri
            if isinstance(uri, SipUri) and uri.user == self.config.username:
                text = contact.param("expires")
                if text is not None and text.isdigit():
                    return int(text)
        text = (response.headers.get("Expires") or "").strip()
        return int(text) if text.isdigit() else asked

    # -- state -------------------------------------------------------------------------

    def _failed(self, problem: str) -> float:
        pause = RETRY_S[min(self._failures, len(RETRY_S) - 1)]
        self._failures += 1
        self._set(TrunkState.FAILED, problem)
        return pause

    def _set(self, state: TrunkState, problem: str) -> None:
        if state is not self.state or problem != self.problem:
            call_event("trunk", trunk=self.name, state=state.value, problem=problem or None)
            if state is TrunkState.FAILED:
                log.warning("trunk %s is not registered: %s", self.name, problem)
        changed = state is not self.state or problem != self.problem
        self.state = state
        self.problem = problem
        if changed:
            self.ua.on_trunk_change()

    def owns(self, host: str) -> bool:
        """Does a request from `host` come from this trunk's provider?"""
        if host in self.addresses:
            return True
        try:
            ip = ipaddress.ip_address(host)
        except ValueError:
            return False
        return any(ip in network for network in self._networks)

    def snapshot(self) -> dict[str, object]:
        return {"state": self.state.value, "problem": self.problem or None,
                "host": self.config.host}


def _stale(response: Response) -> bool:
    for name in ("WWW-Authenticate", "Proxy-Authenticate"):
        for value in response.headers.get_all(name):
            if "stale=true" in value.replace(" ", "").lower():
                return True
    return False
