"""The HAT's sound card through python-sounddevice (PortAudio on ALSA).

One full-duplex stream: 8 kHz, 16-bit, one channel per PCM timeslot, 160-frame blocks (one
20 ms frame per callback). The callback runs on PortAudio's thread and does only what
`PcmHighway.on_audio_thread` does; it never logs and never waits.

The board config names the card as ALSA does (`hw:CARD=pbxhat,DEV=0`); PortAudio names
devices "<card name>: <device> (hw:N,M)", so the card id is looked up in /proc/asound/cards.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

from hal.audio import FRAME_SAMPLES, SAMPLE_RATE
from hal.rpi.pcm import PcmError, PcmHighway

ALSA_CARDS = Path("/proc/asound/cards")
# Output/input latency PortAudio asks ALSA for. The callback needs the GIL; a loop that holds
# it for a few ms delays the audio thread by up to ~20 ms (tools/bench/pcm.py, under load),
# so the card keeps 60 ms in hand rather than PortAudio's "low" (~10 ms) and underrunning.
LATENCY_S = 0.06
_HW_NAME = re.compile(r"hw:CARD=(?P<card>[^,]+),DEV=(?P<dev>\d+)")
_CARD_LINE = re.compile(r"^\s*(?P<index>\d+)\s+\[(?P<id>[^\]\s]+)\s*\]", re.MULTILINE)


def alsa_card_index(card_id: str, cards_text: str) -> int | None:
    """The card number of `card_id` in the text of /proc/asound/cards."""
    for match in _CARD_LINE.finditer(cards_text):
        if match["id"] == card_id:
            return int(match["index"])
    return None


def portaudio_device(wanted: str, devices: list[dict[str, Any]], cards_text: str) -> int | str:
    """The PortAudio device for an ALSA name; the name itself if nothing better is found."""
    match = _HW_NAME.fullmatch(wanted)
    if match is not None:
        index = alsa_card_index(match["card"], cards_text)
        if index is not None:
            suffix = f"(hw:{index},{match['dev']})"
            for number, device in enumerate(devices):
                if str(device.get("name", "")).endswith(suffix):
                    return number
    return wanted


class SounddevicePcm:
    def __init__(self, sd: Any, highway: PcmHighway, device: str) -> None:
        self.name = device
        self._sd = sd
        self._highway = highway
        self._stream: Any = None

    def start(self) -> None:
        try:
            cards = ALSA_CARDS.read_text() if ALSA_CARDS.exists() else ""
            device = portaudio_device(self.name, list(self._sd.query_devices()), cards)
            self._stream = self._sd.Stream(
                samplerate=SAMPLE_RATE, blocksize=FRAME_SAMPLES, device=device,
                channels=self._highway.channels, dtype="int16", latency=LATENCY_S,
                callback=self._callback)
            self._stream.start()
        except (self._sd.PortAudioError, ValueError, OSError) as exc:
            raise PcmError(f"cannot open the sound card {self.name!r}: {exc}") from exc

    def stop(self) -> None:
        if self._stream is not None:
            self._stream.stop()
            self._stream.close()
            self._stream = None

    def _callback(self, indata: Any, outdata: Any, frames: int, _time: Any, status: Any) -> None:
        if status:
            self._highway.stream_xrun()
        self._highway.on_audio_thread(indata, outdata, time.perf_counter())
