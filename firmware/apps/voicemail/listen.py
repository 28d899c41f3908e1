"""Listening to a mailbox: `*97` (your own) and `*98` (any: it asks which), the keys of
Asterisk's VoiceMailMain that FreePBX users know.

    login       the PIN, then '#' (3 tries, then "goodbye"). A mailbox without a PIN opens
                only from the owner's own phones, without asking.
    "you have two new messages, one saved message"
    main menu   1 listen   3 greetings   4 password   # goodbye
    a message   "message one from 1 0 2", then the message; it counts as heard (saved)
                5 again   6 next   4 previous   7 delete   9 save   * back to the menu
                (keys work while it plays)

A menu nobody answers is said again, three times at most, then the box says goodbye.
"""

from __future__ import annotations

import asyncio
import hmac
from dataclasses import replace
from typing import TYPE_CHECKING

from firmware.apps.voice import Listening, ask, play, say
from firmware.apps.voicemail.mailbox import Message
from firmware.apps.voicemail.options import change_greeting, change_pin
from firmware.config.voicemail import PIN_DIGITS
from firmware.engine.bridges import HoldingBridge
from firmware.engine.channel import Cause, Channel
from firmware.logs import call_event
from firmware.media.player import SamplePlayer
from firmware.media.prompts import say_count, say_number

if TYPE_CHECKING:
    from firmware.apps.voicemail import VoicemailApp

__all__ = ["check_messages"]

LOGIN_TRIES = 3
MENU_TRIES = 3
WAIT_S = 6.0  # for the first key after a menu
BETWEEN_S = 4.0  # between the keys of a PIN or a mailbox number
# The last key of *97 may still sound when the box starts listening: a fresh DTMF detector
# would take its tail for a first PIN digit (a key press lasts 40-200 ms).
KEY_TAIL_S = 0.3


class Session:
    """One caller logged in to one mailbox."""

    def __init__(self, app: VoicemailApp, channel: Channel, keys: asyncio.Queue[str],
                 mailbox: str) -> None:
        self.app = app
        self.engine = app.engine
        self.channel = channel
        self.keys = keys
        self.mailbox = mailbox

    async def say(self, prompts: list[str]) -> bool:
        return await say(self.engine, self.channel, prompts, self.keys)

    async def choose(self, prompts: list[str]) -> str:
        """One key after `prompts` ('#' and '*' count too); '' after MENU_TRIES silences."""
        for _ in range(MENU_TRIES):
            key = await ask(self.engine, self.channel, self.keys, prompts, first_s=WAIT_S,
                            end="")
            if key:
                return key
        return ""

    async def number(self, prompts: list[str], most: int) -> str:
        """Digits after `prompts`, ended by '#' (or after `most` digits, or a pause)."""
        return await ask(self.engine, self.channel, self.keys, prompts, digits=most,
                         first_s=WAIT_S, between_s=BETWEEN_S)


async def check_messages(app: VoicemailApp, channel: Channel, mailbox: str | None) -> Cause:
    """The destination of *97 (`mailbox`: the caller's own) and *98 (None: asks)."""
    channel.indicate(None)
    channel.accept()
    await asyncio.sleep(KEY_TAIL_S)
    try:
        async with Listening(channel) as keys:
            if mailbox is None:
                mailbox = await ask(app.engine, channel, keys, ["vm-mailbox"], digits=6,
                                    first_s=WAIT_S, between_s=BETWEEN_S)
            session = Session(app, channel, keys, mailbox)
            if await _login(session):
                call_event("voicemail-login", channel=channel.name, mailbox=mailbox)
                await _main_menu(session)
            else:
                call_event("voicemail-login-failed", channel=channel.name, mailbox=mailbox)
            await say(app.engine, channel, ["goodbye"])
    finally:
        if isinstance(channel.bridge, HoldingBridge):
            channel.bridge.dissolve()
    return Cause.NORMAL_CLEARING


async def _login(session: Session) -> bool:
    """The PIN, LOGIN_TRIES times at most. Every failure sounds the same, whether the
    mailbox exists or not (nobody learns which mailboxes there are)."""
    app, channel, mailbox = session.app, session.channel, session.mailbox
    known = mailbox in app.boxes
    pin = await app.pin(mailbox) if known else None
    own_phone = channel.internal and channel.party.number == mailbox
    if known and pin is None and own_phone:
        return True  # no PIN: the owner's own phone is the key
    for _ in range(LOGIN_TRIES):
        typed = await session.number(["vm-password"], PIN_DIGITS[1] + 1)
        if pin is not None and hmac.compare_digest(typed.encode(), pin.encode()):
            return True
        await session.say(["vm-wrong"])
    return False


async def _main_menu(session: Session) -> None:
    await session.say(await _summary(session))
    while True:
        key = await session.choose(["vm-main-menu"])
        if key == "1":
            await _messages(session)
        elif key == "3":
            await change_greeting(session)
        elif key == "4":
            await change_pin(session)
        elif key in ("", "#"):
            return
        else:
            await session.say(["not-valid"])


async def _summary(session: Session) -> list[str]:
    """ "you have two new messages, one saved message" / "you have no messages" """
    counts = await session.app.mailboxes.counts(session.mailbox)
    words = ["vm-you-have"]
    for n, kind in ((counts.new, "vm-new"), (counts.saved, "vm-old")):
        if n:
            words += [*_count(n), kind, "vm-message" if n == 1 else "vm-messages"]
    return words if counts.total else [*words, "vm-no-messages"]


async def _messages(session: Session) -> None:
    """Each message in turn (new ones first), with the message menu after it."""
    app = session.app
    messages = await app.mailboxes.messages(session.mailbox)
    if not messages:
        await session.say(["vm-you-have", "vm-no-messages"])
        return
    index = 0
    while 0 <= index < len(messages):
        message = messages[index]
        await _play(session, index, message)
        if message.folder == "new":  # heard: the lamp goes out once all are
            await app.mailboxes.move(message, "saved")
            messages[index] = message = _saved(message)
            await app.publish(session.mailbox)
        key = await session.choose(["vm-message-menu"])
        if key == "5":
            continue
        if key == "4":
            index = max(0, index - 1)
        elif key == "7":
            await app.mailboxes.delete(message)
            await app.publish(session.mailbox)
            call_event("voicemail-deleted", mailbox=session.mailbox, id=message.id)
            del messages[index]
            await session.say(["vm-deleted"])
        elif key == "9":
            await session.say(["vm-kept"])
            index += 1
        elif key in ("*", ""):
            return
        else:
            index += 1  # 6, and any other key: on to the next
    await session.say(["vm-no-more"])


async def _play(session: Session, index: int, message: Message) -> None:
    """ "message one from 1 0 2", then the message (a key cuts either short)."""
    envelope = ["vm-message", *_count(index + 1)]
    number = message.caller_number
    if number and number.isdigit():
        envelope += ["vm-from", *say_number(number)]
    if await session.say(envelope):
        return
    samples = await session.app.mailboxes.audio(message)
    if samples is None:
        return  # logged; the menu follows, so it can be deleted
    player = SamplePlayer(samples)
    await play(session.engine, session.channel, player, player.seconds, session.keys)


def _saved(message: Message) -> Message:
    return replace(message, folder="saved")


def _count(n: int) -> list[str]:
    """A count as words (digit by digit past what `say_count` says)."""
    return say_count(n) if n < 1000 else say_number(str(n))
