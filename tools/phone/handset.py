"""A virtual phone: what a person does with a handset, over the control interface.

Dialling makes the same signals a real phone makes (DTMF audio into the microphone, or
dial pulses on the hook switch); listening classifies the earpiece audio against the
office's tone plan and decodes caller ID from what reached the phone while it was on-hook,
and, for a phone with caller ID on call waiting (`cidcw`), from the data it got off hook
after acknowledging the box's alert. Nothing here asks the engine what it thinks the phone
hears.
"""

from __future__ import annotations

import base64
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from firmware.media.callerid import CallerId, CallerIdError, MessageWaiting, parse_message
from firmware.media.dtmf import DtmfGenerator
from firmware.media.frames import SAMPLE_RATE, amplitude
from firmware.media.fsk import FskStandard, fsk_demodulate
from firmware.media.progress import classify
from firmware.media.tones import plan
from tools.phone.client import ControlClient, PhoneError

PULSE_BREAK_MS = 60.0  # 10 pulses/s, 60/40 break/make (REFERENCE.md)
PULSE_MAKE_MS = 40.0
PULSE_INTERDIGIT_MS = 800.0  # a typical rotary dial's pause between digits
DEFAULT_LISTEN_S = 8.0


@dataclass(frozen=True, slots=True)
class Heard:
    """What the person at a handset hears and sees, in words a test or a script can check."""

    port: str
    extension: str | None
    hook: str  # "on" / "off"
    tone: str | None  # plan tone name, "silence", "other", or None (not heard long enough)
    freqs: list[float]
    cadence_ms: list[int]
    level_dbm0: float | None
    candidates: list[str]
    ringing: bool
    ring_cadence_ms: list[int]
    callerid: dict[str, Any] | None
    waiting_callerid: dict[str, Any] | None = None  # off hook, of a call waiting (cidcw)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def pcm_to_b64(samples: np.ndarray) -> str:
    return base64.b64encode(samples.astype("<i2").tobytes()).decode("ascii")


def b64_to_pcm(text: str) -> np.ndarray:
    return np.frombuffer(base64.b64decode(text), dtype="<i2").astype(np.int16)


def pulse_steps(digits: str) -> list[list[Any]]:
    """Hook-switch steps that dial `digits` on a rotary dial (0 = ten pulses)."""
    steps: list[list[Any]] = []
    for digit in digits:
        if not digit.isdigit():
            raise PhoneError(f"a rotary dial has no {digit!r}; pulse dialling takes 0-9 only")
        for _ in range(int(digit) or 10):
            steps += [["on", PULSE_BREAK_MS], ["off", PULSE_MAKE_MS]]
        steps[-1][1] = PULSE_INTERDIGIT_MS
    return steps


def ring_cadence(rings: list[list[float | None]]) -> list[int]:
    """On/off durations (ms) of the rings heard, oldest first; the last off may be open."""
    out: list[int] = []
    for i, (start, end) in enumerate(rings):
        if start is None or end is None:
            break
        out.append(round((end - start) * 1000))
        if i + 1 < len(rings) and rings[i + 1][0] is not None:
            out.append(round((rings[i + 1][0] - end) * 1000))  # type: ignore[operator]
    return out


def sine_tone(freq_hz: float, ms: float, level_dbm0: float = -10.0) -> np.ndarray:
    n = int(ms * SAMPLE_RATE / 1000)
    t = np.arange(n) / SAMPLE_RATE
    return (amplitude(level_dbm0) * np.sin(2 * np.pi * freq_hz * t)).astype(np.int16)


class VirtualPhone:
    """The handset on the port of an extension (or named by its port, e.g. "fxs:3")."""

    def __init__(self, client: ControlClient, port: str, extension: str | None,
                 country: str) -> None:
        self.client = client
        self.port = port
        self.extension = extension
        self.plan = plan(country)

    @classmethod
    async def find(cls, client: ControlClient, who: str) -> VirtualPhone:
        info = await client.request("info")
        published = info.get("published", {})
        country = published.get("country", "us")
        fxs = info["ports"]["fxs"]
        if who in fxs:
            owner = next((n for n, e in published.get("extensions", {}).items()
                          if who in e["devices"]), None)
            return cls(client, who, owner, country)
        ext = published.get("extensions", {}).get(who)
        if ext is None:
            raise PhoneError(f"no extension {who} on this box; extensions: "
                             + ", ".join(published.get("extensions", {})) + "; ports: "
                             + ", ".join(fxs))
        ports = [d for d in ext["devices"] if d in fxs]
        if not ports:
            raise PhoneError(f"extension {who} has no analog phone on this board"
                             f" (its devices: {', '.join(ext['devices'])})")
        return cls(client, ports[0], who, country)

    async def offhook(self) -> None:
        await self.client.request("hook", port=self.port, state="off")

    async def onhook(self) -> None:
        await self.client.request("hook", port=self.port, state="on")

    async def flash(self, ms: float | None = None) -> float:
        extra = {} if ms is None else {"ms": ms}
        return float((await self.client.request("flash", port=self.port, **extra))["ms"])

    async def dial(self, digits: str, pulse: bool = False) -> float:
        """Dial; returns how many ms the dialling takes to play out."""
        if pulse:
            reply = await self.client.request("hook_pattern", port=self.port,
                                              steps=pulse_steps(digits))
        else:
            try:
                samples = DtmfGenerator().samples(digits)
            except ValueError as exc:
                raise PhoneError(str(exc)) from exc
            reply = await self.client.request("speak", port=self.port, pcm=pcm_to_b64(samples))
        return float(reply["ms"])

    async def say(self, samples: np.ndarray) -> float:
        reply = await self.client.request("speak", port=self.port, pcm=pcm_to_b64(samples))
        return float(reply["ms"])

    async def say_tone(self, freq_hz: float, ms: float = 1000.0) -> float:
        return await self.say(sine_tone(freq_hz, ms))

    async def recording(self, seconds: float) -> np.ndarray:
        reply = await self.client.request("listen", port=self.port, ms=seconds * 1000)
        return b64_to_pcm(reply["pcm"])

    async def status(self) -> dict[str, Any]:
        return await self.client.request("status", port=self.port)

    async def callerid(self) -> CallerId | MessageWaiting | None:
        """The last caller-ID (or message-waiting) message the phone received on-hook."""
        return await self._decode("onhook_audio")

    async def set_cidcw(self, on: bool) -> dict[str, Any]:
        """Make this a phone with caller ID on call waiting (it acknowledges the box's
        alert with DTMF D and shows the waiting caller), or one without."""
        reply = await self.client.request("cidcw", port=self.port, state="on" if on else "off")
        return dict(reply["cidcw"])

    async def waiting_callerid(self) -> CallerId | None:
        """Who is waiting, as the phone got it off hook after its last acknowledgement."""
        message = await self._decode("cidcw_audio")
        return message if isinstance(message, CallerId) else None

    async def _decode(self, cmd: str) -> CallerId | MessageWaiting | None:
        reply = await self.client.request(cmd, port=self.port)
        samples = b64_to_pcm(reply["pcm"])
        standard = FskStandard.BELL202 if self.plan.callerid == "bell202" else FskStandard.V23
        for message in reversed(fsk_demodulate(samples, standard)):
            try:
                return parse_message(message)
            except CallerIdError:
                continue
        return None

    async def listen(self, seconds: float = DEFAULT_LISTEN_S) -> Heard:
        reply = await self.client.request("listen", port=self.port, ms=seconds * 1000)
        heard = classify(b64_to_pcm(reply["pcm"]), self.plan)
        cid = await self.callerid()
        waiting = await self.waiting_callerid() if reply["cidcw"]["acks"] else None
        return Heard(
            port=self.port,
            extension=self.extension,
            hook=reply["hook"],
            tone=heard.tone,
            freqs=list(heard.freqs),
            cadence_ms=list(heard.cadence_ms),
            level_dbm0=None if heard.level_dbm0 == float("-inf") else round(heard.level_dbm0, 1),
            candidates=list(heard.candidates),
            ringing=reply["ringing"],
            ring_cadence_ms=ring_cadence(reply["rings"]),
            callerid=_callerid_dict(cid),
            waiting_callerid=_callerid_dict(waiting),
        )


def _callerid_dict(cid: CallerId | MessageWaiting | None) -> dict[str, Any] | None:
    if isinstance(cid, CallerId):
        return {
            "number": cid.number,
            "name": cid.name,
            "when": cid.when.strftime("%m-%d %H:%M") if cid.when else None,
            "absent": cid.number_absent,
        }
    if isinstance(cid, MessageWaiting):
        return {"message_waiting": cid.active}
    return None
