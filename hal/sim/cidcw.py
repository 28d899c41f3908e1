"""The caller-ID-on-call-waiting part of a virtual phone (a "Type 2" phone in TIA-777 terms).

A phone with the feature, off hook, listens to its earpiece for the CPE alerting signal
(CAS: 2130 + 2750 Hz, ~80 ms; GR-30-CORE, ETSI EN 300 659-2). When the alert ends it
answers at once with DTMF D, 60 ms, into the line (the acknowledgement, ACK), and keeps
what it hears for the next seconds: the FSK data the box sends back. Decoding that data is
the handset tool's job (`tools.phone`), as for caller ID received on hook; the board only
reacts in time, which a tool on the other end of a socket could not (the box waits 160 ms).

A phone without the feature (the default) ignores the alert, as most analog phones do.

Detection, per 20 ms frame: the two tones' amplitudes by correlation with each frequency
(one dot product each), the alert is there when each tone is at least `MIN_PEAK` (about
-45 dBm0), the two are within 6 dB of each other, and together they carry 80 % of the
frame's power. Speech and the call-waiting tone never pass; two such frames in a row
(40 ms) make an alert.
"""

from __future__ import annotations

from typing import Any, Final

import numpy as np

from hal.audio import FRAME_SAMPLES, SAMPLE_RATE, Frame
from hal.sim.recorder import Recorder

CAS_HZ: Final = (2130.0, 2750.0)
ACK_HZ: Final = (941.0, 1633.0)  # DTMF D (GR-30-CORE lets a phone send A instead)
ACK_MS: Final = 60
ACK_PEAKS: Final = (7000.0, 8800.0)  # about -10 / -8 dBm0: a keypad's 2 dB twist
MIN_PEAK: Final = 150.0
MIN_CAS_FRAMES: Final = 2
DATA_SECONDS: Final = 2.0  # what follows an ACK: the box's FSK lasts well under a second

_n = np.arange(FRAME_SAMPLES)
_PROBES = np.exp(-2j * np.pi * np.outer(CAS_HZ, _n) / SAMPLE_RATE)  # (2, 160)


def _ack() -> np.ndarray:
    t = np.arange(ACK_MS * SAMPLE_RATE // 1000) / SAMPLE_RATE
    wave = sum(peak * np.sin(2 * np.pi * hz * t) for hz, peak in zip(ACK_HZ, ACK_PEAKS,
                                                                      strict=True))
    return np.rint(wave).astype(np.int16)


def is_alert(frame: Frame) -> bool:
    """Is this frame (all of it) the CAS?"""
    x = frame.astype(np.float64)
    power = float(np.dot(x, x)) / len(x)
    if power <= 0.0:
        return False
    peaks = np.abs(_PROBES[:, : len(x)] @ x) * (2.0 / len(x))  # amplitude of each tone
    low, high = float(peaks.min()), float(peaks.max())
    return low >= MIN_PEAK and high <= 2.0 * low and (low**2 + high**2) / 2 >= 0.8 * power


class CidcwPhone:
    """Turned on per phone (`enabled`); fed every frame the earpiece plays off hook."""

    def __init__(self) -> None:
        self.enabled = False
        self.acks = 0
        self.last_ack: float | None = None
        self._alert_frames = 0
        self._data = Recorder(DATA_SECONDS)
        self._ack_samples = _ack()

    def earpiece(self, frame: Frame, now: float) -> np.ndarray | None:
        """One frame heard off hook; returns the ACK to say at once, when an alert ended."""
        if self.last_ack is not None and now - self.last_ack < DATA_SECONDS:
            self._data.write(frame, now)
        if not self.enabled:
            return None
        if is_alert(frame):
            self._alert_frames += 1
            return None
        ended = self._alert_frames >= MIN_CAS_FRAMES
        self._alert_frames = 0
        if not ended:
            return None
        self.acks += 1
        self.last_ack = now
        self._data.clear()
        self._data.write(frame, now)
        return self._ack_samples

    def on_hook(self) -> None:
        self._alert_frames = 0

    def data(self) -> np.ndarray:
        """What the phone heard after its last ACK (the caller-ID burst, if one came)."""
        last = self._data.last_write
        if last is None:
            return np.zeros(0, dtype=np.int16)
        return self._data.heard(DATA_SECONDS, last)

    def status(self) -> dict[str, Any]:
        return {"on": self.enabled, "acks": self.acks, "last_ack": self.last_ack}
