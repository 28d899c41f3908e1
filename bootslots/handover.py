"""Stage one on a box: choose the slot (bootslots.choose), write the slot state once, and
hand over to the chosen slot's main.py by exec, so the box keeps one process (the PID
systemd watches) and runs nothing but the verified slot's code.

main.py is told, beside its usual options (which the caller's own options override):
`--board` the board config inside the image, `--state-dir DATA/state`, and `--config
DATA/office/office.toml` when there is one; and in its environment PBX_DATA, PBX_SLOT and
PBX_BOOT_ARGV (how to run stage one again: after an update over the network, the box
restarts itself through it).
"""

from __future__ import annotations

import json
import logging
import os

from bootslots import state as slot_state
from bootslots.choose import Decision, choose
from bootslots.layout import SLOT_NAMES, DataPartition
from bootslots.signing import SigningError, trusted_keys
from bootslots.state import BoxSlots, SlotState, StateError, Status
from bootslots.verify import Verified, verify_slot

log = logging.getLogger("pbx.boot")


def read_state(data: DataPartition) -> BoxSlots:
    """The slot state; if the file is unreadable, every slot is judged by verification."""
    try:
        return slot_state.load(data.state_file)
    except StateError as exc:
        log.error("%s; trying every slot that verifies", exc)
        return BoxSlots(slots={name: SlotState(Status.GOOD) for name in SLOT_NAMES})


def decide(data: DataPartition) -> Decision:
    """Choose the slot to run and record the choice (one atomic write)."""
    try:
        keys = trusted_keys(data.keys)
    except SigningError as exc:
        log.error("%s", exc)
        keys = []
    before = read_state(data)
    if not keys:  # the slots may be fine: do not mark them, and run nothing unverified
        log.error("no trusted image key in %s: nothing can be verified", data.keys)
        return Decision(None, before, None)

    def verify(name: str) -> Verified:
        return verify_slot(data.slot(name), keys)

    decision = choose(before, verify)
    for note in decision.notes:
        log.warning("%s", note)
    state = decision.state
    if decision.verified is not None and state.board is None:
        state = state.with_board(decision.verified.manifest.board.id)
    if state != before:
        slot_state.save(data.state_file, state)
    return decision


def _given(argv: list[str], option: str) -> bool:
    return any(arg == option or arg.startswith(option + "=") for arg in argv)


def main_command(data: DataPartition, slot: str, verified: Verified, argv: list[str],
                 python: str) -> list[str]:
    root = data.slot(slot)
    manifest = verified.manifest
    defaults: list[str] = []
    if not _given(argv, "--board"):
        defaults += ["--board", str(root / manifest.board.config)]
    if not _given(argv, "--state-dir"):
        defaults += ["--state-dir", str(data.state_dir)]
    if not _given(argv, "--config") and data.office.exists():
        defaults += ["--config", str(data.office)]
    return [python, str(root / manifest.entry), *defaults, *argv]


def boot_from(data: DataPartition, argv: list[str], python: str,
              stage_one_argv: list[str]) -> int:
    """Exec the chosen slot's main.py; 1 if no slot can run."""
    decision = decide(data)
    if decision.slot is None or decision.verified is None:
        log.error("no slot in %s can run: flash an image (docs/install.md)", data.slots)
        return 1
    manifest = decision.verified.manifest
    log.info("slot %s verified (version %s, board %s, key %s); starting it", decision.slot,
             manifest.version, manifest.board.id, decision.verified.key_id)
    command = main_command(data, decision.slot, decision.verified, argv, python)
    env = {**os.environ, "PBX_DATA": str(data.root), "PBX_SLOT": decision.slot,
           "PBX_BOOT_ARGV": json.dumps(stage_one_argv)}
    logging.shutdown()
    os.execve(python, command, env)
    return 1  # not reached
