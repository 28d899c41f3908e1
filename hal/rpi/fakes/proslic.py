"""A fake Si3210/Si3215 ProSLIC with a simulated analog phone on its line."""

from __future__ import annotations

from collections.abc import Callable

from hal.rpi import proslic_regs as r

Clock = Callable[[], float]

VBAT_FULL = 0xC8  # ~75 V once the DC-DC converter has ramped
PART_REVISION_DEFAULT = 0x05  # revision E


class FakeProSlic:
    """Speaks the ProSLIC's byte framing on `exchange`; the handset side is `set_hook`."""

    def __init__(
        self,
        clock: Clock,
        chip: str = "si3215",
        *,
        absent: int | None = None,  # 0xFF (MISO floating high) or 0x00: nobody answers
        calibration_s: float = 0.15,
        calibration_hangs: bool = False,
        battery_ramp_s: float = 0.1,
        battery: bool = True,
    ) -> None:
        self._clock = clock
        self.chip = chip
        self.absent = absent
        self.calibration_s = calibration_s
        self.calibration_hangs = calibration_hangs
        self.battery_ramp_s = battery_ramp_s
        self.battery = battery
        self.transactions = 0
        self.writes: list[tuple[int, int]] = []  # (register, value), for tests that inspect
        self.handset_off_hook = False
        self.rings: list[list[float | None]] = []  # [start, end] of each burst of ringing
        self.reset()

    def reset(self) -> None:
        """What the reset line (or a power glitch) does to the chip."""
        self.regs = bytearray(128)
        self.regs[r.PART_REVISION] = PART_REVISION_DEFAULT
        self.regs[r.LOOPBACK] = r.LOOPBACK_AFTER_RESET
        self.regs[r.HYBRID] = r.HYBRID_AFTER_RESET
        self.regs[r.POWERDOWN] = r.DCDC_OFF
        self.indirect: dict[int, int] = {}
        self._arm_indirect_write = False
        self._control: int | None = None
        self._powered_at: float | None = None
        self._calibration_done_at: float | None = None
        self._dcdc_cal_done_at: float | None = None
        self._linefeed = r.LinefeedCode.OPEN  # the state the chip is in
        self._ring_trip = False
        self._end_ring()

    # -- the SPI side --------------------------------------------------------------------

    def exchange(self, byte: int) -> int:
        self.transactions += 1
        if self.absent is not None:
            return self.absent
        if self._control is None:
            self._control = byte
            return 0x00
        control, self._control = self._control, None
        reg = control & r.ADDRESS_MASK
        if control & r.READ:
            return self._read(reg)
        self._write(reg, byte)
        return 0x00

    def close(self) -> None:
        """Nothing to release."""

    # -- the phone side ------------------------------------------------------------------

    def set_hook(self, off_hook: bool) -> None:
        self.handset_off_hook = off_hook
        if off_hook and self._linefeed is r.LinefeedCode.RINGING:
            self._trip_ring()

    @property
    def linefeed(self) -> r.LinefeedCode:
        return self._linefeed

    @property
    def ringing(self) -> bool:
        """Ringing voltage is on the line (needs battery: the DC-DC converter running)."""
        return self._ringing_voltage() and not self._neon_mode()

    @property
    def lamp_flashing(self) -> bool:
        """The ring generator pulses the phone's message-waiting neon lamp."""
        return self._ringing_voltage() and self._neon_mode()

    def _ringing_voltage(self) -> bool:
        return self._linefeed is r.LinefeedCode.RINGING and self._battery_up()

    def _neon_mode(self) -> bool:
        return self.regs[r.RING_OSC_CTL] == r.NEON_RING_OSC_CTL

    @property
    def powered(self) -> bool:
        return self._battery_up()

    # -- registers -----------------------------------------------------------------------

    def _read(self, reg: int) -> int:
        now = self._clock()
        if reg == r.PCM_MODE:
            flag = r.SI3215_FLAG if self.chip == "si3215" else 0
            return (self.regs[reg] & 0x7F) | flag
        if reg == r.LINEFEED:
            return self._linefeed << 4 | (self.regs[reg] & 0x07)
        if reg == r.LOOP_STATUS:
            return self._loop_status()
        if reg == r.VBAT_SENSE:
            return self._vbat(now)
        if reg == r.CAL1:
            done = self._calibration_done_at
            return self.regs[reg] if done is None or now < done else 0
        if reg == r.DCDC:
            done = self._dcdc_cal_done_at
            busy = done is not None and now < done
            return self.regs[reg] | 0x80 if busy else self.regs[reg] & 0x7F
        if reg == r.DCDC_PEAK_CAL:
            return self.regs[reg] or r.DCDC_PEAK_DEFAULT
        if reg == r.IAS:
            return 0
        return self.regs[reg]

    def _write(self, reg: int, value: int) -> None:
        now = self._clock()
        self.writes.append((reg, value))
        self.regs[reg] = value
        if reg == r.POWERDOWN:
            self._powered_at = None if value & r.DCDC_OFF else now
        elif reg == r.CAL1 and value & 0x40:
            self._calibration_done_at = None if self.calibration_hangs \
                else now + self.calibration_s
        elif reg == r.DCDC and value & 0x80:
            self._dcdc_cal_done_at = now + 0.05
        elif reg == r.IDA_HI:
            self._arm_indirect_write = True
        elif reg == r.IAA:
            self._indirect_access(value)
        elif reg == r.LINEFEED:
            self._set_linefeed(r.LinefeedCode(value & 0x07), now)
        elif reg in r.INT_STATUS:
            self.regs[reg] = 0

    def _indirect_access(self, address: int) -> None:
        if self._arm_indirect_write:
            self.indirect[address] = self.regs[r.IDA_LO] | self.regs[r.IDA_HI] << 8
            self._arm_indirect_write = False
            return
        value = self.indirect.get(address, 0)
        self.regs[r.IDA_LO], self.regs[r.IDA_HI] = value & 0xFF, value >> 8

    def _set_linefeed(self, code: r.LinefeedCode, now: float) -> None:
        self._ring_trip = False
        if code is r.LinefeedCode.RINGING and self.handset_off_hook:
            self._linefeed = code
            self._trip_ring()
            return
        ringing = self._battery_up() and not self._neon_mode()
        if code is r.LinefeedCode.RINGING and self._linefeed is not code and ringing:
            self.rings.append([now, None])
        elif code is not r.LinefeedCode.RINGING:
            self._end_ring()
        self._linefeed = code

    def _trip_ring(self) -> None:
        """Automatic ring trip: the chip stops ringing and goes forward active by itself."""
        self._end_ring()
        self._ring_trip = True
        self._linefeed = r.LinefeedCode.ACTIVE
        self.regs[r.LINEFEED] = r.LinefeedCode.ACTIVE

    def _end_ring(self) -> None:
        if self.rings and self.rings[-1][1] is None:
            self.rings[-1][1] = self._clock()

    def _loop_status(self) -> int:
        fed = self._battery_up() and self._linefeed not in (
            r.LinefeedCode.OPEN, r.LinefeedCode.TIP_OPEN, r.LinefeedCode.RING_OPEN)
        status = r.LOOP_CLOSED if fed and self.handset_off_hook else 0
        if self._ring_trip and self.handset_off_hook:
            status |= r.RING_TRIP
        return status

    def _vbat(self, now: float) -> int:
        if self._powered_at is None or not self.battery:
            return 0
        ramp = min(1.0, (now - self._powered_at) / self.battery_ramp_s)
        return int(VBAT_FULL * ramp)

    def _battery_up(self) -> bool:
        return self._vbat(self._clock()) >= r.VBAT_UP
