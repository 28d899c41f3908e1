"""Stage two: load the configs, build the HAL backend, start the firmware. Wire-up only.

    python main.py                                   the built-in office on the virtual board
    python main.py --board board-configs/sim.toml --config office.toml --state-dir DIR
    python main.py --check-config office.toml        validate, exit 0 or 1 with the problems
    python main.py --print-default-config            the built-in office as TOML, to edit

A running box reloads its --config on SIGHUP; a broken file is logged and the running
config kept. Once started it checks its own health (firmware.service): only then does it
commit a new firmware slot and tell systemd it is ready.
"""

from __future__ import annotations

import os

# The firmware's DSP never calls BLAS; without this numpy's OpenBLAS would start a thread
# pool at import (the box runs one loop and no threads of its own). Before numpy loads.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import asyncio
import gc
import logging
import signal
import sys
from pathlib import Path

from firmware import logs
from firmware.box import LAST_GOOD_OFFICE, Box, save_last_good
from firmware.config import (
    BoardConfig,
    ConfigError,
    OfficeConfig,
    default_office,
    load_board,
    load_office,
    office_to_toml,
)
from firmware.service.lifecycle import BoxService, Outcome
from firmware.service.reset import finish_pending_reset
from firmware.service.restart import restart_checkout
from firmware.service.slot import RunningSlot
from hal.backend import BackendUnavailable

log = logging.getLogger("pbx.main")

HERE = Path(__file__).resolve().parent
DEFAULT_BOARD = HERE / "board-configs" / "sim.toml"
GC_YOUNG = 20_000  # allocations between young-generation collections (Python: 700)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="main.py", description="Run the PBX box firmware.")
    p.add_argument("--board", type=Path, default=DEFAULT_BOARD,
                   help="board config (default: the virtual board, board-configs/sim.toml)")
    p.add_argument("--config", type=Path, help="office config (default: the built-in office)")
    p.add_argument("--state-dir", type=Path, default=Path("state"),
                   help="where the box keeps its state and control socket (default: ./state)")
    p.add_argument("--log-level", choices=logs.LEVELS, default="info")
    p.add_argument("--control-tcp", metavar="HOST:PORT",
                   help="also serve the virtual board's control interface on TCP (loopback)")
    p.add_argument("--admin-http", metavar="HOST:PORT",
                   help="serve the admin interface (image updates) on HOST:PORT; a box run "
                        "from a data partition only (docs/install.md)")
    p.add_argument("--check-config", type=Path, metavar="OFFICE_TOML",
                   help="validate an office config against the board and exit")
    p.add_argument("--print-default-config", action="store_true",
                   help="print the built-in office config as TOML and exit")
    return p.parse_args(argv)


def check_config(path: Path, board_path: Path) -> int:
    try:
        board = load_board(board_path)
        office = load_office(path, board)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 1
    print(f"{path}: OK ({len(office.extensions)} extensions, country {office.site.country},"
          f" board {board.name!r})")
    return 0


def choose_office(config: Path | None, board: BoardConfig, state_dir: Path) -> OfficeConfig:
    """The office to run: the given config, else the last good one if it is broken."""
    if config is None:
        return default_office(board)
    last_good = state_dir / LAST_GOOD_OFFICE
    try:
        office = load_office(config, board)
    except ConfigError as exc:
        if not last_good.exists():
            raise
        log.error("%s is not valid, running the last good config %s instead:\n%s",
                  config, last_good, exc)
        return load_office(last_good, board)
    save_last_good(state_dir, office)
    return office


def parse_hostport(text: str, option: str = "--control-tcp") -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit():
        raise SystemExit(f"{option} wants HOST:PORT, e.g. 127.0.0.1:7070; got {text!r}")
    return host, int(port)


async def serve(box: Box, config: Path | None, control_tcp: tuple[str, int] | None,
                admin_http: tuple[str, int] | None = None) -> Outcome:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    if config is not None:
        loop.add_signal_handler(signal.SIGHUP, box.reload, config)
    await box.start(control_tcp)
    service = BoxService(box, os.environ, stop.set)
    box.on_restart = service.request_restart  # the front panel's factory reset
    healthy = await service.start(admin_http)  # health check, commit, READY=1, watchdog
    # What start-up made (config, numpy, tone tables) lives as long as the box: out of the
    # collector's way, so its full passes look only at what calls make. Calls make many
    # small objects (SIP transactions live 32 s): fewer, larger young-generation passes.
    gc.freeze()
    gc.set_threshold(GC_YOUNG, 20, 20)
    try:
        if healthy:
            await stop.wait()
    finally:
        log.info("stopping")
        await service.stop()
        await box.stop()
    return service.outcome


def run(box: Box, config: Path | None, control_tcp: tuple[str, int] | None,
        admin_http: tuple[str, int] | None = None) -> Outcome:
    if not os.environ.get("PBX_NO_UVLOOP"):
        try:
            import uvloop  # optional: lower per-wake-up cost (DESIGN.md performance budget)
        except ImportError:
            pass
        else:
            return uvloop.run(serve(box, config, control_tcp, admin_http))
    return asyncio.run(serve(box, config, control_tcp, admin_http))


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logs.setup(args.log_level)
    if args.check_config is not None:
        return check_config(args.check_config, args.board)
    slot = RunningSlot.from_environ(os.environ)
    office_file = slot.data.office if slot is not None else None  # a box's own, to reset
    try:
        board = load_board(args.board)
        if args.print_default_config:
            print(office_to_toml(default_office(board)), end="")
            return 0
        args.state_dir.mkdir(parents=True, exist_ok=True)
        # A factory reset the power cut short is finished before anything reads the state.
        if finish_pending_reset(args.state_dir, office_file) is not None and \
                args.config is not None and not args.config.exists():
            args.config = None  # the reset took the office config: the built-in office
        office = choose_office(args.config, board, args.state_dir)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 1
    control_tcp = parse_hostport(args.control_tcp) if args.control_tcp else None
    admin_http = parse_hostport(args.admin_http, "--admin-http") if args.admin_http else None
    try:
        outcome = run(Box(board, office, args.state_dir), args.config, control_tcp, admin_http)
    except BackendUnavailable as exc:
        print(exc, file=sys.stderr)
        return 1
    if outcome is Outcome.RESTART:
        # The front panel's factory reset is done now that the box is down (nothing open).
        finish_pending_reset(args.state_dir, office_file)
        if slot is None:
            return restart_checkout()
        return slot.restart()  # an update was installed, or a reset: through stage one
    return 1 if outcome is Outcome.UNHEALTHY else 0


if __name__ == "__main__":
    sys.exit(main())
