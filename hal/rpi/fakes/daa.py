"""A fake Si3050 DAA with a telephone exchange at the other end of its line."""

from __future__ import annotations

import math
from collections.abc import Callable

from hal.rpi import daa_regs as r

Clock = Callable[[], float]

SYSTEM_REVISION = 0x05
LINE_SIDE_ID = 0x30  # Si3019-class line side
LINK_S = 0.05
ON_HOOK_V = 48  # the exchange's battery
OFF_HOOK_V = 8  # across a seized line
LOOP_MA = 25.0
RING_HZ = 20.0
RING_DETECT_LEVEL = 0.3  # of the ring signal's peak


class FakeDaa:
    """Speaks the DAA's byte framing on `exchange`; the exchange side is `ring`,
    `disconnect`, `reverse_polarity` ..."""

    def __init__(self, clock: Clock, *, absent: int | None = None,
                 line_side_dead: bool = False) -> None:
        self._clock = clock
        self.absent = absent
        self.line_side_dead = line_side_dead
        self.transactions = 0
        # The exchange's side of the line.
        self.connected = True  # battery on the line
        self.polarity = 1
        self.ringing = False
        self.reset()

    def reset(self) -> None:
        self.regs = bytearray(64)
        self.regs[r.CONTROL2] = r.CONTROL2_AFTER_RESET
        self.regs[r.REVISION] = SYSTEM_REVISION
        self.regs[r.DAA_CONTROL2] = 0x10
        self._frame: list[int] = []
        self._link_at: float | None = None

    # -- SPI ---------------------------------------------------------------------------------

    def exchange(self, byte: int) -> int:
        self.transactions += 1
        if self.absent is not None:
            return self.absent
        self._frame.append(byte)
        if len(self._frame) < 3:
            return 0x00
        control, reg, data = self._frame
        self._frame = []
        reg &= r.ADDRESS_MASK
        if control == r.READ:
            return self._read(reg)
        if control == r.WRITE:
            self._write(reg, data)
        return 0x00

    def close(self) -> None:
        """Nothing to release."""

    # -- the exchange ------------------------------------------------------------------------

    @property
    def seized(self) -> bool:
        return bool(self.regs[r.DAA_CONTROL1] & r.OFF_HOOK) and self._link_up()

    def ring(self, on: bool) -> None:
        self.ringing = on and not self.seized

    def disconnect(self) -> None:
        """The exchange drops the line (the far end hung up, or the cable is out)."""
        self.connected = False

    def connect(self) -> None:
        self.connected = True

    def reverse_polarity(self) -> None:
        self.polarity = -self.polarity

    # -- registers ---------------------------------------------------------------------------

    def _read(self, reg: int) -> int:
        if reg == r.REVISION:
            side = LINE_SIDE_ID if self._link_up() else 0
            return side | SYSTEM_REVISION
        if reg == r.DAA_CONTROL1:
            return (self.regs[reg] & ~r.RING_DETECT & 0xFF) | self._ring_bits()
        if reg == r.LINE_VOLTAGE:
            return self._line_volts() & 0xFF
        if reg == r.LOOP_CURRENT:
            flowing = self.seized and self.connected
            return round(LOOP_MA / r.LOOP_CURRENT_MA_PER_STEP) if flowing else 0
        return self.regs[reg]

    def _write(self, reg: int, value: int) -> None:
        if reg == r.CONTROL1 and value & r.SOFT_RESET:
            self.reset()
            return
        self.regs[reg] = value
        if reg == r.DAA_CONTROL2:
            self._link_at = None if value & 0x10 or self.line_side_dead \
                else self._clock() + LINK_S
        elif reg == r.DAA_CONTROL1 and value & r.OFF_HOOK:
            self.ringing = False  # answered: the exchange trips the ring

    def _link_up(self) -> bool:
        return self._link_at is not None and self._clock() >= self._link_at

    def _ring_bits(self) -> int:
        if not (self.ringing and self.connected and self._link_up()) or self.seized:
            return 0
        phase = math.sin(2.0 * math.pi * RING_HZ * self._clock())
        if phase > RING_DETECT_LEVEL:
            return 0x20
        if phase < -RING_DETECT_LEVEL:
            return 0x40
        return 0

    def _line_volts(self) -> int:
        if not (self.connected and self._link_up()):
            return 0
        return self.polarity * (OFF_HOOK_V if self.seized else ON_HOOK_V)
