"""What every line-card chip driver shares: the fault it raises and waiting on a register.

Bring-up waits (battery ramp, calibration, the DAA's isolation link) are `await`s on the
loop's clock with a time-out, never a busy loop: five chips come up side by side while the
rest of the box runs.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from hal.rpi.spi import SpiError

REGISTER_POLL_S = 0.01  # how often a bring-up wait looks at its register again


class ChipFault(Exception):
    """A chip does not answer or failed bring-up; its port is out of service.

    The message says what went wrong in words an installer can act on; the board prefixes
    the port ("fxs:2: ...").
    """


async def wait_until(
    done: Callable[[], bool], timeout_s: float, what: str, poll_s: float = REGISTER_POLL_S
) -> float:
    """Poll `done` until it is true; returns the seconds it took. Raises ChipFault with
    `what` after `timeout_s`."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    while True:
        try:
            if done():
                return loop.time() - start
        except SpiError as exc:
            raise ChipFault(f"SPI failed while waiting for {what}: {exc}") from exc
        if loop.time() - start >= timeout_s:
            raise ChipFault(f"{what} did not happen within {timeout_s:g} s")
        await asyncio.sleep(poll_s)
