"""SIP transactions (RFC 3261 §17, RFC 6026) driven by a fake clock.

Time is a plain float handed to every call; `run()` jumps from deadline to deadline, so
every retransmission schedule below is exact, never "about 500 ms".
"""

from __future__ import annotations

import random

import pytest

from firmware.sip.message import Request, Response, make_response, parse_message
from firmware.sip.transaction import (
    AckTimedOut,
    ClientInviteTransaction,
    ClientNonInviteTransaction,
    EndReason,
    RequestReceived,
    ResponseReceived,
    Send,
    ServerInviteTransaction,
    ServerNonInviteTransaction,
    State,
    StrayResponse,
    Terminated,
    TimerSettings,
    TransactionError,
    TransactionLayer,
    TransportFailed,
    make_cancel,
    new_branch,
)

PHONE = ("UDP", "192.0.2.10", 5060)  # any hashable stands for an address
BRANCH = "z9hG4bK74bf9"


def request(
    method: str = "INVITE",
    *,
    branch: str = BRANCH,
    cseq: int = 1,
    transport: str = "UDP",
    to_tag: str | None = None,
    extra: str = "",
    cseq_method: str | None = None,
    vias: str = "",
) -> Request:
    to = "Bob <sip:bob@biloxi.example.com>" + (f";tag={to_tag}" if to_tag else "")
    text = (
        f"{method} sip:bob@biloxi.example.com SIP/2.0\r\n"
        f"Via: SIP/2.0/{transport} pc33.atlanta.example.com:5060;branch={branch}\r\n"
        f"{vias}"
        "Max-Forwards: 70\r\n"
        f"To: {to}\r\n"
        "From: Alice <sip:alice@atlanta.example.com>;tag=9fxced76sl\r\n"
        "Call-ID: 3848276298220188511@atlanta.example.com\r\n"
        f"CSeq: {cseq} {cseq_method or method}\r\n"
        "Contact: <sip:alice@pc33.atlanta.example.com>\r\n"
        f"{extra}"
        "Content-Length: 0\r\n\r\n"
    )
    message = parse_message(text.encode())
    assert isinstance(message, Request)
    return message


def answer(req: Request, status: int, to_tag: str | None = "314159") -> Response:
    return make_response(req, status, to_tag=to_tag if status > 100 else None)


def sends(actions: list) -> list:
    return [a.message for a in actions if isinstance(a, Send)]


def delivered(actions: list) -> list[int]:
    return [a.response.status for a in actions if isinstance(a, ResponseReceived)]


def ended(actions: list) -> list[EndReason]:
    return [a.reason for a in actions if isinstance(a, Terminated)]


def run(machine, until: float) -> list[tuple[float, list]]:
    """Fire every deadline up to `until`; returns (time, actions) for each firing."""
    out = []
    while (due := machine.next_deadline()) is not None and due <= until:
        out.append((due, machine.on_timer(due)))
    return out


def send_times(log: list[tuple[float, list]]) -> list[float]:
    return [t for t, actions in log for _ in sends(actions)]


# --- INVITE client transaction (§17.1.1) ---------------------------------------------------


class TestClientInvite:
    def test_timer_a_doubles_from_t1_until_timer_b(self):
        tx = ClientInviteTransaction(request(), PHONE, reliable=False, now=0.0)
        assert sends(tx.start()) == [tx.request]
        log = run(tx, 100.0)
        assert send_times(log) == [0.5, 1.5, 3.5, 7.5, 15.5, 31.5]
        assert log[-1][0] == 32.0  # Timer B = 64*T1
        assert ended(log[-1][1]) == [EndReason.TIMEOUT]
        assert tx.state is State.TERMINATED and tx.next_deadline() is None

    def test_settable_t1_scales_a_and_b(self):
        timers = TimerSettings(t1=0.25)
        tx = ClientInviteTransaction(request(), PHONE, reliable=False, now=10.0, timers=timers)
        log = run(tx, 100.0)
        assert send_times(log) == [10.25, 10.75, 11.75, 13.75, 17.75, 25.75]
        assert log[-1][0] == 26.0

    def test_reliable_transport_has_no_timer_a(self):
        tx = ClientInviteTransaction(request(transport="TCP"), PHONE, reliable=True, now=0.0)
        log = run(tx, 100.0)
        assert send_times(log) == []
        assert [t for t, _ in log] == [32.0]
        assert ended(log[0][1]) == [EndReason.TIMEOUT]

    def test_provisional_stops_retransmission_and_goes_up(self):
        tx = ClientInviteTransaction(request(), PHONE, reliable=False, now=0.0)
        actions = tx.receive(answer(tx.request, 100), 0.3)
        assert actions == [ResponseReceived(tx, actions[0].response)]
        assert tx.state is State.PROCEEDING
        assert delivered(tx.receive(answer(tx.request, 180), 2.0)) == [180]
        # §17.1.1.2: no retransmission in Proceeding, and B only guards Calling.
        assert tx.next_deadline() is None

    def test_non_2xx_is_acked_by_the_transaction(self):
        invite = request(
            vias="Via: SIP/2.0/UDP proxy.example.com;branch=z9hG4bKproxy\r\n",
            extra="Route: <sip:p1.example.com;lr>, <sip:p2.example.com;lr>\r\n",
        )
        tx = ClientInviteTransaction(invite, PHONE, reliable=False, now=0.0)
        busy = answer(invite, 486, to_tag="busytag")
        actions = tx.receive(busy, 1.0)
        ack = sends(actions)[0]
        assert delivered(actions) == [486]
        # §17.1.1.3: same Request-URI, Call-ID, From, CSeq number; To with the response's
        # tag; the top Via only; the INVITE's Route headers.
        assert ack.method == "ACK"
        assert ack.uri == invite.uri
        assert ack.call_id == invite.call_id
        assert str(ack.from_) == str(invite.from_)
        assert (ack.cseq.number, ack.cseq.method) == (1, "ACK")
        assert ack.to_tag == "busytag"
        assert [str(v) for v in ack.vias] == [str(invite.top_via)]
        assert ack.headers.get_all("Route") == [
            "<sip:p1.example.com;lr>",
            "<sip:p2.example.com;lr>",
        ]
        assert ack.body == b""
        assert tx.state is State.COMPLETED and tx.next_deadline() == 33.0  # D = 32 s

    def test_completed_resends_ack_for_retransmitted_final_and_ends_on_d(self):
        tx = ClientInviteTransaction(request(), PHONE, reliable=False, now=0.0)
        first = tx.receive(answer(tx.request, 603), 0.0)
        again = tx.receive(answer(tx.request, 603), 0.6)
        assert sends(again) == sends(first) and delivered(again) == []
        assert tx.receive(answer(tx.request, 180), 0.7) == []  # late 1xx: absorbed
        log = run(tx, 100.0)
        assert [(t, ended(a)) for t, a in log] == [(32.0, [EndReason.NORMAL])]

    def test_timer_d_is_zero_on_tcp(self):
        tx = ClientInviteTransaction(request(transport="TCP"), PHONE, reliable=True, now=0.0)
        actions = tx.receive(answer(tx.request, 404), 0.4)
        assert [type(a) for a in actions] == [Send, ResponseReceived, Terminated]
        assert sends(actions)[0].method == "ACK"
        assert tx.state is State.TERMINATED

    def test_2xx_goes_up_and_accepted_passes_retransmissions_until_m(self):
        tx = ClientInviteTransaction(request(), PHONE, reliable=False, now=0.0)
        tx.receive(answer(tx.request, 180), 0.1)
        ok = answer(tx.request, 200)
        actions = tx.receive(ok, 5.0)
        assert delivered(actions) == [200] and sends(actions) == []  # the TU ACKs a 2xx
        assert tx.state is State.ACCEPTED
        assert delivered(tx.receive(ok, 5.5)) == [200]  # RFC 6026: every copy to the TU
        assert tx.receive(answer(tx.request, 500), 5.6) == []  # non-2xx: discarded
        log = run(tx, 100.0)
        assert [(t, ended(a)) for t, a in log] == [(37.0, [EndReason.NORMAL])]  # M = 64*T1

    def test_transport_error_ends_with_reason(self):
        tx = ClientInviteTransaction(request(), PHONE, reliable=False, now=0.0)
        assert ended(tx.transport_error(0.1)) == [EndReason.TRANSPORT_ERROR]

    def test_cancel_before_a_provisional_is_illegal_and_leaves_error_state(self):
        tx = ClientInviteTransaction(request(), PHONE, reliable=False, now=0.0)
        with pytest.raises(TransactionError, match="CANCEL sent is not allowed in state calling"):
            tx.cancel_sent(0.1)
        assert tx.state is State.ERROR and tx.next_deadline() is None
        with pytest.raises(TransactionError):
            tx.receive(answer(tx.request, 180), 0.2)
        assert tx.state is State.ERROR

    def test_cancel_gives_the_invite_64_t1_to_end(self):
        tx = ClientInviteTransaction(request(), PHONE, reliable=False, now=0.0)
        tx.receive(answer(tx.request, 180), 0.1)
        tx.cancel_sent(10.0)
        log = run(tx, 100.0)
        assert [(t, ended(a)) for t, a in log] == [(42.0, [EndReason.TIMEOUT])]


# --- non-INVITE client transaction (§17.1.2) -----------------------------------------------


class TestClientNonInvite:
    def test_timer_e_doubles_up_to_t2_until_f(self):
        tx = ClientNonInviteTransaction(request("OPTIONS"), PHONE, reliable=False, now=0.0)
        log = run(tx, 100.0)
        assert send_times(log) == [0.5, 1.5, 3.5, 7.5, 11.5, 15.5, 19.5, 23.5, 27.5, 31.5]
        assert log[-1][0] == 32.0 and ended(log[-1][1]) == [EndReason.TIMEOUT]

    def test_provisional_switches_e_to_t2(self):
        tx = ClientNonInviteTransaction(request("BYE"), PHONE, reliable=False, now=0.0)
        run(tx, 0.5)  # first retransmission; E now 1 s away
        assert delivered(tx.receive(answer(tx.request, 100), 0.7)) == [100]
        assert tx.state is State.PROCEEDING
        log = run(tx, 10.0)
        assert send_times(log) == [1.5, 5.5, 9.5]

    def test_final_completes_absorbs_copies_and_ends_after_t4(self):
        tx = ClientNonInviteTransaction(request("BYE"), PHONE, reliable=False, now=0.0)
        assert delivered(tx.receive(answer(tx.request, 200), 0.2)) == [200]
        assert tx.state is State.COMPLETED
        assert tx.receive(answer(tx.request, 200), 0.9) == []
        log = run(tx, 100.0)
        assert [(t, ended(a)) for t, a in log] == [(5.2, [EndReason.NORMAL])]  # K = T4

    def test_timer_k_is_zero_on_tcp(self):
        tx = ClientNonInviteTransaction(
            request("BYE", transport="TCP"), PHONE, reliable=True, now=0.0
        )
        assert run(tx, 31.9) == []  # no Timer E on TCP
        actions = tx.receive(answer(tx.request, 200), 1.0)
        assert delivered(actions) == [200] and ended(actions) == [EndReason.NORMAL]

    def test_invite_is_refused(self):
        with pytest.raises(TransactionError):
            ClientNonInviteTransaction(request(), PHONE, reliable=False, now=0.0)


# --- INVITE server transaction (§17.2.1) ---------------------------------------------------


class TestServerInvite:
    def test_100_trying_after_200_ms_without_an_answer(self):
        tx = ServerInviteTransaction(request(), PHONE, reliable=False, now=0.0)
        assert tx.next_deadline() == 0.2
        log = run(tx, 1.0)
        assert len(log) == 1 and log[0][0] == 0.2
        trying = sends(log[0][1])[0]
        assert trying.status == 100 and trying.to_tag is None
        assert trying.cseq == tx.request.cseq and trying.call_id == tx.request.call_id

    def test_no_100_when_the_tu_answers_in_time(self):
        tx = ServerInviteTransaction(request(), PHONE, reliable=False, now=0.0)
        assert [m.status for m in sends(tx.respond(answer(tx.request, 180), 0.15))] == [180]
        assert run(tx, 10.0) == []

    def test_retransmitted_invite_gets_the_latest_provisional(self):
        tx = ServerInviteTransaction(request(), PHONE, reliable=False, now=0.0)
        assert tx.receive(tx.request, 0.1) == []  # nothing to repeat yet
        tx.respond(answer(tx.request, 180), 0.15)
        tx.respond(answer(tx.request, 183), 0.16)
        assert [m.status for m in sends(tx.receive(tx.request, 0.5))] == [183]

    def test_timer_g_doubles_up_to_t2_until_h(self):
        tx = ServerInviteTransaction(request(), PHONE, reliable=False, now=0.0)
        tx.respond(answer(tx.request, 486), 0.0)
        assert tx.state is State.COMPLETED
        log = run(tx, 100.0)
        assert send_times(log) == [0.5, 1.5, 3.5, 7.5, 11.5, 15.5, 19.5, 23.5, 27.5, 31.5]
        assert log[-1][0] == 32.0 and ended(log[-1][1]) == [EndReason.TIMEOUT]  # no ACK

    def test_ack_confirms_and_timer_i_ends(self):
        tx = ServerInviteTransaction(request(), PHONE, reliable=False, now=0.0)
        tx.respond(answer(tx.request, 486), 1.0)
        assert [m.status for m in sends(tx.receive(tx.request, 1.2))] == [486]
        ack = request("ACK", to_tag="314159")
        assert tx.receive(ack, 1.3) == []
        assert tx.state is State.CONFIRMED
        assert tx.receive(tx.request, 1.4) == [] and tx.receive(ack, 1.5) == []  # absorbed
        log = run(tx, 100.0)
        assert [(t, ended(a)) for t, a in log] == [(6.3, [EndReason.NORMAL])]  # I = T4

    def test_reliable_transport_no_g_and_i_is_zero(self):
        tx = ServerInviteTransaction(request(transport="TCP"), PHONE, reliable=True, now=0.0)
        tx.respond(answer(tx.request, 486), 0.0)
        assert tx.next_deadline() == 32.0  # only H
        actions = tx.receive(request("ACK", transport="TCP", to_tag="314159"), 0.1)
        assert ended(actions) == [EndReason.NORMAL]

    def test_accepted_absorbs_invites_passes_ack_and_ends_on_l(self):
        tx = ServerInviteTransaction(request(), PHONE, reliable=False, now=0.0)
        ok = answer(tx.request, 200)
        assert sends(tx.respond(ok, 0.1)) == [ok]
        assert tx.state is State.ACCEPTED
        assert tx.receive(tx.request, 0.5) == []  # RFC 6026 §7.1: absorbed, not re-answered
        assert sends(tx.respond(ok, 0.6)) == [ok]  # the TU's retransmission passes through
        ack = request("ACK", to_tag="314159")
        assert tx.receive(ack, 0.7) == [RequestReceived(ack, PHONE)]
        log = run(tx, 100.0)
        assert [(t, ended(a)) for t, a in log] == [(32.1, [EndReason.NORMAL])]  # L = 64*T1

    def test_transport_error_in_accepted_informs_the_tu_only(self):
        tx = ServerInviteTransaction(request(), PHONE, reliable=False, now=0.0)
        tx.respond(answer(tx.request, 200), 0.1)
        assert tx.transport_error(0.2) == [TransportFailed(tx)]
        assert tx.state is State.ACCEPTED

    def test_second_final_response_is_illegal(self):
        tx = ServerInviteTransaction(request(), PHONE, reliable=False, now=0.0)
        tx.respond(answer(tx.request, 486), 0.1)
        with pytest.raises(TransactionError, match="300-699 from TU is not allowed"):
            tx.respond(answer(tx.request, 500), 0.2)
        assert tx.state is State.ERROR and tx.next_deadline() is None
        with pytest.raises(TransactionError):
            tx.receive(tx.request, 0.3)

    def test_response_for_another_method_is_refused(self):
        tx = ServerInviteTransaction(request(), PHONE, reliable=False, now=0.0)
        with pytest.raises(TransactionError):
            tx.respond(answer(request("BYE"), 200), 0.1)


# --- non-INVITE server transaction (§17.2.2) -----------------------------------------------


class TestServerNonInvite:
    def test_retransmissions_get_the_last_response_until_j(self):
        tx = ServerNonInviteTransaction(request("BYE"), PHONE, reliable=False, now=0.0)
        assert tx.receive(tx.request, 0.1) == []  # Trying: absorbed
        ok = answer(tx.request, 200)
        assert sends(tx.respond(ok, 0.2)) == [ok]
        assert tx.state is State.COMPLETED
        assert sends(tx.receive(tx.request, 0.7)) == [ok]
        log = run(tx, 100.0)
        assert [(t, ended(a)) for t, a in log] == [(32.2, [EndReason.NORMAL])]  # J = 64*T1

    def test_provisional_is_repeated_in_proceeding(self):
        tx = ServerNonInviteTransaction(request("REGISTER"), PHONE, reliable=False, now=0.0)
        trying = answer(tx.request, 100)
        tx.respond(trying, 0.1)
        assert tx.state is State.PROCEEDING
        assert sends(tx.receive(tx.request, 0.6)) == [trying]

    def test_timer_j_is_zero_on_tcp(self):
        tx = ServerNonInviteTransaction(
            request("BYE", transport="TCP"), PHONE, reliable=True, now=0.0
        )
        actions = tx.respond(answer(tx.request, 200), 0.2)
        assert ended(actions) == [EndReason.NORMAL] and tx.state is State.TERMINATED

    def test_answer_after_final_is_illegal(self):
        tx = ServerNonInviteTransaction(request("BYE"), PHONE, reliable=False, now=0.0)
        tx.respond(answer(tx.request, 200), 0.2)
        with pytest.raises(TransactionError):
            tx.respond(answer(tx.request, 200), 0.3)
        assert tx.state is State.ERROR


# --- the layer: matching (§17.1.3, §17.2.3), 2xx retransmission (§13.3.1.4) ----------------


class TestLayer:
    def test_responses_match_on_branch_and_cseq_method(self):
        layer = TransactionLayer()
        invite_tx, _ = layer.send_request(request(), PHONE, False, 0.0)
        layer.receive(answer(invite_tx.request, 180), PHONE, 0.1)
        actions = layer.cancel(invite_tx, 1.0)
        cancel = sends(actions)[0]
        assert cancel.method == "CANCEL" and cancel.top_via.branch == BRANCH
        assert len(layer.transactions) == 2  # same branch, two methods
        ok_cancel = answer(cancel, 200)
        [got] = layer.receive(ok_cancel, PHONE, 1.1)
        assert got.transaction is not invite_tx and got.response is ok_cancel
        terminated = answer(invite_tx.request, 487)
        actions = layer.receive(terminated, PHONE, 1.2)
        assert [type(a) for a in actions] == [Send, ResponseReceived]
        assert actions[1].transaction is invite_tx and sends(actions)[0].method == "ACK"

    def test_cancel_is_built_per_9_1(self):
        invite = request(extra="Route: <sip:p1.example.com;lr>\r\n")
        cancel = make_cancel(invite, [("Reason", 'SIP;cause=480;text="No answer"')])
        assert cancel.uri == invite.uri and cancel.call_id == invite.call_id
        assert str(cancel.to) == str(invite.to) and str(cancel.from_) == str(invite.from_)
        assert (cancel.cseq.number, cancel.cseq.method) == (1, "CANCEL")
        assert [str(v) for v in cancel.vias] == [str(invite.top_via)]
        assert cancel.headers.get_all("Route") == ["<sip:p1.example.com;lr>"]
        assert cancel.headers.get("Reason") == 'SIP;cause=480;text="No answer"'

    def test_cancel_waits_for_a_provisional(self):
        layer = TransactionLayer()
        invite_tx, _ = layer.send_request(request(), PHONE, False, 0.0)
        assert layer.cancel(invite_tx, 0.1) == []  # §9.1: not before a 1xx
        actions = layer.receive(answer(invite_tx.request, 180), PHONE, 0.3)
        assert delivered(actions) == [180]
        assert [m.method for m in sends(actions)] == ["CANCEL"]

    def test_cancel_after_final_sends_nothing(self):
        layer = TransactionLayer()
        invite_tx, _ = layer.send_request(request(), PHONE, False, 0.0)
        layer.receive(answer(invite_tx.request, 200), PHONE, 0.3)
        assert layer.cancel(invite_tx, 0.4) == []

    def test_server_side_invite_and_cancel_with_one_branch(self):
        layer = TransactionLayer()
        invite = request()
        [new] = layer.receive(invite, PHONE, 0.0)
        assert new == RequestReceived(invite, PHONE)
        ist = layer.create_server(invite, PHONE, 0.0)
        assert layer.receive(invite, PHONE, 0.1) == []  # retransmission: absorbed
        cancel = make_cancel(invite)
        [new] = layer.receive(cancel, PHONE, 0.5)
        assert isinstance(new, RequestReceived) and new.request is cancel
        assert layer.find_invite_server(cancel) is ist
        nist = layer.create_server(cancel, PHONE, 0.5)
        assert nist is not ist and len(layer.transactions) == 2
        other = make_cancel(request(branch="z9hG4bKother"))
        assert layer.find_invite_server(other) is None

    def test_sent_by_is_part_of_the_server_key(self):
        layer = TransactionLayer()
        layer.create_server(request(), PHONE, 0.0)
        spoof = request(vias="")  # same branch ...
        spoof.headers.set("Via", f"SIP/2.0/UDP 198.51.100.7:5060;branch={BRANCH}")
        assert layer.receive(spoof, PHONE, 0.1) == [RequestReceived(spoof, PHONE)]

    def test_ack_for_non_2xx_matches_the_invite_transaction(self):
        layer = TransactionLayer()
        invite = request()
        ist = layer.create_server(invite, PHONE, 0.0)
        layer.respond(ist, answer(invite, 486), 0.1)
        assert layer.receive(request("ACK", to_tag="314159"), PHONE, 0.2) == []
        assert ist.state is State.CONFIRMED

    def test_rfc2543_ack_matches_without_magic_cookie(self):
        layer = TransactionLayer()
        invite = request(branch="1234old")
        ist = layer.create_server(invite, PHONE, 0.0)
        layer.respond(ist, answer(invite, 404), 0.1)
        assert layer.receive(request("ACK", branch="1234old", to_tag="314159"), PHONE, 0.2) == []
        assert ist.state is State.CONFIRMED

    def test_stray_response(self):
        layer = TransactionLayer()
        response = answer(request(branch="z9hG4bKnobody"), 200)
        assert layer.receive(response, PHONE, 0.0) == [StrayResponse(response, PHONE)]

    def test_new_request_and_stray_ack_go_to_the_tu(self):
        layer = TransactionLayer()
        ack = request("ACK", branch="z9hG4bKfresh", to_tag="314159")
        assert layer.receive(ack, PHONE, 0.0) == [RequestReceived(ack, PHONE)]

    def test_2xx_is_retransmitted_until_the_ack(self):
        layer = TransactionLayer()
        invite = request()
        ist = layer.create_server(invite, PHONE, 0.0)
        ok = answer(invite, 200)
        assert sends(layer.respond(ist, ok, 0.0)) == [ok]
        log = run(layer, 8.0)
        assert send_times(log) == [0.5, 1.5, 3.5, 7.5]  # T1 doubling ...
        # RFC 6026: the copies pass through the INVITE server transaction in Accepted
        assert {a.transaction for _, acts in log for a in acts} == {ist}
        log = run(layer, 20.0)
        assert send_times(log) == [11.5, 15.5, 19.5]  # ... capped at T2
        ack = request("ACK", branch="z9hG4bKack2xx", to_tag="314159")
        assert layer.receive(ack, PHONE, 20.0) == [RequestReceived(ack, PHONE)]
        assert layer.answers == []
        log = run(layer, 100.0)
        assert [(t, ended(a)) for t, a in log] == [(32.0, [EndReason.NORMAL])]  # Timer L
        assert layer.transactions == [] and layer.next_deadline() is None

    def test_unacknowledged_2xx_times_out(self):
        layer = TransactionLayer()
        invite = request(transport="TCP")
        ist = layer.create_server(invite, PHONE, 0.0)
        ok = answer(invite, 200)
        layer.respond(ist, ok, 0.0)
        log = run(layer, 100.0)
        # end to end, so over TCP too (§13.3.1.4); the last copy leaves at 31.5
        assert send_times(log)[-1] == 31.5
        timeouts = [a for _, acts in log for a in acts if isinstance(a, AckTimedOut)]
        assert timeouts == [AckTimedOut(ok, PHONE)]

    def test_100_trying_comes_from_the_layer_timer(self):
        layer = TransactionLayer()
        ist = layer.create_server(request(), PHONE, 0.0)
        assert layer.next_deadline() == 0.2
        [(t, actions)] = run(layer, 0.3)
        assert t == 0.2 and actions[0].transaction is ist and sends(actions)[0].status == 100

    def test_client_timeout_removes_the_transaction(self):
        layer = TransactionLayer()
        tx, actions = layer.send_request(request("OPTIONS"), PHONE, False, 0.0)
        assert actions == [Send(tx.request, PHONE, False, tx)]
        log = run(layer, 100.0)
        assert ended(log[-1][1]) == [EndReason.TIMEOUT]
        assert layer.transactions == []
        late = answer(tx.request, 200)
        assert layer.receive(late, PHONE, 40.0) == [StrayResponse(late, PHONE)]

    def test_a_tu_bug_removes_the_transaction_and_retransmissions_are_new_again(self):
        layer = TransactionLayer()
        bye = request("BYE")
        nist = layer.create_server(bye, PHONE, 0.0)
        layer.respond(nist, answer(bye, 200), 0.1)
        with pytest.raises(TransactionError):
            layer.respond(nist, answer(bye, 500), 0.2)
        assert nist.state is State.ERROR and layer.transactions == []
        assert layer.receive(bye, PHONE, 0.6) == [RequestReceived(bye, PHONE)]

    def test_transport_error_reported_through_send(self):
        layer = TransactionLayer()
        _, [send] = layer.send_request(request("OPTIONS"), PHONE, False, 0.0)
        assert ended(layer.transport_error(send.transaction, 0.0)) == [EndReason.TRANSPORT_ERROR]
        assert layer.transactions == []
        assert layer.transport_error(send.transaction, 0.1) == []  # already gone

    def test_requests_need_a_magic_cookie_branch_and_unique_keys(self):
        layer = TransactionLayer()
        with pytest.raises(TransactionError, match="z9hG4bK"):
            layer.send_request(request(branch="old"), PHONE, False, 0.0)
        layer.send_request(request(), PHONE, False, 0.0)
        with pytest.raises(TransactionError):
            layer.send_request(request(), PHONE, False, 0.0)
        with pytest.raises(TransactionError):
            layer.send_request(request("ACK"), PHONE, False, 0.0)

    def test_reliability_follows_the_via_unless_given(self):
        layer = TransactionLayer()
        assert layer.create_server(request("BYE", transport="TCP"), PHONE, 0.0).reliable
        assert not layer.create_server(request("BYE", branch="z9hG4bK2"), PHONE, 0.0).reliable


def test_new_branch_has_the_magic_cookie_and_is_repeatable():
    first = new_branch(random.Random(7))
    assert first.startswith("z9hG4bK") and len(first) == 7 + 16
    assert first == new_branch(random.Random(7))
    assert new_branch() != new_branch()


def test_the_next_deadline_stays_right_with_many_transactions_coming_and_going():
    """The layer keeps deadlines in a heap (no scan per message): whatever the mix of
    transactions started, answered and timed out, it names the same next deadline as a
    look at every live machine would, and fires each timer once, in order."""
    rng = random.Random(7)
    layer = TransactionLayer()
    now = 0.0
    live: list = []
    for n in range(400):
        now += rng.uniform(0, 0.05)
        method = rng.choice(["INVITE", "OPTIONS", "REGISTER"])
        tx, _ = layer.send_request(request(method, branch=f"z9hG4bK-{n}"), ("peer", 5060),
                                   False, now)
        live.append(tx)
        if rng.random() < 0.5:  # some are answered, which moves or ends their timers
            tx = rng.choice(live)
            if not tx.done:
                layer.receive(answer(tx.request, rng.choice([100, 180, 200, 486])),
                              ("peer", 5060), now)
        if rng.random() < 0.3:
            fired_at = layer.next_deadline()
            if fired_at is not None and fired_at <= now:
                layer.on_timer(now)
        scan = [d for m in [*layer.transactions, *layer.answers]
                if (d := m.next_deadline()) is not None]
        assert layer.next_deadline() == (min(scan) if scan else None)
    while (deadline := layer.next_deadline()) is not None:
        layer.on_timer(deadline)
    # Left: INVITEs that got a 1xx, waiting without a timer for their TU (§17.1.1.2).
    assert all(tx.next_deadline() is None for tx in layer.transactions)
    assert all(tx.state.name == "PROCEEDING" for tx in layer.transactions)
