"""An FXS port on a ProSLIC: `hal.interfaces.AnalogLine`, as the virtual board's line is.

Hook: the poller calls `poll` at a fixed interval; the loop-closure bit goes to the same
`HookMonitor` (and so the same pure classifier) the virtual board uses, so flashes, pulse
digits and hang-ups are told apart identically. Linefeed: written to DR64 when the firmware
asks. Audio: the port's PCM timeslot.

A fault (the chip absent, failed bring-up, stopped answering) takes this port out of service
and says why once, in the log; the port keeps answering the interface (on-hook, no audio) so
the engine and the other ports run on.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from hal.audio import Frame
from hal.events import LineEvent
from hal.hook import HookTiming
from hal.hookmon import HookMonitor
from hal.interfaces import Linefeed
from hal.rpi.chipport import ChipPort
from hal.rpi.country import Country
from hal.rpi.pcm import PcmPort
from hal.rpi.proslic import ProSlic
from hal.rpi.proslic_regs import LinefeedCode

log = logging.getLogger(__name__)

LINEFEED_CODES: dict[Linefeed, LinefeedCode] = {
    Linefeed.OPEN: LinefeedCode.OPEN,
    Linefeed.ACTIVE: LinefeedCode.ACTIVE,
    Linefeed.ON_HOOK_TX: LinefeedCode.ON_HOOK_TX,
    Linefeed.RINGING: LinefeedCode.RINGING,
    Linefeed.REVERSE_ACTIVE: LinefeedCode.REVERSE_ACTIVE,
    Linefeed.REVERSE_ON_HOOK_TX: LinefeedCode.REVERSE_ON_HOOK_TX,
}


class ProSlicLine(ChipPort):
    def __init__(
        self, name: str, slic: ProSlic, pcm: PcmPort, loop: asyncio.AbstractEventLoop
    ) -> None:
        super().__init__(name)
        self.slic = slic
        self._pcm = pcm
        self._hook = HookMonitor(name, loop)
        self._raw_off_hook = False
        self._linefeed = Linefeed.ACTIVE  # what the firmware asked for
        self._lamp = False  # the message-waiting lamp, as the firmware asked
        self._chip_code = LinefeedCode.OPEN  # what the chip was last told
        self._chip_neon = False

    # -- AnalogLine ----------------------------------------------------------------------

    @property
    def name(self) -> str:
        return self._name

    @property
    def off_hook(self) -> bool:
        return self._hook.off_hook

    @property
    def linefeed(self) -> Linefeed:
        return self._linefeed

    def set_listener(self, listener: Callable[[LineEvent], None]) -> None:
        self._hook.set_listener(listener)

    def configure(self, timing: HookTiming) -> None:
        self._hook.configure(timing)

    def set_linefeed(self, state: Linefeed) -> None:
        if state is Linefeed.RINGING and self._raw_off_hook:
            return  # the phone is lifted: the chip would trip the ring at once
        self._linefeed = state
        self._apply()

    def set_message_waiting(self, on: bool) -> None:
        self._lamp = on
        self._apply()

    def read_frame(self) -> Frame | None:
        frame = self._pcm.read_frame()  # drained even on-hook: no stale audio on lifting
        return frame if self._raw_off_hook else None

    def write_frame(self, frame: Frame) -> None:
        if self.fault is None:
            self._pcm.write_frame(frame)

    # -- the driver side -------------------------------------------------------------------

    async def bring_up(self, country: Country, pcm_slot: int) -> None:
        """Raises ChipFault; the board records it with `fail`."""
        await self.slic.bring_up(country, pcm_slot)
        self._chip_code, self._chip_neon = LinefeedCode.ACTIVE, False
        self._up = True
        self._apply()  # what the firmware asked for meanwhile

    def _after_fault(self) -> None:
        if self._raw_off_hook:  # whoever was on this port is gone: let the call end
            self._raw_off_hook = False
            self._hook.raw(False)

    def status(self) -> dict[str, Any]:
        return {"port": self._name, "chip": self.slic.chip, "fault": self.fault,
                "hook": "off" if self._raw_off_hook else "on",
                "linefeed": self._linefeed.value, "message_waiting": self._lamp,
                "spi_frames": self.slic.transactions}

    def _enable_chip_interrupts(self) -> None:
        self.slic.enable_hook_interrupts()

    def _clear_chip_interrupts(self) -> None:
        self.slic.clear_interrupts()

    def _poll(self) -> None:
        if self.health_check_due:
            self.slic.check_alive()
        if self._linefeed is Linefeed.OPEN:
            return  # no battery, no loop current: the hook cannot be seen; keep the last level
        off_hook = self.slic.loop_closed()
        if off_hook == self._raw_off_hook:
            return
        self._raw_off_hook = off_hook
        if off_hook and self._chip_code is LinefeedCode.RINGING:
            # Ring trip: the chip went forward active by itself.
            self._chip_code = LinefeedCode.ACTIVE
            if self._linefeed is Linefeed.RINGING:
                self._linefeed = Linefeed.ACTIVE
        self._apply()  # a lifted phone's lamp goes dark; put down, it lights again
        self._hook.raw(off_hook)

    def _apply(self) -> None:
        """Tell the chip what the line should do now, writing only what changed. The neon
        lamp flashes only on an idle line: on-hook, battery forward."""
        if not self._up:
            return
        neon = self._lamp and self._linefeed is Linefeed.ACTIVE and not self._raw_off_hook
        code = LinefeedCode.RINGING if neon else LINEFEED_CODES[self._linefeed]
        if neon != self._chip_neon:
            self._write_linefeed(LinefeedCode.ACTIVE)  # the generator changes only there
            self._guarded(self.slic.set_ring_mode, neon)
            self._chip_neon = neon
        if code != self._chip_code:
            self._write_linefeed(code)

    def _write_linefeed(self, code: LinefeedCode) -> None:
        self._guarded(self.slic.set_linefeed, code)
        self._chip_code = code
