"""Reading what the LEDs show from the running box: the one module that knows where each
piece of state lives (engine, SIP trunks, applications, the HAL's faults).

Reading never changes anything and costs a few attribute reads per port, so the panel may
read the whole box at every change.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from firmware.apps.timecond import ScheduleApp
from firmware.engine.channels.fxs import FxsPort, PortState
from firmware.engine.trunks import TrunkState
from firmware.panel.patterns import BoxState, LineActivity

if TYPE_CHECKING:
    from firmware.engine.pbx import Engine
    from hal.interfaces import DectBase
    from hal.rpi.board import RpiBoard
    from hal.sim.board import SimBoard

__all__ = ["Sources", "read_box"]

# Trunk states that count as up: registered, or a provider that needs no registration.
TRUNK_UP = frozenset({TrunkState.REGISTERED, TrunkState.NOT_REGISTERING})


@dataclass(frozen=True, slots=True)
class Sources:
    """Where the panel reads the box."""

    engine: Engine
    hal: SimBoard | RpiBoard
    dect: DectBase | None

    # Read by what they have, not by their class: the real hardware's modules (spidev,
    # gpiozero, the UART) are not even imported on the virtual board.

    @property
    def changes_unannounced(self) -> bool:
        """Does some of what the LEDs show change without any event telling of it? On real
        hardware: a chip's fault, the phone line's voltage, the DECT module going away.
        Then the panel looks again every so often (on the virtual board it never needs to)."""
        return hasattr(self.hal, "faults") or hasattr(self.dect, "up")


def read_box(src: Sources) -> BoxState:
    engine = src.engine
    return BoxState(
        faults=faults(src),
        trunks_up=trunks_up(engine),
        lines={name: activity(port) for name, port in engine.devices.items()},
        messages_waiting=any(engine.mwi.waiting(box) for box in engine.mwi.mailboxes()),
        night=night(engine),
        dect_ready=dect_ready(src.dect),
        pairing=src.dect is not None and src.dect.registration_open,
    )


def faults(src: Sources) -> tuple[str, ...]:
    """What does not work: line-card ports, the sound card, panel pins, the DECT module."""
    found: set[str] = set()
    found |= set(getattr(src.hal, "faults", {}))  # a line card's ports, its sound card
    found |= set(getattr(src.hal.panel, "faults", {}))  # the panel's GPIO pins
    if not getattr(src.dect, "up", True):  # a DECT module that went away
        found.add("dect")
    return tuple(sorted(found))


def dect_ready(dect: DectBase | None) -> bool:
    if dect is None:
        return False
    return bool(getattr(dect, "up", True))  # the virtual base always is


def trunks_up(engine: Engine) -> tuple[bool, ...]:
    sip = tuple(link.state in TRUNK_UP for link in engine.sip.trunks.values()) \
        if engine.sip is not None else ()
    return sip + tuple(port.line.line_present for port in engine.fxo.values())


def activity(port: FxsPort) -> LineActivity:
    if port.state is PortState.RINGING:
        return LineActivity.RINGING
    if port.state in (PortState.OFF_HOOK, PortState.CLEARED) or port.line.off_hook:
        return LineActivity.IN_USE
    return LineActivity.IDLE


def night(engine: Engine) -> bool:
    schedule = engine.apps.get("schedule")
    return isinstance(schedule, ScheduleApp) and schedule.night
