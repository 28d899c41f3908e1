"""Prompts and hold-music files for the box (docs/prompts.md).

    python -m tools.prompts build OUT_DIR [--voice en-us] [--rate 150]
        speak the default prompt set with espeak-ng into OUT_DIR (WAVs + prompts.json)
    python -m tools.prompts check DIR
        rebuild DIR's set (same voice and rate) and report any file that differs
    python -m tools.prompts convert IN OUT
        any integer PCM WAV -> 8000 Hz mono 16-bit (office hold music, office prompts)

The shipped set is firmware/media/sounds/en: `python -m tools.prompts build
firmware/media/sounds/en` regenerates it. Exit status: 0 done, 1 failed (the reason on stderr).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from firmware.media.prompts import MANIFEST
from tools.prompts.build import (
    DEFAULT_RATE,
    DEFAULT_VOICE,
    BuildError,
    build,
    compare,
    espeak_version,
)
from tools.prompts.catalogue import PROMPTS
from tools.prompts.convert import convert


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m tools.prompts", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="speak the default prompt set into OUT_DIR")
    b.add_argument("out_dir", type=Path, metavar="OUT_DIR")
    b.add_argument("--voice", default=DEFAULT_VOICE, help="an espeak-ng voice (default en-us)")
    b.add_argument("--rate", type=int, default=DEFAULT_RATE,
                   help=f"words per minute (default {DEFAULT_RATE})")
    c = sub.add_parser("check", help="rebuild DIR's set and compare, byte for byte")
    c.add_argument("dir", type=Path, metavar="DIR")
    v = sub.add_parser("convert", help="a PCM WAV to 8000 Hz mono 16-bit")
    v.add_argument("src", type=Path, metavar="IN")
    v.add_argument("dst", type=Path, metavar="OUT")
    args = p.parse_args(argv)
    try:
        if args.command == "build":
            return _build(args.out_dir, args.voice, args.rate)
        if args.command == "check":
            return _check(args.dir)
        seconds = convert(args.src, args.dst)
        print(f"{args.dst}: {seconds:.1f} s, 8000 Hz mono 16-bit")
        return 0
    except (BuildError, OSError) as e:  # OSError: OUT_DIR or OUT not writable
        print(f"error: {e}", file=sys.stderr)
        return 1


def _build(out_dir: Path, voice: str, rate: int) -> int:
    written = build(out_dir, PROMPTS, voice, rate)
    size = sum(path.stat().st_size for path in written.values())
    print(f"{out_dir}: {len(written) - 1} prompts and {MANIFEST}, {size / 1024:.0f} KiB")
    stale = sorted(path.name for path in out_dir.glob("*.wav")
                   if path not in written.values())
    if stale:  # not deleted: OUT_DIR might hold someone's recordings
        print(f"not part of the set (remove them if they are old prompts): {' '.join(stale)}",
              file=sys.stderr)
    return 0


def _check(directory: Path) -> int:
    try:
        made_with = json.loads((directory / MANIFEST).read_text(encoding="utf-8"))["generator"]
        voice, rate, version = made_with["voice"], made_with["rate"], made_with["espeak-ng"]
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise BuildError(f"{directory / MANIFEST}: no generator record to rebuild from"
                         f" ({e})") from None
    with tempfile.TemporaryDirectory() as tmp:
        build(Path(tmp), PROMPTS, voice, rate)
        differ = compare(directory, Path(tmp))
    if not differ:
        print(f"{directory}: identical to a fresh build")
        return 0
    print(f"{directory}: differs from a fresh build: {' '.join(differ)}", file=sys.stderr)
    if version != espeak_version():
        print(f"(built with espeak-ng {version}, this machine has {espeak_version()}:"
              " a different espeak-ng speaks differently)", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
