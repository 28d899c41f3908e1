"""The 1200 bit/s FSK modem of caller ID and visual message waiting, and the alert tone.

Bell 202 (GR-30-CORE: mark 1200 Hz, space 2200 Hz) and ITU-T V.23 (ETSI EN 300 659-1, BT SIN
227: mark 1300 Hz, space 2100 Hz). The messages these bursts carry, and how a burst is laid
out on the wire, are described in `firmware.media.callerid`.

Modulator: the bit stream (seizure, marks, characters, a few trailing marks so the last stop
bit is not cut short; spandsp notes the checksum "should be followed by a minimum of two stop
bits") drives one phase-continuous oscillator. A bit lasts exactly 8000/1200 = 6.67 samples:
sample n belongs to bit floor(n * 1200 / 8000) and its phase is integrated from the exact
start time of that bit, so bit edges fall between samples and no rounding error builds up.

Demodulator: two quadrature correlators, one per tone, each the magnitude of the last
8000 / (space - mark) samples (8 for Bell 202, 10 for V.23: each tone sits on the other
correlator's null) of audio mixed down by that tone. d = (|mark|^2 - |space|^2) / (sum) is
a level-independent soft bit in [-1, 1]; the sum doubles as carrier detect. A UART-style
sampler then runs as a small state machine (table `_TRANSITIONS`):

    HUNT     look for a run of strong mark (the mark signal), ignoring seizure and noise
    ARMED    wait for the first start bit (mark -> space edge); locate the edge to a
             fraction of a sample, then sample the 10 bits of the character mid-bit
    MESSAGE  each stop bit re-arms for the next start bit; once type + length + data +
             checksum are in, a message whose checksum is good is returned

Lost carrier, a framing error (stop bit not mark) or too long a pause between characters
sends it back to HUNT, so garbage costs nothing but the garbage. Everything is vectorised
with numpy; the only Python loop runs once per character, not per sample.
"""

from __future__ import annotations

import enum
import logging

import numpy as np
import numpy.typing as npt

from firmware.media.frames import FULL_SCALE_DBM0, SAMPLE_RATE, amplitude

__all__ = [
    "CARRIER_DETECT_DBM0",
    "TRAILING_MARK_BITS",
    "FskDemodulator",
    "FskStandard",
    "etsi_alert_signal",
    "fsk_demodulate",
    "fsk_modulate",
]

_log = logging.getLogger(__name__)

Samples = npt.NDArray[np.int16]

# Marks after the checksum so the last stop bit survives a receiver's filters (>= 2 needed).
TRAILING_MARK_BITS = 10
# Below this the demodulator treats the line as carrying no FSK. Our own figure: 10 dB under
# the quietest level we test (-30 dBm0) and well above idle-channel noise.
CARRIER_DETECT_DBM0 = -40.0


class FskStandard(enum.Enum):
    """The FSK modem: (mark Hz, space Hz, bit/s)."""

    BELL202 = (1200, 2200, 1200)  # GR-30-CORE (North America)
    V23 = (1300, 2100, 1200)  # ETSI EN 300 659-1, BT SIN 227 (Europe)

    @property
    def mark_hz(self) -> int:
        return self.value[0]

    @property
    def space_hz(self) -> int:
        return self.value[1]

    @property
    def baud(self) -> int:
        return self.value[2]


# ---------------------------------------------------------------------------------------------
# Modulation


def _check_level(level_dbm0: float, tones: int) -> float:
    peak = tones * amplitude(level_dbm0)
    if peak > 32767.0:
        raise ValueError(
            f"level {level_dbm0} dBm0 per tone would clip: {tones} tone(s) must stay under "
            f"{FULL_SCALE_DBM0 - 20.0 * np.log10(tones):.2f} dBm0"
        )
    return amplitude(level_dbm0)


def _character_bits(message: bytes) -> npt.NDArray[np.int64]:
    """Async serial framing of every byte: start 0, data LSB first, stop 1."""
    data = np.frombuffer(bytes(message), dtype=np.uint8).astype(np.int64)
    bits = (data[:, None] >> np.arange(8)) & 1
    start = np.zeros((len(data), 1), dtype=np.int64)
    stop = np.ones((len(data), 1), dtype=np.int64)
    return np.concatenate((start, bits, stop), axis=1).ravel()


def _synthesize(bits: npt.NDArray[np.int64], standard: FskStandard, peak: float) -> Samples:
    """Phase-continuous FSK with exact bit timing, in integer arithmetic where it matters."""
    fs, baud = SAMPLE_RATE, standard.baud
    total = -(-len(bits) * fs // baud)  # ceil: the last bit is never cut short
    n = np.arange(total, dtype=np.int64)
    bit = n * baud // fs  # the bit sample n falls in
    freq = np.where(bits.astype(bool), standard.mark_hz, standard.space_hz).astype(np.int64)
    # Cycles completed by the start of each bit, times `baud` (an integer), modulo one cycle.
    start_cycles = (np.cumsum(freq) - freq) % baud
    into_bit = n * baud - bit * fs  # time into the bit, in units of 1/(fs*baud) s
    cycles = start_cycles[bit] / baud + freq[bit] * into_bit / (fs * baud)
    return np.rint(peak * np.sin(2.0 * np.pi * cycles)).astype(np.int16)


def fsk_modulate(
    message: bytes,
    standard: FskStandard,
    *,
    seizure_bits: int = 300,
    mark_bits: int = 180,
    level_dbm0: float = -13.5,
) -> Samples:
    """The FSK burst for `message`: seizure, marks, the bytes, then TRAILING_MARK_BITS marks.

    Defaults follow GR-30-CORE / EN 300 659-1 on hook (300 seizure bits, 180 marks) at a
    nominal -13.5 dBm0; for caller ID on call waiting pass seizure_bits=0, mark_bits=80.
    The result lasts exactly ceil(bits * 8000 / 1200) samples.
    """
    if seizure_bits < 0 or mark_bits < 0:
        raise ValueError(f"bit counts must be >= 0, got {seizure_bits} and {mark_bits}")
    peak = _check_level(level_dbm0, 1)
    bits = np.concatenate(
        (
            np.arange(seizure_bits, dtype=np.int64) % 2,  # 0101..., i.e. 0x55 characters
            np.ones(mark_bits, dtype=np.int64),
            _character_bits(message),
            np.ones(TRAILING_MARK_BITS, dtype=np.int64),
        )
    )
    return _synthesize(bits, standard, peak)


def etsi_alert_signal(ms: int = 100, level_dbm0: float = -20.0) -> Samples:
    """The dual-tone alert signal 2130 + 2750 Hz (ETSI EN 300 659-1 DT-AS; GR-30-CORE's CAS
    for caller ID on call waiting). `level_dbm0` is per tone."""
    if ms < 0:
        raise ValueError(f"duration must be >= 0 ms, got {ms}")
    peak = _check_level(level_dbm0, 2)
    t = np.arange(ms * SAMPLE_RATE // 1000) / SAMPLE_RATE
    tones = np.sin(2.0 * np.pi * 2130.0 * t) + np.sin(2.0 * np.pi * 2750.0 * t)
    return np.rint(peak * tones).astype(np.int16)


# ---------------------------------------------------------------------------------------------
# Demodulation

# A run of this many bits of strong mark arms the UART: the mark signal is 180 (80) bits, the
# seizure never holds mark for more than one bit, and noise seldom holds it for 16.
_ARM_BITS = 16
_ARM_THRESHOLD = 0.5
# Our tolerance for idle marks between characters of one message before giving up on it.
_MAX_GAP_BITS = 40


class _State(enum.Enum):
    HUNT = "hunt"
    ARMED = "armed"
    MESSAGE = "message"


class _Event(enum.Enum):
    MARK_RUN = "mark run"
    CHARACTER = "character"
    COMPLETE = "complete"
    LOST = "lost"  # carrier lost, framing error, or too long a gap between characters


_TRANSITIONS: dict[_State, dict[_Event, _State]] = {
    _State.HUNT: {_Event.MARK_RUN: _State.ARMED},
    _State.ARMED: {_Event.CHARACTER: _State.MESSAGE, _Event.LOST: _State.HUNT},
    _State.MESSAGE: {
        _Event.CHARACTER: _State.MESSAGE,
        _Event.COMPLETE: _State.HUNT,
        _Event.LOST: _State.HUNT,
    },
}


class FskDemodulator:
    """Streaming: feed frames; returns complete messages whose checksum verified.

    Messages come back whole (type, length, data, checksum) for `parse_message()`.
    """

    def __init__(self, standard: FskStandard) -> None:
        self._standard = standard
        self._spb = SAMPLE_RATE / standard.baud
        self._w_mark = 2.0 * np.pi * standard.mark_hz / SAMPLE_RATE
        self._w_space = 2.0 * np.pi * standard.space_hz / SAMPLE_RATE
        # Correlator length SAMPLE_RATE / (space - mark), 8 samples for Bell 202 and 10 for
        # V.23, puts each tone on the null of the other tone's correlator. That is longer
        # than a bit (6.67 samples) and smears neighbours a little, but at 7-9 dB S/N it
        # decoded far more messages than a one-bit window, which leaves V.23's close tones
        # only 8 dB apart.
        self._window = round(SAMPLE_RATE / (standard.space_hz - standard.mark_hz))
        # A sine of peak A gives a correlator magnitude of window * A / 2.
        self._carrier_power = (self._window * amplitude(CARRIER_DETECT_DBM0) / 2.0) ** 2
        self._arm_samples = round(_ARM_BITS * self._spb)
        self._gap_samples = round(_MAX_GAP_BITS * self._spb)
        self._offsets = (np.arange(10) + 0.5) * self._spb  # mid-bit of start, data, stop
        self._weights = 1 << np.arange(8)
        self.reset()

    def reset(self) -> None:
        """Forget all audio and any half-received message."""
        self._tail = np.zeros(0)  # the last window - 1 raw samples
        self._soft = np.zeros(0)  # soft bits d, indexed from self._base
        self._carrier = np.zeros(0, dtype=bool)
        self._base = 0
        self._pos = 0  # the next soft bit to look at
        self._state = _State.HUNT
        self._run = 0  # mark run carried over from the previous feed (HUNT)
        self._gap_start = 0  # mid-stop-bit of the last character (MESSAGE)
        self._bytes = bytearray()

    def feed(self, samples: npt.ArrayLike) -> list[bytes]:
        """Take any number of samples; return the messages completed by them."""
        x = np.asarray(samples)
        if x.ndim != 1:
            raise ValueError(f"samples must be one-dimensional, got shape {x.shape}")
        soft, carrier = self._discriminate(x.astype(np.float64))
        self._soft = np.concatenate((self._soft, soft))
        self._carrier = np.concatenate((self._carrier, carrier))
        messages: list[bytes] = []
        # Each step moves the read position on or changes state; False means "need audio".
        while True:
            if self._state is _State.HUNT:
                progressed = self._hunt()
            else:
                progressed = self._next_character(messages)
            if not progressed:
                break
        # Keep one soft bit before the read position: the start-edge interpolation needs it.
        drop = max(0, self._pos - 1 - self._base)
        self._soft = self._soft[drop:]
        self._carrier = self._carrier[drop:]
        self._base += drop
        return messages

    def _go(self, event: _Event) -> None:
        self._state = _TRANSITIONS[self._state][event]
        if self._state is _State.HUNT:
            self._run = 0
            self._bytes.clear()

    def _discriminate(
        self, x: npt.NDArray[np.float64]
    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.bool_]]:
        """Soft bits and carrier detect, one per new sample once a window's worth is in."""
        buf = np.concatenate((self._tail, x))
        self._tail = buf[max(0, len(buf) - (self._window - 1)) :]
        if len(buf) < self._window:
            return np.zeros(0), np.zeros(0, dtype=bool)
        # Magnitudes do not care where the oscillators' phase starts, so each call may
        # restart them at zero as long as the whole window shares one reference.
        n = np.arange(len(buf))
        kernel = np.ones(self._window)
        mark = np.convolve(buf * np.exp(-1j * self._w_mark * n), kernel, mode="valid")
        space = np.convolve(buf * np.exp(-1j * self._w_space * n), kernel, mode="valid")
        p_mark = mark.real**2 + mark.imag**2
        p_space = space.real**2 + space.imag**2
        total = p_mark + p_space
        soft = (p_mark - p_space) / np.maximum(total, 1e-9)
        return soft, total >= self._carrier_power

    def _hunt(self) -> bool:
        """HUNT: find _ARM_BITS of strong mark with carrier. False when out of samples."""
        start = self._pos - self._base
        good = (self._soft[start:] > _ARM_THRESHOLD) & self._carrier[start:]
        if good.size == 0:
            return False
        idx = np.arange(good.size)
        # Length of the mark run ending at each sample, continuing the previous feed's run.
        last_bad = np.maximum.accumulate(np.where(good, -1 - self._run, idx))
        run = idx - last_bad
        hits = np.flatnonzero(run >= self._arm_samples)
        if hits.size == 0:
            self._run = int(run[-1])
            self._pos += good.size
            return False
        self._pos += int(hits[0]) + 1
        self._go(_Event.MARK_RUN)
        return True

    def _next_character(self, messages: list[bytes]) -> bool:
        """ARMED/MESSAGE: find the next start bit and read its character."""
        end = self._base + len(self._soft)
        start = self._pos - self._base
        stops = np.flatnonzero((self._soft[start:] < 0.0) | ~self._carrier[start:])
        deadline = self._gap_start + self._gap_samples
        in_message = self._state is _State.MESSAGE
        if stops.size == 0 or (in_message and self._pos + int(stops[0]) > deadline):
            if in_message and end > deadline:
                return self._lose(deadline, "no start bit after the last character")
            self._pos = max(self._pos, end)
            return False
        edge = self._pos + int(stops[0])
        if not self._carrier[edge - self._base]:
            return self._lose(edge + 1, "carrier lost")
        centres = np.rint(self._crossing(edge) + self._offsets).astype(np.int64)
        if centres[-1] >= end:
            self._pos = edge  # come back when the whole character is in
            return False
        soft = self._soft[centres - self._base]
        if not self._carrier[centres - self._base].all():
            return self._lose(edge + 1, "carrier lost")
        if soft[0] >= 0.0:
            self._pos = edge + 1  # a glitch, not a start bit: keep looking
            return True
        if soft[9] <= 0.0:
            return self._lose(edge + 1, "framing error")
        self._pos = self._gap_start = int(centres[9])
        self._bytes.append(int(np.dot(soft[1:9] > 0.0, self._weights)))
        self._go(_Event.CHARACTER)
        self._complete(messages)
        return True

    def _crossing(self, edge: int) -> float:
        """Where, to a fraction of a sample, the soft bit crossed zero before `edge`."""
        i = edge - self._base
        if i == 0 or self._soft[i - 1] <= 0.0:  # no mark sample before it to interpolate from
            return float(edge)
        before, after = self._soft[i - 1], self._soft[i]
        return edge - 1 + float(before / (before - after))

    def _complete(self, messages: list[bytes]) -> None:
        got = self._bytes
        if len(got) < 2 or len(got) < got[1] + 3:
            return
        if sum(got) & 0xFF == 0:
            messages.append(bytes(got))
        else:
            _log.debug("caller ID message discarded: bad checksum (%s)", got.hex(" "))
        self._go(_Event.COMPLETE)

    def _lose(self, resume: int, why: str) -> bool:
        if self._bytes:
            _log.debug("caller ID message abandoned after %d bytes: %s", len(self._bytes), why)
        self._pos = resume
        self._go(_Event.LOST)
        return True


def fsk_demodulate(samples: npt.ArrayLike, standard: FskStandard) -> list[bytes]:
    """Every message with a good checksum found in a whole buffer of audio."""
    return FskDemodulator(standard).feed(samples)
