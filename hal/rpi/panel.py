"""The front panel on GPIO pins, with gpiozero: LEDs that show a pattern, buttons that tell
when they go down and come up (`hal.interfaces.Panel`; pins from the board config).

LEDs keep their own time: gpiozero blinks each one from a thread of its own
(`LED.blink`), and plays the warning's double blink as a repeating `source`. Nothing on
the loop ticks for them.

Buttons are wired to ground with the Pi's pull-up. gpiozero calls `when_pressed` and
`when_released` on its own thread; each edge goes to the loop through
`call_soon_threadsafe` (the one way in from a thread), where a contact that bounces settles
first: after DEBOUNCE_S without an edge, a change of level is told as ButtonPressed or
ButtonReleased, stamped with the loop time of the burst's first edge. How long a button is
held, and what that means, is the firmware's business.

A pin that cannot be used (taken, not a Pi) is a fault (`faults`): logged, and the rest of
the panel works; its LED's pattern is still kept, its button never reports.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Callable, Mapping
from typing import Any

from hal.events import ButtonEvent, ButtonPressed, ButtonReleased
from hal.interfaces import LedPattern

__all__ = ["BLINKS", "DEBOUNCE_S", "WARNING_STEPS", "WARNING_STEP_S", "GpioPanel",
           "GpioPanelError"]

log = logging.getLogger(__name__)

# pattern -> (seconds on, seconds off) of gpiozero's blink
BLINKS = {
    LedPattern.SLOW_FLASH: (1.0, 1.0),  # 0.5 Hz
    LedPattern.FAST_FLASH: (0.125, 0.125),  # 4 Hz
    LedPattern.FLUTTER: (0.05, 0.05),  # 10 Hz: a flicker, unlike any flash
}
# The warning: two short blinks, then a pause (0.8 s in all), like nothing else on the panel.
WARNING_STEP_S = 0.1
WARNING_STEPS = (1, 0, 1, 0, 0, 0, 0, 0)
DEBOUNCE_S = 0.03  # a push button's contacts bounce for up to ~10-20 ms


class GpioPanelError(ValueError):
    """An unknown button or LED."""


class _Contact:
    """One button: edges from gpiozero's thread, settled on the loop."""

    def __init__(self, name: str, device: Any, loop: asyncio.AbstractEventLoop,
                 report: Callable[[ButtonEvent], None]) -> None:
        self.name = name
        self._device = device
        self._loop = loop
        self._report = report
        self._level = False  # down, as the last edge said
        self._told = False  # down, as last reported (a button held at start-up never is)
        self._first_edge = 0.0
        self._down_at = 0.0
        self._settle: asyncio.TimerHandle | None = None
        device.when_pressed = self._pressed
        device.when_released = self._released

    # gpiozero's thread
    def _pressed(self) -> None:
        self._loop.call_soon_threadsafe(self._edge, True)

    def _released(self) -> None:
        self._loop.call_soon_threadsafe(self._edge, False)

    # the loop
    def _edge(self, down: bool) -> None:
        now = self._loop.time()
        if self._settle is None:
            self._first_edge = now
        else:
            self._settle.cancel()
        self._level = down
        self._settle = self._loop.call_at(now + DEBOUNCE_S, self._settled)

    def _settled(self) -> None:
        self._settle = None
        if self._level == self._told:
            return  # a bounce that came back to where it was
        self._told = self._level
        at = self._first_edge
        if self._level:
            self._down_at = at
            self._report(ButtonPressed(self.name, at))
        else:
            self._report(ButtonReleased(self.name, at, at - self._down_at))

    def close(self) -> None:
        self._device.when_pressed = None
        self._device.when_released = None
        if self._settle is not None:
            self._settle.cancel()
            self._settle = None
        self._device.close()


class GpioPanel:
    """`gpiozero` is the module (handed in by `hal.rpi.assembly`); `pin_factory` is for
    tests (gpiozero's MockFactory), None on a Pi."""

    def __init__(self, gpiozero: Any, buttons: Mapping[str, int], leds: Mapping[str, int],
                 loop: asyncio.AbstractEventLoop, pin_factory: Any = None) -> None:
        self._buttons = tuple(buttons)
        self._patterns = dict.fromkeys(leds, LedPattern.OFF)
        self._listener: Callable[[ButtonEvent], None] | None = None
        self._faults: dict[str, str] = {}
        errors = (gpiozero.GPIOZeroError, OSError)
        self._leds: dict[str, Any] = {}
        for name, pin in leds.items():
            try:
                self._leds[name] = gpiozero.LED(pin, pin_factory=pin_factory)
            except errors as exc:
                self._fault(f"led:{name}", f"{name} LED on GPIO {pin}: {exc}")
        self._contacts: dict[str, _Contact] = {}
        for name, pin in buttons.items():
            try:
                device = gpiozero.Button(pin, pull_up=True, pin_factory=pin_factory)
            except errors as exc:
                self._fault(f"button:{name}", f"{name} button on GPIO {pin}: {exc}")
                continue
            self._contacts[name] = _Contact(name, device, loop, self._emit)

    @property
    def buttons(self) -> tuple[str, ...]:
        return self._buttons

    @property
    def leds(self) -> tuple[str, ...]:
        return tuple(self._patterns)

    @property
    def faults(self) -> dict[str, str]:
        """Pins that could not be used, with why ("led:power", "button:reset")."""
        return dict(self._faults)

    def led_states(self) -> dict[str, str]:
        return {name: pattern.value for name, pattern in self._patterns.items()}

    def set_led(self, name: str, pattern: LedPattern) -> None:
        if name not in self._patterns:
            raise GpioPanelError(f"no LED named {name!r}; this panel has "
                                 f"{', '.join(self._patterns)}")
        self._patterns[name] = pattern
        led = self._leds.get(name)
        if led is not None:
            _show(led, pattern)

    def set_listener(self, listener: Callable[[ButtonEvent], None]) -> None:
        self._listener = listener

    def close(self) -> None:
        """Let go of the pins (the LEDs' threads stop)."""
        for contact in self._contacts.values():
            contact.close()
        for led in self._leds.values():
            led.source = None
            led.close()
        self._contacts.clear()
        self._leds.clear()

    def _emit(self, event: ButtonEvent) -> None:
        if self._listener is not None:
            self._listener(event)

    def _fault(self, key: str, reason: str) -> None:
        log.error("front panel: %s; the rest of the panel works", reason)
        self._faults[key] = reason


def _show(led: Any, pattern: LedPattern) -> None:
    led.source = None  # a warning's sequence stops first
    if pattern is LedPattern.ON:
        led.on()
    elif pattern in BLINKS:
        led.blink(*BLINKS[pattern])
    elif pattern is LedPattern.WARNING:
        led.off()
        led.source_delay = WARNING_STEP_S
        led.source = itertools.cycle(WARNING_STEPS)
    else:
        led.off()
