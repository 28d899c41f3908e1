"""How to call someone back: the number an office phone would dial to reach who is on a
channel, for queue callbacks and manager-callback promises.

- A caller from an office extension: their extension number.
- A caller from outside (a SIP trunk, the phone line): their number as it arrived,
  dialled out the way an office phone would: a `[[route]]`'s prefix, then the number
  without the route's `prepend` (`+15125550123` arrives, `9 5125550123` is dialled with
  `prefix = "9"`, `prepend = "+1"`). A route on the line the call came in on is preferred.

The number must be one the route allows (its patterns, and no international number unless
it allows them): a spoofed caller ID cannot make the box call a premium line abroad.
Without such a route the caller cannot be called back, and is not offered it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from firmware.config import INTERNATIONAL_PREFIX
from firmware.engine.outbound import is_international

if TYPE_CHECKING:
    from firmware.config import OfficeConfig, RouteConfig
    from firmware.engine.channel import Channel

__all__ = ["callback_number"]


def callback_number(office: OfficeConfig, channel: Channel) -> str | None:
    """What to dial to reach the person on `channel` again; None if the box cannot."""
    number = channel.party.number
    if not number:
        return None
    if channel.internal and office.extension(number) is not None:
        return number
    came_in = _line_of(channel)
    routes = sorted(office.routes, key=lambda r: r.trunk != came_in)  # its own line first
    for route in routes:
        rest = _allowed(route, number, office.site.country)
        if rest is not None:
            return route.prefix + rest
    return None


def _line_of(channel: Channel) -> str | None:
    """The trunk (or phone line) an outside call came in on, if the channel says."""
    link = getattr(channel, "link", None)  # a SIP trunk leg
    name = getattr(link, "name", None)
    return name if isinstance(name, str) else getattr(channel, "line_name", None)


def _allowed(route: RouteConfig, number: str, country: str) -> str | None:
    """`number` as dialled after `route`'s prefix, if the route allows it. A number with
    a "+" is international unless the route's `prepend` takes it off with the country
    code ("+1"); the "+" is never just dropped (+44... is not the national 44...)."""
    if number.startswith("+"):
        forms = (number, INTERNATIONAL_PREFIX.get(country, "00") + number[1:])
    else:
        forms = (number, "+" + number)  # (a provider that leaves the "+" out)
    for form in forms:
        if not form.startswith(route.prepend):
            continue
        rest = form[len(route.prepend):]
        if not rest.isdigit():
            continue
        if not route.international and is_international(rest, country):
            continue
        if any(p.matches(rest) for p in route.patterns()):
            return rest
    return None
