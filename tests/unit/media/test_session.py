"""RTP sessions over real loopback sockets: what a leg's packet handler may do."""

from __future__ import annotations

import asyncio
import socket

from firmware.media.session import RtpSession


async def test_a_session_closed_by_its_own_packet_handler_stops_reading() -> None:
    # A digit in a packet can end the call, which closes the session inside its own read
    # loop (a transfer code keyed on a SIP phone); the loop must not spin on the closed
    # socket, taking the box with it.
    handled = asyncio.Event()
    session = RtpSession("127.0.0.1", (40000, 40100))

    def hang_up(data: bytes, arrival: float) -> None:
        session.close()
        handled.set()

    session.on_packet = hang_up
    rtp = bytes([0x80, 0]) + bytes(10) + bytes(160)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as phone:
        for _ in range(3):  # more waiting after the first: the loop would read on
            phone.sendto(rtp, ("127.0.0.1", session.port))
        await asyncio.wait_for(handled.wait(), 5)
        await asyncio.sleep(0.01)  # the loop goes on: nothing spins
    assert session.received == 1
