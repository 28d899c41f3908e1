"""Pure supervision of an FXO line from polled DAA readings: rings, polarity, disconnect.

Readings come every poll (`sample(reading, now)`); events come out, stamped with when the
thing began. Time is an argument; nothing here reads a clock.

    ring        the ring detector fires on each half-cycle of the ring signal, so a ring is
                "fired at least every RING_GAP_MS"; it counts once it has lasted RING_ON_MS
                (a click on the line is not a ring) and ends RING_GAP_MS after the last
                firing -> RingStarted(at first firing), RingStopped(at last firing)
    polarity    the sign of the line voltage, ignored while the line is dead; a new sign
                held POLARITY_MS -> LineReversal (ETSI caller ID, answer supervision)
    disconnect  |line voltage| below BATTERY_V (or, seized, loop current below LOOP_MIN_MA)
                for DISCONNECT_MS: the exchange let go of the line. Seized, that is the far
                end hanging up -> LoopCurrentLost; on-hook it only makes `line_present`
                false (the cable is out, or the line is dead)

Thresholds follow DAHDI's defaults for these chips (64 ms debounces, 3 V battery).
"""

from __future__ import annotations

from hal.events import LineReversal, LoopCurrentLost, RingStarted, RingStopped, TrunkEvent
from hal.rpi.daa import DaaReading

RING_ON_MS = 64.0
RING_GAP_MS = 256.0  # longer than half a cycle of the slowest ring (16 Hz: 31 ms) by far
POLARITY_MS = 64.0
DISCONNECT_MS = 64.0
BATTERY_V = 3
LOOP_MIN_MA = 2.0


class LineWatch:
    def __init__(self, port: str) -> None:
        self.port = port
        self.ringing = False
        self.line_present = True
        self.polarity = 0  # +1 / -1 once known
        self._ring_first: float | None = None
        self._ring_last = 0.0
        self._polarity_since: float | None = None
        self._dead_since: float | None = None
        self._alive_since: float | None = None
        self._loop_lost = False  # reported for this seizure

    def sample(self, reading: DaaReading, now: float) -> list[TrunkEvent]:
        events: list[TrunkEvent] = []
        self._ring(reading, now, events)
        dead = abs(reading.volts) < BATTERY_V or (
            reading.loop_ma is not None and reading.loop_ma < LOOP_MIN_MA)
        self._supervise(dead, reading.seized, now, events)
        if abs(reading.volts) >= BATTERY_V:
            self._watch_polarity(1 if reading.volts > 0 else -1, now, events)
        if not reading.seized:
            self._loop_lost = False
        return events

    def _ring(self, reading: DaaReading, now: float, events: list[TrunkEvent]) -> None:
        if reading.seized:  # answered: the exchange stops ringing; ignore the detector
            self._ring_first = None
            if self.ringing:
                self.ringing = False
                events.append(RingStopped(self.port, self._ring_last))
            return
        if reading.ring:
            if self._ring_first is None or _ms(now, self._ring_last) >= RING_GAP_MS:
                self._ring_first = now
            self._ring_last = now
            if not self.ringing and _ms(now, self._ring_first) >= RING_ON_MS:
                self.ringing = True
                events.append(RingStarted(self.port, self._ring_first))
        elif self.ringing and _ms(now, self._ring_last) >= RING_GAP_MS:
            self.ringing = False
            self._ring_first = None
            events.append(RingStopped(self.port, self._ring_last))

    def _supervise(self, dead: bool, seized: bool, now: float,
                   events: list[TrunkEvent]) -> None:
        if dead:
            self._alive_since = None
            if self._dead_since is None:
                self._dead_since = now
            if _ms(now, self._dead_since) < DISCONNECT_MS:
                return
            self.line_present = False
            if seized and not self._loop_lost:
                self._loop_lost = True
                events.append(LoopCurrentLost(self.port, self._dead_since))
            return
        self._dead_since = None
        if self._alive_since is None:
            self._alive_since = now
        if not self.line_present and _ms(now, self._alive_since) >= DISCONNECT_MS:
            self.line_present = True

    def _watch_polarity(self, sign: int, now: float, events: list[TrunkEvent]) -> None:
        if self.polarity == 0:
            self.polarity = sign  # the first polarity seen is the line's normal
            return
        if sign == self.polarity:
            self._polarity_since = None
            return
        if self._polarity_since is None:
            self._polarity_since = now
        if _ms(now, self._polarity_since) >= POLARITY_MS:
            self.polarity = sign
            events.append(LineReversal(self.port, self._polarity_since))
            self._polarity_since = None


def _ms(later: float, earlier: float) -> float:
    return round((later - earlier) * 1000.0, 6)
