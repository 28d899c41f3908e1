"""The health check a new firmware must pass before it is committed (and before systemd
hears READY=1): the box does what an office needs from it, seen from outside.

- The scheduler turns: a timer on the loop fires within SCHEDULER_LIMIT_S.
- SIP answers: an OPTIONS request sent to the box's SIP address, as a phone would, gets a
  response. This is a probe from outside the SIP stack, so it opens its own UDP socket (the
  one exception to "only sip/transport.py owns SIP sockets": it is a client, not the box).
- Every port of the board config is there in the HAL: FXS and FXO lines, DECT slots,
  buttons and LEDs.
"""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from firmware.box import board_spec

if TYPE_CHECKING:
    from firmware.box import Box

SCHEDULER_LIMIT_S = 0.5
SIP_LIMIT_S = 2.0
TIMER_PROBE_S = 0.01
WILDCARDS = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}


@dataclass(frozen=True, slots=True)
class Health:
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


async def scheduler_problem() -> str | None:
    loop = asyncio.get_running_loop()
    fired = loop.create_future()
    start = loop.time()
    loop.call_later(TIMER_PROBE_S, lambda: fired.done() or fired.set_result(loop.time()))
    try:
        at = await asyncio.wait_for(fired, SCHEDULER_LIMIT_S)
    except TimeoutError:
        return f"the scheduler did not fire a {TIMER_PROBE_S * 1000:.0f} ms timer in time"
    late = at - start - TIMER_PROBE_S
    return None if late < SCHEDULER_LIMIT_S else f"the scheduler runs {late:.2f} s late"


def options_request(host: str, port: int, local: tuple[str, int], token: str) -> bytes:
    target = f"[{host}]" if ":" in host else host
    via_host = f"[{local[0]}]" if ":" in local[0] else local[0]
    return (f"OPTIONS sip:{target}:{port} SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP {via_host}:{local[1]};branch=z9hG4bK{token}\r\n"
            "Max-Forwards: 70\r\n"
            f"From: <sip:health@{via_host}>;tag={token}\r\n"
            f"To: <sip:{target}:{port}>\r\n"
            f"Call-ID: health-{token}\r\n"
            "CSeq: 1 OPTIONS\r\n"
            "Content-Length: 0\r\n\r\n").encode()


class _Answer(asyncio.DatagramProtocol):
    def __init__(self, token: str) -> None:
        self.token = token.encode()
        self.answered: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        if data.startswith(b"SIP/2.0 ") and self.token in data and not self.answered.done():
            self.answered.set_result(data)


async def sip_problem(address: tuple[str, int] | None) -> str | None:
    if address is None or address[1] == 0:
        return "SIP is not listening"
    host = WILDCARDS.get(address[0], address[0])
    token = secrets.token_hex(8)
    loop = asyncio.get_running_loop()
    transport, probe = await loop.create_datagram_endpoint(
        lambda: _Answer(token), remote_addr=(host, address[1]))
    try:
        transport.sendto(options_request(host, address[1],
                                         transport.get_extra_info("sockname")[:2], token))
        await asyncio.wait_for(probe.answered, SIP_LIMIT_S)
    except TimeoutError:
        return f"SIP on {host}:{address[1]} did not answer OPTIONS within {SIP_LIMIT_S:.0f} s"
    finally:
        transport.close()
    return None


def port_problems(box: Box) -> list[str]:
    if box.hal is None:
        return ["the hardware (HAL) did not start"]
    spec = board_spec(box.board_config)
    expected = {
        "fxs": [f"fxs:{n}" for n in spec.fxs],
        "fxo": [f"fxo:{n}" for n in spec.fxo],
        "dect": [f"dect:{n}" for n in range(1, (spec.dect_slots or 0) + 1)],
        "buttons": list(spec.buttons),
        "leds": list(spec.leds),
    }
    present = dict(box.hal.ports())
    if box.dect is not None:  # a DECT module on its own UART is not one of the board's ports
        present["dect"] = [f"dect:{n}" for n in range(1, box.dect.slots + 1)]
    problems = []
    for kind, names in expected.items():
        if missing := [name for name in names if name not in present.get(kind, [])]:
            problems.append(f"the board's {kind} {', '.join(missing)} are missing in the HAL")
    return problems


async def check(box: Box) -> Health:
    problems = []
    if (problem := await scheduler_problem()) is not None:
        problems.append(problem)
    address = box.sip.address if box.sip is not None else None
    if (problem := await sip_problem(address)) is not None:
        problems.append(problem)
    problems += port_problems(box)
    return Health(problems)
