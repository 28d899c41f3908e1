"""Where things are on a box's data partition (docs/install.md, "The data partition").

    DATA/boot.py, DATA/bootslots/   stage one (written by the first flash)
    DATA/pbx-box.service            the systemd unit, for the installer to enable
    DATA/keys/*.pub                 the image keys this box trusts
    DATA/slots.json                 the slot state (bootslots.state)
    DATA/slots/A, DATA/slots/B      two images, unpacked and verified
    DATA/office/office.toml         the office config the box runs, and the files it names
    DATA/state/                     the box's state: secrets, settings, store, voicemail
    DATA/incoming/                  uploads being received over the network
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

SLOT_NAMES = ("A", "B")
STATE_FILE = "slots.json"
OFFICE_DIR = "office"  # an image's office/ tree is installed here
OFFICE_FILE = "office.toml"
STAGE_ONE = ("boot.py", "bootslots")  # copied out of the first image flashed
UNIT_FILE = "pbx-box.service"


def other_slot(name: str) -> str:
    return SLOT_NAMES[1 - SLOT_NAMES.index(name)]


@dataclass(frozen=True, slots=True)
class DataPartition:
    root: Path

    @property
    def slots(self) -> Path:
        return self.root / "slots"

    def slot(self, name: str) -> Path:
        if name not in SLOT_NAMES:
            raise ValueError(f"no slot {name!r}; slots are {', '.join(SLOT_NAMES)}")
        return self.slots / name

    @property
    def state_file(self) -> Path:
        return self.root / STATE_FILE

    @property
    def keys(self) -> Path:
        return self.root / "keys"

    @property
    def state_dir(self) -> Path:
        return self.root / "state"

    @property
    def office_dir(self) -> Path:
        return self.root / OFFICE_DIR

    @property
    def office(self) -> Path:
        return self.office_dir / OFFICE_FILE

    @property
    def incoming(self) -> Path:
        return self.root / "incoming"

    @property
    def stage_one(self) -> Path:
        return self.root / "boot.py"


def data_option(argv: list[str], environ: dict[str, str]) -> tuple[Path | None, list[str]]:
    """The data partition (`--data DIR`, else $PBX_DATA) and the other options."""
    rest: list[str] = []
    data = environ.get("PBX_DATA") or None
    args = iter(argv)
    for arg in args:
        if arg == "--data":
            data = next(args, None)
        elif arg.startswith("--data="):
            data = arg.split("=", 1)[1]
        else:
            rest.append(arg)
    return (Path(data).absolute() if data else None), rest
