"""SIP secrets of the extensions: the config's, else generated once and kept in the state dir.

There is no default password (DESIGN.md, "Reliability rules"): an extension with a "sip"
device and no `secret` in the office config gets a random one at first boot, written
atomically to STATE_DIR/sip-secrets.json (mode 0600) and kept across restarts. Secrets are
never logged; `python -m tools.secrets` shows them to the installer.
"""

from __future__ import annotations

import json
import logging
import secrets
from pathlib import Path

from firmware.config import OfficeConfig
from firmware.statefiles import write_atomic

log = logging.getLogger(__name__)

SECRETS_FILE = "sip-secrets.json"
GENERATED_BYTES = 12  # 16 characters of base64: far beyond any guessing by scanners


def load_generated(state_dir: Path) -> dict[str, str]:
    path = state_dir / SECRETS_FILE
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        log.error("%s is unreadable (%s); generated SIP secrets will be made anew", path, exc)
        return {}
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def resolve_secrets(office: OfficeConfig, state_dir: Path) -> dict[str, str]:
    """Extension number -> SIP secret, for every extension with a "sip" device."""
    generated = load_generated(state_dir)
    resolved: dict[str, str] = {}
    changed = False
    for ext in office.extensions:
        if "sip" not in ext.devices:
            continue
        if ext.secret is not None:
            resolved[ext.number] = ext.secret
            continue
        if ext.number not in generated:
            generated[ext.number] = secrets.token_urlsafe(GENERATED_BYTES)
            changed = True
            log.info("generated a SIP secret for extension %s (show it with"
                     " `python -m tools.secrets`)", ext.number)
        resolved[ext.number] = generated[ext.number]
    if changed:
        write_atomic(state_dir / SECRETS_FILE,
                     (json.dumps(generated, indent=2, sort_keys=True) + "\n").encode())
    return resolved
