"""Call pickup: answer a phone that rings elsewhere from your own.

    *8           the call ringing longest at an extension of your pickup group
    ** + ext     the call ringing at that extension

Every call that rings an extension is offered here while it rings (`RingingCalls`); a
pickup takes the offer like another phone of the extension answering: the ringing phones
stop (answered elsewhere) and the caller talks to whoever picked it up. If a phone answers
at the same moment, it wins and the pickup hears there was nothing to pick up.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from firmware.engine.channel import Cause, Channel
from firmware.logs import call_event

if TYPE_CHECKING:
    from firmware.config import ExtensionConfig
    from firmware.engine.pbx import Engine


@dataclass(eq=False)
class RingingCall:
    extension: ExtensionConfig
    caller: Channel
    picked: asyncio.Future[Channel] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future())
    joined: asyncio.Future[bool] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future())

    def settle(self, used_pickup: bool) -> None:
        """The ringing is over: tell a picker whether it got the call."""
        if not self.joined.done():
            self.joined.set_result(used_pickup)


class RingingCalls:
    def __init__(self) -> None:
        self._calls: list[RingingCall] = []  # oldest first

    def offer(self, extension: ExtensionConfig, caller: Channel) -> RingingCall:
        call = RingingCall(extension, caller)
        self._calls.append(call)
        return call

    def withdraw(self, call: RingingCall, used_pickup: bool = False) -> None:
        if call in self._calls:
            self._calls.remove(call)
        call.settle(used_pickup)

    def find(self, *, extension: str | None = None, group: str | None = None,
             not_for: str | None = None) -> RingingCall | None:
        for call in self._calls:
            if call.picked.done() or call.caller.gone.is_set():
                continue
            if call.caller.party.number == not_for:
                continue  # your own call, ringing elsewhere, is not yours to pick up
            if extension is not None and call.extension.number == extension:
                return call
            if group is not None and call.extension.pickup_group == group and \
                    call.extension.number != not_for:
                return call
        return None


async def pickup(engine: Engine, picker: Channel, *, extension: str | None = None) -> Cause:
    """The destination of the pickup codes."""
    me = engine.office.extension(picker.party.number or "")
    if not picker.internal or me is None:
        return Cause.CALL_BARRED
    call = engine.ringing.find(extension=extension, not_for=me.number) if extension \
        else engine.ringing.find(group=me.pickup_group, not_for=me.number)
    if call is None:
        call_event("pickup-nothing", channel=picker.name, ext=extension)
        return Cause.NO_ANSWER
    call_event("pickup", channel=picker.name, ext=call.extension.number,
               caller=call.caller.name)
    call.picked.set_result(picker)
    if not await call.joined:
        return Cause.NO_ANSWER  # a phone of the extension answered first
    await picker.until_alone()
    return Cause.NORMAL_CLEARING
