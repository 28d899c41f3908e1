"""Recording a menu's greeting from an office phone: `*77` + the menu's number.

The caller hears "record your greeting after the tone, then press pound", a beep, speaks,
and presses `#`; the box plays the recording back and says "greeting saved". It is kept as
the office prompt `menu-NAME.wav` in the office's prompt directory (`[features]
prompts_dir`, else `STATE_DIR/prompts`), written atomically, and the prompts are read
again, so the next caller hears it. Hanging up before `#` keeps the old greeting (a
greeting is re-recorded until it is right, unlike a voicemail). Only office phones may do
this: a caller from outside must never change what the office says.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import numpy as np

from firmware.apps.voice import Listening, say, sound, start_recording, until_recorded
from firmware.engine.channel import Cause, Channel
from firmware.logs import call_event
from firmware.media.frames import FRAME_MS, SAMPLE_RATE
from firmware.media.wav import wav_bytes
from firmware.statefiles import write_atomic

if TYPE_CHECKING:
    from firmware.config import MenuConfig
    from firmware.engine.pbx import Engine

__all__ = ["record_greeting"]

MAX_GREETING_S = 60.0
MIN_GREETING_S = 1.0
BEEP_MS = 400
# The '#' that ends the recording is heard before it is detected (>= 40 ms of tone) and
# the person's hand moves to the key before that: leave this much off the end.
KEY_TAIL_MS = 300


async def record_greeting(engine: Engine, menu: MenuConfig | None, caller: Channel) -> Cause:
    if not caller.internal:
        call_event("greeting-refused", channel=caller.name, why="not an office phone")
        return Cause.CALL_BARRED
    directory = engine.prompts_dir
    if menu is None or directory is None:
        return Cause.UNALLOCATED_NUMBER  # the code with a number that is no menu
    caller.accept()
    async with Listening(caller) as keys:
        await say(engine, caller, ["record-greeting"])
        beep, seconds = engine.beeps(1, BEEP_MS)
        sound(engine, caller, beep, "beep")
        await asyncio.sleep(seconds)
        while not keys.empty():
            keys.get_nowait()  # keys pressed during the instructions are not the end
        recording = start_recording(engine, caller, MAX_GREETING_S)
        how = await until_recorded(caller, recording, keys)
        frames = recording.frames
        recording.dissolve()
        if how == "gone":
            call_event("greeting-abandoned", channel=caller.name, menu=menu.name)
            return Cause.NORMAL_CLEARING
        keep = len(frames) - (KEY_TAIL_MS // FRAME_MS if how == "key" else 0)
        if keep * FRAME_MS / 1000 < MIN_GREETING_S:
            await say(engine, caller, ["vm-greeting-short"])
            return Cause.NORMAL_CLEARING
        samples = np.concatenate(frames[:keep]).astype(np.int16)
        path = directory / f"{menu.recording}.wav"
        await asyncio.to_thread(write_atomic, path, wav_bytes(samples), 0o644)
        await engine.reload_prompts()
        call_event("greeting-recorded", channel=caller.name, menu=menu.name,
                   seconds=f"{len(samples) / SAMPLE_RATE:.1f}")
        await say(engine, caller, [menu.recording, "vm-greeting-saved"])
    return Cause.NORMAL_CLEARING
