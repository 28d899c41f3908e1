"""Si3050 DAA register driver: identify, bring up the isolation link, seize and release,
and read what the line is doing.

Register access: three one-byte SPI frames, [0x20|0x60] [register] [data].

Bring-up (async, every wait bounded):

    identify      register 2 reads 0x03 after reset; anything else: nothing answers
    soft reset    register 1 bit 7, then 100 ms
    PCM           16-bit linear on the port's timeslot
    country       on-hook speed, ringer impedance/threshold, DC and AC termination
    link          register 6 = 0 powers the line side over the isolation capacitors; the
                  line-side id (register 11 bits 7:4) must appear within 2 s
    monitor       register 5 = on-hook line monitor: ring detect, line voltage and on-hook
                  audio (caller ID) while the box has not seized the line

Each poll reads register 5 (ring detect; it is rewritten if the chip lost it, as DAHDI does),
register 29 (line voltage: battery and polarity) and, seized, register 28 (loop current).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from hal.rpi import daa_regs as r
from hal.rpi.chip import ChipFault, wait_until
from hal.rpi.country import Country
from hal.rpi.spi import SpiError, SpiPort

log = logging.getLogger(__name__)

RESET_S = 0.1
LINK_TIMEOUT_S = 2.0
PCM_SLOT_BITS = 16


@dataclass(frozen=True, slots=True)
class DaaReading:
    ring: bool  # the ring detector fired since the last reading
    volts: int  # tip-ring voltage, signed (the sign is the polarity)
    loop_ma: float | None  # loop current while seized
    seized: bool


class Si3050:
    def __init__(self, spi: SpiPort) -> None:
        self._spi = spi
        self.chip = "si3050"
        self.seized = False
        self.transactions = 0
        self.rewrites = 0  # times register 5 had to be restored

    def read(self, reg: int) -> int:
        self._frame(r.READ)
        self._frame(reg & r.ADDRESS_MASK)
        return self._frame(0x00)

    def write(self, reg: int, value: int) -> None:
        self._frame(r.WRITE)
        self._frame(reg & r.ADDRESS_MASK)
        self._frame(value & 0xFF)

    def _frame(self, byte: int) -> int:
        self.transactions += 1
        try:
            return self._spi.exchange(byte)
        except SpiError as exc:
            raise ChipFault(f"SPI transfer failed: {exc}") from exc

    # -- bring-up --------------------------------------------------------------------------

    async def bring_up(self, country: Country, pcm_slot: int) -> None:
        self.identify()
        self.write(r.CONTROL1, r.SOFT_RESET)
        await asyncio.sleep(RESET_S)
        start = pcm_slot * PCM_SLOT_BITS
        self.write(r.PCM_MODE, r.PCM_LINEAR_16)
        for lo, hi in ((r.PCM_TX_START_LO, r.PCM_TX_START_HI),
                       (r.PCM_RX_START_LO, r.PCM_RX_START_HI)):
            self.write(lo, start & 0xFF)
            self.write(hi, start >> 8)
        self._configure_country(country)
        self.write(r.DAA_CONTROL2, 0)
        try:
            await wait_until(lambda: bool(self.read(r.REVISION) & r.LINE_SIDE_ID),
                             LINK_TIMEOUT_S, "isolation link")
        except ChipFault:
            raise ChipFault(f"the DAA's line side did not come up within {LINK_TIMEOUT_S:g} s "
                            "(isolation link: check the line-side parts of the HAT)") from None
        self.write(r.DAA_CONTROL1, self._control1())

    def identify(self) -> None:
        value = self.read(r.CONTROL2)
        if value != r.CONTROL2_AFTER_RESET:
            raise ChipFault(f"no Si3050 DAA answers (register 2 reads 0x{value:02X}, "
                            f"expected 0x{r.CONTROL2_AFTER_RESET:02X}): check the HAT is "
                            "seated, the SPI overlay is on and the chip select is right")

    def _configure_country(self, country: Country) -> None:
        d = country.daa
        self.write(r.INTL_CONTROL1, d.ohs << 6 | d.rz << 1 | d.rt)
        self.write(r.INTL_CONTROL3, 0)
        self.write(r.RING_VALIDATION3, r.RING_VALIDATION_DEFAULT)
        self.write(r.DC_TERMINATION, d.dcv << 6 | d.mini << 4 | d.ilim << 1)
        self.write(r.AC_TERMINATION, d.acim)
        self.write(r.DAA_CONTROL5, r.DAA_CONTROL5_BASE | d.ohs2 << 3)

    # -- in service ------------------------------------------------------------------------

    def seize(self) -> None:
        self.seized = True
        self.write(r.DAA_CONTROL1, self._control1())

    def release(self) -> None:
        self.seized = False
        self.write(r.DAA_CONTROL1, self._control1())

    def reading(self) -> DaaReading:
        control = self.read(r.DAA_CONTROL1)
        if control == 0xFF:
            raise ChipFault("stopped answering (register 5 reads 0xFF)")
        if control & r.CONTROL1_CHECKED != self._control1():
            self.rewrites += 1  # the chip lost its state (a glitch): put it back
            self.write(r.DAA_CONTROL1, self._control1())
        volts = self.read(r.LINE_VOLTAGE)
        volts = volts - 256 if volts & 0x80 else volts
        loop_ma = self.read(r.LOOP_CURRENT) * r.LOOP_CURRENT_MA_PER_STEP if self.seized else None
        return DaaReading(bool(control & r.RING_DETECT), volts, loop_ma, self.seized)

    def check_alive(self) -> None:
        if self.read(r.CONTROL2) == 0xFF:
            raise ChipFault("stopped answering (register 2 reads 0xFF)")

    def enable_interrupts(self) -> None:
        self.write(r.INT_MASK, r.INT_RING | r.INT_DROP_OUT | r.INT_POLARITY)

    def clear_interrupts(self) -> None:
        self.write(r.INT_SOURCE, 0)

    def _control1(self) -> int:
        return r.ON_HOOK_MONITOR | (r.OFF_HOOK if self.seized else 0)
