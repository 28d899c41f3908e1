"""The one module that touches the DECT module's serial port.

pyserial opens and configures the port (speed, 8N1, raw, no flow control); after that the
port is a non-blocking file descriptor on the event loop: `loop.add_reader` drains it
whenever it is readable, and writes go straight to it, with whatever the port does not
take at once kept and written when it drains (`loop.add_writer`). Nothing blocks the loop
and no thread is involved. pyserial is imported only here, only when a port is opened.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable
from typing import Protocol

from hal.dect.errors import DectError

log = logging.getLogger(__name__)

READ_SIZE = 4096
MAX_PENDING_WRITE = 64 * 1024  # ~5 s at 115200 baud: a module this far behind is gone


class DectUnavailable(DectError):
    """The serial port cannot be used (pyserial missing, no such device, no permission)."""


class SerialPort(Protocol):
    """What the link needs of an open port: pyserial's `Serial` fits."""

    def fileno(self) -> int: ...

    def close(self) -> None: ...


def open_serial(device: str, baud: int) -> SerialPort:
    """Open `device` at `baud`, 8N1, raw, non-blocking."""
    try:
        import serial  # pyserial: the optional extra `rpi`
    except ImportError as exc:
        raise DectUnavailable("the DECT module needs pyserial: pip install '.[rpi]'") from exc
    try:
        port: SerialPort = serial.Serial(device, baudrate=baud, bytesize=serial.EIGHTBITS,
                                         parity=serial.PARITY_NONE,
                                         stopbits=serial.STOPBITS_ONE, timeout=0,
                                         write_timeout=0)
    except (OSError, ValueError) as exc:  # serial.SerialException is an OSError
        raise DectUnavailable(f"cannot open the DECT module's port {device}: {exc}") from exc
    os.set_blocking(port.fileno(), False)
    return port


class SerialLink:
    """A port on the loop: `on_data` gets what arrives, `on_lost` is called once if the
    port fails (unplugged, closed by the other side)."""

    def __init__(self, port: SerialPort, loop: asyncio.AbstractEventLoop,
                 on_data: Callable[[bytes], None],
                 on_lost: Callable[[Exception | None], None]) -> None:
        self._port = port
        self._fd = port.fileno()
        self._loop = loop
        self._on_data = on_data
        self._on_lost = on_lost
        self._pending = bytearray()
        self._open = True
        self.sent_bytes = 0  # handed to the port
        self.received_bytes = 0
        self.dropped_bytes = 0  # not sent: the port would not take them
        loop.add_reader(self._fd, self._readable)

    def write(self, data: bytes) -> None:
        if not self._open or not data:
            return
        if len(self._pending) + len(data) > MAX_PENDING_WRITE:
            self.dropped_bytes += len(data)
            log.warning("DECT module is not reading its port: %d bytes dropped", len(data))
            return
        if self._pending:
            self._pending += data  # keep the order: behind what waits already
            return
        try:
            written = os.write(self._fd, data)
        except BlockingIOError:
            written = 0
        except OSError as exc:
            self._lose(exc)
            return
        self.sent_bytes += written
        if written < len(data):
            self._pending += data[written:]
            self._loop.add_writer(self._fd, self._writable)

    def close(self) -> None:
        if self._open:
            self._open = False
            self._loop.remove_reader(self._fd)
            self._loop.remove_writer(self._fd)
            self._port.close()

    def _readable(self) -> None:
        chunks: list[bytes] = []
        lost: Exception | None = None
        gone = False
        while True:  # drain: one wake-up takes everything the port holds
            try:
                chunk = os.read(self._fd, READ_SIZE)
            except BlockingIOError:
                break
            except OSError as exc:
                lost, gone = exc, True
                break
            if not chunk:
                # A raw serial port (VMIN=0) reads b"" once drained; b"" at once although
                # the port was readable means the device is gone (pyserial judges so too).
                gone = not chunks
                break
            chunks.append(chunk)
        if chunks:
            data = b"".join(chunks)
            self.received_bytes += len(data)
            self._on_data(data)  # what came before the port failed still counts
        if gone:
            self._lose(lost)

    def _writable(self) -> None:
        try:
            written = os.write(self._fd, self._pending)
        except BlockingIOError:
            return
        except OSError as exc:
            self._lose(exc)
            return
        del self._pending[:written]
        self.sent_bytes += written
        if not self._pending:
            self._loop.remove_writer(self._fd)

    def _lose(self, exc: Exception | None) -> None:
        if self._open:
            self.close()
            self._on_lost(exc)
