"""The Si3210/Si3215 ProSLIC registers this driver uses (public reference: DAHDI's proslic.h
and wctdm.c, the Si3210 data sheet). Direct registers are numbered DRn, indirect ones IRn.

Serial framing: a control byte (bit 7 set = read, bits 6..0 the direct register), then the
data byte; each byte is its own chip-select frame.
"""

from __future__ import annotations

import enum

READ = 0x80
ADDRESS_MASK = 0x7F

# Direct registers.
PART_REVISION = 0  # bits 5:4 part, 3:0 revision; 0x0/0xF revision = nothing answering
PCM_MODE = 1  # bit 7 reads 1 on an Si3215; bits 5:3 PCM enable and format
PCM_TX_START_LO = 2
PCM_TX_START_HI = 3
PCM_RX_START_LO = 4
PCM_RX_START_HI = 5
LOOPBACK = 8  # reads 0x02 after reset; we clear it, so 0x02 later means the chip reset
TWO_WIRE_IMPEDANCE = 10
HYBRID = 11  # reads 0x33 after reset and is never written: "the chip talks sense"
POWERDOWN = 14  # 0x10 = DC-DC converter off
INT_STATUS = (18, 19, 20)  # write 1s to clear
INT_ENABLE = (21, 22, 23)
IDA_LO = 28  # indirect data
IDA_HI = 29
IAA = 30  # indirect address: writing it starts the access
IAS = 31  # indirect access status: nonzero while busy
RING_OSC_CTL = 34  # 0: no hardware ring cadence (our loop times the cadence)
RING_ACTIVE_TIMER = (48, 49)  # lo, hi: only the neon lamp's pulses use the chip's timers
RING_INACTIVE_TIMER = (50, 51)
LINEFEED = 64  # bits 2:0 the state asked for, bits 6:4 the state the chip is in
BATTERY_FEED = 66
AUTO_CONTROL = 67
LOOP_STATUS = 68  # bit 0 loop closure (off-hook), bit 1 ring trip
LOOP_CURRENT_LIMIT = 71  # 0 = 20 mA, +3 mA per step
COMMON_MODE_V = 73
VBATH = 74  # high battery, 1.5 V per step
VBAT_SENSE = 82  # measured battery, 376 mV per step
DCDC_PWM = 92
DCDC = 93  # bit 7 set while the DC-DC converter calibrates
CAL1 = 96  # nonzero while calibrating
CAL2 = 97
DCDC_PEAK_CAL = 107
ENHANCE = 108

LOOPBACK_AFTER_RESET = 0x02
HYBRID_AFTER_RESET = 0x33
SI3215_FLAG = 0x80  # in PCM_MODE
LOOP_CLOSED = 0x01
RING_TRIP = 0x02
INT_LOOP_CLOSURE = 0x02  # INT_ENABLE[1]: loop closure transitions
INT_RING_TRIP = 0x01

PCM_LINEAR_16 = 0x38  # PCM on, 16-bit linear: the box companding nothing in hardware
DCDC_OFF = 0x10
DCDC_PWM_PERIOD = 0xFF
DCDC_ENGAGE = 0x19
DCDC_CALIBRATE = 0x99
CAL_ALL = 0x1F  # CAL2: every calibration
CAL_START = 0x5F  # CAL1: start, no speed-up
AUTO_CONTROL_SAFE = 0x07  # automatic ring trip and loop closure; no battery switching
BATTERY_FEED_Q7_OFF = 0x01
ENHANCE_REV_C = 0xEB
COMMON_MODE_DEFAULT = 0x04
VBATH_MAX = 0x3F  # 94.5 V
IMPEDANCE_ENABLE = 0x08
VBAT_UP = 0xC0  # 72 V: the DC-DC converter is running
DCDC_PEAK_RANGE = range(0x02, 0x0E)
DCDC_PEAK_DEFAULT = 0x08
VBAT_MV_PER_STEP = 376

# The message-waiting neon lamp: slow high-voltage pulses from the ring generator in its
# trapezoid mode, timed by the chip (Silicon Labs AN33, as DAHDI drives it).
NEON_RING_OSC_CTL = 0x19
NEON_ACTIVE_TIMER = 0x01E0
NEON_INACTIVE_TIMER = 0x05F0
NEON_RING_OSC = 0x009F
NEON_RING_X = 0x7BEF
NEON_RING_Y = 0x03E8  # pulse width: 250 ms
NEON_RING_TRIP_THRESH = 0x3600 + 0x1000  # raised: the lamp's current is no lifted handset
RING_TRIP_THRESH_NORMAL = 0x3600


class LinefeedCode(enum.IntEnum):
    OPEN = 0
    ACTIVE = 1
    ON_HOOK_TX = 2
    TIP_OPEN = 3
    RINGING = 4
    REVERSE_ACTIVE = 5
    REVERSE_ON_HOOK_TX = 6
    RING_OPEN = 7


class Indirect(enum.Enum):
    """Indirect registers as (Si3210 address, Si3215 address): the Si3215 renumbers them."""

    RING_V_OFF = (19, 6)
    RING_OSC = (20, 7)
    RING_X = (21, 8)
    RING_Y = (22, 9)
    RX_GAIN = (26, 13)
    TX_GAIN = (27, 14)
    LOOP_CLOSE_THRESH = (28, 15)
    RING_TRIP_THRESH = (29, 16)
    COMMON_MIN_THRESH = (30, 17)
    COMMON_MAX_THRESH = (31, 18)
    POWER_ALARM_Q1Q2 = (32, 19)
    POWER_ALARM_Q3Q4 = (33, 20)
    POWER_ALARM_Q5Q6 = (34, 21)
    LOOP_CLOSURE_FILTER = (35, 22)
    RING_TRIP_FILTER = (36, 23)
    TERM_POLE_Q1Q2 = (37, 24)
    TERM_POLE_Q3Q4 = (38, 25)
    TERM_POLE_Q5Q6 = (39, 26)
    RING_CM_BIAS = (40, 27)
    DCDC_MIN_V = (41, 64)
    LOOP_CLOSE_THRESH_LOW = (43, 66)

    def address(self, si3215: bool) -> int:
        return self.value[1] if si3215 else self.value[0]


# Start-up values (Silicon Labs' recommended settings, as DAHDI loads them). Tone and DTMF
# oscillators are left alone: the box makes its tones and detects DTMF in software.
INDIRECT_DEFAULTS: dict[Indirect, int] = {
    Indirect.RING_V_OFF: 0x0000,
    Indirect.RX_GAIN: 0x4000,  # 0 dB
    Indirect.TX_GAIN: 0x4000,
    Indirect.LOOP_CLOSE_THRESH: 0x1000,
    Indirect.RING_TRIP_THRESH: RING_TRIP_THRESH_NORMAL,
    Indirect.COMMON_MIN_THRESH: 0x1000,
    Indirect.COMMON_MAX_THRESH: 0x0200,
    Indirect.POWER_ALARM_Q1Q2: 0x07C0,
    Indirect.POWER_ALARM_Q3Q4: 0x2600,
    Indirect.POWER_ALARM_Q5Q6: 0x1B80,
    Indirect.LOOP_CLOSURE_FILTER: 0x8000,
    Indirect.RING_TRIP_FILTER: 0x0320,
    Indirect.TERM_POLE_Q1Q2: 0x008C,
    Indirect.TERM_POLE_Q3Q4: 0x0100,
    Indirect.TERM_POLE_Q5Q6: 0x0010,
    Indirect.RING_CM_BIAS: 0x0C00,
    Indirect.DCDC_MIN_V: 0x0C00,
    Indirect.LOOP_CLOSE_THRESH_LOW: 0x1000,
}
