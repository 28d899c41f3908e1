"""Si3210/Si3215 ProSLIC register driver: identify, bring up, calibrate, drive the line.

Register access (synchronous: one access is two one-byte SPI frames, ~10 us at 2 MHz):

    write DRn = v    [n & 0x7F] [v]
    read DRn         [0x80 | n] [dummy -> v]
    write IRn = v    wait IAS idle; DR28 = v & 0xFF; DR29 = v >> 8; DR30 = n
    read IRn         wait IAS idle; DR30 = n; wait IAS idle; v = DR28 | DR29 << 8

(Writing DR29 arms an indirect write that the following DR30 carries out; DR30 on its own
reads — the order DAHDI uses.)

Bring-up (`bring_up`, async, every wait bounded):

    identify      DR0 revision 0x0/0xF: nothing answers; DR1 bit 7 tells Si3215 from Si3210
                  (must match the board config); DR11 = 0x33 (reset value, never written)
    safe state    DC-DC off, linefeed open, indirect registers loaded
    power up      DC-DC on; VBAT (DR82) must reach 72 V within 0.5 s
    calibrate     DR97 = 0x1F, DR96 = 0x5F; DR96 must read 0 within 2 s (one retry)
    DC-DC cal     DR93 = 0x99; bit 7 must clear within 0.5 s; DR107 sanity-checked
    verify        indirect registers read back as written
    PCM, country  16-bit linear on the port's timeslot; impedance; ring oscillator at the
                  country's frequency and voltage, no hardware cadence (our timers ring;
                  the chip's timers pulse only the message-waiting neon lamp)
    active        linefeed forward active: the phone has battery

Afterwards the line reads DR68 (hook) every poll and writes DR64 (linefeed) on demand.
"""

from __future__ import annotations

import logging
from typing import Literal

from hal.rpi import proslic_regs as r
from hal.rpi.chip import ChipFault, wait_until
from hal.rpi.country import Country, ring_oscillator
from hal.rpi.spi import SpiError, SpiPort

log = logging.getLogger(__name__)

SlicChip = Literal["si3210", "si3215"]

POWER_UP_TIMEOUT_S = 0.5
CALIBRATION_TIMEOUT_S = 2.0
CALIBRATION_TRIES = 2
DCDC_CAL_TIMEOUT_S = 0.5
INDIRECT_BUSY_READS = 100  # an indirect access takes a few us; 100 reads is ~1 ms
LOOP_CURRENT_LIMIT_20MA = 0
PCM_SLOT_BITS = 16  # one 16-bit linear sample per slot


class ProSlic:
    """One ProSLIC on one chip select. Every method raises ChipFault when the chip does not
    answer or misbehaves (SPI errors included)."""

    def __init__(self, spi: SpiPort, chip: SlicChip) -> None:
        self._spi = spi
        self.chip = chip
        self.si3215 = chip == "si3215"
        self.revision = 0
        self.transactions = 0  # SPI frames sent (one byte each)
        self._country: Country | None = None

    # -- register access -----------------------------------------------------------

    def read(self, reg: int) -> int:
        self._frame(r.READ | (reg & r.ADDRESS_MASK))
        return self._frame(0x00)

    def write(self, reg: int, value: int) -> None:
        self._frame(reg & r.ADDRESS_MASK)
        self._frame(value & 0xFF)

    def read_indirect(self, reg: r.Indirect) -> int:
        self._wait_indirect_idle()
        self.write(r.IAA, reg.address(self.si3215))
        self._wait_indirect_idle()
        return self.read(r.IDA_LO) | self.read(r.IDA_HI) << 8

    def write_indirect(self, reg: r.Indirect, value: int) -> None:
        self._wait_indirect_idle()
        self.write(r.IDA_LO, value & 0xFF)
        self.write(r.IDA_HI, value >> 8 & 0xFF)
        self.write(r.IAA, reg.address(self.si3215))

    def _frame(self, byte: int) -> int:
        self.transactions += 1
        try:
            return self._spi.exchange(byte)
        except SpiError as exc:
            raise ChipFault(f"SPI transfer failed: {exc}") from exc

    def _wait_indirect_idle(self) -> None:
        for _ in range(INDIRECT_BUSY_READS):
            if self.read(r.IAS) == 0:
                return
        raise ChipFault("indirect register access stays busy (DR31 never clears)")

    # -- what the line does every poll ------------------------------------------------

    def loop_closed(self) -> bool:
        """The phone draws loop current (off-hook), or lifted while ringing (ring trip)."""
        status = self.read(r.LOOP_STATUS)
        if status == 0xFF:  # only bits 1:0 exist: a floating MISO, not a hook state
            raise ChipFault("stopped answering (DR68 reads 0xFF)")
        return bool(status & (r.LOOP_CLOSED | r.RING_TRIP))

    def set_linefeed(self, code: r.LinefeedCode) -> None:
        self.write(r.LINEFEED, code)

    def set_ring_mode(self, neon: bool) -> None:
        """The ring generator rings the phone, or flashes its message-waiting neon lamp.
        Change it only in forward active (the caller makes sure)."""
        if neon:
            self.write_indirect(r.Indirect.RING_Y, r.NEON_RING_Y)
            self.write_indirect(r.Indirect.RING_X, r.NEON_RING_X)
            self.write_indirect(r.Indirect.RING_OSC, r.NEON_RING_OSC)
            self.write_indirect(r.Indirect.RING_TRIP_THRESH, r.NEON_RING_TRIP_THRESH)
            self.write(r.RING_OSC_CTL, r.NEON_RING_OSC_CTL)
            return
        assert self._country is not None, "set_ring_mode before bring_up"
        rco, rngx = ring_oscillator(self._country.slic.ring_hz, self._country.slic.ring_vpk)
        self.write(r.RING_OSC_CTL, 0)
        self.write_indirect(r.Indirect.RING_Y, 0)
        self.write_indirect(r.Indirect.RING_OSC, rco)
        self.write_indirect(r.Indirect.RING_X, rngx)
        self.write_indirect(r.Indirect.RING_TRIP_THRESH, r.RING_TRIP_THRESH_NORMAL)

    def check_alive(self) -> None:
        """Raises ChipFault if the chip reset itself (DR8 back at its reset value) or went
        quiet. Cheap enough to run every second."""
        loopback = self.read(r.LOOPBACK)
        if loopback == 0xFF:
            raise ChipFault("stopped answering (DR8 reads 0xFF)")
        if loopback == r.LOOPBACK_AFTER_RESET:
            raise ChipFault("reset itself (power glitch or reset line?): needs a restart")

    def clear_interrupts(self) -> None:
        for reg in r.INT_STATUS:
            self.write(reg, 0xFF)

    def enable_hook_interrupts(self) -> None:
        self.write(r.INT_ENABLE[1], r.INT_LOOP_CLOSURE | r.INT_RING_TRIP)

    # -- bring-up ------------------------------------------------------------------------

    async def bring_up(self, country: Country, pcm_slot: int) -> None:
        self.identify()
        self._safe_state()
        await self._power_up()
        await self._calibrate()
        await self._calibrate_dcdc()
        self._verify_indirect()
        self._configure_pcm(pcm_slot)
        self._configure_country(country)
        self.set_linefeed(r.LinefeedCode.ACTIVE)
        log.debug("%s rev %d up on PCM slot %d", self.chip, self.revision, pcm_slot)

    def identify(self) -> None:
        part = self.read(r.PART_REVISION)
        revision = part & 0x0F
        if revision in (0x0, 0xF):
            raise ChipFault(f"no ProSLIC answers (DR0 reads 0x{part:02X}): check the HAT "
                            "is seated, the SPI overlay is on and the chip select is right")
        if revision < 2:
            raise ChipFault(f"ProSLIC revision {revision} is too old (needs 2 or later)")
        found: SlicChip = "si3215" if self.read(r.PCM_MODE) & r.SI3215_FLAG else "si3210"
        if found != self.chip:
            raise ChipFault(f"the board config says {self.chip} but the chip is a {found}")
        hybrid = self.read(r.HYBRID)
        if hybrid != r.HYBRID_AFTER_RESET:
            raise ChipFault(f"the ProSLIC answers nonsense (DR11 reads 0x{hybrid:02X}, "
                            f"expected 0x{r.HYBRID_AFTER_RESET:02X})")
        self.revision = revision

    def _safe_state(self) -> None:
        self.write(r.POWERDOWN, r.DCDC_OFF)
        self.write(r.LINEFEED, r.LinefeedCode.OPEN)
        for reg, value in r.INDIRECT_DEFAULTS.items():
            self.write_indirect(reg, value)
        self.write(r.LOOPBACK, 0)
        self.write(r.ENHANCE, r.ENHANCE_REV_C)
        self.write(r.AUTO_CONTROL, r.AUTO_CONTROL_SAFE)
        self.write(r.BATTERY_FEED, r.BATTERY_FEED_Q7_OFF)

    async def _power_up(self) -> None:
        self.write(r.DCDC_PWM, r.DCDC_PWM_PERIOD)
        self.write(r.POWERDOWN, 0)
        try:
            await wait_until(lambda: self.read(r.VBAT_SENSE) >= r.VBAT_UP,
                             POWER_UP_TIMEOUT_S, "battery power-up")
        except ChipFault:
            volts = self.read(r.VBAT_SENSE) * r.VBAT_MV_PER_STEP / 1000
            raise ChipFault(f"battery did not come up: {volts:.0f} V after "
                            f"{POWER_UP_TIMEOUT_S:g} s (is the HAT's power supply on?)") from None
        self.write(r.LOOP_CURRENT_LIMIT, LOOP_CURRENT_LIMIT_20MA)
        self.write(r.DCDC, r.DCDC_ENGAGE)

    async def _calibrate(self) -> None:
        for attempt in range(1, CALIBRATION_TRIES + 1):
            self.write(r.CAL2, r.CAL_ALL)
            self.write(r.CAL1, r.CAL_START)
            try:
                await wait_until(lambda: self.read(r.CAL1) == 0, CALIBRATION_TIMEOUT_S,
                                 "calibration")
                return
            except ChipFault:
                log.warning("%s: calibration attempt %d timed out", self.chip, attempt)
        raise ChipFault(f"calibration did not finish within {CALIBRATION_TIMEOUT_S:g} s "
                        f"({CALIBRATION_TRIES} tries)")

    async def _calibrate_dcdc(self) -> None:
        self.write(r.DCDC, r.DCDC_CALIBRATE)
        await wait_until(lambda: not self.read(r.DCDC) & 0x80, DCDC_CAL_TIMEOUT_S,
                         "DC-DC converter calibration")
        peak = self.read(r.DCDC_PEAK_CAL)
        if peak not in r.DCDC_PEAK_RANGE:
            log.warning("%s: DC-DC calibration gave 0x%02X; using 0x%02X", self.chip, peak,
                        r.DCDC_PEAK_DEFAULT)
            self.write(r.DCDC_PEAK_CAL, r.DCDC_PEAK_DEFAULT)

    def _verify_indirect(self) -> None:
        for reg, value in r.INDIRECT_DEFAULTS.items():
            got = self.read_indirect(reg)
            if got != value:
                raise ChipFault(f"indirect register {reg.name} reads 0x{got:04X} after "
                                f"writing 0x{value:04X}")

    def _configure_pcm(self, slot: int) -> None:
        start = slot * PCM_SLOT_BITS
        self.write(r.PCM_MODE, r.PCM_LINEAR_16)
        self.write(r.PCM_TX_START_LO, start & 0xFF)
        self.write(r.PCM_TX_START_HI, start >> 8)
        self.write(r.PCM_RX_START_LO, start & 0xFF)
        self.write(r.PCM_RX_START_HI, start >> 8)
        self.clear_interrupts()
        self.write(r.COMMON_MODE_V, r.COMMON_MODE_DEFAULT)

    def _configure_country(self, country: Country) -> None:
        self._country = country
        self.write(r.TWO_WIRE_IMPEDANCE, r.IMPEDANCE_ENABLE | country.slic.impedance)
        for (lo, hi), value in ((r.RING_ACTIVE_TIMER, r.NEON_ACTIVE_TIMER),
                                (r.RING_INACTIVE_TIMER, r.NEON_INACTIVE_TIMER)):
            self.write(lo, value & 0xFF)
            self.write(hi, value >> 8)
        self.set_ring_mode(neon=False)
        self.write(r.VBATH, r.VBATH_MAX)
