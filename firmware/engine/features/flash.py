"""Hook-flash on an analog line: hold, consult, transfer, as users of Asterisk and ATAs know it
(REFERENCE.md, "Hook-flash on analog lines"). One `FlashCalls` per FXS port.

    state        the person                         the other party
    TALKING      talks                              talks
    DIALLING     hears recall dial tone, dials      held: hold music
    CONSULTING   rings or talks to a third person   held: hold music
    THREE_WAY    talks with both                    talks with both
    (on-hook)    the phone rings back               held, or ringback while a transfer rings

    in state     event                        what happens                          next
    TALKING      flash                        other party held, recall dial tone    DIALLING
    DIALLING     flash, or no digit in time   back to the held party                TALKING
    DIALLING     ## + number (blind code)     held party sent there; you are done   -
    DIALLING     a number                     consult call placed                   CONSULTING
    DIALLING     hang up                      the held call rings you back          -
    CONSULTING   flash, consult answered      all three talk (3-way)                THREE_WAY
    CONSULTING   flash, consult not answered  consult dropped, back to the held     TALKING
    THREE_WAY    flash                        the last one added is dropped         TALKING
    THREE_WAY    hang up                      the other two talk on                 -
    TALKING      flash, a call waiting        the call held, the waiting one talks  SWAPPING
    SWAPPING     flash                        the two calls change places           SWAPPING
    SWAPPING     hang up                      the held call rings you back          -
    CONSULTING   hang up, consult answered    the two are joined (attended)         -
    CONSULTING   hang up, consult ringing     held hears ringback; joined on answer
                                              (semi-attended), else rings you back  -
    CONSULTING   hang up, consult ended       the held call rings you back          -
    any          the held party hangs up      nothing held: an ordinary call goes on

European R-key style (`[analog] flash_style = "r-key"`): with two calls (consulting,
swapping or three-way), R is followed by a digit within a few seconds:

    R 1   drop the call you are in, take the other     R 3   all three talk
    R 2   swap the two calls                            R 4   join the two, you drop out

A phone's leg in a call is `port.channel`; each flash gives the port a new leg (the held
party's call no longer involves the old one), so the sessions of the old legs end quietly.
"""

from __future__ import annotations

import asyncio
import enum
from typing import TYPE_CHECKING

from firmware.engine.bridges import MixerBridge, make_bridge
from firmware.engine.channel import Cause, Channel
from firmware.engine.dialplan import Match
from firmware.engine.features.hold import hold, play_ringback, ring_back
from firmware.engine.features.park import slot_announcement, slot_beeps
from firmware.engine.features.transfer import blind_transfer, show_each_other
from firmware.logs import call_event

if TYPE_CHECKING:
    from firmware.engine.channels.fxs import FxsChannel, FxsPort
    from firmware.engine.pbx import Engine


class FlashState(enum.Enum):
    TALKING = "talking"
    DIALLING = "dialling"
    CONSULTING = "consulting"
    THREE_WAY = "three-way"
    SWAPPING = "swapping"  # two calls, one held (call waiting answered)


R_KEY_S = 4.0  # how long after R the box waits for its digit
_TWO_CALLS = (FlashState.CONSULTING, FlashState.SWAPPING, FlashState.THREE_WAY)


class FlashCalls:
    def __init__(self, port: FxsPort) -> None:
        self.port = port
        self.held: Channel | None = None
        self.state = FlashState.TALKING
        self._recall: Channel | None = None  # the held call to ring back once on-hook
        self._added: Channel | None = None  # the 3-way's last party, dropped by a flash

    @property
    def engine(self) -> Engine:
        return self.port.engine

    def _held(self) -> Channel | None:
        if self.held is not None and self.held.gone.is_set():
            self.held = None  # it hung up while held: an ordinary call goes on
        return self.held

    # -- events from the port --------------------------------------------------------

    def flash(self) -> bool:
        """A hook-flash while off-hook; False if it means nothing here (no call)."""
        held = self._held()
        mine = self.port.channel
        if self.port.settings.flash_style == "r-key" and self.state in _TWO_CALLS and \
                mine is not None:
            self.engine.supervisor.spawn(f"R key {self.port.name}", self._r_key(mine))
            return True
        if self.port.waiting.leg is not None and held is None and mine is not None:
            self._answer_waiting(mine)
            return True
        if self.state is FlashState.SWAPPING and held is not None:
            self._swap(mine, held)
            return True
        if self.state is FlashState.THREE_WAY and isinstance(
                mine.bridge if mine is not None else None, MixerBridge):
            self._drop_last(mine)  # type: ignore[arg-type]
            return True
        if held is not None:
            consulted = mine.partner() if mine is not None and \
                self.state is FlashState.CONSULTING else None
            if consulted is not None and mine is not None:
                self._three_way(held, mine, consulted)
            else:
                self._retrieve(held)
            return True
        other = mine.partner() if mine is not None else None
        if other is None:
            return False
        self._hold(other)
        return True

    def hung_up(self, mine: FxsChannel) -> bool:
        """The phone went on-hook with `mine` as its leg. True: `mine` lives on (a transfer
        rings); the port must not hang it up."""
        held, state = self._held(), self.state
        self.held = None
        self.state = FlashState.TALKING
        if held is None:
            return False
        if state is FlashState.SWAPPING:  # two calls: this one ends, the held one rings
            self._recall = held
            return False
        bridge = mine.bridge
        other = mine.partner()
        if other is not None and bridge is not None:  # attended: the consult was answered
            bridge.dissolve()
            make_bridge(held, other)
            call_event("transfer", channel=held.name, to=other.name, kind="attended")
            show_each_other(held, other, mine.party.number)
            return False
        if state is FlashState.CONSULTING and mine.session is not None and \
                not mine.session.done() and self.port.detach_task() is mine.session:
            # semi-attended: the consult still rings; whoever answers gets the held call
            mine.handed_to = held
            play_ringback(self.engine, held)
            call_event("transfer-pending", channel=held.name, by=mine.name)
            return True
        self._recall = held
        return False

    def put_down(self) -> None:
        """After the port is idle: ring back with a held call that has nowhere else to go."""
        held, self._recall = self._recall, None
        if held is not None:
            self.engine.supervisor.spawn(
                f"recall {self.port.name}",
                ring_back(self.engine, self.port, held,
                          self.engine.office.features.recall_ring_s),
                on_crash=lambda _exc: held.hangup(Cause.FAILURE))

    # -- actions -----------------------------------------------------------------------

    def _hold(self, other: Channel) -> None:
        hold(self.engine, other)
        self.held = other
        self.state = FlashState.DIALLING
        call_event("flash-hold", port=self.port.name, held=other.name)
        leg = self.port.new_leg()
        leg.session = self.port.start(f"flash {self.port.name}", self._dial(leg))

    def _retrieve(self, held: Channel) -> None:
        self.held = None
        self.state = FlashState.TALKING
        call_event("flash-retrieve", port=self.port.name, held=held.name)
        leg = self.port.new_leg()
        make_bridge(held, leg)
        leg.session = self.port.start(f"call on {self.port.name}", self._talk(leg))

    async def _r_key(self, mine: FxsChannel) -> None:
        """R pressed with two calls: the digit that follows says what to do."""
        key = await self.port.key(R_KEY_S)
        held = self._held()
        call_event("r-key", port=self.port.name, key=key)
        if key is None or self.port.channel is not mine:
            return
        partner = mine.partner()
        if self.state is FlashState.THREE_WAY:
            if key == "1":
                self._drop_last(mine)
            elif key == "4" and isinstance(mine.bridge, MixerBridge):
                self.state = FlashState.TALKING
                mine.hangup()  # the other two talk on
                await self.port.call_ended(mine, Cause.NORMAL_CLEARING)
            return
        if held is None:
            return
        if key == "1":  # drop this one, back to the other
            if partner is not None:
                partner.hangup()
            self._retrieve(held)
        elif key == "2" and partner is not None:
            self._swap(mine, held)
        elif key == "3" and partner is not None:
            self._three_way(held, mine, partner)
        elif key == "4" and partner is not None:
            self.held = None
            self.state = FlashState.TALKING
            bridge = mine.bridge
            if bridge is not None:
                bridge.dissolve()
            make_bridge(held, partner)
            call_event("transfer", channel=held.name, to=partner.name, kind="r4")
            await self.port.call_ended(mine, Cause.NORMAL_CLEARING)

    def _answer_waiting(self, mine: FxsChannel) -> None:
        other = mine.partner()
        waiting = self.port.waiting.take()
        assert waiting is not None
        if other is not None:
            hold(self.engine, other)
            self.held = other
        self.state = FlashState.SWAPPING
        call_event("flash-answer-waiting", port=self.port.name, held=getattr(other, "name", None))
        self.port.switch_to(waiting)
        waiting.answer()  # the waiting caller's session joins them
        waiting.session = self.port.start(f"call on {self.port.name}", self._talk(waiting))

    def _swap(self, mine: FxsChannel | None, held: Channel) -> None:
        other = mine.partner()
        if other is not None:
            hold(self.engine, other)
        self._retrieve(held)
        if other is not None:
            self.held = other
            self.state = FlashState.SWAPPING
        call_event("flash-swap", port=self.port.name, now=held.name)

    def _three_way(self, held: Channel, mine: FxsChannel, consulted: Channel) -> None:
        self.held = None
        self.state = FlashState.THREE_WAY
        self._added = consulted
        call_event("flash-3way", port=self.port.name, held=held.name, added=consulted.name)
        MixerBridge([held, mine, consulted], self.engine.clock)

    def _drop_last(self, mine: FxsChannel) -> None:
        added, self._added = self._added, None
        self.state = FlashState.TALKING
        if added is not None and not added.gone.is_set():
            call_event("flash-drop", port=self.port.name, dropped=added.name)
            added.hangup()  # leaves the mixer: the two left talk on

    async def _talk(self, leg: FxsChannel) -> None:
        await leg.until_bridged()
        await leg.until_alone()
        await self.port.call_ended(leg, Cause.NORMAL_CLEARING)

    async def _dial(self, leg: FxsChannel) -> None:
        """Recall dial tone, then a number: a blind transfer, or a consult call."""
        code = self.engine.office.features.blind_transfer
        number = await self.port.collect_digits("recall_dial", self._match)
        held = self._held()
        if held is None:  # the held party gave up: dial as an ordinary call
            if number is not None:
                await self._consult(leg, number)
            return
        if number is None:
            self._retrieve(held)  # nothing dialled in time: back to the held party
            return
        features = self.engine.office.features
        if number in (features.park, features.park_code):
            await self._park(leg, held)
            return
        if number == features.manager_callback:  # the held customer is promised a callback
            number = code + number  # (by whatever takes the code: it acts on the held party)
        if number.startswith(code):
            self.held = None
            self.state = FlashState.TALKING
            self.engine.supervisor.spawn(
                f"transfer {held.name}",
                blind_transfer(self.engine, held, number[len(code):], self.port,
                               by=self.port.party.number if self.port.party else None),
                on_crash=lambda _exc: held.hangup(Cause.FAILURE))
            await self.port.call_ended(leg, Cause.NORMAL_CLEARING)
            return
        await self._consult(leg, number)

    async def _park(self, leg: FxsChannel, held: Channel) -> None:
        """Park the held call; the parker hears the slot (or that the lot is full, and
        gets the call back)."""
        slot = self.engine.parking.park(self.engine, held, self.port)
        keys = slot_announcement(self.engine, slot)
        beeps = slot_beeps(self.engine, slot) if slot is not None else 3
        source, seconds = self.engine.announcement(keys, beeps)
        self.port.play(source)
        await asyncio.sleep(seconds + 0.5)
        if slot is None:
            self._retrieve(held)
            return
        self.held = None
        self.state = FlashState.TALKING
        await self.port.call_ended(leg, Cause.NORMAL_CLEARING)

    async def _consult(self, leg: FxsChannel, number: str) -> None:
        self.state = FlashState.CONSULTING
        call_event("dialled", port=self.port.name, number=number, consult=True)
        cause = await self.engine.route(leg, number)
        held = leg.handed_to
        if held is not None:  # semi-attended: answered (handed over), or back to us
            leg.hangup()  # quietly: the port has moved on
            if not held.gone.is_set() and held.partner() is None:
                await ring_back(self.engine, self.port, held,
                                self.engine.office.features.recall_ring_s,
                                announce=["transfer-failed"], mailbox=number)
            return
        await self.port.call_ended(leg, cause)

    def _match(self, digits: str) -> Match:
        """Recall-dial digits: the blind-transfer code and a number, or a number."""
        code = self.engine.office.features.blind_transfer
        plan = self.engine.dialplan
        if digits == self.engine.office.features.manager_callback and plan.lookup(digits):
            return Match.COMPLETE  # acts on the held party: no number follows it here
        if code.startswith(digits) and digits != code:
            return Match.PARTIAL
        if digits.startswith(code):
            rest = digits[len(code):]
            return Match.PARTIAL if rest == "" else plan.match(rest)
        return plan.match(digits)


