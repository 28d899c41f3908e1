"""The person outside at the other end of the box's phone line (the FXO port): calls the
office with a caller ID, answers the office's calls, talks, listens and hangs up, over the
control interface (hal.sim.fxo_control).

What the box sends down the line is judged from the audio alone, as at a handset: the
tone heard, and the DTMF digits the box dialled.
"""

from __future__ import annotations

import datetime
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from firmware.engine.channel import Party
from firmware.engine.channels.fxs_ringer import callerid_message
from firmware.media.dtmf import DtmfDetector, DtmfGenerator
from firmware.media.fsk import FskStandard, etsi_alert_signal, fsk_modulate
from firmware.media.progress import classify
from firmware.media.tones import plan
from tools.phone.client import ControlClient, PhoneError
from tools.phone.handset import b64_to_pcm, pcm_to_b64

__all__ = ["LINE_COMMANDS", "LineHeard", "OutsideLine", "line_command"]


@dataclass(frozen=True, slots=True)
class LineHeard:
    """What the outside person hears from the box, and the line's state."""

    port: str
    state: str  # idle, ringing, dial-tone, dialling, ringing-out, connected, cleared
    seized: bool  # the box holds the line
    tone: str | None
    digits: str  # DTMF the box sent during the window

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def dtmf_digits(samples: np.ndarray) -> str:
    return "".join(DtmfDetector().feed(samples))


class OutsideLine:
    def __init__(self, client: ControlClient, port: str | None = None,
                 country: str = "us") -> None:
        self.client = client
        self.port = port
        self.plan = plan(country)

    @classmethod
    async def find(cls, client: ControlClient, port: str | None = None) -> OutsideLine:
        info = await client.request("info")
        lines = info["ports"]["fxo"]
        return cls(client, port or (lines[0] if lines else None),
                   info.get("published", {}).get("country", "us"))

    def _fields(self, **extra: Any) -> dict[str, Any]:
        return {"port": self.port, **extra} if self.port else extra

    async def call(self, number: str | None = None, name: str | None = None) -> dict[str, Any]:
        """Ring the office, showing `number` and `name` as caller ID (the country's way)."""
        before = self.plan.callerid != "bell202"
        burst = None
        if number or name:
            message = callerid_message(Party(number, name), datetime.datetime.now())
            standard = FskStandard.BELL202 if not before else FskStandard.V23
            burst = fsk_modulate(message, standard)
            if before:
                gap = np.zeros(480, dtype=np.int16)
                burst = np.concatenate((etsi_alert_signal(), gap, burst))
        cadence = list(self.plan.ring_cadence)
        return await self.client.request(
            "fxo_call", **self._fields(callerid=pcm_to_b64(burst) if burst is not None else "",
                                       before_ring=before, cadence_ms=cadence))

    async def answer(self) -> dict[str, Any]:
        return await self.client.request("fxo_answer", **self._fields())

    async def hang_up(self, disconnect: str = "loop") -> dict[str, Any]:
        return await self.client.request("fxo_hangup", **self._fields(disconnect=disconnect))

    async def say(self, samples: np.ndarray) -> float:
        reply = await self.client.request("fxo_speak", **self._fields(pcm=pcm_to_b64(samples)))
        return float(reply["ms"])

    async def dial(self, digits: str) -> float:
        """Press keys on the outside phone (DTMF into the line)."""
        return await self.say(DtmfGenerator().samples(digits))

    async def recording(self, seconds: float) -> np.ndarray:
        reply = await self.client.request("fxo_listen", **self._fields(ms=seconds * 1000))
        return b64_to_pcm(reply["pcm"])

    async def status(self) -> dict[str, Any]:
        return await self.client.request("fxo_status", **self._fields())

    async def listen(self, seconds: float = 8.0) -> LineHeard:
        reply = await self.client.request("fxo_listen", **self._fields(ms=seconds * 1000))
        samples = b64_to_pcm(reply["pcm"])
        return LineHeard(port=reply["port"], state=reply["state"], seized=reply["seized"],
                         tone=classify(samples, self.plan).tone, digits=dtmf_digits(samples))


LINE_COMMANDS = ("call", "answer", "hangup", "dial", "say", "listen", "status")


async def line_command(client: ControlClient, words: list[str], samples: np.ndarray | None,
                       seconds: float) -> dict[str, Any]:
    """`phone line CMD ...` (or `phone fxo:1 CMD ...`): the person outside on the line.

        phone line call [NUMBER [NAME ...]]    ring the office, with caller ID
        phone line answer | hangup [busy]      answer the office's call; hang up (busy: the
                                               exchange only plays busy tone)
        phone line dial 123 | say --tone HZ    keys and sound into the line
        phone line listen [--seconds 8]        the tone heard, DTMF the box dialled, state
    """
    port = words[0] if words[0].startswith("fxo:") else None
    line = await OutsideLine.find(client, port)
    cmd, rest = (words[1], words[2:]) if len(words) > 1 else ("status", [])
    if cmd == "call":
        number = rest[0] if rest else None
        return await line.call(number, " ".join(rest[1:]) or None)
    if cmd == "answer":
        return await line.answer()
    if cmd == "hangup":
        return await line.hang_up("tone" if rest == ["busy"] else "loop")
    if cmd == "dial":
        return {"ms": await line.dial("".join(rest))}
    if cmd == "say":
        if samples is None:
            raise PhoneError("say what? e.g. `phone line say --tone 1000`")
        return {"ms": await line.say(samples)}
    if cmd == "listen":
        return (await line.listen(seconds)).as_dict()
    if cmd == "status":
        return await line.status()
    raise PhoneError(f"unknown command {cmd!r} for the line; one of: {', '.join(LINE_COMMANDS)}")
