"""The DECT base logic without any I/O: the call table, the start-up handshake and its
retries, and remote nonsense counted rather than raised. Time is an argument."""

from __future__ import annotations

import pytest

from hal.dect import ies
from hal.dect.calls import CallEvent, CallState, HandsetCall
from hal.dect.cmbs import COMMAND_BASE, Command, Event
from hal.dect.codec import Frame, FrameDecoder
from hal.dect.errors import HandsetStateError
from hal.dect.events import HandsetCalling, HandsetKeys, HandsetRegistered, RegistrationClosed
from hal.dect.host import STEP_TIMEOUT_S, CmbsHost, LinkState


def sent(host: CmbsHost) -> list[int]:
    return [f.message_id for f in FrameDecoder().feed(host.data_to_send(), 0.0)]


def module_says(host: CmbsHost, message_id: int, *items: ies.Ie, now: float = 0.0) -> None:
    host.receive(bytes(Frame(message_id, ies.params(*items))), now)


def up(host: CmbsHost, *paired: int) -> None:
    """Take the host through the start-up, the module not using checksums."""
    host.connect(0.0)
    module_says(host, COMMAND_BASE | Command.HELLO_RPLY)
    module_says(host, COMMAND_BASE | Command.CAPABILITIES_RPLY)
    module_says(host, Event.SYS_START_RES, ies.response(True))
    module_says(host, Event.HS_SUBSCRIBED_LIST_GET_RES,
                *(ies.subscribed_handset(n, "") for n in paired))
    host.data_to_send()


def test_the_call_table_refuses_what_cannot_happen_and_stays_put() -> None:
    call = HandsetCall(1)
    assert call.step(CallEvent.HOST_RING) is CallState.SETUP
    with pytest.raises(HandsetStateError, match="host-answer cannot happen in setup"):
        call.step(CallEvent.HOST_ANSWER)
    assert call.state is CallState.SETUP
    assert call.step(CallEvent.MODULE_ANSWER) is CallState.CONNECTED
    assert call.step(CallEvent.HOST_RELEASE) is CallState.IDLE


def test_the_handshake_runs_in_order_and_learns_the_handsets() -> None:
    host = CmbsHost(slots=4)
    host.connect(0.0)
    assert sent(host) == [COMMAND_BASE | Command.HELLO]
    module_says(host, COMMAND_BASE | Command.HELLO_RPLY)
    assert sent(host) == [COMMAND_BASE | Command.CAPABILITIES]
    module_says(host, COMMAND_BASE | Command.CAPABILITIES_RPLY)  # no checksum bit
    assert sent(host) == [Event.SYS_START]
    module_says(host, Event.SYS_START_RES, ies.response(True))
    assert sent(host) == [Event.HS_SUBSCRIBED_LIST_GET]
    module_says(host, Event.HS_SUBSCRIBED_LIST_GET_RES, ies.subscribed_handset(2, "Lager"))
    assert host.link is LinkState.UP
    assert host.subscribed == {2: "Lager"}
    assert host.events() == [HandsetRegistered("dect:2", 0.0)]
    assert host.next_deadline() is None


def test_a_silent_module_is_greeted_again() -> None:
    host = CmbsHost(slots=4)
    host.connect(0.0)
    host.data_to_send()
    assert host.next_deadline() == STEP_TIMEOUT_S
    host.on_timer(STEP_TIMEOUT_S)
    assert sent(host) == [COMMAND_BASE | Command.HELLO]
    assert host.link is LinkState.HELLO


def test_the_pairing_window_closes_at_the_hosts_own_deadline() -> None:
    host = CmbsHost(slots=4)
    up(host)
    host.open_registration(60, now=10.0)
    module_says(host, Event.CORD_OPENREG_RES, ies.response(True), now=10.0)
    assert host.registration_open
    assert host.next_deadline() == 70.0
    host.data_to_send()
    host.on_timer(70.0)
    assert sent(host) == [Event.CORD_CLOSEREG]
    assert not host.registration_open
    assert host.events()[-1] == RegistrationClosed("dect", 70.0, "timeout")


def test_nonsense_from_the_module_is_counted_not_raised() -> None:
    host = CmbsHost(slots=4)
    up(host, 1)
    module_says(host, Event.CALL_ANSWER, ies.call_instance(99))  # no such call
    module_says(host, Event.CALL_RELEASE)  # no call instance at all
    module_says(host, Event.CALL_ESTABLISH, ies.call_instance(5), ies.caller_party("7"))
    assert host.stats.protocol_errors == 3
    assert sent(host) == [Event.CALL_RELEASE]  # handset 7 is not paired: refused
    assert host.call_state(1) is CallState.IDLE


def test_only_keypad_keys_are_dialled() -> None:
    host = CmbsHost(slots=4)
    up(host, 1)
    host.events()
    module_says(host, Event.CALL_ESTABLISH, ies.call_instance(5), ies.caller_party("1"),
                ies.called_party("1a0!2"))
    module_says(host, Event.CALL_INBANDINFO, ies.call_instance(5), ies.keypad("\x7f#"))
    assert host.events() == [HandsetCalling("dect:1", 0.0, "102"),
                             HandsetKeys("dect:1", 0.0, "#")]
