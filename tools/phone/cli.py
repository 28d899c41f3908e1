"""`phone`: drive the virtual board's handsets from a terminal or a script.

    phone 101 offhook                 lift the handset of extension 101
    phone 101 dial 102 [--pulse]      dial with DTMF tones (or a rotary dial)
    phone 101 flash [--ms 500]        press the R key / tap the hook
    phone 101 say --tone 1000 --ms 500 | --wav file.wav     speak into the microphone
    phone 102 listen [--seconds 8]    what the handset hears: tone, cadence, ringing, caller ID
    phone 101 status                  hook, linefeed, recent hook events
    phone 102 cidcw on|off            a phone with caller ID on call waiting, or without
    phone 101 onhook                  hang up
    phone info | phone leds | phone press night [--ms 3000]   (the front panel:
                                      docs/panel.md; hold RESET: phone press reset --ms 10000)
    phone dect open | pair | ...      the DECT base and handsets: tools/phone/dect.py
    phone line call 5125550199 Jane   the phone line: someone outside calls (answer, hangup,
                                      dial, say, listen): tools/phone/outside.py

Every command takes --state-dir DIR (or $PBX_STATE_DIR) or --control ADDRESS to find the box,
and --json to print one JSON object. Exit status: 0 done, 1 refused, 2 usage, 3 no box.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import wave
from pathlib import Path
from typing import Any

import numpy as np

from tools.phone.client import ControlClient, PhoneError, Unreachable, control_address
from tools.phone.dect import DectPhone, base_command, handset_command
from tools.phone.handset import DEFAULT_LISTEN_S, Heard, VirtualPhone, sine_tone
from tools.phone.outside import line_command

BOARD_COMMANDS = ("info", "leds", "press")
PHONE_COMMANDS = ("offhook", "onhook", "flash", "dial", "say", "listen", "status", "cidcw")

EXIT_REFUSED, EXIT_USAGE, EXIT_UNREACHABLE = 1, 2, 3


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="phone", description="Drive the virtual phones of a running box.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="commands for a phone: " + ", ".join(PHONE_COMMANDS)
        + "; for the board: " + ", ".join(BOARD_COMMANDS),
    )
    p.add_argument("words", nargs="+", metavar="EXT COMMAND [ARG]",
                   help="an extension (or port such as fxs:1) and a command, or a board command")
    p.add_argument("--state-dir", help="the box's --state-dir (default $PBX_STATE_DIR or ./state)")
    p.add_argument("--control", help="control address: a socket path or tcp:HOST:PORT")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--pulse", action="store_true", help="dial with pulses (rotary dial)")
    p.add_argument("--ms", type=float,
                   help="flash length, tone length for say, or how long press holds a button")
    p.add_argument("--tone", type=float, metavar="HZ", help="say: a sine tone of this frequency")
    p.add_argument("--wav", type=Path, help="say: a 16-bit mono 8 kHz WAV file")
    p.add_argument("--seconds", type=float, default=DEFAULT_LISTEN_S,
                   help="listen: how far back to listen (default 8)")
    return p


def read_wav(path: Path) -> np.ndarray:
    try:
        with wave.open(str(path), "rb") as w:
            if (w.getnchannels(), w.getsampwidth(), w.getframerate()) != (1, 2, 8000):
                raise PhoneError(f"{path}: need 16-bit mono 8000 Hz audio, e.g. convert with"
                                 f" `sox in.wav -r 8000 -c 1 -b 16 out.wav`")
            return np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.int16)
    except (OSError, wave.Error, EOFError) as exc:
        raise PhoneError(f"{path}: cannot read it as a WAV file ({exc})") from exc


def cadence_text(ms: list[int], most: int = 4) -> str:
    shown = "/".join(map(str, ms[:most]))
    return f"{shown}{'/...' if len(ms) > most else ''} ms"


def describe(heard: Heard) -> str:
    who = heard.extension or heard.port
    if heard.tone in (None, "other", "silence"):
        sound = {None: "not sure yet (" + " or ".join(heard.candidates or ["?"]) + ")",
                 "other": "sound that is no tone", "silence": "silence"}[heard.tone]
    else:
        sound = heard.tone.replace("_", " ") + " tone"
    if heard.freqs:
        sound += " (" + "+".join(f"{f:g}" for f in heard.freqs) + " Hz"
        sound += ", " + (cadence_text(heard.cadence_ms) if heard.cadence_ms else "steady") + ")"
    lines = [f"{who} ({heard.port}) is {'off' if heard.hook == 'off' else 'on'}-hook and hears"
             f" {sound}"]
    if heard.ringing or (heard.hook == "on" and heard.ring_cadence_ms):
        cadence = cadence_text(heard.ring_cadence_ms) if heard.ring_cadence_ms else "just started"
        lines.append(f"ringing: {'yes' if heard.ringing else 'pausing'} (cadence {cadence})")
    if heard.callerid and "message_waiting" in heard.callerid:  # VMWI, sent on-hook
        lines.append(f"message waiting: {'on' if heard.callerid['message_waiting'] else 'off'}")
    elif heard.callerid:
        lines.append("last caller ID: " + callerid_text(heard.callerid))
    if heard.waiting_callerid:
        lines.append("call waiting caller ID: " + callerid_text(heard.waiting_callerid))
    return "\n".join(lines)


def callerid_text(cid: dict[str, Any]) -> str:
    return " ".join(str(v) for v in (cid.get("number"), repr(cid.get("name") or ""),
                                     cid.get("when")) if v is not None)


async def run(args: argparse.Namespace) -> tuple[int, Any]:
    """Carry out one command; returns (exit status, result to print)."""
    address = control_address(args.state_dir, args.control)
    async with ControlClient(address) as client:
        first = args.words[0]
        if first in BOARD_COMMANDS:
            return 0, await board_command(client, first, args)
        if first == "dect":
            return 0, await base_command(client, args.words[1:])
        if first == "line" or first.startswith("fxo:"):
            sound = sine_tone(args.tone, args.ms or 1000.0) if args.tone else \
                read_wav(args.wav) if args.wav else None
            return 0, await line_command(client, args.words, sound, args.seconds)
        if len(args.words) < 2:
            raise PhoneError(f"what should {first} do? one of: {', '.join(PHONE_COMMANDS)}")
        handset = await DectPhone.find(client, first)
        if handset is not None:
            return 0, await handset_command(handset, args.words[1], args.words[2:], args)
        phone = await VirtualPhone.find(client, first)
        return 0, await phone_command(phone, args.words[1], args.words[2:], args)


async def board_command(client: ControlClient, cmd: str, args: argparse.Namespace) -> Any:
    if cmd == "press":
        if len(args.words) < 2:
            raise PhoneError("press which button? e.g. `phone press night`")
        await client.request("press", button=args.words[1], ms=args.ms or 200)
        return {"pressed": args.words[1]}
    reply = await client.request(cmd)
    reply.pop("ok", None)
    reply.pop("id", None)
    return reply


async def phone_command(phone: VirtualPhone, cmd: str, rest: list[str],
                        args: argparse.Namespace) -> Any:
    if cmd == "offhook":
        await phone.offhook()
        return {"port": phone.port, "hook": "off"}
    if cmd == "onhook":
        await phone.onhook()
        return {"port": phone.port, "hook": "on"}
    if cmd == "flash":
        return {"port": phone.port, "flash_ms": await phone.flash(args.ms)}
    if cmd == "dial":
        if not rest:
            raise PhoneError("dial what? e.g. `phone 101 dial 102`")
        ms = await phone.dial("".join(rest), pulse=args.pulse)
        return {"port": phone.port, "dialled": "".join(rest), "ms": ms}
    if cmd == "say":
        if args.wav is not None:
            samples = read_wav(args.wav)
        else:
            samples = sine_tone(args.tone or 1000.0, args.ms or 1000.0)
        return {"port": phone.port, "ms": await phone.say(samples)}
    if cmd == "listen":
        return await phone.listen(args.seconds)
    if cmd == "status":
        return await phone.status()
    if cmd == "cidcw":
        if rest not in (["on"], ["off"], []):
            raise PhoneError("cidcw on or off? e.g. `phone 102 cidcw on`")
        if not rest:
            return {"port": phone.port, "cidcw": (await phone.status())["cidcw"]}
        return {"port": phone.port, "cidcw": await phone.set_cidcw(rest[0] == "on")}
    raise PhoneError(f"unknown command {cmd!r}; one of: {', '.join(PHONE_COMMANDS)}")


def render(result: Any, as_json: bool) -> str:
    if isinstance(result, Heard):
        return json.dumps(result.as_dict()) if as_json else describe(result)
    if as_json:
        return json.dumps(result)
    if isinstance(result, dict) and isinstance(result.get("leds"), dict):
        return "\n".join(f"{name:<8} {pattern}" for name, pattern in result["leds"].items())
    if isinstance(result, dict):
        return "\n".join(f"{k}: {v}" for k, v in result.items() if k not in ("ok", "id"))
    return str(result)


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        status, result = asyncio.run(run(args))
    except Unreachable as exc:
        status, result = EXIT_UNREACHABLE, {"error": str(exc)}
    except PhoneError as exc:
        status, result = EXIT_REFUSED, {"error": str(exc)}
    text = render(result, args.json)
    print(text, file=sys.stdout if status == 0 or args.json else sys.stderr)
    return status


if __name__ == "__main__":
    sys.exit(main())
