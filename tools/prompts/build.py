"""Build the prompt set with espeak-ng: speak each text, resample to 8 kHz, trim the silence
around the words, bring every prompt to the same peak level, write WAVs and the manifest.

Reproducible: espeak-ng is deterministic, the resampler is plain numpy and the wave module
writes no dates, so the same espeak-ng version, voice and rate give byte-identical files
(`python -m tools.prompts check DIR` rebuilds and compares).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
import wave
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import numpy.typing as npt

from firmware.media.frames import SAMPLE_RATE, amplitude
from firmware.media.prompts import MANIFEST
from firmware.media.wav import write_wav
from tools.prompts.resample import resample

__all__ = ["DEFAULT_RATE", "DEFAULT_VOICE", "BuildError", "build", "compare",
           "espeak_exe", "espeak_version"]

ESPEAK = "espeak-ng"
DEBIAN_PACKAGE = "espeak-ng"
DEFAULT_VOICE = "en-us"
DEFAULT_RATE = 150  # words per minute: a little slower than espeak's 175, for the phone
# Speech peaks about 12 dB above its average level, so a -6 dBm0 peak sits at a normal
# telephone talking level without clipping either G.711 law.
PEAK_DBM0 = -6.0
TRIM_FRACTION = 0.01  # below 1 % of the peak (-40 dB) counts as silence at the ends
KEEP_MS = 10  # kept either side of the words, so the trim never clips a soft consonant


class BuildError(Exception):
    """The build cannot go on; the message says why and what to do."""


def espeak_exe() -> str:
    """The espeak-ng program; BuildError naming the Debian package if it is not installed."""
    exe = shutil.which(ESPEAK)
    if exe is None:
        raise BuildError(f"{ESPEAK} is not installed: install the Debian package"
                         f" {DEBIAN_PACKAGE} (sudo apt-get install -y {DEBIAN_PACKAGE})")
    return exe


def espeak_version() -> str:
    """espeak-ng's version, e.g. "1.51" (a build is byte-identical only within one)."""
    out = subprocess.run([espeak_exe(), "--version"], capture_output=True, text=True, check=False)
    # "eSpeak NG text-to-speech: 1.51  Data at: ..." -> "1.51"; the data path is machine-local.
    words = out.stdout.split()
    return words[words.index("text-to-speech:") + 1] if "text-to-speech:" in words else "?"


def speak(text: str, voice: str, rate: int) -> npt.NDArray[np.int16]:
    """`text` spoken by espeak-ng, as 8 kHz samples trimmed and levelled."""
    exe = espeak_exe()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "speech.wav"
        run = subprocess.run([exe, "-v", voice, "-s", str(rate), "-w", str(out), text],
                             capture_output=True, text=True, check=False)
        if run.returncode != 0 or not out.exists():
            raise BuildError(f"{ESPEAK} -v {voice} failed saying {text!r}:"
                             f" {run.stderr.strip() or f'exit status {run.returncode}'}")
        with wave.open(str(out), "rb") as w:
            src_rate = w.getframerate()
            raw = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
    return level(trim(resample(raw.astype(np.float64), src_rate, SAMPLE_RATE)))


def trim(x: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    loud = np.flatnonzero(np.abs(x) >= TRIM_FRACTION * np.abs(x).max(initial=0.0))
    if len(loud) == 0:
        return x[:0]
    keep = KEEP_MS * SAMPLE_RATE // 1000
    out = x[max(0, loud[0] - keep) : loud[-1] + 1 + keep].copy()
    # espeak-ng sometimes starts a word at its first sample: fade, so no prompt clicks.
    fade = np.linspace(0.0, 1.0, min(keep, len(out) // 2))
    out[: len(fade)] *= fade
    out[len(out) - len(fade) :] *= fade[::-1]
    return out


def level(x: npt.NDArray[np.float64]) -> npt.NDArray[np.int16]:
    peak = np.abs(x).max(initial=0.0)
    if peak == 0.0:
        return np.zeros(len(x), dtype=np.int16)
    scaled = np.round(x * (amplitude(PEAK_DBM0) / peak))
    return np.clip(scaled, -32767, 32767).astype(np.int16)


def build(out_dir: Path, prompts: Mapping[str, str], voice: str = DEFAULT_VOICE,
          rate: int = DEFAULT_RATE) -> dict[str, Path]:
    """Write one `KEY.wav` per prompt and the manifest into `out_dir`; the files written."""
    version = espeak_version()
    out_dir.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    entries: dict[str, dict[str, str]] = {}
    for key, text in sorted(prompts.items()):
        path = out_dir / f"{key}.wav"
        write_wav(path, speak(text, voice, rate))
        written[key] = path
        entries[key] = {"file": path.name, "text": text}
    manifest = {
        "format": "8000 Hz, mono, 16-bit PCM WAV",
        "generator": {"tool": "python -m tools.prompts build", "espeak-ng": version,
                      "voice": voice, "rate": rate},
        "prompts": entries,
    }
    (out_dir / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n",
                                    encoding="utf-8")
    written[MANIFEST] = out_dir / MANIFEST
    return written


def compare(expected: Path, rebuilt: Path) -> list[str]:
    """Files that differ between two builds (or exist in only one), by name."""
    names = {p.name for p in expected.iterdir()} | {p.name for p in rebuilt.iterdir()}
    return sorted(n for n in names
                  if not ((expected / n).is_file() and (rebuilt / n).is_file()
                          and (expected / n).read_bytes() == (rebuilt / n).read_bytes()))
