"""A mailbox owner's options by phone: record the greetings, change the PIN.

    3 greetings   1 the unavailable greeting, 2 the busy one: "record your greeting after
                  the tone, then press pound"; kept (durable) before "greeting saved";
                  one shorter than [voicemail] min_message_s leaves the old one in place
    4 password    the new PIN (4-10 digits) and '#', then again to confirm; kept in the
                  store, where it wins over the config's `pin`
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from firmware.apps.voicemail import recording
from firmware.apps.voicemail.mailbox import Greeting
from firmware.config.voicemail import PIN_DIGITS, valid_pin
from firmware.logs import call_event

if TYPE_CHECKING:
    from firmware.apps.voicemail.listen import Session

__all__ = ["change_greeting", "change_pin"]

GREETINGS: dict[str, Greeting] = {"1": "unavailable", "2": "busy"}


async def change_greeting(session: Session) -> None:
    kind = GREETINGS.get(await session.choose(["vm-greeting-menu"]))
    if kind is None:
        return  # back to the main menu
    app = session.app
    await session.say(["record-greeting"])
    greeting = await recording.record(session.engine, session.channel, session.keys,
                                      app.config.max_greeting_s)
    if greeting.ended == "gone":
        return
    if greeting.seconds < max(app.config.min_message_s, 0.5):
        await session.say(["vm-greeting-short"])
        return
    await app.mailboxes.save_greeting(session.mailbox, kind, greeting.samples)
    call_event("voicemail-greeting", mailbox=session.mailbox, greeting=kind,
               seconds=f"{greeting.seconds:.1f}")
    await session.say(["vm-greeting-saved"])


async def change_pin(session: Session) -> None:
    most = PIN_DIGITS[1] + 1  # one more than a PIN has: a longer one is refused, not cut
    pin = await session.number(["vm-new-password"], most)
    if not valid_pin(pin):
        await session.say(["vm-password-invalid"])
        return
    if await session.number(["vm-reenter-password"], most) != pin:
        await session.say(["vm-password-mismatch"])
        return
    await session.app.mailboxes.set_pin(session.mailbox, pin)
    call_event("voicemail-pin", mailbox=session.mailbox)
    await session.say(["vm-password-saved"])
