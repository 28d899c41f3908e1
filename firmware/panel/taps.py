"""Knowing when to look again: the analog lines and the DECT base as the engine sees them,
each telling the panel that something happened on it.

The panel reads the box's state, and most of it tells of its changes (trunks and night
mode through the box's publish hook, message waiting through its listeners). An analog
port's state does not, but every change of it goes through the line: the phone is lifted
or put down (an event from the line), or the engine rings it or stops (it sets the
linefeed). The DECT base's pairing window opens and closes with an event. So the engine is
handed these ports with a tap that passes everything through and pokes the panel on an
event or a linefeed change: the LEDs follow at once, and an idle box wakes nobody up (a
timer every 250 ms would, and would cost a fake-time test an hour of ticks per hour).
"""

from __future__ import annotations

from collections.abc import Callable

from hal.audio import Frame
from hal.dect.events import DectEvent
from hal.events import LineEvent
from hal.hook import HookTiming
from hal.interfaces import AnalogLine, DectBase, Linefeed

__all__ = ["TappedDectBase", "TappedLine"]

Poke = Callable[[], None]


class TappedLine:
    """An `AnalogLine` that pokes after each of its events and each linefeed change."""

    def __init__(self, line: AnalogLine, poke: Poke) -> None:
        self._line = line
        self._poke = poke

    @property
    def name(self) -> str:
        return self._line.name

    @property
    def off_hook(self) -> bool:
        return self._line.off_hook

    @property
    def linefeed(self) -> Linefeed:
        return self._line.linefeed

    def set_listener(self, listener: Callable[[LineEvent], None]) -> None:
        def tapped(event: LineEvent) -> None:
            try:
                listener(event)
            finally:
                self._poke()

        self._line.set_listener(tapped)

    def configure(self, timing: HookTiming) -> None:
        self._line.configure(timing)

    def set_linefeed(self, state: Linefeed) -> None:
        self._line.set_linefeed(state)
        self._poke()

    def set_message_waiting(self, on: bool) -> None:
        self._line.set_message_waiting(on)

    def read_frame(self) -> Frame | None:
        return self._line.read_frame()

    def write_frame(self, frame: Frame) -> None:
        self._line.write_frame(frame)


class TappedDectBase:
    """A `DectBase` that pokes after each of its events (pairing window opened, closed)."""

    def __init__(self, base: DectBase, poke: Poke) -> None:
        self._base = base
        self._poke = poke

    @property
    def slots(self) -> int:
        return self._base.slots

    def subscribed(self) -> list[str]:
        return self._base.subscribed()

    @property
    def registration_open(self) -> bool:
        return self._base.registration_open

    def set_listener(self, listener: Callable[[DectEvent], None]) -> None:
        def tapped(event: DectEvent) -> None:
            try:
                listener(event)
            finally:
                self._poke()

        self._base.set_listener(tapped)

    async def start(self) -> None:
        await self._base.start()

    async def stop(self) -> None:
        await self._base.stop()

    def open_registration(self, seconds: float) -> None:
        self._base.open_registration(seconds)

    def close_registration(self) -> None:
        self._base.close_registration()

    def delete_handset(self, handset: str) -> None:
        self._base.delete_handset(handset)

    def page(self) -> None:
        self._base.page()

    def ring(self, handset: str, number: str | None, name: str | None) -> None:
        self._base.ring(handset, number, name)

    def answer(self, handset: str) -> None:
        self._base.answer(handset)

    def release(self, handset: str) -> None:
        self._base.release(handset)

    def read_frame(self, handset: str) -> Frame | None:
        return self._base.read_frame(handset)

    def write_frame(self, handset: str, frame: Frame) -> None:
        self._base.write_frame(handset, frame)
