"""The front panel on the virtual board (docs/panel.md): every LED in every state of the
box, every button, as a person sees and presses them through the control interface
(`leds`, `press`: what `phone leds` and `phone press` use). Fake time throughout: a 10 s
hold on RESET costs nothing.

At the end, the same panel on the Raspberry Pi backend, on gpiozero's mock pins.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from bootslots.layout import DataPartition
from firmware.box import Box
from firmware.config import default_office, load_board, parse_board, parse_office
from firmware.credentials import SECRETS_FILE
from firmware.panel import FrontPanel
from firmware.service.admin import ADMIN_SECRET_FILE, admin_secret
from firmware.service.reset import RESET_REQUEST, finish_pending_reset
from hal.interfaces import LedPattern
from hal.sim.panel import SimPanel
from tests.integration.calls import lift_and_dial
from tests.integration.harness import SIM_BOARD, Harness, office_toml, running_box, wait
from tests.integration.test_sip_calls import second_address
from tests.integration.test_voicemail import dial, leave, login, vm_office
from tests.sipprovider import FakeProvider

ON, OFF = "on", "off"
SLOW, FAST = "slow-flash", "fast-flash"
FLUTTER, WARNING = "flutter", "warning"


async def leds(box: Harness) -> dict[str, str]:
    return dict((await box.client.request("leds"))["leds"])


async def led(box: Harness, name: str) -> str:
    return (await leds(box))[name]


async def press(box: Harness, button: str, seconds: float = 0.2, then: float = 0.5) -> None:
    """Press `button` for `seconds`; look again `then` seconds after letting go."""
    await box.client.request("press", button=button, ms=seconds * 1000)
    await wait(seconds + then)


async def until(box: Harness, name: str, pattern: str, within: float = 10.0) -> None:
    for _ in range(round(within / 0.1)):
        if await led(box, name) == pattern:
            return
        await wait(0.1)
    raise AssertionError(f"{name} shows {await led(box, name)}, not {pattern}, after {within} s")


# -- POWER ------------------------------------------------------------------------------


@pytest.fixture
def power_seen(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[LedPattern]]:
    """Every pattern the virtual board's POWER LED is set to, in order."""
    seen: list[LedPattern] = []
    set_led = SimPanel.set_led

    def watching(panel: SimPanel, name: str, pattern: LedPattern) -> None:
        if name == "power":
            seen.append(pattern)
        set_led(panel, name, pattern)

    monkeypatch.setattr(SimPanel, "set_led", watching)
    yield seen


async def test_power_flutters_while_booting_is_steady_when_ready_and_flutters_going_down(
        power_seen: list[LedPattern]) -> None:
    async with running_box() as box:
        assert power_seen == [LedPattern.FLUTTER, LedPattern.ON]
        assert await leds(box) == {
            "power": ON, "trunk": ON, "line:1": OFF, "line:2": OFF, "line:3": OFF,
            "line:4": OFF, "mwi": OFF, "night": OFF, "dect": ON}
    assert power_seen[-1] is LedPattern.FLUTTER


async def test_an_idle_box_does_not_wake_the_panel(monkeypatch: pytest.MonkeyPatch) -> None:
    """The panel looks again when something happens, not on a timer: an idle box (and a
    test fast-forwarding days of it) costs nothing."""
    looks: list[float] = []
    refresh = FrontPanel.refresh

    def counting(panel: FrontPanel) -> None:
        looks.append(asyncio.get_running_loop().time())
        refresh(panel)

    monkeypatch.setattr(FrontPanel, "refresh", counting)
    async with running_box() as box:
        await wait(1)
        before = len(looks)
        await wait(24 * 3600)
        assert len(looks) - before <= 25  # when business hours look again, hourly
        await (await box.phone("101")).offhook()
        await wait(0.5)
        assert await led(box, "line:1") == ON


async def test_buttons_do_nothing_until_the_box_is_up() -> None:
    board = load_board(SIM_BOARD)
    state = Path(tempfile.mkdtemp(prefix="pbx-"))
    box = Box(board, default_office(board), state)
    starting = asyncio.get_running_loop().create_task(box.start())
    await asyncio.sleep(0)
    assert not starting.done() and box.hal is not None and box.panel is not None
    assert box.hal.panel.led_states()["power"] == FLUTTER
    box.hal.panel.press("night", 100)  # while the box is still coming up
    await starting
    await wait(1)
    try:
        assert box.hal.panel.led_states()["night"] == OFF
    finally:
        await box.stop()
        shutil.rmtree(state, ignore_errors=True)


# -- TRUNK ------------------------------------------------------------------------------

ACCOUNT, PASSWORD = "office-1", "provider-password"
NO_PHONE_LINE = SIM_BOARD.read_text().replace("[[fxo]]\nport = 1\n", "")


@asynccontextmanager
async def trunk_office(password: str = PASSWORD, phone_line: bool = True
                       ) -> AsyncIterator[tuple[Harness, FakeProvider]]:
    host = second_address()
    async with FakeProvider(("127.0.0.1", 0), ACCOUNT, PASSWORD, host=host) as provider:
        trunk = (f'[[trunk]]\nname = "provider"\nhost = "{host}:{provider.port}"\n'
                 f'username = "{ACCOUNT}"\nsecret = "{password}"\n')
        board = None if phone_line else parse_board(NO_PHONE_LINE, "no-line.toml")
        async with running_box(office_toml(extra=trunk), board=board) as box:
            assert box.box.sip is not None
            provider.box = box.box.sip.address
            yield box, provider


async def test_trunk_is_steady_once_every_trunk_is_up() -> None:
    async with trunk_office() as (box, provider):
        assert await led(box, "trunk") == SLOW  # the phone line, not the SIP trunk yet
        await provider.registered()
        await until(box, "trunk", ON)


async def test_trunk_flashes_slowly_while_only_some_are_up() -> None:
    async with trunk_office(password="wrong") as (box, provider):
        await provider.until(lambda: provider.refused, what="a refused REGISTER")
        await wait(1)
        assert await led(box, "trunk") == SLOW  # the phone line is there; the trunk is not


async def test_trunk_is_off_when_none_is_up() -> None:
    async with trunk_office(password="wrong", phone_line=False) as (box, provider):
        await provider.until(lambda: provider.refused, what="a refused REGISTER")
        await wait(1)
        assert await led(box, "trunk") == OFF


# -- LINE -------------------------------------------------------------------------------


async def test_line_leds_show_each_port_in_use_and_ringing() -> None:
    async with running_box() as box:
        p101, p102 = await box.phones("101", "102")
        await p101.offhook()
        await wait(0.5)
        assert (await led(box, "line:1"), await led(box, "line:2")) == (ON, OFF)
        ms = await p101.dial("102")
        await wait(ms / 1000 + 1)
        assert (await led(box, "line:1"), await led(box, "line:2")) == (ON, FAST)
        await wait(4)  # between two rings of the cadence: still ringing
        assert await led(box, "line:2") == FAST
        await p102.offhook()
        await wait(0.5)
        assert (await led(box, "line:1"), await led(box, "line:2")) == (ON, ON)
        await p102.onhook()
        await wait(1.5)  # a hang-up is known once on-hook outlasts a flash (900 ms)
        assert await led(box, "line:2") == OFF
        assert await led(box, "line:1") == ON  # still off-hook, hearing the cleared tone
        await p101.onhook()
        await wait(1.5)
        assert await led(box, "line:1") == OFF


async def test_a_caller_who_gives_up_stops_the_line_led_flashing() -> None:
    async with running_box() as box:
        p101 = await box.phone("101")
        await lift_and_dial(p101, "103")
        assert await led(box, "line:3") == FAST
        await p101.onhook()
        await wait(1.5)
        assert (await led(box, "line:1"), await led(box, "line:3")) == (OFF, OFF)


# -- MWI --------------------------------------------------------------------------------


async def test_mwi_flashes_while_a_mailbox_holds_new_messages() -> None:
    async with running_box(vm_office()) as box:
        assert await led(box, "mwi") == OFF
        p101 = await leave(box, "101", "102")
        await p101.onhook()
        await wait(1)
        assert await led(box, "mwi") == SLOW
        p102 = await box.phone("102")
        await login(p102, "*97")  # the owner listens: no new message is left
        await wait(3)
        await dial(p102, "1", after=6.5)
        assert await led(box, "mwi") == OFF


# -- NIGHT ------------------------------------------------------------------------------


async def test_night_is_on_in_night_mode_by_star_28() -> None:
    async with running_box() as box:
        p101 = await box.phone("101")
        await lift_and_dial(p101, "*28")
        await wait(1)
        assert await led(box, "night") == ON
        await p101.onhook()
        await wait(1)
        await lift_and_dial(p101, "*28")
        await wait(1)
        assert await led(box, "night") == OFF


async def test_the_night_button_toggles_night_mode_as_star_28_does() -> None:
    async with running_box() as box:
        await press(box, "night")
        assert await led(box, "night") == ON
        info = await box.client.request("info")
        assert info["published"]["apps"]["schedule"]["night"] is True
        await press(box, "night", seconds=2.0)  # a longer press is a press too
        assert await led(box, "night") == OFF
        p101 = await box.phone("101")
        await lift_and_dial(p101, "*28")  # and *28 and the button take turns
        await wait(1)
        assert await led(box, "night") == ON
        await press(box, "night")
        assert await led(box, "night") == OFF


# -- DECT -------------------------------------------------------------------------------


async def test_holding_pair_opens_the_pairing_window_for_a_minute() -> None:
    async with running_box() as box:
        assert await led(box, "dect") == ON
        await box.client.request("press", button="pair", ms=4000)
        await wait(3.2)  # opens at 3 s, while still held
        assert (await box.client.request("dect"))["registration_open"]
        assert await led(box, "dect") == SLOW
        await wait(59.5)  # 59.7 s after it opened
        assert await led(box, "dect") == SLOW
        await wait(0.5)  # 60.2 s
        assert not (await box.client.request("dect"))["registration_open"]
        assert await led(box, "dect") == ON


async def test_the_dect_led_flashes_while_pairing_however_the_window_opened() -> None:
    async with running_box() as box:
        await box.client.request("dect", action="open", seconds=30)
        await wait(0.1)
        assert await led(box, "dect") == SLOW
        await box.client.request("dect", action="pair")  # a handset pairs: it closes
        await wait(0.1)
        assert await led(box, "dect") == ON


async def test_a_short_press_on_pair_pages_the_handsets() -> None:
    async with running_box() as box:
        await box.client.request("dect", action="open")
        await box.client.request("dect", action="pair")
        assert not (await box.client.request("dect_status", port="dect:1"))["paging"]
        await press(box, "pair", seconds=2.9)
        assert (await box.client.request("dect_status", port="dect:1"))["paging"]
        assert not (await box.client.request("dect"))["registration_open"]
        assert await led(box, "dect") == ON


# -- RESET ------------------------------------------------------------------------------


# The test office with a generated SIP secret (no `secret` for 201): one to be renewed.
RESET_OFFICE = vm_office().replace('secret = "secret-of-201"\n', "")


@pytest.fixture
def data() -> Iterator[DataPartition]:
    """A box's data partition: the state in DATA/state, the office config in
    DATA/office/office.toml (a short path: unix socket paths are short)."""
    data = DataPartition(Path(tempfile.mkdtemp(prefix="pbx-")))
    data.office.parent.mkdir(parents=True)
    data.office.write_text(RESET_OFFICE)
    yield data
    shutil.rmtree(data.root, ignore_errors=True)


@asynccontextmanager
async def box_on(data: DataPartition, restarts: list[str]) -> AsyncIterator[Harness]:
    """The box of `data`, with its SIP and admin secrets made; `restarts` records each
    restart it asks for instead of restarting."""
    async with running_box(RESET_OFFICE, state_dir=data.state_dir) as box:
        box.box.on_restart = lambda: restarts.append("restart")
        admin_secret(data.state_dir)
        yield box


async def test_reset_let_go_before_10_s_shows_the_warning_and_does_nothing(
        data: DataPartition) -> None:
    restarts: list[str] = []
    async with box_on(data, restarts) as box:
        await box.client.request("press", button="reset", ms=9000)
        await wait(2.5)
        assert await led(box, "power") == ON
        await wait(1)  # 3.5 s
        assert await led(box, "power") == WARNING
        await wait(5)  # 8.5 s
        assert await led(box, "power") == WARNING
        await wait(1)  # let go at 9 s
        assert await led(box, "power") == ON
        await wait(5)
        assert restarts == []
        assert not (data.state_dir / RESET_REQUEST).exists()
        assert finish_pending_reset(data.state_dir, data.office) is None


async def test_reset_held_10_s_resets_the_office_and_secrets_and_keeps_voicemail(
        data: DataPartition) -> None:
    restarts: list[str] = []
    async with box_on(data, restarts) as box:
        state = data.state_dir
        p101 = await leave(box, "101", "102")  # a message that must survive the reset
        await p101.onhook()
        sip_secrets = (state / SECRETS_FILE).read_text()
        admin = (state / ADMIN_SECRET_FILE).read_text()
        await press(box, "night")  # a setting that must not
        await box.client.request("press", button="reset", ms=12000)
        await wait(10.5)
        assert restarts == ["restart"]
        assert (state / RESET_REQUEST).exists()
        assert await led(box, "power") == FLUTTER  # on its way down and up again
        assert (state / SECRETS_FILE).exists()  # nothing is touched while the box runs
    # main.py, once the box is down: the reset; then stage one starts the box again,
    # without an office config: the built-in office.
    finish_pending_reset(state, data.office)
    assert not data.office.exists()
    assert sorted(p.name for p in state.iterdir()) == ["box.sqlite3", "voicemail"]
    async with running_box(state_dir=state) as box:
        extensions = (await box.client.request("info"))["published"]["extensions"]
        assert extensions["101"] == {"name": "Extension 101", "devices": ["fxs:1"]}
        assert admin_secret(state) + "\n" != admin  # a new admin secret
        assert await leds(box) == {
            "power": ON, "trunk": ON, "line:1": OFF, "line:2": OFF, "line:3": OFF,
            "line:4": OFF, "mwi": OFF, "night": OFF, "dect": ON}
    # The installer loads the office again: 201's SIP secret is a new one, and 102's
    # message is still there.
    async with running_box(RESET_OFFICE, state_dir=state) as box:
        assert (state / SECRETS_FILE).read_text() != sip_secrets
        assert await led(box, "mwi") == SLOW


# -- the Raspberry Pi panel -------------------------------------------------------------


async def test_the_gpio_panel_shows_the_box_and_its_buttons_act(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The box on the Pi backend (line card on its register-level fakes), with the
    gpiozero panel on mock pins: the LEDs' pins follow the box, a button's pin acts."""
    gpiozero = pytest.importorskip("gpiozero", reason="gpiozero is not installed "
                                   "(pip install '.[dev]')")
    from gpiozero.pins.mock import MockFactory

    from firmware import box as box_module
    from hal.backend import BoardSpec
    from hal.rpi.assembly import build_board
    from hal.rpi.board import RpiBoard
    from hal.rpi.fakes.devices import FakeDevices
    from hal.rpi.fakes.proslic import FakeProSlic
    from hal.rpi.panel import GpioPanel
    from tests.integration.test_rpi_line_card import OFFICE, PI_BOARD

    factory = MockFactory()
    made: list[tuple[RpiBoard, FakeDevices]] = []

    def load_on_fakes(spec: BoardSpec, loop: asyncio.AbstractEventLoop) -> RpiBoard:
        devices = FakeDevices.for_wiring(loop, spec.wiring)
        panel = GpioPanel(gpiozero, dict(spec.button_pins), dict(spec.led_pins), loop,
                          pin_factory=factory)
        made.append((build_board(spec.name, spec.wiring, "", spec.country, spec.buttons,
                                 spec.leds, loop, devices=devices, panel=panel), devices))
        return made[-1][0]

    monkeypatch.setattr(box_module, "load", load_on_fakes)
    board = load_board(PI_BOARD)
    leds = {led.name: factory.pin(led.pin) for led in board.leds if led.pin is not None}
    buttons = {b.name: factory.pin(b.pin) for b in board.buttons if b.pin is not None}
    state = Path(tempfile.mkdtemp(prefix="pbx-"))
    box = Box(board, parse_office(OFFICE, "office.toml", board), state)
    await box.start()
    try:
        rpi, devices = made[0]
        assert leds["power"].state and leds["trunk"].state  # up; the phone line is there
        assert not leds["line"].state and not leds["night"].state
        chip = devices.chip(rpi.wiring[0])
        assert isinstance(chip, FakeProSlic)
        chip.set_hook(True)  # a phone on fxs:1 is lifted
        await wait(1)
        assert leds["line"].state
        buttons["night"].drive_low()
        await wait(0.2)
        buttons["night"].drive_high()
        await wait(1)
        assert leds["night"].state
        assert rpi.panel.led_states()["night"] == "on"
        chip.set_hook(False)
        await wait(2)
        assert not leds["line"].state
    finally:
        await box.stop()
        shutil.rmtree(state, ignore_errors=True)
    gpiozero.LED(board.leds[0].pin, pin_factory=factory).close()  # let go with the board
