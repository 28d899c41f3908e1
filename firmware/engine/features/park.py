"""Call park: a call waits in a numbered slot, with music, until someone dials the slot.

    flash + 700 (or *5)   park the held call in the first free slot, 701-708, and hear
                          the slot said ("parked on 7 0 1"; beeps, one per slot, without
                          the prompts); the lot full: "the parking lot is full", and the
                          call comes back
    ## 700 (a transfer)   the same, for a call sent to the park number
    701 ... 708           take the call parked there (two at once: the first gets it)

A parked call nobody takes within `[features] park_timeout_s` rings whoever parked it
(`recall_ring_s`), then the operator (`[features] operator`), then waits in the lot again
for another round: it is never dropped while its caller waits.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from firmware.engine.bridges import HoldingBridge, make_bridge
from firmware.engine.channel import Cause, Channel
from firmware.engine.features.hold import hold, ring_back
from firmware.logs import call_event
from firmware.media.prompts import say_number

if TYPE_CHECKING:
    from firmware.engine.channels.fxs import FxsPort
    from firmware.engine.pbx import Engine


@dataclass(eq=False)
class ParkedCall:
    slot: str
    call: Channel
    parker: FxsPort | None
    taken: asyncio.Future[Channel] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future())


class ParkingLot:
    def __init__(self) -> None:
        self.slots: dict[str, ParkedCall] = {}

    def park(self, engine: Engine, call: Channel, parker: FxsPort | None) -> str | None:
        """Park `call` in the first free slot (None: the lot is full). It hears music."""
        free = next((s for s in engine.office.features.park_numbers if s not in self.slots),
                    None)
        if free is None:
            call_event("park-full", channel=call.name)
            return None
        call.indicate(None)  # e.g. the ringback of an operator who did not answer
        if isinstance(call.bridge, HoldingBridge):
            call.bridge.play(engine.hold_music())
        else:
            hold(engine, call)
        parked = ParkedCall(free, call, parker)
        self.slots[free] = parked
        call_event("park", channel=call.name, slot=free)
        engine.supervisor.spawn(f"parked {call.name} on {free}", self._wait(engine, parked),
                                on_crash=lambda _exc: call.hangup(Cause.FAILURE))
        return free

    def take(self, slot: str) -> ParkedCall | None:
        parked = self.slots.pop(slot, None)
        if parked is None or parked.call.gone.is_set() or parked.taken.done():
            return None
        return parked

    async def _wait(self, engine: Engine, parked: ParkedCall) -> None:
        features = engine.office.features
        call = parked.call
        while True:
            waits = [parked.taken, asyncio.ensure_future(call.gone.wait())]
            try:
                await asyncio.wait(waits, timeout=features.park_timeout_s,
                                   return_when=asyncio.FIRST_COMPLETED)
            finally:
                waits[1].cancel()
            if parked.taken.done() or call.gone.is_set():
                if self.slots.get(parked.slot) is parked:
                    del self.slots[parked.slot]
                return
            # Nobody came: out of the lot, to the parker, then the operator.
            del self.slots[parked.slot]
            call_event("park-timeout", channel=call.name, slot=parked.slot)
            if parked.parker is not None and await ring_back(
                    engine, parked.parker, call, features.recall_ring_s, release=False):
                return
            if call.gone.is_set():
                return
            if features.operator is not None:
                if await engine.route(call, features.operator) is Cause.NORMAL_CLEARING:
                    return
                if call.gone.is_set():
                    return
            slot = self.park(engine, call, parked.parker)  # another round in the lot
            if slot is None:
                call.hangup(Cause.CONGESTION)
            return


async def park_here(engine: Engine, caller: Channel) -> Cause:
    """The destination of the park number: the call sent there is parked (a transfer to
    700); it stays until taken, then its call runs its course."""
    slot = engine.parking.park(engine, caller, caller.recall_to)
    if slot is None:
        return Cause.CONGESTION
    caller.accept()
    await caller.until_alone()
    return Cause.NORMAL_CLEARING


async def take_parked(engine: Engine, slot: str, picker: Channel) -> Cause:
    """The destination of a slot number: the call parked there talks to `picker`."""
    parked = engine.parking.take(slot)
    if parked is None:
        call_event("unpark-nothing", channel=picker.name, slot=slot)
        return Cause.NO_ANSWER
    parked.taken.set_result(picker)
    call_event("unpark", channel=picker.name, slot=slot, parked=parked.call.name)
    picker.accept()
    make_bridge(parked.call, picker)
    await picker.until_alone()
    return Cause.NORMAL_CLEARING


def slot_announcement(engine: Engine, slot: str | None) -> list[str]:
    """What a parker hears: the slot, or that the lot is full."""
    if slot is None:
        return ["lot-full"]
    return ["parked-on", *say_number(slot)]


def slot_beeps(engine: Engine, slot: str) -> int:
    """Without prompts: one beep for the first slot, two for the second ..."""
    return engine.office.features.park_numbers.index(slot) + 1
