"""The virtual DECT handsets and base, for `phone` (the control commands: hal.sim.dect_control).

    phone dect                       the base: slots, paired handsets, pairing window
    phone dect open [SECONDS]        open the pairing window (60 s), as the PAIR button does
    phone dect pair                  a new handset registers (it gets the first free slot)
    phone dect page | close | restart | delete dect:N
    phone dect:1 talk|offhook        the talk key: answer, or start a call
    phone dect:1 dial 102            keys: before talk the number, after it keys in the call
    phone dect:1 end|onhook          hang up, or refuse the ringing call
    phone dect:1 listen | status | say --tone 700 | range out|in

An extension whose only phones are DECT handsets may be named instead of its handset
(`phone 105 talk`); an extension with an analog phone as well means that one.
"""

from __future__ import annotations

import argparse
from typing import Any

import numpy as np

from firmware.media.progress import classify
from firmware.media.tones import plan
from tools.phone.client import ControlClient, PhoneError
from tools.phone.handset import Heard, b64_to_pcm, pcm_to_b64, ring_cadence, sine_tone

BASE_ACTIONS = ("status", "open", "close", "pair", "page", "restart", "delete")
HANDSET_COMMANDS = ("talk", "offhook", "dial", "end", "onhook", "say", "listen", "status",
                    "range")


class DectPhone:
    """The handset in a slot of the virtual base ("dect:2")."""

    def __init__(self, client: ControlClient, port: str, extension: str | None,
                 country: str) -> None:
        self.client = client
        self.port = port
        self.extension = extension
        self.plan = plan(country)

    @classmethod
    async def find(cls, client: ControlClient, who: str) -> DectPhone | None:
        """The handset `who` names (a slot, or an extension with DECT handsets only)."""
        info = await client.request("info")
        published = info.get("published", {})
        extensions = published.get("extensions", {})
        country = published.get("country", "us")
        slots = info["ports"].get("dect", [])
        if who in slots:
            owner = next((n for n, e in extensions.items() if who in e["devices"]), None)
            return cls(client, who, owner, country)
        devices = extensions.get(who, {}).get("devices", [])
        handsets = [d for d in devices if d in slots]
        if handsets and not any(d.startswith("fxs:") for d in devices):
            return cls(client, handsets[0], who, country)
        return None

    async def talk(self) -> None:
        await self.client.request("dect_talk", port=self.port)

    async def end(self) -> None:
        await self.client.request("dect_end", port=self.port)

    async def dial(self, keys: str) -> None:
        await self.client.request("dect_dial", port=self.port, keys=keys)

    async def say(self, samples: np.ndarray) -> float:
        reply = await self.client.request("dect_speak", port=self.port, pcm=pcm_to_b64(samples))
        return float(reply["ms"])

    async def say_tone(self, freq_hz: float, ms: float = 1000.0) -> float:
        return await self.say(sine_tone(freq_hz, ms))

    async def set_in_range(self, in_range: bool) -> None:
        await self.client.request("dect_range", port=self.port,
                                  state="in" if in_range else "out")

    async def status(self) -> dict[str, Any]:
        return await self.client.request("dect_status", port=self.port)

    async def recording(self, seconds: float) -> np.ndarray:
        reply = await self.client.request("dect_listen", port=self.port, ms=seconds * 1000)
        return b64_to_pcm(reply["pcm"])

    async def listen(self, seconds: float) -> Heard:
        """What the earpiece played and what the display shows."""
        reply = await self.client.request("dect_listen", port=self.port, ms=seconds * 1000)
        heard = classify(b64_to_pcm(reply["pcm"]), self.plan)
        display = reply["display"] if reply["ringing"] else None
        return Heard(
            port=self.port, extension=self.extension,
            hook="off" if reply["off_hook"] else "on",
            tone=heard.tone, freqs=list(heard.freqs), cadence_ms=list(heard.cadence_ms),
            level_dbm0=None if heard.level_dbm0 == float("-inf")
            else round(heard.level_dbm0, 1),
            candidates=list(heard.candidates), ringing=reply["ringing"],
            ring_cadence_ms=ring_cadence(reply["rings"]),  # how long it rang (its own melody)
            callerid={**display, "when": None} if display else None,
        )


async def base_command(client: ControlClient, rest: list[str]) -> dict[str, Any]:
    action = rest[0] if rest else "status"
    if action not in BASE_ACTIONS:
        raise PhoneError(f"phone dect {action}? one of: {', '.join(BASE_ACTIONS)}")
    fields: dict[str, Any] = {"action": action}
    if action == "open" and len(rest) > 1:
        fields["seconds"] = rest[1]
    if action == "delete":
        if len(rest) < 2:
            raise PhoneError("delete which handset? e.g. `phone dect delete dect:2`")
        fields["port"] = rest[1]
    reply = await client.request("dect", **fields)
    reply.pop("ok", None)
    reply.pop("id", None)
    return reply


async def handset_command(phone: DectPhone, cmd: str, rest: list[str],
                          args: argparse.Namespace) -> Any:
    if cmd in ("talk", "offhook"):
        await phone.talk()
        return {"port": phone.port, "pressed": "talk"}
    if cmd in ("end", "onhook"):
        await phone.end()
        return {"port": phone.port, "pressed": "end"}
    if cmd == "dial":
        if not rest:
            raise PhoneError("dial what? e.g. `phone dect:1 dial 102`")
        await phone.dial("".join(rest))
        return {"port": phone.port, "dialled": "".join(rest)}
    if cmd == "say":
        if args.wav is not None:
            from tools.phone.cli import read_wav  # (the cli imports this module)

            return {"port": phone.port, "ms": await phone.say(read_wav(args.wav))}
        return {"port": phone.port, "ms": await phone.say_tone(args.tone or 1000.0,
                                                                args.ms or 1000.0)}
    if cmd == "listen":
        return await phone.listen(args.seconds)
    if cmd == "status":
        return await phone.status()
    if cmd == "range":
        if rest not in (["in"], ["out"]):
            raise PhoneError("range in or out? e.g. `phone dect:1 range out`")
        await phone.set_in_range(rest[0] == "in")
        return {"port": phone.port, "in_range": rest[0] == "in"}
    raise PhoneError(f"unknown command {cmd!r} for a DECT handset; one of: "
                     + ", ".join(HANDSET_COMMANDS))
