"""Keys an analog phone presses in a call: transfer codes without a flash, digits for a SIP
peer.

One DTMF detector per port in a call listens to what the phone sends. Each key goes first
to the in-call codes (`features.incall`: `##` + number, `*2` + number and the consult
codes), exactly as a SIP phone's RFC 4733 keys do; a key the codes did not take goes on
to a SIP peer as an RFC 4733 event (its tones also travel in the audio, as keyed).

The tone of a code's key is kept from the other party (all but the first key of a code,
which passes as any key does: `features.incall`): the detector confirms a key only after
~32 ms of tone (REFERENCE.md, "DTMF": Q.24 wants 40 ms), but it names the key from its
first clean 13 ms window on (`DtmfDetector.sounding`). From then until the tone ends, a
key that would be kept mutes the audio forwarded, so the other party hears at most ~20 ms
of it: too short for a DTMF receiver (Q.24), and a click rather than a tone to a person.
Keys that are no code pass untouched, so an IVR or a far phone behind the call still
hears them.

Codes are read only in a plain call (the flash feature has nothing held, no consult of
its own) or during a consult the codes started; with a flash sequence going on, the
flash keys rule (`features.flash`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from firmware.engine.features.consult import ConsultBridge
from firmware.engine.features.flash import FlashState
from firmware.engine.features.incall import in_call_key, would_take
from firmware.media.dtmf import DtmfDetector
from firmware.media.frames import Frame

if TYPE_CHECKING:
    from firmware.engine.bridges import Bridge
    from firmware.engine.channels.fxs import FxsChannel, FxsPort


class CallKeys:
    def __init__(self, port: FxsPort) -> None:
        self._port = port
        self._detector: DtmfDetector | None = None  # made on the first frame of a call
        self._channel: FxsChannel | None = None  # the leg it listens for
        self._taken: str | None = None  # the key a code took, while its tone lasts
        self._passed: str | None = None  # a key that went on, while its tone lasts

    def reset(self) -> None:
        """The port's call is over: start afresh."""
        self._detector = None
        self._channel = None
        self._taken = self._passed = None

    def hear(self, channel: FxsChannel, bridge: Bridge, heard: Frame) -> bool:
        """One frame the phone sent in a call; True: keep it from the other party."""
        if channel is not self._channel:
            self.reset()  # another leg (a flash, a waiting call answered): a fresh start
            self._channel = channel
        other = bridge.other(channel)
        send_digit = getattr(other, "send_digit", None)
        codes = self._codes_apply(channel, bridge, other)
        if not codes and send_digit is None:
            self.reset()  # a held leg, a 3-way call: nobody to key anything to
            return False
        detector = self._detector
        if detector is None:
            detector = self._detector = DtmfDetector()
        engine = self._port.engine
        for key in detector.feed(heard):
            if codes and in_call_key(engine, channel, key):
                self._taken = key
            else:
                self._passed = key  # the rest of its tone goes on too
                if send_digit is not None:
                    send_digit(key)
        sounding = detector.sounding
        if sounding is None:
            self._taken = self._passed = None
            return False
        if sounding == self._passed:
            return False
        return codes and (sounding == self._taken or would_take(engine, channel, sounding))

    def _codes_apply(self, channel: FxsChannel, bridge: Bridge, other: object) -> bool:
        flash = self._port.flash
        if flash.state is not FlashState.TALKING or flash.held is not None:
            return False
        return other is not None or isinstance(bridge, ConsultBridge)
