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


async def test_a_relay_shows_telephone_events_to_the_box_and_keeps_back_what_it_takes() -> None:
    # Relayed packets pass untouched, but RFC 4733 events go by `on_event` first: the box
    # reads in-call codes from them and keeps the packets of a code's keys to itself.
    a = RtpSession("127.0.0.1", (40000, 40100))
    b = RtpSession("127.0.0.1", (40000, 40100))
    shown: list[bytes] = []

    def on_event(data: bytes, arrival: float) -> bool:
        shown.append(data)
        return data[12] == 11  # '#' is taken, other keys pass

    audio = bytes([0x80, 0]) + bytes(10) + bytes(160)  # PCMU
    event = bytes([0x80, 0x80 | 101]) + bytes(10) + bytes([5, 0x0A, 0, 160])  # '5', marker
    taken = bytes([0x80, 101]) + bytes(10) + bytes([11, 0x0A, 0, 160])  # '#'
    short_pcmu = bytes([0x80, 101 & 0x7F]) + bytes(10)  # too short to be an event
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as phone, \
            socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as other:
        phone.bind(("127.0.0.1", 0))
        other.bind(("127.0.0.1", 0))
        other.settimeout(0)
        a.set_remote(*phone.getsockname())
        b.set_remote(*other.getsockname())
        a.relay(b)
        a.event_pt, a.on_event = 101, on_event
        for packet in (audio, event, taken, short_pcmu, audio):
            phone.sendto(packet, ("127.0.0.1", a.port))
        await asyncio.sleep(0.05)
        relayed = []
        while True:
            try:
                relayed.append(other.recv(2048))
            except BlockingIOError:
                break
    a.close()
    b.close()
    assert shown == [event, taken]
    assert relayed == [audio, event, short_pcmu, audio]
