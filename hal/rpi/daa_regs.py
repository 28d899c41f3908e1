"""The Si3050 DAA registers this driver uses (public reference: DAHDI's wctdm.c and
fxo_modes.h, the Si3050 data sheet).

Serial framing: a control byte (0x20 write, 0x60 read), the register, the data; each byte
is its own chip-select frame.
"""

from __future__ import annotations

WRITE = 0x20
READ = 0x60
ADDRESS_MASK = 0x7F

CONTROL1 = 1  # bit 7: soft reset
CONTROL2 = 2  # reads 0x03 after reset
INT_MASK = 3
INT_SOURCE = 4  # write 0 to a bit to clear it
DAA_CONTROL1 = 5  # bit 0 off-hook, bit 3 on-hook line monitor, bits 6:5 ring detect -/+
DAA_CONTROL2 = 6  # bit 4: line side powered down; 0 brings up the isolation link
REVISION = 11  # bits 7:4 line-side device id (0 until the isolation link is up)
INTL_CONTROL1 = 16  # OHS bit 6, RZ bit 1, RT bit 0
INTL_CONTROL3 = 18
RING_VALIDATION3 = 24
DC_TERMINATION = 26  # DCV bits 7:6, MINI bits 5:4, ILIM bit 1
LOOP_CURRENT = 28  # 1.1 mA per step
LINE_VOLTAGE = 29  # signed, 1 V per step: magnitude = battery, sign = polarity
AC_TERMINATION = 30  # ACIM bits 3:0
DAA_CONTROL5 = 31  # OHS2 bit 3
PCM_MODE = 33
PCM_TX_START_LO = 34
PCM_TX_START_HI = 35
PCM_RX_START_LO = 36
PCM_RX_START_HI = 37

CONTROL2_AFTER_RESET = 0x03
SOFT_RESET = 0x80
OFF_HOOK = 0x01
ON_HOOK_MONITOR = 0x08  # passes on-hook audio (caller ID) and keeps the line watched
RING_DETECT = 0x60  # RDTN | RDTP: the ring signal crossed the threshold either way
CONTROL1_CHECKED = 0x9B  # bits the chip must keep as written (DAHDI rewrites otherwise)
LINE_SIDE_ID = 0xF0
INT_RING = 0x80
INT_DROP_OUT = 0x08
INT_POLARITY = 0x01
PCM_LINEAR_16 = 0x38
RING_VALIDATION_DEFAULT = 0x19
DAA_CONTROL5_BASE = 0xA3
LOOP_CURRENT_MA_PER_STEP = 1.1
