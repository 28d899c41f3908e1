"""SIP dialogs (RFC 3261 §12, §13.2.2.4) and whole calls between two user agents built from
`TransactionLayer` and `Dialog`, compared as golden ladder traces with UDP loss."""

from __future__ import annotations

import heapq
import random
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest

from firmware.sip.dialog import (
    Dialog,
    DialogError,
    DialogId,
    DialogState,
    dialog_key,
    make_ack_for_2xx,
)
from firmware.sip.message import Request, Response, make_response, parse_message
from firmware.sip.transaction import (
    RequestReceived,
    ResponseReceived,
    Send,
    ServerTransaction,
    State,
    TransactionLayer,
    new_branch,
)

CALL_ID = "a84b4c76e66710@pc33.atlanta.example.com"


def invite(*, record_route: str = "", extra: str = "", transport: str = "UDP",
           uri: str = "sip:bob@biloxi.example.com") -> Request:
    text = (
        f"INVITE {uri} SIP/2.0\r\n"
        f"Via: SIP/2.0/{transport} pc33.atlanta.example.com;branch=z9hG4bK776asdhds\r\n"
        "Max-Forwards: 70\r\n"
        "To: Bob <sip:bob@biloxi.example.com>\r\n"
        "From: Alice <sip:alice@atlanta.example.com>;tag=1928301774\r\n"
        f"Call-ID: {CALL_ID}\r\n"
        "CSeq: 314159 INVITE\r\n"
        "Contact: <sip:alice@pc33.atlanta.example.com>\r\n"
        f"{record_route}{extra}"
        "Content-Length: 0\r\n\r\n"
    )
    message = parse_message(text.encode())
    assert isinstance(message, Request)
    return message


def reply(request: Request, status: int, *, contact: str = "<sip:bob@192.0.2.4>",
          record_route: tuple[str, ...] = (), tag: str = "a6c85cf") -> Response:
    headers = [("Record-Route", rr) for rr in record_route] + [("Contact", contact)]
    return make_response(request, status, to_tag=tag, headers=headers)


PROXIES = ("<sip:p1.example.com;lr>", "<sip:p2.example.com;lr>")


def uac_dialog(**kwargs) -> tuple[Request, Dialog]:
    request = invite(**kwargs)
    return request, Dialog.from_uac(request, reply(request, 200, record_route=PROXIES))


def uas_dialog() -> tuple[Request, Dialog]:
    request = invite(record_route="".join(f"Record-Route: {rr}\r\n" for rr in PROXIES))
    return request, Dialog.from_uas(request, reply(request, 200), rng=random.Random(5))


def bye_from_alice(cseq: int, contact: str = "") -> Request:
    text = (
        "BYE sip:bob@192.0.2.4 SIP/2.0\r\n"
        "Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bKnashds7\r\n"
        "Max-Forwards: 70\r\n"
        "To: Bob <sip:bob@biloxi.example.com>;tag=a6c85cf\r\n"
        "From: Alice <sip:alice@atlanta.example.com>;tag=1928301774\r\n"
        f"Call-ID: {CALL_ID}\r\n"
        f"CSeq: {cseq} BYE\r\n"
        f"{contact}"
        "Content-Length: 0\r\n\r\n"
    )
    message = parse_message(text.encode())
    assert isinstance(message, Request)
    return message


# --- creating dialogs (§12.1) --------------------------------------------------------------


class TestCreation:
    def test_uac_early_dialog_from_1xx_then_confirmed_by_2xx(self):
        request = invite()
        ringing = reply(request, 180, contact="<sip:bob@192.0.2.99>",
                        record_route=("<sip:early.example.com;lr>",))
        dialog = Dialog.from_uac(request, ringing)
        assert dialog.state is DialogState.EARLY
        assert dialog.id == DialogId(CALL_ID, "1928301774", "a6c85cf")
        assert str(dialog.remote_target) == "sip:bob@192.0.2.99"
        assert [str(r) for r in dialog.route_set] == ["<sip:early.example.com;lr>"]
        # §12.1.2: on the 2xx the route set is recomputed (reversed) and the target taken.
        dialog.receive_response(reply(request, 200, record_route=PROXIES))
        assert dialog.state is DialogState.CONFIRMED
        assert [str(r) for r in dialog.route_set] == list(reversed(PROXIES))
        assert str(dialog.remote_target) == "sip:bob@192.0.2.4"
        assert (dialog.local_cseq, dialog.remote_cseq) == (314159, None)
        assert str(dialog.local_uri) == "sip:alice@atlanta.example.com"
        assert str(dialog.remote_uri) == "sip:bob@biloxi.example.com"

    def test_uac_early_dialog_ends_on_failure(self):
        request = invite()
        dialog = Dialog.from_uac(request, reply(request, 183))
        dialog.receive_response(reply(request, 100, tag=None))  # no tag: nothing to say
        assert dialog.state is DialogState.EARLY
        dialog.receive_response(reply(request, 486))
        assert dialog.state is DialogState.TERMINATED

    def test_a_fork_answering_with_another_tag_is_another_dialog(self):
        request = invite()
        dialog = Dialog.from_uac(request, reply(request, 180, tag="fork1"))
        other = reply(request, 200, tag="fork2")
        with pytest.raises(DialogError):
            dialog.receive_response(other)
        assert dialog.state is DialogState.EARLY  # a misdirected message changes nothing
        assert Dialog.from_uac(request, other).id.remote_tag == "fork2"

    def test_no_dialog_without_a_to_tag_or_from_a_failure(self):
        request = invite()
        with pytest.raises(DialogError):
            Dialog.from_uac(request, reply(request, 180, tag=None))
        with pytest.raises(DialogError):
            Dialog.from_uac(request, reply(request, 404))

    def test_uas_dialog(self):
        _, dialog = uas_dialog()
        assert dialog.state is DialogState.CONFIRMED
        assert dialog.id == DialogId(CALL_ID, "a6c85cf", "1928301774")
        assert [str(r) for r in dialog.route_set] == list(PROXIES)  # in order for the UAS
        assert str(dialog.remote_target) == "sip:alice@pc33.atlanta.example.com"
        assert (dialog.local_cseq, dialog.remote_cseq) == (None, 314159)
        assert not dialog.secure

    def test_uas_early_dialog_confirmed_when_the_2xx_is_sent(self):
        request = invite()
        dialog = Dialog.from_uas(request, reply(request, 180))
        assert dialog.state is DialogState.EARLY
        dialog.response_sent(reply(request, 200))
        assert dialog.state is DialogState.CONFIRMED

    def test_secure_needs_tls_and_sips(self):
        request = invite(transport="TLS", uri="sips:bob@biloxi.example.com")
        assert Dialog.from_uas(request, reply(request, 200)).secure
        request = invite(transport="TCP", uri="sips:bob@biloxi.example.com")
        assert not Dialog.from_uac(request, reply(request, 200)).secure


# --- requests inside the dialog (§12.2.1.1) ------------------------------------------------


class TestNewRequest:
    def test_loose_routing(self):
        _, dialog = uac_dialog()
        bye = dialog.new_request("BYE", sent_by="pc33.atlanta.example.com:5060",
                                 branch="z9hG4bKbye1")
        assert str(bye.uri) == "sip:bob@192.0.2.4"  # the remote target
        assert bye.headers.get_all("Route") == list(reversed(PROXIES))
        assert (bye.cseq.number, bye.cseq.method) == (314160, "BYE")
        assert bye.from_tag == "1928301774" and bye.to_tag == "a6c85cf"
        assert bye.call_id == CALL_ID and bye.max_forwards == 70
        assert str(bye.top_via) == \
            "SIP/2.0/UDP pc33.atlanta.example.com:5060;branch=z9hG4bKbye1"
        assert "Contact" not in bye.headers
        assert dialog.state is DialogState.TERMINATED
        # the bytes are a valid message that reads back the same
        assert bytes(parse_message(bytes(bye))) == bytes(bye)

    def test_strict_routing_puts_the_first_route_in_the_request_uri(self):
        request = invite()
        dialog = Dialog.from_uac(request, reply(request, 200, record_route=(
            "<sip:p3.example.com;lr>", "<sip:strict.example.com;method=INVITE>")))
        info = dialog.new_request("INFO")
        assert str(info.uri) == "sip:strict.example.com"  # method= not allowed there
        assert info.headers.get_all("Route") == ["<sip:p3.example.com;lr>",
                                                 "<sip:bob@192.0.2.4>"]

    def test_no_route_set_no_route_headers(self):
        request = invite()
        dialog = Dialog.from_uac(request, reply(request, 200))
        options = dialog.new_request("OPTIONS")
        assert "Route" not in options.headers and "Via" not in options.headers

    def test_target_refresh_carries_our_contact_and_body(self):
        _, dialog = uac_dialog()
        reinvite = dialog.new_request("invite", body=b"v=0\r\n",
                                      content_type="application/sdp",
                                      headers=[("Subject", "hold")])
        assert reinvite.method == "INVITE"
        assert reinvite.headers.get("Contact") == "<sip:alice@pc33.atlanta.example.com>"
        assert reinvite.headers.get("Content-Type") == "application/sdp"
        assert reinvite.headers.get("Subject") == "hold"
        assert b"Content-Length: 5\r\n" in bytes(reinvite)

    def test_cseq_goes_up_by_one(self):
        _, dialog = uac_dialog()
        numbers = [dialog.new_request("INFO").cseq.number for _ in range(3)]
        assert numbers == [314160, 314161, 314162]

    def test_uas_picks_a_random_first_cseq(self):
        _, dialog = uas_dialog()
        first = dialog.new_request("INFO").cseq.number
        assert 0 < first < 2**31
        assert dialog.new_request("INFO").cseq.number == first + 1
        assert first == uas_dialog()[1].new_request("INFO").cseq.number  # seeded

    def test_fresh_branch_when_only_sent_by_is_given(self):
        _, dialog = uac_dialog()
        one = dialog.new_request("INFO", sent_by="192.0.2.1:5060").top_via.branch
        two = dialog.new_request("INFO", sent_by="192.0.2.1:5060").top_via.branch
        assert one.startswith("z9hG4bK") and two.startswith("z9hG4bK") and one != two

    def test_callee_must_not_bye_an_early_dialog(self):
        request = invite()
        dialog = Dialog.from_uas(request, reply(request, 180))
        with pytest.raises(DialogError):
            dialog.new_request("BYE")
        assert dialog.state is DialogState.ERROR
        with pytest.raises(DialogError):
            dialog.new_request("INFO")

    def test_ack_and_cancel_are_not_new_requests(self):
        _, dialog = uac_dialog()
        for method in ("ACK", "CANCEL"):
            with pytest.raises(DialogError):
                dialog.new_request(method)
        assert dialog.state is DialogState.CONFIRMED and dialog.local_cseq == 314159

    def test_nothing_but_bye_after_bye(self):
        _, dialog = uac_dialog()
        dialog.new_request("BYE")
        dialog.receive_response(make_response(dialog.new_request("BYE"), 200))  # after a 401
        with pytest.raises(DialogError, match="request sent is not allowed in state "
                                              "terminated"):
            dialog.new_request("INFO")
        assert dialog.state is DialogState.ERROR


# --- requests received (§12.2.2) -----------------------------------------------------------


class TestAcceptRequest:
    def test_cseq_ordering(self):
        _, dialog = uas_dialog()
        assert dialog.accept_request(_request("INFO", 314160))
        assert dialog.remote_cseq == 314160
        assert not dialog.accept_request(_request("INFO", 314150))  # lower: answer 500
        assert dialog.remote_cseq == 314160 and dialog.state is DialogState.CONFIRMED
        assert dialog.accept_request(_request("INFO", 314170))
        assert dialog.remote_cseq == 314170

    def test_first_request_sets_an_empty_remote_cseq(self):
        _, dialog = uac_dialog()
        assert dialog.remote_cseq is None
        assert dialog.accept_request(_request("INFO", 7, reverse=True))
        assert dialog.remote_cseq == 7

    def test_ack_is_not_ordered(self):
        _, dialog = uas_dialog()
        dialog.accept_request(_request("INFO", 314170))
        assert dialog.accept_request(_request("ACK", 314159))
        assert dialog.remote_cseq == 314170

    def test_reinvite_refreshes_the_remote_target(self):
        _, dialog = uas_dialog()
        reinvite = _request("INVITE", 314160, contact="Contact: <sip:alice@198.51.100.9>\r\n")
        assert dialog.accept_request(reinvite)
        assert str(dialog.remote_target) == "sip:alice@198.51.100.9"

    def test_bye_ends_the_dialog(self):
        _, dialog = uas_dialog()
        assert dialog.accept_request(bye_from_alice(314160))
        assert dialog.state is DialogState.TERMINATED
        with pytest.raises(DialogError):
            dialog.accept_request(_request("INFO", 314170))
        assert dialog.state is DialogState.ERROR

    def test_request_of_another_dialog_is_refused(self):
        _, dialog = uac_dialog()
        with pytest.raises(DialogError):
            dialog.accept_request(bye_from_alice(314160))  # seen from Alice, her own BYE


class TestResponses:
    def test_481_or_408_ends_the_dialog(self):
        for status in (481, 408):
            _, dialog = uac_dialog()
            dialog.receive_response(make_response(dialog.new_request("INFO"), status))
            assert dialog.state is DialogState.TERMINATED

    def test_2xx_to_reinvite_refreshes_the_target(self):
        _, dialog = uac_dialog()
        reinvite = dialog.new_request("INVITE")
        dialog.receive_response(make_response(reinvite, 200, headers=[
            ("Contact", "<sip:bob@203.0.113.5>")]))
        assert str(dialog.remote_target) == "sip:bob@203.0.113.5"

    def test_other_failures_keep_the_dialog(self):
        _, dialog = uac_dialog()
        dialog.receive_response(make_response(dialog.new_request("INVITE"), 488))
        assert dialog.state is DialogState.CONFIRMED


# --- ACK for a 2xx (§13.2.2.4) --------------------------------------------------------------


class TestAckFor2xx:
    def test_built_like_an_in_dialog_request_with_the_invite_cseq(self):
        request = invite(extra='Proxy-Authorization: Digest username="alice", realm="x"\r\n')
        dialog = Dialog.from_uac(request, reply(request, 200, record_route=PROXIES))
        ack = make_ack_for_2xx(dialog, request, sent_by="pc33.atlanta.example.com",
                               branch="z9hG4bKack1")
        assert ack.method == "ACK" and str(ack.uri) == "sip:bob@192.0.2.4"
        assert (ack.cseq.number, ack.cseq.method) == (314159, "ACK")
        assert ack.headers.get_all("Route") == list(reversed(PROXIES))
        assert ack.to_tag == "a6c85cf" and ack.from_tag == "1928301774"
        assert ack.top_via.branch == "z9hG4bKack1" != request.top_via.branch
        assert ack.headers.get("Proxy-Authorization") == 'Digest username="alice", realm="x"'
        assert dialog.local_cseq == 314159  # the ACK takes no number of its own

    def test_an_early_dialog_must_see_the_2xx_first(self):
        request = invite()
        dialog = Dialog.from_uac(request, reply(request, 180))
        with pytest.raises(DialogError):
            make_ack_for_2xx(dialog, request)


def test_dialog_key_from_either_side():
    request, alice = uac_dialog()
    _, bob = uas_dialog()
    ok = reply(request, 200)
    assert dialog_key(ok, local_is_uac=True) == alice.id
    assert dialog_key(ok, local_is_uac=False) == bob.id
    bye = bye_from_alice(314160)
    assert dialog_key(bye, local_is_uac=True) == alice.id
    assert dialog_key(bye, local_is_uac=False) == bob.id
    bob_bye = bob.new_request("BYE")  # the callee hangs up: the caller receives it
    assert dialog_key(bob_bye, local_is_uac=False) == alice.id


def _request(method: str, cseq: int, *, contact: str = "", reverse: bool = False) -> Request:
    """An in-dialog request from Alice to Bob (or from Bob to Alice with `reverse`)."""
    base = bye_from_alice(cseq, contact)
    request = Request(method, base.uri, _with_method(base, method))
    if reverse:
        to, from_ = request.headers.get("From"), request.headers.get("To")
        request.headers.set("From", from_)
        request.headers.set("To", to)
    return request


def _with_method(request: Request, method: str):
    headers = request.headers.copy()
    headers.set("CSeq", f"{request.cseq.number} {method}")
    return headers


# --- golden ladders: two user agents, a lossy UDP network, a fake clock --------------------

ALICE = ("UDP", "192.0.2.1", 5060)
BOB = ("UDP", "192.0.2.4", 5060)
DELAY = 0.05  # one-way network delay


def label(message: Request | Response) -> str:
    if isinstance(message, Request):
        return message.method
    return f"{message.status} {message.reason} ({message.cseq.method})"


@dataclass
class Network:
    """Carries bytes between the agents; `lose` maps a label to how many to drop first."""

    lose: dict[str, int] = field(default_factory=dict)
    trace: list[str] = field(default_factory=list)
    queue: list = field(default_factory=list)
    seq: int = 0

    def send(self, now: float, src: Agent, action: Send) -> None:
        dst = action.dest
        text = label(action.message)
        lost = self.lose.get(text, 0) > 0
        if lost:
            self.lose[text] -= 1
        names = {ALICE: "alice", BOB: "bob"}
        self.trace.append(f"{now:5.2f} {names[src.address]:>5} -> {names[dst]:<5} {text}"
                          + ("  (lost)" if lost else ""))
        if not lost:
            self.seq += 1
            heapq.heappush(self.queue, (now + DELAY, self.seq, dst, bytes(action.message),
                                        src.address))


class Agent:
    """A minimal transaction user: just enough call logic to make and take one call."""

    def __init__(self, address: tuple, net: Network, seed: int) -> None:
        self.address = address
        self.net = net
        self.rng = random.Random(seed)
        self.layer = TransactionLayer()
        self.dialog: Dialog | None = None
        self.tasks: list[tuple[float, int, Callable[[float], list]]] = []
        self.log: list[str] = []

    @property
    def sent_by(self) -> str:
        return f"{self.address[1]}:{self.address[2]}"

    def later(self, when: float, task: Callable[[float], list]) -> None:
        heapq.heappush(self.tasks, (when, id(task), task))

    def handle(self, actions: list, now: float) -> None:
        for action in actions:
            if isinstance(action, Send):
                self.net.send(now, self, action)
            else:
                self.handle(self.on_event(action, now), now)

    def on_event(self, event, now: float) -> list:
        return []


class Caller(Agent):
    def call(self, now: float) -> list:
        text = (
            f"INVITE sip:bob@{BOB[1]} SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP {self.sent_by};branch={new_branch(self.rng)}\r\n"
            "Max-Forwards: 70\r\nTo: <sip:bob@example.com>\r\n"
            "From: <sip:alice@example.com>;tag=alicetag\r\n"
            "Call-ID: ladder@192.0.2.1\r\nCSeq: 1 INVITE\r\n"
            f"Contact: <sip:alice@{self.sent_by}>\r\nContent-Length: 0\r\n\r\n")
        self.invite = parse_message(text.encode())
        self.ack: Request | None = None
        self.invite_tx, actions = self.layer.send_request(self.invite, BOB, False, now)
        return actions

    def cancel(self, now: float) -> list:
        return self.layer.cancel(self.invite_tx, now)

    def hang_up(self, now: float) -> list:
        assert self.dialog is not None
        bye = self.dialog.new_request("BYE", sent_by=self.sent_by)
        _, actions = self.layer.send_request(bye, BOB, False, now)
        return actions

    def on_event(self, event, now: float) -> list:
        if not isinstance(event, ResponseReceived):
            return []
        response = event.response
        if response.cseq.method == "CANCEL":
            return []  # the INVITE's own answer (487) is what counts
        if response.cseq.method != "INVITE":
            self.dialog.receive_response(response)
            return []
        if response.to_tag is not None and self.dialog is None and response.status < 300:
            self.dialog = Dialog.from_uac(self.invite, response, rng=self.rng)
            self.log.append(f"{now:5.2f} dialog {self.dialog.state.value}")
        elif self.dialog is not None:
            self.dialog.receive_response(response)
        if 200 <= response.status < 300:
            # §13.2.2.4: the same ACK for every copy of the 2xx
            self.ack = self.ack or make_ack_for_2xx(self.dialog, self.invite,
                                                    sent_by=self.sent_by)
            self.log.append(f"{now:5.2f} dialog {self.dialog.state.value}")
            return [Send(self.ack, BOB, False)]
        return []


class Callee(Agent):
    ring_after = 0.5
    answer_after = 1.0

    def on_event(self, event, now: float) -> list:
        if not isinstance(event, RequestReceived):
            return []
        request = event.request
        if request.method == "ACK":
            assert self.dialog is not None and self.dialog.accept_request(request)
            self.log.append(f"{now:5.2f} ACK {self.dialog.state.value}")
            return []
        server = self.layer.create_server(request, event.source, now)
        if request.method == "CANCEL":
            return self.cancelled(server, now)
        if request.method == "INVITE":
            self.later(now + self.ring_after, lambda t: self.ring(server, t))
            return []
        assert self.dialog is not None and self.dialog.accept_request(request)
        self.log.append(f"{now:5.2f} {request.method} {self.dialog.state.value}")
        return self.layer.respond(server, make_response(request, 200), now)

    def cancelled(self, server: ServerTransaction, now: float) -> list:
        # §9.2: 200 for the CANCEL, then 487 for the INVITE if it is still pending
        invite_tx = self.layer.find_invite_server(server.request)
        if invite_tx is None:
            return self.layer.respond(server, make_response(server.request, 481), now)
        actions = self.layer.respond(
            server, make_response(server.request, 200, to_tag="bobtag"), now)
        if invite_tx.state is State.PROCEEDING:
            terminated = make_response(invite_tx.request, 487, to_tag="bobtag")
            if self.dialog is not None:
                self.dialog.response_sent(terminated)
            actions += self.layer.respond(invite_tx, terminated, now)
        self.log.append(f"{now:5.2f} CANCEL")
        return actions

    def ring(self, server: ServerTransaction, now: float) -> list:
        if server.state is not State.PROCEEDING:
            return []  # cancelled meanwhile
        ringing = reply(server.request, 180, contact=f"<sip:bob@{self.sent_by}>", tag="bobtag")
        self.dialog = Dialog.from_uas(server.request, ringing, rng=self.rng)
        self.later(now + self.answer_after, lambda t: self.answer(server, t))
        return self.layer.respond(server, ringing, now)

    def answer(self, server: ServerTransaction, now: float) -> list:
        if server.state is not State.PROCEEDING:
            return []  # cancelled meanwhile
        ok = reply(server.request, 200, contact=f"<sip:bob@{self.sent_by}>", tag="bobtag")
        self.dialog.response_sent(ok)
        return self.layer.respond(server, ok, now)


def run_call(lose: dict[str, int] | None = None, hang_up_at: float | None = 5.0,
             cancel_at: float | None = None, until: float = 60.0
             ) -> tuple[Network, Caller, Callee]:
    net = Network(lose=dict(lose or {}))
    alice, bob = Caller(ALICE, net, 1), Callee(BOB, net, 2)
    agents = {ALICE: alice, BOB: bob}
    alice.later(0.0, alice.call)
    if hang_up_at is not None:
        alice.later(hang_up_at, alice.hang_up)
    if cancel_at is not None:
        alice.later(cancel_at, alice.cancel)
    while True:
        options = []
        if net.queue:
            options.append((net.queue[0][0], 0, None))
        for n, agent in enumerate(agents.values()):
            if agent.tasks:
                options.append((agent.tasks[0][0], 1 + n, agent))
            if (due := agent.layer.next_deadline()) is not None:
                options.append((due, 3 + n, agent))
        if not options:
            break
        now, kind, agent = min(options, key=lambda o: (o[0], o[1]))
        if now > until:
            break
        if kind == 0:
            _, _, dst, data, src = heapq.heappop(net.queue)
            receiver = agents[dst]
            receiver.handle(receiver.layer.receive(parse_message(data), src, now), now)
        elif kind in (1, 2):
            _, _, task = heapq.heappop(agent.tasks)
            agent.handle(task(now), now)
        else:
            agent.handle(agent.layer.on_timer(now), now)
    return net, alice, bob


def assert_idle(*agents: Agent, dialogs: bool = True) -> None:
    for agent in agents:
        assert agent.layer.transactions == [] and agent.layer.answers == []
        assert agent.layer.next_deadline() is None
        if dialogs:
            assert agent.dialog is not None and agent.dialog.state is DialogState.TERMINATED


class TestLadder:
    def test_invite_ringing_ok_ack_bye_ok(self):
        net, alice, bob = run_call()
        assert net.trace == [
            " 0.00 alice -> bob   INVITE",
            " 0.25   bob -> alice 100 Trying (INVITE)",  # §17.2.1: the TU was silent 200 ms
            " 0.55   bob -> alice 180 Ringing (INVITE)",
            " 1.55   bob -> alice 200 OK (INVITE)",
            " 1.60 alice -> bob   ACK",
            " 5.00 alice -> bob   BYE",
            " 5.05   bob -> alice 200 OK (BYE)",
        ]
        assert alice.log == [" 0.60 dialog early", " 1.60 dialog confirmed"]
        assert bob.log == [" 1.65 ACK confirmed", " 5.05 BYE terminated"]
        assert_idle(alice, bob)

    def test_lost_200_is_retransmitted_and_the_call_still_sets_up(self):
        net, alice, bob = run_call(lose={"200 OK (INVITE)": 1})
        assert net.trace == [
            " 0.00 alice -> bob   INVITE",
            " 0.25   bob -> alice 100 Trying (INVITE)",
            " 0.55   bob -> alice 180 Ringing (INVITE)",
            " 1.55   bob -> alice 200 OK (INVITE)  (lost)",
            " 2.05   bob -> alice 200 OK (INVITE)",  # §13.3.1.4: T1 later, by Bob's core
            " 2.10 alice -> bob   ACK",
            " 5.00 alice -> bob   BYE",
            " 5.05   bob -> alice 200 OK (BYE)",
        ]
        assert bob.log[0] == " 2.15 ACK confirmed"
        assert_idle(alice, bob)

    def test_lost_ack_brings_the_200_back_and_alice_acks_again(self):
        net, alice, bob = run_call(lose={"ACK": 1})
        assert net.trace[3:7] == [
            " 1.55   bob -> alice 200 OK (INVITE)",
            " 1.60 alice -> bob   ACK  (lost)",
            " 2.05   bob -> alice 200 OK (INVITE)",  # Alice's INVITE is in Accepted ...
            " 2.10 alice -> bob   ACK",  # ... so the copy reaches her TU, which ACKs again
        ]
        assert_idle(alice, bob)

    def test_lost_invite_is_retransmitted_on_timer_a(self):
        net, alice, bob = run_call(lose={"INVITE": 2})
        assert net.trace[:4] == [
            " 0.00 alice -> bob   INVITE  (lost)",
            " 0.50 alice -> bob   INVITE  (lost)",
            " 1.50 alice -> bob   INVITE",
            " 1.75   bob -> alice 100 Trying (INVITE)",
        ]
        assert_idle(alice, bob)

    def test_lost_bye_response_is_answered_from_the_server_transaction(self):
        net, alice, bob = run_call(lose={"200 OK (BYE)": 1})
        assert net.trace[-3:] == [
            " 5.05   bob -> alice 200 OK (BYE)  (lost)",
            " 5.50 alice -> bob   BYE",  # Timer E
            " 5.55   bob -> alice 200 OK (BYE)",  # absorbed by Bob's transaction, answered
        ]
        assert bob.log.count(" 5.05 BYE terminated") == 1 and len(bob.log) == 2
        assert_idle(alice, bob)

    def test_cancel_while_ringing(self):
        net, alice, bob = run_call(hang_up_at=None, cancel_at=1.0)
        assert net.trace == [
            " 0.00 alice -> bob   INVITE",
            " 0.25   bob -> alice 100 Trying (INVITE)",
            " 0.55   bob -> alice 180 Ringing (INVITE)",
            " 1.00 alice -> bob   CANCEL",
            " 1.05   bob -> alice 200 OK (CANCEL)",
            " 1.05   bob -> alice 487 Request Terminated (INVITE)",
            " 1.10 alice -> bob   ACK",  # from Alice's INVITE transaction (§17.1.1.3)
        ]
        assert bob.log == [" 1.05 CANCEL"]
        assert_idle(alice, bob)

    def test_cancel_before_any_provisional_waits_for_one(self):
        net, alice, bob = run_call(hang_up_at=None, cancel_at=0.1)
        assert net.trace == [
            " 0.00 alice -> bob   INVITE",
            " 0.25   bob -> alice 100 Trying (INVITE)",
            " 0.30 alice -> bob   CANCEL",  # §9.1: held back until the 100 came
            " 0.35   bob -> alice 200 OK (CANCEL)",
            " 0.35   bob -> alice 487 Request Terminated (INVITE)",
            " 0.40 alice -> bob   ACK",
        ]
        assert alice.dialog is None and bob.dialog is None
        assert_idle(alice, bob, dialogs=False)

    def test_nobody_home_times_out_on_timer_b(self):
        net = Network(lose={"INVITE": 99})
        alice = Caller(ALICE, net, 1)
        actions = alice.call(0.0)
        alice.handle(actions, 0.0)
        ended = []
        while (due := alice.layer.next_deadline()) is not None:
            actions = alice.layer.on_timer(due)
            alice.handle(actions, due)
            ended += [a for a in actions if not isinstance(a, Send)]
        assert [line[:5] for line in net.trace] == \
            [" 0.00", " 0.50", " 1.50", " 3.50", " 7.50", "15.50", "31.50"]
        assert [(type(e).__name__, e.reason.value) for e in ended] == [("Terminated",
                                                                         "timeout")]
