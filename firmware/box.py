"""The running box: a board's HAL, the call engine and the control interface, on one loop.

main.py decides *what* to run (which board, which office); this module runs it and shuts
it down cleanly. Tests start the same `Box` inside their fake-time loop.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from firmware.apps import build_apps
from firmware.config import BoardConfig, ConfigError, OfficeConfig, load_office, office_to_toml
from firmware.credentials import resolve_secrets
from firmware.engine.apps import App
from firmware.engine.features.forward import SETTINGS_FILE, SettingsStore
from firmware.engine.pbx import Engine
from firmware.engine.sipua import SipUserAgent
from firmware.panel import (
    ButtonActions,
    FrontPanel,
    Sources,
    TappedDectBase,
    TappedLine,
    panel_layout,
)
from firmware.runtime import Supervisor
from firmware.statefiles import write_atomic
from firmware.store import STORE_FILE, Store
from hal.backend import BoardSpec, load, load_dect
from hal.rpi.wiring import PortWiring
from hal.sim.board import SimBoard
from hal.sim.control import ControlServer

if TYPE_CHECKING:
    from hal.interfaces import AnalogLine, DectBase
    from hal.rpi.board import RpiBoard  # imported by the rpi backend only when it is used

log = logging.getLogger(__name__)

CONTROL_SOCKET = "control.sock"
LAST_GOOD_OFFICE = "office.last-good.toml"
PROMPTS_DIR = "prompts"  # the office's own prompts (greetings recorded from a phone)


def save_last_good(state_dir: Path, office: OfficeConfig) -> None:
    """Keep the config that loaded, to run when a later one is broken."""
    write_atomic(state_dir / LAST_GOOD_OFFICE, office_to_toml(office).encode())


def board_spec(board: BoardConfig, country: str = "us") -> BoardSpec:
    panel = panel_layout(board)  # LED names: a LINE LED per port on the virtual board
    return BoardSpec(
        name=board.name,
        backend=board.backend,
        fxs=tuple(p.port for p in board.fxs),
        fxo=tuple(p.port for p in board.fxo),
        dect_slots=board.dect.slots if board.dect else None,
        dect_uart=board.dect.uart if board.dect else None,
        dect_baud=board.dect.baud if board.dect else None,
        buttons=panel.button_names,
        leds=panel.led_names,
        button_pins=panel.button_pins(),
        led_pins=panel.led_pins(),
        wiring=port_wiring(board) if board.backend == "rpi" else (),
        audio_device=board.audio.device if board.audio else None,
        country=country,
    )


def port_wiring(board: BoardConfig) -> tuple[PortWiring, ...]:
    """The line card's wiring; the config has checked every key is there for rpi."""
    return tuple(
        PortWiring(kind, p.port, p.chip or "", p.spi_bus or 0, p.spi_cs or 0,
                   p.pcm_slot or 0, p.reset_pin, p.interrupt_pin)
        for kind, ports in (("fxs", board.fxs), ("fxo", board.fxo)) for p in ports
    )


def published_info(office: OfficeConfig, sip: SipUserAgent | None = None,
                   engine: Engine | None = None) -> dict[str, object]:
    """What the virtual phone tool may know: who is on which port, which tones to expect,
    whether the SIP trunks are up, and what the applications show (queue figures)."""
    return {
        "apps": engine.snapshot()["apps"] if engine is not None else {},
        "trunks": {name: link.snapshot() for name, link in sip.trunks.items()} if sip else {},
        "country": office.site.country,
        "extensions": {
            ext.number: {"name": ext.name, "devices": list(ext.devices)}
            for ext in office.extensions
        },
    }


class Box:
    def __init__(self, board: BoardConfig, office: OfficeConfig, state_dir: Path) -> None:
        self.board_config = board
        self.office = office
        self.state_dir = state_dir
        self.supervisor = Supervisor()
        self.hal: SimBoard | RpiBoard | None = None
        self.engine: Engine | None = None
        self.dect: DectBase | None = None  # the board's DECT base, if it has one
        self.sip: SipUserAgent | None = None
        self.control: ControlServer | None = None
        self.store: Store | None = None
        self.panel: FrontPanel | None = None
        # How the box goes down and comes up again (the front panel's factory reset):
        # main.py sets it; tests put their own.
        self.on_restart: Callable[[], None] = _cannot_restart
        self.apps: list[App] = []

    @property
    def control_path(self) -> Path:
        return self.state_dir / CONTROL_SOCKET

    async def start(self, control_tcp: tuple[str, int] | None = None) -> None:
        loop = asyncio.get_running_loop()
        spec = board_spec(self.board_config, self.office.site.country)
        self.hal = load(spec, loop)
        self.panel = FrontPanel(self.hal.panel, panel_layout(self.board_config), loop)
        await self.hal.start()
        self.dect = self.hal.dect or load_dect(spec, loop)
        if self.dect is not None:
            await self.dect.start()
        settings = SettingsStore(self.state_dir / SETTINGS_FILE)
        self.store = Store(self.state_dir / STORE_FILE)
        self.store.open()
        self.apps = build_apps(self.state_dir, self.store)
        poke = self.panel.poke  # the engine's lines and DECT base tell the panel to look
        lines: dict[str, AnalogLine] = {
            name: TappedLine(line, poke) for name, line in self.hal.lines.items()}
        dect = TappedDectBase(self.dect, poke) if self.dect is not None else None
        self.engine = Engine(self.office, lines, self.supervisor, loop, settings,
                             self.apps, trunks=dict(self.hal.trunks),
                             prompts_dir=self.state_dir / PROMPTS_DIR, dect=dect)
        self.sip = SipUserAgent(self.engine, self.office.sip,
                                resolve_secrets(self.office, self.state_dir))
        self.engine.sip = self.sip
        self.sip.on_trunk_change = self._publish
        self.engine.publish = self._publish
        await self.sip.start()
        for app in self.apps:
            app.start(self.engine)
        self.panel.attach(Sources(self.engine, self.hal, self.dect),
                          ButtonActions(self.engine, self.dect, self.state_dir,
                                        lambda: self.on_restart()))
        self._publish()
        if isinstance(self.hal, SimBoard):  # real phones need no control interface
            self.control = ControlServer(self.hal)
            await self.control.start_unix(self.control_path)
            if control_tcp is not None:
                port = await self.control.start_tcp(*control_tcp)
                log.info("control interface also on tcp %s:%d", control_tcp[0], port)
        log.info(
            "box ready: board %r, %d extensions, country %s, control socket %s",
            self.board_config.name, len(self.office.extensions), self.office.site.country,
            self.control_path,
        )
        self.panel.ready()

    def reload(self, path: Path) -> bool:
        """Load `path` and run it; a broken config is logged and the running one kept."""
        try:
            office = load_office(path, self.board_config)
        except ConfigError as exc:
            log.error("%s was not loaded; keeping the running config:\n%s", path, exc)
            return False
        assert self.engine is not None and self.hal is not None
        self.engine.apply(office)
        if self.sip is not None:
            self.sip.set_secrets(resolve_secrets(office, self.state_dir))
            self.sip.apply_trunks(office.trunks)
        self.office = office
        self._publish()
        save_last_good(self.state_dir, office)
        log.info("loaded %s: %d extensions, country %s", path, len(office.extensions),
                 office.site.country)
        return True

    def _publish(self) -> None:
        if self.hal is not None:
            self.hal.publish(published_info(self.office, self.sip, self.engine))
        if self.panel is not None:
            self.panel.poke()  # trunks, night mode: what the LEDs show may have changed

    async def stop(self) -> None:
        if self.panel is not None:
            self.panel.stop()
        if self.control is not None:
            await self.control.stop()
        if self.sip is not None:
            await self.sip.stop()
        for app in self.apps:
            await app.stop()
        await self.supervisor.shutdown()
        if self.dect is not None:
            await self.dect.stop()
        if self.store is not None:
            self.store.close()
        if self.hal is not None:
            await self.hal.stop()


def _cannot_restart() -> None:
    log.error("a restart was asked for, but nothing restarts this box: stop it and start it"
              " again")
