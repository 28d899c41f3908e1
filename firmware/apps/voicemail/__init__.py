"""Voicemail: a mailbox for each extension with `voicemail = true` (docs/voicemail.md).

    leave       the "voicemail:101" destination: greeting, tone, message, "saved"
    listen      *97 / *98: PIN, messages, the menus
    options     greetings and PIN, from the main menu
    recording   recording after the tone, trimming the '#'
    mailbox     messages (WAV files) and their index, PINs and greetings in the store

Where calls come from: an extension not answered (after its forwards) or busy
(`firmware.engine.dial`), a failed transfer whose transferrer is gone too
(`firmware.engine.features.hold.to_operator`), and any destination of the config
("voicemail:101"). The counts of every mailbox go to the engine's message-waiting board
(`Engine.mwi`) at start-up and after every change; the engine's indicators do the rest.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import TYPE_CHECKING

from firmware.apps.voicemail.leave import leave_message
from firmware.apps.voicemail.listen import check_messages
from firmware.apps.voicemail.mailbox import Mailboxes
from firmware.config import ExtensionConfig, OfficeConfig
from firmware.config.voicemail import VoicemailConfig
from firmware.engine.channel import Cause, Channel
from firmware.engine.dialplan import Destination, DialPlan
from firmware.engine.mwi import MessageCounts
from firmware.store import Store

if TYPE_CHECKING:
    from firmware.engine.pbx import Engine

__all__ = ["BUSY", "VoicemailApp"]

BUSY = "busy"  # "voicemail:101/busy": the busy greeting


class VoicemailApp:
    kind = "voicemail"

    def __init__(self, state_dir: Path, store: Store) -> None:
        self.mailboxes = Mailboxes(store, state_dir)
        self.config = VoicemailConfig()
        self.boxes: dict[str, ExtensionConfig] = {}  # mailbox -> its extension
        self._engine: Engine | None = None
        self._started = False

    @property
    def engine(self) -> Engine:
        assert self._engine is not None, "voicemail is used before the engine configured it"
        return self._engine

    # -- App ------------------------------------------------------------------------------

    def configure(self, engine: Engine, office: OfficeConfig, dialplan: DialPlan) -> None:
        self._engine = engine
        self.config = office.voicemail
        self.boxes = {ext.number: ext for ext in office.extensions if ext.voicemail}
        dialplan.add(office.features.voicemail, self._own_mailbox)
        dialplan.add(office.features.voicemail_any,
                     functools.partial(check_messages, self, mailbox=None))
        if self._started:  # a reload: mailboxes may have come or gone
            self._publish_all()

    def destination(self, name: str) -> Destination | None:
        mailbox, _, greeting = name.partition("/")
        if mailbox not in self.boxes or greeting not in ("", BUSY):
            return None
        return functools.partial(leave_message, self, mailbox, greeting == BUSY)

    def start(self, engine: Engine) -> None:
        """The state kept on the card, before any phone asks (a phone that subscribes the
        moment the box is up gets the right counts); the lamps follow from it."""
        self._started = True
        self._show(self.mailboxes.all_counts_now(sorted(self.boxes)))

    async def stop(self) -> None:
        self._started = False

    # -- for the parts ------------------------------------------------------------------

    async def pin(self, mailbox: str) -> str | None:
        """The owner's PIN as set by phone, else the config's; None: none at all."""
        stored = await self.mailboxes.pin(mailbox)
        box = self.boxes.get(mailbox)
        return stored or (box.pin if box is not None else None)

    async def publish(self, mailbox: str) -> None:
        """Tell the engine's message waiting how `mailbox` stands now."""
        if mailbox in self.boxes:
            self.engine.mwi.set(mailbox, await self.mailboxes.counts(mailbox))

    async def _own_mailbox(self, channel: Channel) -> Cause:
        return await check_messages(self, channel, channel.party.number)

    def _publish_all(self) -> None:
        self.engine.supervisor.spawn("voicemail counts", self._publish_counts())

    async def _publish_counts(self) -> None:
        self._show(await self.mailboxes.all_counts(sorted(self.boxes)))

    def _show(self, counts: dict[str, MessageCounts]) -> None:
        for mailbox in self.engine.mwi.mailboxes():
            if mailbox not in self.boxes:
                self.engine.mwi.remove(mailbox)
        for mailbox, mailbox_counts in counts.items():
            self.engine.mwi.set(mailbox, mailbox_counts)
