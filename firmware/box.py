"""The running box: a board's HAL, the call engine and the control interface, on one loop.

main.py decides *what* to run (which board, which office); this module runs it and shuts
it down cleanly. Tests start the same `Box` inside their fake-time loop.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from firmware.apps import build_apps
from firmware.config import BoardConfig, ConfigError, OfficeConfig, load_office, office_to_toml
from firmware.credentials import resolve_secrets
from firmware.engine.apps import App
from firmware.engine.features.forward import SETTINGS_FILE, SettingsStore
from firmware.engine.pbx import Engine
from firmware.engine.sipua import SipUserAgent
from firmware.runtime import Supervisor
from firmware.statefiles import write_atomic
from firmware.store import STORE_FILE, Store
from hal.backend import BoardSpec, load
from hal.sim.board import SimBoard
from hal.sim.control import ControlServer

log = logging.getLogger(__name__)

CONTROL_SOCKET = "control.sock"
LAST_GOOD_OFFICE = "office.last-good.toml"


def save_last_good(state_dir: Path, office: OfficeConfig) -> None:
    """Keep the config that loaded, to run when a later one is broken."""
    write_atomic(state_dir / LAST_GOOD_OFFICE, office_to_toml(office).encode())


def board_spec(board: BoardConfig) -> BoardSpec:
    return BoardSpec(
        name=board.name,
        backend=board.backend,
        fxs=tuple(p.port for p in board.fxs),
        fxo=tuple(p.port for p in board.fxo),
        dect_slots=board.dect.slots if board.dect else None,
        buttons=tuple(b.name for b in board.buttons),
        leds=tuple(led.name for led in board.leds),
    )


def published_info(office: OfficeConfig, sip: SipUserAgent | None = None) -> dict[str, object]:
    """What the virtual phone tool may know: who is on which port, which tones to expect,
    and whether the SIP trunks are up."""
    return {
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
        self.hal: SimBoard | None = None
        self.engine: Engine | None = None
        self.sip: SipUserAgent | None = None
        self.control: ControlServer | None = None
        self.store: Store | None = None
        self.apps: list[App] = []

    @property
    def control_path(self) -> Path:
        return self.state_dir / CONTROL_SOCKET

    async def start(self, control_tcp: tuple[str, int] | None = None) -> None:
        loop = asyncio.get_running_loop()
        self.hal = load(board_spec(self.board_config), loop)
        await self.hal.start()
        settings = SettingsStore(self.state_dir / SETTINGS_FILE)
        self.store = Store(self.state_dir / STORE_FILE)
        self.store.open()
        self.apps = build_apps(self.state_dir, self.store)
        self.engine = Engine(self.office, self.hal.lines, self.supervisor, loop, settings,
                             self.apps)
        self.sip = SipUserAgent(self.engine, self.office.sip,
                                resolve_secrets(self.office, self.state_dir))
        self.engine.sip = self.sip
        self.sip.on_trunk_change = self._publish
        await self.sip.start()
        for app in self.apps:
            app.start(self.engine)
        self._publish()
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
            self.hal.publish(published_info(self.office, self.sip))

    async def stop(self) -> None:
        if self.control is not None:
            await self.control.stop()
        if self.sip is not None:
            await self.sip.stop()
        for app in self.apps:
            await app.stop()
        await self.supervisor.shutdown()
        if self.store is not None:
            self.store.close()
        if self.hal is not None:
            await self.hal.stop()
