"""A SIP trunk leg: a call between the office and the outside world through the provider.

It is a SIP leg like a phone's (`firmware.engine.channels.sip`) with three differences:
the box places it to a number at the provider rather than to a registered phone; the
provider may challenge the INVITE (401/407), which the box answers once with the trunk's
credentials; and a call that comes in over it is never internal, so it cannot be passed
on to another outside line (toll fraud).
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING

from firmware.engine.channel import Party
from firmware.engine.channels.sip import SipChannel
from firmware.engine.channels.sip_media import SipMedia
from firmware.sip.transport import Address
from firmware.sip.uri import SipUri

if TYPE_CHECKING:
    from firmware.engine.sipua import SipUserAgent
    from firmware.engine.trunks import TrunkLink

_numbers = itertools.count(1)


class TrunkChannel(SipChannel):
    def __init__(self, ua: SipUserAgent, party: Party, media: SipMedia, peer: Address,
                 link: TrunkLink, *, inbound: bool, number: str | None = None) -> None:
        super().__init__(ua, party, media, peer, inbound=inbound, label=link.name)
        self.name = f"trunk:{link.name}/{next(_numbers)}"
        self.link = link
        self.number = number  # the outside number the box calls (outbound legs)
        self.challenged = False  # the provider's challenge has been answered once

    def target(self) -> SipUri:
        """The Request-URI of an outbound call: the number, at the provider."""
        host, port = self.link.config.target
        return SipUri(host=host, port=None if port == 5060 else port, user=self.number)

    def show_connected(self, party: Party) -> None:
        """Not to the provider: the outside caller keeps seeing the office's number."""
