"""Print the SIP secrets the box generated for extensions whose config sets none.

    python -m tools.secrets --state-dir DIR          every generated secret
    python -m tools.secrets --state-dir DIR 201 202  just these extensions
    ... --json                                       one JSON object: {"201": "...", ...}
    python -m tools.secrets --state-dir DIR --admin  the box's admin secret (image updates
                                                     over the network, docs/install.md)

A secret written in the office config is not repeated here: it is in the config.
Exit status: 0 done, 1 when an asked-for extension has no generated secret.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from firmware.credentials import SECRETS_FILE, load_generated
from firmware.service.admin import ADMIN_SECRET_FILE, load_admin_secret


def show_admin(state_dir: Path) -> int:
    secret = load_admin_secret(state_dir)
    if secret is None:
        print(f"no admin secret in {state_dir / ADMIN_SECRET_FILE}: the box makes it when it "
              "first starts", file=sys.stderr)
        return 1
    print(secret)
    return 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m tools.secrets", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("extensions", nargs="*")
    p.add_argument("--state-dir", default=os.environ.get("PBX_STATE_DIR", "state"))
    p.add_argument("--json", action="store_true")
    p.add_argument("--admin", action="store_true", help="show the admin secret instead")
    args = p.parse_args(argv)
    if args.admin:
        return show_admin(Path(args.state_dir))
    generated = load_generated(Path(args.state_dir))
    wanted = args.extensions or sorted(generated)
    missing = [ext for ext in wanted if ext not in generated]
    shown = {ext: generated[ext] for ext in wanted if ext in generated}
    if args.json:
        print(json.dumps(shown))
    else:
        for ext, secret in shown.items():
            print(f"{ext}  {secret}")
        if not generated and not args.extensions:
            print(f"no generated secrets in {Path(args.state_dir) / SECRETS_FILE}",
                  file=sys.stderr)
    for ext in missing:
        print(f"extension {ext} has no generated secret: its secret is set in the office"
              " config, or it has no \"sip\" device", file=sys.stderr)
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
