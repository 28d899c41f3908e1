"""What an FXS line and the FXO trunk share on the driver side: a port on one chip that is
brought up once, polled by the poller, and taken out of service by a fault (one log line;
the port keeps answering its interface so the box runs on)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from hal.rpi.chip import ChipFault

log = logging.getLogger(__name__)

HEALTH_CHECK_EVERY = 100  # polls (1 s at 10 ms): is the chip still the chip we set up?


class ChipPort:
    out_of_service = "the port is out of service"  # what the fault's log line says

    def __init__(self, name: str) -> None:
        self._name = name
        self._up = False  # brought up: the chip takes writes and gives readings
        self._polls = 0
        self.fault: str | None = None

    def poll(self) -> None:
        if not self._up:
            return
        self._polls += 1
        self._guarded(self._poll)

    def enable_interrupts(self) -> None:
        if self._up:
            self._guarded(self._enable_chip_interrupts)

    def acknowledge_interrupt(self) -> None:
        if self._up:
            self._guarded(self._clear_chip_interrupts)

    def fail(self, reason: str) -> None:
        if self.fault is not None:
            return
        self.fault = reason
        self._up = False
        log.error("%s: fault: %s; %s", self._name, reason, self.out_of_service)
        self._after_fault()

    @property
    def health_check_due(self) -> bool:
        return self._polls % HEALTH_CHECK_EVERY == 0

    # -- what each kind of port does -------------------------------------------------------

    def _poll(self) -> None:
        raise NotImplementedError

    def _enable_chip_interrupts(self) -> None:
        raise NotImplementedError

    def _clear_chip_interrupts(self) -> None:
        raise NotImplementedError

    def _after_fault(self) -> None:
        """Whatever the port must undo when its chip is gone."""

    def _guarded(self, action: Callable[..., None], *args: Any) -> None:
        try:
            action(*args)
        except ChipFault as exc:
            self.fail(str(exc))
