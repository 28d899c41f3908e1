"""What differs between countries at the line card: ringing, line impedance, DAA line settings.

The office's country (`site.country`) picks one row. Sources: REFERENCE.md (ringing ~20 Hz
in the US, 25 Hz in most of Europe; France rings at 50 Hz), DAHDI's `fxo_modes.h` (the Si3050
bits per country: FCC for the US, TBR21-style rows for UK/DE/FR) and its impedance mapping
for the ProSLIC's two-wire impedance field.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

# ProSLIC ring oscillator: a digital sine oscillator updated at 1 kHz. The frequency
# coefficient is cos(2*pi*f/1000) in Q15 (25 Hz gives 0x7E6C, the value DAHDI uses for 25 Hz).
RING_OSC_RATE_HZ = 1000.0
# Amplitude full scale, fitted to the two ringer settings DAHDI labels 50 V and 89 V peak;
# verify with a scope on the first board.
RING_FULL_SCALE_V = 98.0
RING_MAX_VPK = 89.0  # what VBATH = 94.5 V leaves after the SLIC's headroom


class CountryError(ValueError):
    """No line-card settings for this country."""


@dataclass(frozen=True, slots=True)
class SlicCountry:
    ring_hz: float
    ring_vpk: float
    impedance: int  # ProSLIC DR10 two-wire impedance code (TISS, bits 2:0)


@dataclass(frozen=True, slots=True)
class DaaCountry:
    """Si3050 line-side bits (register 16, 26, 30, 31 fields)."""

    ohs: int = 0  # on-hook speed
    ohs2: int = 0
    rz: int = 0  # ringer impedance
    rt: int = 1  # ringer threshold
    ilim: int = 0  # current limiting (TBR21: 60 mA)
    dcv: int = 3  # DC termination voltage
    mini: int = 0  # minimum operational loop current
    acim: int = 0  # AC termination impedance


@dataclass(frozen=True, slots=True)
class Country:
    slic: SlicCountry
    daa: DaaCountry


# Impedance codes: 0 = 600 ohm (US), 4 = 270 + 750 || 150 nF (CTR21, France),
# 5 = 220 + 820 || 120 nF (Germany), 7 = 370 + 620 || 310 nF (BT, UK).
COUNTRIES: dict[str, Country] = {
    "us": Country(SlicCountry(20.0, 86.0, 0), DaaCountry(rt=1, dcv=3)),
    "uk": Country(SlicCountry(25.0, 86.0, 7), DaaCountry(ohs2=1, rt=0, ilim=1, acim=5)),
    "de": Country(SlicCountry(25.0, 86.0, 5), DaaCountry(ohs2=1, rt=0, ilim=1, acim=3)),
    "fr": Country(SlicCountry(50.0, 86.0, 4), DaaCountry(ohs2=1, rt=0, ilim=1, acim=2)),
}


def country(code: str) -> Country:
    try:
        return COUNTRIES[code]
    except KeyError:
        raise CountryError(
            f"no line-card settings for country {code!r}; known: {', '.join(COUNTRIES)}"
        ) from None


def ring_oscillator(hz: float, vpk: float) -> tuple[int, int]:
    """(RCO, RNGX): the ring oscillator's frequency coefficient and amplitude, Q15."""
    if not 10.0 <= hz <= 100.0:
        raise CountryError(f"ring frequency {hz} Hz is outside 10..100 Hz")
    vpk = min(vpk, RING_MAX_VPK)
    c = math.cos(2.0 * math.pi * hz / RING_OSC_RATE_HZ)
    rco = int(32768.0 * c)  # truncated, as the reference values are
    rngx = round(0.25 * math.sqrt((1.0 - c) / (1.0 + c)) * vpk / RING_FULL_SCALE_V * 32768.0)
    return min(rco, 0x7FFF), rngx
