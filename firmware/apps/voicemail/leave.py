"""Leaving a message: the "voicemail:101" destination ("voicemail:101/busy" for the busy
greeting: where a busy extension sends its callers).

    greeting    the owner's recording, else "extension 1 0 1 is not available (is on the
                phone). please leave a message after the tone"; while it plays:
                  #          straight to the tone
                  0          the operator ([voicemail] operator_key, if the office has one)
                  *          the owner logs in to the mailbox (PIN), as from *98
    tone        then the caller speaks; '#' ends, or hanging up, or the time limit
    saved       the WAV is fsynced and its row committed, THEN "your message has been
                saved. goodbye"; a hang-up saves just the same, in the background
                (a message shorter than [voicemail] min_message_s is dropped: a hang-up
                at the tone leaves nothing to listen to)

A full mailbox says so and takes nothing. The phones of the mailbox learn of the new
message at once (message waiting).
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from firmware.apps.voice import Listening, play, say
from firmware.apps.voicemail import recording
from firmware.apps.voicemail.listen import KEY_TAIL_S, check_messages
from firmware.apps.voicemail.recording import Recorded
from firmware.engine.bridges import HoldingBridge
from firmware.engine.channel import Cause, Channel, Party
from firmware.engine.features.hold import play_ringback
from firmware.logs import call_event
from firmware.media.player import SamplePlayer
from firmware.media.prompts import say_number

if TYPE_CHECKING:
    from firmware.apps.voicemail import VoicemailApp

__all__ = ["leave_message"]


async def leave_message(app: VoicemailApp, mailbox: str, busy: bool, channel: Channel) -> Cause:
    engine = app.engine
    channel.indicate(None)  # the ringback it heard while the extension rang
    channel.accept()
    call_event("voicemail", channel=channel.name, mailbox=mailbox,
               greeting="busy" if busy else "unavailable", caller=channel.party.number)
    await asyncio.sleep(KEY_TAIL_S)  # a busy number comes here as soon as it is dialled
    try:
        async with Listening(channel) as keys:
            key = await _greeting(app, mailbox, busy, channel, keys)
            if key is None:
                await _record(app, mailbox, channel, keys)
        if key == "*":
            return await check_messages(app, channel, mailbox)
        if key == app.config.operator_key:
            call_event("voicemail-operator", channel=channel.name, mailbox=mailbox)
            play_ringback(engine, channel)  # kept on hold meanwhile, never alone
            return await engine.route(channel, "operator")
        return Cause.NORMAL_CLEARING
    finally:
        if isinstance(channel.bridge, HoldingBridge):
            # Done: a transferred caller's own session now sees that this call is over.
            channel.bridge.dissolve()


async def _greeting(app: VoicemailApp, mailbox: str, busy: bool, channel: Channel,
                    keys: asyncio.Queue[str]) -> str | None:
    """Play the greeting; the key that leaves voicemail ('*', the operator's), or None to
    record. A full mailbox has said so and ends here ("full")."""
    engine = app.engine
    if (await app.mailboxes.counts(mailbox)).total >= app.config.max_messages:
        call_event("voicemail-full", channel=channel.name, mailbox=mailbox)
        await say(engine, channel, ["vm-full"])
        return "full"
    own = await app.mailboxes.greeting(mailbox, "busy" if busy else "unavailable")
    if own is not None:
        player = SamplePlayer(own)
        pressed = await play(engine, channel, player, player.seconds, keys)
    else:
        pressed = await say(engine, channel, ["extension", *say_number(mailbox),
                                              "vm-busy" if busy else "vm-unavailable"], keys)
    if pressed:
        key = keys.get_nowait()
        operator = engine.office.features.operator
        if key == app.config.operator_key and operator is not None and operator != mailbox:
            return key
        if key == "*":
            return key
    return None  # '#' and any other key: on to the tone


async def _record(app: VoicemailApp, mailbox: str, channel: Channel,
                  keys: asyncio.Queue[str]) -> None:
    engine = app.engine
    await recording.beep(engine, channel)
    bridge = recording.start(engine, channel, keys, app.config.max_message_s)
    caller = channel.party  # the caller, also when a transfer or a forward brought them
    try:
        ended = await recording.until_recorded(channel, bridge, keys)
    except asyncio.CancelledError:
        # The caller hung up (their call's session is cancelled): keep what they said.
        _keep_later(app, mailbox, caller, recording.recorded(bridge.frames, "gone"))
        raise
    message = recording.recorded(bridge.frames, ended)
    if ended == "gone":
        _keep_later(app, mailbox, caller, message)
        return
    recording.quiet(engine, channel)
    # Shielded: a hang-up now must not stop the save half-way (the task finishes anyway).
    saved = await asyncio.shield(_keep_later(app, mailbox, caller, message))
    await say(engine, channel, ["vm-saved"] if saved else ["goodbye"])


def _keep_later(app: VoicemailApp, mailbox: str, caller: Party,
                message: Recorded) -> asyncio.Task[bool]:
    """Save `message` in a task of its own, which no hang-up cancels."""
    return app.engine.supervisor.spawn(f"voicemail save {mailbox}",
                                       _keep(app, mailbox, caller, message))


async def _keep(app: VoicemailApp, mailbox: str, caller: Party, message: Recorded) -> bool:
    """True if the message was long enough, and is now durable."""
    if message.seconds < app.config.min_message_s:
        call_event("voicemail-dropped", mailbox=mailbox, seconds=f"{message.seconds:.1f}",
                   why="too short")
        return False
    saved = await app.mailboxes.save_message(mailbox, caller, message.samples)
    call_event("voicemail-saved", mailbox=mailbox, id=saved.id, caller=caller.number,
               seconds=f"{saved.duration_s:.1f}", ended=message.ended)
    await app.publish(mailbox)
    return True
