"""The virtual front panel: LEDs whose patterns can be read, buttons that can be pressed
(for `hal.sim.control`'s `leds` and `press`). A press is told as ButtonPressed now and
ButtonReleased `hold_ms` later, on the loop, as a real button's would be."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from hal.events import ButtonEvent, ButtonPressed, ButtonReleased
from hal.interfaces import LedPattern


class SimPanelError(ValueError):
    """An unknown button or LED."""


class SimPanel:
    def __init__(
        self, buttons: tuple[str, ...], leds: tuple[str, ...], loop: asyncio.AbstractEventLoop
    ) -> None:
        self._buttons = buttons
        self._leds = dict.fromkeys(leds, LedPattern.OFF)
        self._loop = loop
        self._listener: Callable[[ButtonEvent], None] | None = None

    @property
    def buttons(self) -> tuple[str, ...]:
        return self._buttons

    @property
    def leds(self) -> tuple[str, ...]:
        return tuple(self._leds)

    def led_states(self) -> dict[str, str]:
        return {name: pattern.value for name, pattern in self._leds.items()}

    def set_led(self, name: str, pattern: LedPattern) -> None:
        if name not in self._leds:
            raise SimPanelError(f"no LED named {name!r}; this panel has {', '.join(self._leds)}")
        self._leds[name] = pattern

    def set_listener(self, listener: Callable[[ButtonEvent], None]) -> None:
        self._listener = listener

    def close(self) -> None:
        """Nothing to let go of: the LEDs keep their last pattern for anyone looking."""

    def press(self, name: str, hold_ms: float) -> None:
        """Press a button now and release it `hold_ms` later."""
        if name not in self._buttons:
            raise SimPanelError(
                f"no button named {name!r}; this panel has {', '.join(self._buttons)}"
            )
        if not 0 <= hold_ms <= 60_000:
            raise SimPanelError(f"hold time {hold_ms} ms is outside 0..60000 ms")
        now = self._loop.time()
        self._emit(ButtonPressed(name, now))
        self._loop.call_later(
            hold_ms / 1000.0, lambda: self._emit(ButtonReleased(name, now + hold_ms / 1000.0,
                                                                 hold_ms / 1000.0))
        )

    def _emit(self, event: ButtonEvent) -> None:
        if self._listener is not None:
            self._listener(event)
