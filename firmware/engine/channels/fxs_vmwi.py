"""Message waiting on analog phones: the lamp, and visual message waiting (VMWI) on the
phone's display.

A phone learns that its mailbox holds new messages in three ways, all driven from the
engine's message-waiting counts (`firmware.engine.mwi`):

- stutter dial tone when lifted (`Engine.dial_tone`);
- the message-waiting lamp, which the line card drives (`AnalogLine.set_message_waiting`),
  set as soon as the counts change;
- VMWI: an on-hook data transmission without ringing, the same FSK caller ID uses, with
  an MDMF 0x82 message (parameter 0x0B: 0xFF on, 0x00 off; GR-30-CORE, EN 300 659-3).
  US (Bell 202): the line in on-hook transmission, a short pause, then the data. ETSI and
  BT (V.23): a line reversal, the dual-tone alert (DT-AS), then the data.

VMWI goes out when a port's state changes, and once at start-up (the phone's display may
be stale after a power cut). A phone that is in use (or ringing) gets it once it has been
idle for a moment; a call that comes in while the data is sent wins (the port's task is
the ringer's then) and the data goes again later.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

import numpy as np

from firmware.engine.channels.fxs import FxsPort, PortState
from firmware.engine.channels.fxs_ringer import ETSI_ALERT_TO_DATA_S, ETSI_REVERSAL_TO_ALERT_S
from firmware.engine.mwi import MessageCounts
from firmware.media.callerid import MessageWaiting
from firmware.media.frames import SAMPLE_RATE
from firmware.media.fsk import FskStandard, etsi_alert_signal, fsk_modulate
from firmware.media.player import SamplePlayer
from hal.interfaces import Linefeed

if TYPE_CHECKING:
    from firmware.engine.pbx import Engine

__all__ = ["AnalogMessageWaiting", "send_vmwi"]

log = logging.getLogger(__name__)

BELL_SETTLE_S = 0.2  # on-hook transmission on, then the data (the phone's receiver wakes)
AFTER_DATA_S = 0.1  # the last bit out before the line goes back to normal
IDLE_CHECK_S = 2.0  # a phone in use is looked at again this often (and so left alone
# for about this long after it was put down)
_ON_HOOK_TX = (Linefeed.ON_HOOK_TX, Linefeed.REVERSE_ON_HOOK_TX)


class AnalogMessageWaiting:
    """Keeps every analog phone's lamp and display in step with its extension's mailbox."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._wanted: dict[str, bool] = {}  # port -> lamp on or off
        self._shown: dict[str, bool] = {}  # port -> what its display was last sent
        self._senders: dict[str, asyncio.Task[None]] = {}
        engine.mwi.listen(self._changed)

    def refresh(self) -> None:
        """Bring every port in line with its owner's mailbox (after a change of counts, or
        of who owns which port)."""
        for name, port in self.engine.devices.items():
            owner = port.party.number if port.party is not None else None
            if owner is None or owner not in self.engine.mwi:
                continue  # no mailbox: the box says nothing to this phone
            on = self.engine.mwi.waiting(owner)
            if self._wanted.get(name) != on:
                self._wanted[name] = on
                port.line.set_message_waiting(on)
            if self._shown.get(name) != on and name not in self._senders:
                self._senders[name] = self.engine.supervisor.spawn(
                    f"message waiting {name}", self._deliver(port),
                    on_crash=lambda _exc, n=name: self._senders.pop(n, None))

    def _changed(self, mailbox: str, counts: MessageCounts) -> None:
        self.refresh()

    async def _deliver(self, port: FxsPort) -> None:
        """Send the display its state once the phone is idle, until it has the latest."""
        try:
            while self._shown.get(port.name) != (on := self._wanted[port.name]):
                if not _idle(port):
                    await asyncio.sleep(IDLE_CHECK_S)
                    continue
                sending = port.start(f"vmwi {port.name}", send_vmwi(port, on))
                await asyncio.wait([sending])
                if sending.cancelled() or sending.exception() is not None:
                    # A call came (or it failed): the phone may have half of it; later,
                    # whatever the state is then.
                    self._shown.pop(port.name, None)
                    await asyncio.sleep(IDLE_CHECK_S)
                    continue
                self._shown[port.name] = on
                log.info("message waiting %s sent to %s", "on" if on else "off", port.name)
        finally:
            self._senders.pop(port.name, None)


def _idle(port: FxsPort) -> bool:
    return port.state is PortState.IDLE and port.channel is None and not port.line.off_hook


async def send_vmwi(port: FxsPort, on: bool) -> None:
    """One on-hook VMWI transmission to `port` (it must be idle: this is its task now)."""
    message = MessageWaiting(on).to_mdmf()
    try:
        if port.engine.plan.callerid == "bell202":
            port.line.set_linefeed(Linefeed.ON_HOOK_TX)
            await asyncio.sleep(BELL_SETTLE_S)
            burst = fsk_modulate(message, FskStandard.BELL202)
        else:
            port.line.set_linefeed(Linefeed.REVERSE_ON_HOOK_TX)
            await asyncio.sleep(ETSI_REVERSAL_TO_ALERT_S)
            gap = np.zeros(int(ETSI_ALERT_TO_DATA_S * SAMPLE_RATE), dtype=np.int16)
            burst = np.concatenate((etsi_alert_signal(), gap,
                                    fsk_modulate(message, FskStandard.V23)))
        player = SamplePlayer(burst)
        port.play(player)
        await asyncio.sleep(player.seconds + AFTER_DATA_S)
    finally:
        # Also when cancelled: a lifted phone's dial tone (or a ringer) comes next, and
        # takes over the port's sound; the ringer sets the line itself.
        port.play(None)
        if port.line.linefeed in _ON_HOOK_TX and port.state is not PortState.RINGING:
            port.line.set_linefeed(Linefeed.ACTIVE)
