"""Back up, restore or factory-reset a box's data (docs/install.md, "Backup and restore").

    python -m tools.backup save --state DIR [--office FILE] -o backup.tar
        the office config (and the files it names), secrets, forwards and night mode, the
        store (voicemail index, callbacks, call records) and the voicemail recordings
    python -m tools.backup restore backup.tar --state DIR [--office FILE]
        onto the same box or a new one; the box must be stopped
    python -m tools.backup factory-reset --state DIR [--office FILE] [--keep-voicemail]
        forget everything: new secrets and the built-in office at the next start

--office defaults to where a box keeps it: office/office.toml beside the state directory
(DATA/office/office.toml when DIR is DATA/state). Exit status: 0 done, 1 failed.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bootslots.layout import OFFICE_DIR, OFFICE_FILE
from tools.backup.archive import BackupError
from tools.backup.reset import factory_reset
from tools.backup.restore import restore
from tools.backup.running import box_running
from tools.backup.save import save

MB = 1_000_000


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m tools.backup", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("save", help="write a backup")
    s.add_argument("-o", "--out", type=Path, required=True)
    r = sub.add_parser("restore", help="restore a backup (the box stopped)")
    r.add_argument("archive", type=Path)
    f = sub.add_parser("factory-reset", help="forget everything (the box stopped)")
    f.add_argument("--keep-voicemail", action="store_true")
    for sp in (s, r, f):
        sp.add_argument("--state", type=Path, required=True, help="the box's state directory")
        sp.add_argument("--office", type=Path, help="the office config (default: "
                        f"STATE/../{OFFICE_DIR}/{OFFICE_FILE})")
    return p.parse_args(argv)


def refuse_if_running(state: Path, what: str) -> None:
    if box_running(state):
        raise BackupError(f"a box is running on {state}: stop it first (systemctl stop "
                          f"pbx-box), then {what}")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    state = args.state.absolute()
    office = args.office or state.parent / OFFICE_DIR / OFFICE_FILE
    try:
        if args.command == "save":
            saved = save(state, office, args.out)
            print(f"{saved.path}: {saved.files} files, {saved.size / MB:.1f} MB"
                  + (", with the office config" if saved.office else ", no office config"))
        elif args.command == "restore":
            refuse_if_running(state, "restore")
            restored = restore(args.archive, state, office)
            print(f"restored the backup of {restored.created}: {restored.state_files} state "
                  f"files into {state}"
                  + (f", the office config into {restored.office}" if restored.office else ""))
        else:
            refuse_if_running(state, "reset")
            deleted = factory_reset(state, office, args.keep_voicemail)
            print(f"factory reset: deleted {', '.join(deleted) or 'nothing'}"
                  + ("; kept the voicemail" if args.keep_voicemail else "")
                  + ". The box makes new secrets at its next start.")
    except (BackupError, OSError) as exc:
        print(exc, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
