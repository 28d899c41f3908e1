"""One contract for every `Panel` backend: the virtual board's panel and the gpiozero panel
on gpiozero's MockFactory (mock pins: a button is a pin driven low, an LED a pin read back).

Each backend gets a `Front`: the person's side of the panel (fingers on the buttons, eyes
on the LEDs). The firmware's side is only the Panel interface. Fake time (looptime): a
10 s hold costs nothing. The gpiozero LEDs blink in gpiozero's own threads, in real time:
what they were told to do is read back from the LED devices, not waited for.
"""

from __future__ import annotations

import asyncio
import itertools
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any, Protocol

import pytest

from hal.events import ButtonEvent, ButtonPressed, ButtonReleased
from hal.interfaces import LedPattern, Panel
from hal.sim.panel import SimPanel

BACKENDS = ["sim", "gpiozero"]
BUTTONS = {"night": 5, "pair": 6, "reset": 13}
LEDS = {"power": 22, "trunk": 23, "line:1": 24, "mwi": 25}


class Front(Protocol):
    panel: Panel

    async def hold(self, button: str, seconds: float) -> None:
        """Press `button`, keep it down `seconds`, let go (returns once both are told)."""
        ...

    def shows(self, led: str) -> LedPattern:
        """What a person sees the LED do."""
        ...


class SimFront:
    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.sim = SimPanel(tuple(BUTTONS), tuple(LEDS), loop)
        self.panel: Panel = self.sim

    async def hold(self, button: str, seconds: float) -> None:
        self.sim.press(button, seconds * 1000)
        await asyncio.sleep(seconds + 0.1)

    def shows(self, led: str) -> LedPattern:
        return LedPattern(self.sim.led_states()[led])


def recording_led(gpiozero: Any) -> type:
    """gpiozero's LED, remembering what it was last told to do (it still drives its pin)."""

    class RecordingLED(gpiozero.LED):  # type: ignore[misc, name-defined]
        told: tuple[Any, ...] = ("off",)

        def on(self) -> None:
            super().on()
            self.told = ("on",)

        def off(self) -> None:
            super().off()
            self.told = ("off",)

        def blink(self, on_time: float = 1, off_time: float = 1, n: int | None = None,
                  background: bool = True) -> None:
            super().blink(on_time, off_time, n, background)
            self.told = ("blink", on_time, off_time)

        @property
        def source(self) -> Any:
            return gpiozero.LED.source.fget(self)

        @source.setter
        def source(self, value: Any) -> None:
            if value is not None:  # read a few steps ahead, then hand them all on
                head = tuple(itertools.islice(value, 16))
                self.told = ("steps", head, self.source_delay)
                value = itertools.chain(head, value)
            gpiozero.LED.source.fset(self, value)

    return RecordingLED


class GpioFront:
    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        gpiozero = pytest.importorskip(
            "gpiozero", reason="gpiozero is not installed (pip install '.[dev]')")
        from gpiozero.pins.mock import MockFactory

        from hal.rpi.panel import GpioPanel

        self.factory = MockFactory()
        self.leds = recording_led(gpiozero)
        parts = type("gpiozero", (), {"LED": self.leds, "Button": gpiozero.Button,
                                      "GPIOZeroError": gpiozero.GPIOZeroError})
        self.gpio = GpioPanel(parts, BUTTONS, LEDS, loop, pin_factory=self.factory)
        self.panel = self.gpio

    def pin(self, number: int) -> Any:
        return self.factory.pin(number)

    async def hold(self, button: str, seconds: float) -> None:
        from hal.rpi.panel import DEBOUNCE_S

        pin = self.pin(BUTTONS[button])
        pin.drive_low()  # to ground: pressed
        await asyncio.sleep(seconds)
        pin.drive_high()
        await asyncio.sleep(DEBOUNCE_S + 0.01)

    def shows(self, led: str) -> LedPattern:
        """Read back from the pin and the LED device, in a person's terms."""
        device = self.gpio._leds[led]
        told = device.told
        if told[0] in ("on", "off"):
            assert self.pin(LEDS[led]).state == (told[0] == "on")
            return LedPattern.ON if told[0] == "on" else LedPattern.OFF
        if told[0] == "steps":
            steps, step_s = told[1], told[2]
            blinks = sum(1 for a, b in itertools.pairwise(steps[:8] + steps[:1])
                         if (a, b) == (1, 0))
            assert blinks == 2 and len(steps) == 16 and step_s * 8 <= 1.0
            return LedPattern.WARNING  # two short blinks, then a pause: a double blink
        _, on_s, off_s = told
        hz = 1 / (on_s + off_s)
        if hz == pytest.approx(0.5):
            return LedPattern.SLOW_FLASH
        if hz == pytest.approx(4.0):
            return LedPattern.FAST_FLASH
        assert hz >= 8, f"a blink of {hz} Hz is no pattern of the panel"
        return LedPattern.FLUTTER


@asynccontextmanager
async def front(kind: str) -> AsyncIterator[Front]:
    loop = asyncio.get_running_loop()
    made: SimFront | GpioFront = SimFront(loop) if kind == "sim" else GpioFront(loop)
    try:
        yield made
    finally:
        made.panel.close()


@pytest.fixture
def told() -> Iterator[list[ButtonEvent]]:
    yield []


# -- the contract -----------------------------------------------------------------------


@pytest.mark.parametrize("kind", BACKENDS)
async def test_the_panel_has_the_buttons_and_leds_of_its_board(kind: str) -> None:
    async with front(kind) as f:
        assert f.panel.buttons == tuple(BUTTONS)
        assert f.panel.leds == tuple(LEDS)
        assert f.panel.led_states() == dict.fromkeys(LEDS, "off")
        assert all(f.shows(led) is LedPattern.OFF for led in LEDS)


@pytest.mark.parametrize("kind", BACKENDS)
@pytest.mark.parametrize("pattern", list(LedPattern))
async def test_every_pattern_shows_on_every_led(kind: str, pattern: LedPattern) -> None:
    async with front(kind) as f:
        for led in LEDS:
            f.panel.set_led(led, pattern)
        assert f.panel.led_states() == dict.fromkeys(LEDS, pattern.value)
        assert {f.shows(led) for led in LEDS} == {pattern}


@pytest.mark.parametrize("kind", BACKENDS)
async def test_an_led_goes_from_pattern_to_pattern(kind: str) -> None:
    async with front(kind) as f:
        for pattern in [*LedPattern, LedPattern.WARNING, LedPattern.ON, LedPattern.FLUTTER,
                        LedPattern.OFF]:
            f.panel.set_led("power", pattern)
            assert f.shows("power") is pattern
            assert f.shows("trunk") is LedPattern.OFF  # the others stay as they were


@pytest.mark.parametrize("kind", BACKENDS)
async def test_an_unknown_led_is_refused(kind: str) -> None:
    async with front(kind) as f:
        with pytest.raises(ValueError, match="no LED named 'line:9'"):
            f.panel.set_led("line:9", LedPattern.ON)


@pytest.mark.parametrize("kind", BACKENDS)
@pytest.mark.parametrize("seconds", [0.2, 3.0, 10.0])
async def test_a_press_is_told_when_it_goes_down_and_when_it_comes_up(
        kind: str, seconds: float, told: list[ButtonEvent]) -> None:
    async with front(kind) as f:
        f.panel.set_listener(told.append)
        t0 = asyncio.get_running_loop().time()
        await f.hold("reset", seconds)
        assert told == [ButtonPressed("reset", pytest.approx(t0)),
                        ButtonReleased("reset", pytest.approx(t0 + seconds),
                                       pytest.approx(seconds))]


@pytest.mark.parametrize("kind", BACKENDS)
async def test_each_button_is_told_apart(kind: str, told: list[ButtonEvent]) -> None:
    async with front(kind) as f:
        f.panel.set_listener(told.append)
        await f.hold("night", 0.5)
        await f.hold("pair", 4.0)
        assert [(type(e).__name__, e.port) for e in told] == [
            ("ButtonPressed", "night"), ("ButtonReleased", "night"),
            ("ButtonPressed", "pair"), ("ButtonReleased", "pair")]
        assert told[3] == ButtonReleased("pair", pytest.approx(told[2].at + 4.0),
                                         pytest.approx(4.0))


# -- the gpiozero panel only ------------------------------------------------------------


async def test_a_bouncing_contact_is_one_press_and_one_release(told: list[ButtonEvent]) -> None:
    from hal.rpi.panel import DEBOUNCE_S

    async with front("gpiozero") as f:
        assert isinstance(f, GpioFront)
        f.panel.set_listener(told.append)
        pin = f.pin(BUTTONS["night"])
        t0 = asyncio.get_running_loop().time()
        for _ in range(3):  # the contacts chatter for a few ms as the button goes down
            pin.drive_low()
            await asyncio.sleep(0.002)
            pin.drive_high()
            await asyncio.sleep(0.002)
        pin.drive_low()
        await asyncio.sleep(1.0)
        pin.drive_high()
        await asyncio.sleep(0.003)
        pin.drive_low()  # and as it comes up
        await asyncio.sleep(0.003)
        pin.drive_high()
        await asyncio.sleep(DEBOUNCE_S + 0.01)
        assert told == [ButtonPressed("night", pytest.approx(t0)),
                        ButtonReleased("night", pytest.approx(t0 + 1.012),
                                       pytest.approx(1.012))]


async def test_edges_from_gpiozeros_thread_reach_the_loop(told: list[ButtonEvent]) -> None:
    async with front("gpiozero") as f:
        assert isinstance(f, GpioFront)
        f.panel.set_listener(told.append)
        pin = f.pin(BUTTONS["pair"])
        edge = threading.Thread(target=pin.drive_low)
        edge.start()
        edge.join()
        assert told == []  # nothing is told on gpiozero's thread
        await asyncio.sleep(0.1)
        assert [type(e) for e in told] == [ButtonPressed]
        pin.drive_high()  # (gpiozero takes a second to close a button still held)


async def test_a_button_held_at_start_up_is_not_told(told: list[ButtonEvent]) -> None:
    gpiozero = pytest.importorskip("gpiozero", reason="gpiozero is not installed")
    from gpiozero.pins.mock import MockFactory

    from hal.rpi.panel import GpioPanel

    factory = MockFactory()
    factory.pin(13).drive_low()  # someone leans on RESET while the box starts
    panel = GpioPanel(gpiozero, {"reset": 13}, {}, asyncio.get_running_loop(),
                      pin_factory=factory)
    try:
        panel.set_listener(told.append)
        factory.pin(13).drive_high()
        await asyncio.sleep(0.5)
        assert told == []
    finally:
        panel.close()


async def test_a_pin_that_cannot_be_used_is_a_fault_and_the_rest_works(
        told: list[ButtonEvent]) -> None:
    gpiozero = pytest.importorskip("gpiozero", reason="gpiozero is not installed")
    from gpiozero.pins.mock import MockFactory

    from hal.rpi.panel import GpioPanel

    factory = MockFactory()
    taken = gpiozero.LED(22, pin_factory=factory)  # something else holds GPIO 22
    panel = GpioPanel(gpiozero, {"night": 5}, {"power": 22, "mwi": 25},
                      asyncio.get_running_loop(), pin_factory=factory)
    try:
        assert list(panel.faults) == ["led:power"]
        assert "GPIO 22" in panel.faults["led:power"]
        assert panel.leds == ("power", "mwi")
        panel.set_led("power", LedPattern.ON)  # kept, shown nowhere
        panel.set_led("mwi", LedPattern.ON)
        assert panel.led_states() == {"power": "on", "mwi": "on"}
        assert factory.pin(25).state and not factory.pin(22).state
        panel.set_listener(told.append)
        factory.pin(5).drive_low()
        await asyncio.sleep(0.1)
        assert [e.port for e in told] == ["night"]
        factory.pin(5).drive_high()
    finally:
        panel.close()
        taken.close()


async def test_closing_lets_go_of_the_pins() -> None:
    async with front("gpiozero") as f:
        assert isinstance(f, GpioFront)
        f.panel.set_led("power", LedPattern.FAST_FLASH)
        f.panel.set_led("mwi", LedPattern.WARNING)
    import gpiozero

    again = gpiozero.LED(22, pin_factory=f.factory)  # free again: no GPIOPinInUse
    again.close()
