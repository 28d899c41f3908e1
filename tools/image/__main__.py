"""Board images: make a key, build a signed image, flash it (docs/install.md).

    python -m tools.image keygen --out DIR
        an Ed25519 key pair: DIR/image-key.pem (private: keep it safe, off the boxes) and
        DIR/image-key.pub (public: what boxes trust)
    python -m tools.image build --board board-configs/BOARD.toml [--office office.toml]
                                --key DIR/image-key.pem -o box.img [--version V]
        a reproducible image: the same inputs give the same bytes
    python -m tools.image show box.img
        the image's manifest: version, board, files
    python -m tools.image flash box.img --to DEST [--trust DIR/image-key.pub]
        DEST: a directory (a mounted SD card's data partition, or any folder), a raw file
        system image (*.img, made with e2fsprogs), or a running box: http://HOST:PORT
        (its admin secret from $PBX_ADMIN_SECRET, --secret-file, or asked for)

Exit status: 0 done, 1 refused or failed (the reason on stderr).
"""

from __future__ import annotations

import argparse
import http.client
import sys
from pathlib import Path

from bootslots.container import ImageFormatError, read_header
from bootslots.install import Installed, InstallError
from bootslots.manifest import Manifest, ManifestError
from bootslots.signing import SigningError
from firmware.config import ConfigError
from tools.image.build import build
from tools.image.contents import ContentsError
from tools.image.keys import KeyExists, keygen
from tools.image.progress import ProgressLine

ROOT = Path(__file__).resolve().parents[2]
MB = 1_000_000


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m tools.image", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)
    k = sub.add_parser("keygen", help="make an image key pair")
    k.add_argument("--out", type=Path, required=True)
    b = sub.add_parser("build", help="build a signed image")
    b.add_argument("--board", type=Path, required=True)
    b.add_argument("--office", type=Path)
    b.add_argument("--key", type=Path, required=True, help="the private key (image-key.pem)")
    b.add_argument("-o", "--out", type=Path, required=True)
    b.add_argument("--version", help="stamp this version (default: pyproject + git describe)")
    b.add_argument("--source", type=Path, default=ROOT, help=argparse.SUPPRESS)
    s = sub.add_parser("show", help="print an image's manifest")
    s.add_argument("image", type=Path)
    f = sub.add_parser("flash", help="write an image to a data partition or a running box")
    f.add_argument("image", type=Path)
    f.add_argument("--to", required=True, metavar="DEST")
    f.add_argument("--trust", type=Path, action="append", default=[],
                   help="a public key for the box to trust (a new data partition needs one)")
    f.add_argument("--size", help="size of a raw image (default: 512M, or as it is)")
    f.add_argument("--secret-file", type=Path, help="the box's admin secret, for http://")
    f.add_argument("--no-restart", action="store_true",
                   help="http://: install but let the box run on until its next start")
    return p.parse_args(argv)


def show(image: Path) -> int:
    manifest = Manifest.parse(read_header(image).manifest)
    print(f"{image}: version {manifest.version}, board {manifest.board.id} "
          f"({manifest.board.name}), {len(manifest.files)} files, "
          f"{manifest.total_size / MB:.1f} MB" + (", with an office config"
                                                  if manifest.office else ""))
    for name, entry in sorted(manifest.files.items()):
        print(f"  {entry.sha256[:16]}  {entry.size:>9}  {name}")
    return 0


def report(installed: Installed, dest: str) -> None:
    print(f"{dest}: slot {installed.slot} now holds version {installed.manifest.version} "
          f"(board {installed.manifest.board.id}, key {installed.key_id}) on trial: the box "
          "tries it at its next start and keeps it once its health check passes")


def flash(args: argparse.Namespace) -> int:
    progress = ProgressLine(f"writing {args.image.name}")
    try:
        if args.to.startswith(("http://", "https://")):
            from tools.image.flash_net import flash_net

            return flash_net(args.image, args.to, args.secret_file, not args.no_restart)
        dest = Path(args.to)
        if dest.is_block_device():
            raise InstallError(f"{dest} is a whole device: mount its data partition and flash "
                               "to that directory, or flash to a .img file and write that")
        if dest.is_file() or (not dest.exists() and dest.suffix in (".img", ".raw")):
            from tools.image.flash_raw import flash_raw

            installed = flash_raw(args.image, dest, args.trust, args.size, progress)
        else:
            from tools.image.flash_dir import flash_dir

            installed = flash_dir(args.image, dest, args.trust, progress)
    finally:
        progress.done()
    report(installed, args.to)
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        if args.command == "keygen":
            pair = keygen(args.out)
            print(f"key {pair.key_id}: private {pair.private} (keep it safe, never on a box), "
                  f"public {pair.public} (give it to `flash --trust`)")
            return 0
        if args.command == "build":
            built = build(args.source, args.board, args.key, args.out, args.office,
                          args.version)
            print(f"{built.path}: version {built.manifest.version}, board "
                  f"{built.manifest.board.id}, {len(built.manifest.files)} files, "
                  f"{built.size / MB:.1f} MB, signed by key {built.key_id}")
            return 0
        if args.command == "show":
            return show(args.image)
        return flash(args)
    except (InstallError, KeyExists, ContentsError, SigningError, ImageFormatError,
            ManifestError, ConfigError, OSError, http.client.HTTPException) as exc:
        print(exc, file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
