"""Transfer codes keyed during a call, for phones without a flash (REFERENCE.md, "Feature
codes"): every key pressed in a call comes here first, from wherever it was heard: the
RFC 4733 events of a SIP phone whose audio the box decodes (`channels.sip`), those of a
relayed SIP-to-SIP call (`bridges.relay`, which hands the box the event packets only), and
the DTMF an analog phone keys in its audio (`channels.fxs_keys`, without a flash).

    ## + number       blind transfer: the other party goes there, you are done
    *2 + number       attended transfer: the other party waits with music while you call
                      the number; then
        *4            join them and drop out        *3   abort: back to the first party
        *5            all three talk                *6   swap between the two

A number ends with '#', or as soon as the dial plan knows it is complete, or after
`INTERDIGIT_S`. Digits that are not the start of a code pass on as they came (to an IVR,
say); those of a code are kept from the other party. A consult that fails (busy, no
answer) gives the first party back. Hanging up during a consult, as people do on analog
phones, hands the first party on: to the consulted person if they answered (an attended
transfer, as `*4`), else to the number as a blind transfer that comes back if unanswered;
a caller is never left on hold with nobody there.
"""

from __future__ import annotations

import asyncio
import enum
from dataclasses import dataclass
from typing import TYPE_CHECKING

from firmware.engine.bridges import HoldingBridge, MixerBridge, make_bridge
from firmware.engine.channel import Cause, Channel
from firmware.engine.dialplan import Match
from firmware.engine.features.consult import ConsultBridge
from firmware.engine.features.hold import hold
from firmware.engine.features.transfer import blind_transfer, show_each_other
from firmware.logs import call_event

if TYPE_CHECKING:
    from firmware.engine.pbx import Engine

INTERDIGIT_S = 4.0
# What a consult's codes do ([features] consult_abort ... consult_swap name the codes).
ABORT, COMPLETE, THREE_WAY, SWAP = "abort", "complete", "three-way", "swap"


class Phase(enum.Enum):
    TALKING = "talking"
    CONSULTING = "consulting"


@dataclass(eq=False)
class InCallCodes:
    engine: Engine
    channel: Channel  # the phone's leg in its call
    phase: Phase = Phase.TALKING
    held: Channel | None = None  # the first party, while consulting
    consulted: Channel | None = None  # the one called with *2, once answered
    _typed: str = ""
    _timer: asyncio.TimerHandle | None = None
    _consult: asyncio.Task[Cause] | None = None  # the consult call, while it is placed
    _consult_bridge: ConsultBridge | None = None  # the latest consult's

    def key(self, key: str) -> bool:
        """A key the person pressed; True if it belongs to a code (keep it from the other
        party). The first key of a code passes on all the same: a lone `#` or `*` is as
        often the end of an entry an outside IVR waits for, and holding it back would
        lose it; the party about to be transferred hears one stray key at most."""
        typed = self._typed + key
        if not self._may_be_code(typed):
            self._typed = ""
            return False
        self._typed = typed
        self._restart_timer()
        self._act(final=False)
        return len(typed) > 1

    def would_take(self, key: str) -> bool:
        """Would `key`, pressed now, be kept as part of a code? (Nothing changes.)"""
        return bool(self._typed) and self._may_be_code(self._typed + key)

    # -- reading the codes -----------------------------------------------------------

    def _codes(self) -> list[str]:
        if self.phase is Phase.CONSULTING:
            return list(self._consult_codes())
        features = self.engine.office.features
        return [features.blind_transfer, features.attended_transfer, *self._sending_codes()]

    def _sending_codes(self) -> list[str]:
        """Codes that send the other party on by themselves, no number after them: the
        manager-callback promise (`*36`), where the office takes promises."""
        code = self.engine.office.features.manager_callback
        return [code] if self.engine.dialplan.lookup(code) is not None else []

    def _consult_codes(self) -> dict[str, str]:
        features = self.engine.office.features
        return {features.consult_abort: ABORT, features.consult_complete: COMPLETE,
                features.consult_three_way: THREE_WAY, features.consult_swap: SWAP}

    def _may_be_code(self, typed: str) -> bool:
        return any(code.startswith(typed) or typed.startswith(code) for code in self._codes())

    def _restart_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        loop = asyncio.get_running_loop()
        self._timer = loop.call_later(INTERDIGIT_S, self._act, True)

    def _act(self, final: bool) -> None:
        typed = self._typed
        blind, attended = self.engine.office.features.blind_transfer, \
            self.engine.office.features.attended_transfer
        if self.phase is Phase.CONSULTING:
            action = self._consult_codes().get(typed)
            if action is not None:
                self._clear()
                self._consult_code(action)
            return
        if typed in self._sending_codes():
            self._clear()
            self._blind(typed)
            return
        for code in (blind, attended):
            if not typed.startswith(code) or typed == code:
                continue
            number = typed[len(code):]
            done = number.endswith("#")
            number = number.rstrip("#")
            match = self.engine.dialplan.match(number)
            if number and (done or final or match is Match.COMPLETE):
                self._clear()
                if code == blind:
                    self._blind(number)
                else:
                    self._attended(number)
            return
        if final:
            self._clear()

    def _clear(self) -> None:
        self._typed = ""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    # -- the actions -----------------------------------------------------------------

    def _blind(self, number: str) -> None:
        other = self.channel.partner()
        if other is None:
            return
        hold(self.engine, other)
        call_event("incall-transfer", channel=self.channel.name, to=number, kind="blind")
        self.engine.supervisor.spawn(
            f"transfer {other.name}",
            blind_transfer(self.engine, other, number, self.channel.party.number,
                           by=self.channel.party.number),
            on_crash=lambda _exc: other.hangup(Cause.FAILURE))
        self.channel.hangup()  # the transferrer is done

    def _attended(self, number: str) -> None:
        other = self.channel.partner()
        if other is None:
            return
        hold(self.engine, other)
        self.held = other
        self.phase = Phase.CONSULTING
        call_event("incall-consult", channel=self.channel.name, to=number)
        bridge = self._consult_bridge = ConsultBridge(self.engine, self.channel)
        self._consult = self.engine.supervisor.spawn(
            f"consult from {self.channel.name}", self._consult_call(bridge, number),
            on_crash=lambda _exc: self._give_back())
        self.engine.supervisor.spawn(
            f"consult hang-up {self.channel.name}", self._hung_up_in_consult(bridge, number))

    async def _hung_up_in_consult(self, bridge: ConsultBridge, number: str) -> None:
        """The phone hangs up while consulting: the first party is handed on, not left
        on hold (see the module docstring). After *6 the two others are joined: the one
        the phone talked to and the one on hold."""
        await self.channel.gone.wait()
        held, far = self.held, bridge.caller.far_end()
        if self.phase is not Phase.CONSULTING or bridge is not self._consult_bridge or \
                held is None or held.gone.is_set():
            return  # over already (or a later consult's watch is the one to act)
        talking, self.consulted = self.consulted, None
        self.phase, self.held = Phase.TALKING, None
        if talking is not None:  # joined directly since the consult answered (*6)
            if not talking.gone.is_set():
                make_bridge(held, talking)
                call_event("transfer", channel=held.name, to=talking.name, kind="attended")
                show_each_other(held, talking, self.channel.party.number)
            return
        if far is not None and far.answered.is_set() and far.bridge is not None:
            far.bridge.dissolve()  # from the stand-in, whose session then ends
            make_bridge(held, far)
            call_event("transfer", channel=held.name, to=far.name, kind="attended")
            show_each_other(held, far, self.channel.party.number)
            return
        if self._consult is not None:
            self._consult.cancel()  # the consult stops ringing; the first party goes there
        by = self.channel.party.number
        call_event("incall-transfer", channel=self.channel.name, to=number, kind="hang-up")
        self.engine.supervisor.spawn(
            f"transfer {held.name}", blind_transfer(self.engine, held, number, by, by=by),
            on_crash=lambda _exc: held.hangup(Cause.FAILURE))

    async def _consult_call(self, bridge: ConsultBridge, number: str) -> Cause:
        cause = await self.engine.route(bridge.caller, number)
        if self.phase is Phase.CONSULTING and self.channel.bridge is bridge:
            self._give_back()  # busy, no answer, hung up: back to the first party
        return cause

    def _consulted(self) -> Channel | None:
        if self.consulted is not None:
            return self.consulted
        bridge = self.channel.bridge
        return bridge.caller.far_end() if isinstance(bridge, ConsultBridge) else None

    def _give_back(self) -> None:
        held, self.held = self.held, None
        self.phase = Phase.TALKING
        self.consulted = None
        consult, self._consult = self._consult, None
        if consult is not None and consult is not asyncio.current_task():
            consult.cancel()  # a consult still ringing stops (its session hangs its legs up)
        bridge = self.channel.bridge
        if isinstance(bridge, ConsultBridge):
            far = bridge.caller.far_end()
            bridge.caller.hangup()  # the stand-in's call ends; a far end still there is
            if far is not None:     # hung up by its session
                far.hangup()
        if held is not None and not held.gone.is_set() and not self.channel.gone.is_set():
            if bridge is not None and not isinstance(bridge, HoldingBridge):
                bridge.dissolve()
            make_bridge(held, self.channel)

    def _consult_code(self, action: str) -> None:
        held = self.held
        consulted = self._consulted()
        if held is None or held.gone.is_set():
            self.phase = Phase.TALKING
            return
        call_event("incall-consult-code", channel=self.channel.name, action=action)
        if action == ABORT:
            self._give_back()
            if consulted is not None:
                consulted.hangup()
            return
        if consulted is None:
            return  # the rest need someone who answered
        self._detach_consult()
        if action == COMPLETE:
            self.held = None
            self.phase = Phase.TALKING
            make_bridge(held, consulted)
            call_event("transfer", channel=held.name, to=consulted.name, kind="attended")
            show_each_other(held, consulted, self.channel.party.number)
            self.channel.hangup()
        elif action == THREE_WAY:
            self.held = None
            self.phase = Phase.TALKING
            MixerBridge([held, self.channel, consulted], self.engine.clock)
        elif action == SWAP:
            hold(self.engine, consulted)
            make_bridge(held, self.channel)
            self.held, self.consulted = consulted, held

    def _detach_consult(self) -> None:
        """From here on the consulted party is joined directly (no stand-in)."""
        bridge = self.channel.bridge
        if isinstance(bridge, ConsultBridge):
            far = bridge.caller.far_end()
            self.consulted = far
            if far is not None and far.bridge is not None:
                far.bridge.dissolve()  # from the stand-in, whose session then ends
            bridge.dissolve()


def in_call_key(engine: Engine, channel: Channel, key: str) -> bool:
    """Route a key pressed in a call through the codes; True if a code took it."""
    codes = engine.in_call.get(channel)
    if codes is None:
        if key not in "*#":
            return False  # the common case: no code starts with a digit
        # The codes hold their leg, so a weak key alone would never let it go: legs that
        # are over are dropped here, whenever a new one starts a code.
        for gone in [ch for ch in engine.in_call if ch.gone.is_set()]:
            del engine.in_call[gone]
        codes = engine.in_call[channel] = InCallCodes(engine, channel)
    return codes.key(key)


def would_take(engine: Engine, channel: Channel, key: str) -> bool:
    """Would `key`, pressed now on `channel`, belong to a code? Asked while its tone is
    still being confirmed, to keep the tone of a code's key from the other party."""
    codes = engine.in_call.get(channel)
    return codes is not None and codes.would_take(key)  # a first key is never kept
