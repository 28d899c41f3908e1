"""The office config's SIP trunks ([[trunk]]) and outbound routes ([[route]]).

A trunk is the office's account at a SIP provider: the box registers there and calls come
in by the number dialled (the DID) and go out by an outbound route: a prefix the office
dials first (`9`), the trunk to use, and the numbers allowed (dial patterns, see
`firmware.config.patterns`). International numbers are refused unless a route allows them:
toll fraud is how a PBX costs its office money (REFERENCE.md, "Security facts").
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, StrictInt, StrictStr, ValidationInfo

from firmware.config.destinations import Target
from firmware.config.lines import FXO_PORT, check_fxo_port
from firmware.config.model import Model
from firmware.config.patterns import DialPattern, PatternError
from firmware.config.problems import Issue, fail
from firmware.config.sip import HOSTNAME
from firmware.config.tomlkeys import KeyPath, format_key, tables

__all__ = ["INTERNATIONAL_PREFIX", "RouteConfig", "TrunkConfig", "parse_target",
           "trunk_checks"]

# What a caller dials before a country code, by the office's country (ITU-T E.164 annex).
INTERNATIONAL_PREFIX = {"us": "011", "uk": "00", "de": "00", "fr": "00"}

_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,31}")
_DID = re.compile(r"\+?[0-9]{2,20}")
_USER = re.compile(r"[A-Za-z0-9._~+-]{1,64}")  # an account name as providers issue them


def parse_target(value: str) -> tuple[str, int]:
    """'sip.example.net', 'sip.example.net:5080', '192.0.2.1', '[2001:db8::1]:5062'
    -> (host, port); ValueError with the reason."""
    host, port = value, 5060
    if value.startswith("["):
        host, _, rest = value[1:].partition("]")
        if rest:
            if not rest.startswith(":") or not rest[1:].isdigit():
                raise ValueError("expected [IPv6]:PORT")
            port = int(rest[1:])
        ipaddress.IPv6Address(host)
    elif value.count(":") == 1:
        host, _, text = value.partition(":")
        if not text.isdigit():
            raise ValueError(f"{text!r} is not a port number")
        port = int(text)
    if not 1 <= port <= 65535:
        raise ValueError("the port must be 1-65535")
    if not value.startswith("[") and not HOSTNAME.fullmatch(host):
        raise ValueError(f"{host!r} is not a host name or IPv4 address")
    return host.lower(), port


def _check_target(value: str) -> str:
    try:
        parse_target(value)
    except ValueError as exc:
        raise fail(f"{value!r} is not a provider address: {exc}",
                   'use the host name the provider gives, with :PORT if it is not 5060, '
                   'e.g. host = "sip.provider.example"') from None
    return value


def _check_name(value: str) -> str:
    if not _NAME.fullmatch(value):
        raise fail(f"{value!r} is not a trunk name",
                   'use lower-case letters, digits, - and _, e.g. name = "provider"')
    return value


def _check_user(value: str) -> str:
    if not _USER.fullmatch(value):
        raise fail(f"{value!r} is not an account name the box can send",
                   "copy the user name from the provider's account page (letters, digits,"
                   " . _ ~ + -)")
    return value


def _check_did(value: str) -> str:
    if not _DID.fullmatch(value):
        raise fail(f"{value!r} is not a phone number",
                   'write the number as the provider sends it, digits with an optional +, '
                   'e.g. "+15125550100"')
    return value


def _check_source(value: str) -> str:
    try:
        ipaddress.ip_network(value, strict=False)
    except ValueError:
        raise fail(f"{value!r} is not an IP address or network",
                   'use addresses the provider lists, e.g. "192.0.2.10" or "192.0.2.0/24"'
                   ) from None
    return value


def _check_pattern(value: str) -> str:
    try:
        DialPattern.parse(value)
    except PatternError as exc:
        raise fail(f"{value!r} is not a dial pattern: {exc}",
                   'use digits and X (0-9), Z (1-9), N (2-9), [1-5], and a final "." for '
                   '"and more digits", e.g. "NXXNXXXXXX"') from None
    return value


def _check_prefix(value: str) -> str:
    if not re.fullmatch(r"[0-9*#]{1,4}", value):
        raise fail(f"{value!r} is not a dialling prefix",
                   'use one to four digits, e.g. prefix = "9"')
    return value


Name = Annotated[StrictStr, AfterValidator(_check_name)]
Did = Annotated[StrictStr, AfterValidator(_check_did)]


def _check_way_out(value: str, info: ValidationInfo) -> str:
    """A [[trunk]] name, or a phone-line port of the board ("fxo:1")."""
    return check_fxo_port(value, info) if value.startswith("fxo") else _check_name(value)


WayOut = Annotated[StrictStr, AfterValidator(_check_way_out)]


class TrunkConfig(Model):
    """[[trunk]]: the office's account at a SIP provider."""

    name: Name
    host: Annotated[StrictStr, AfterValidator(_check_target)] = Field(
        description="the provider's registrar and proxy, HOST or HOST:PORT")
    transport: Literal["udp", "tcp"] = "udp"
    username: Annotated[StrictStr, AfterValidator(_check_user)]
    auth_username: Annotated[StrictStr, AfterValidator(_check_user)] | None = Field(
        None, description="when the provider's auth user differs from username")
    # The provider chose it, so no length rule: but it is never logged.
    secret: Annotated[StrictStr, Field(min_length=1, max_length=128)] | None = None
    # `register` in the file; the attribute name dodges ABCMeta.register on the model class.
    registers: bool = Field(True, strict=True, alias="register")
    expires_s: Annotated[StrictInt, Field(ge=60, le=86400)] = 600
    caller_id: Did | None = Field(
        None, description="the office's number, shown on outgoing calls")
    inbound: dict[Did, Target] = Field(
        default_factory=dict, description="called number (DID) -> destination")
    inbound_default: Target | None = Field(
        None, description="where calls to any other number go")
    also_from: tuple[Annotated[StrictStr, AfterValidator(_check_source)], ...] = Field(
        (), description="other addresses the provider's calls come from")
    ring_timeout_s: Annotated[float, Field(strict=True, gt=0, le=600)] = 120.0

    @property
    def target(self) -> tuple[str, int]:
        return parse_target(self.host)

    @property
    def auth_user(self) -> str:
        return self.auth_username or self.username

    def destination(self, called: str) -> str | None:
        """Where a call to `called` goes ('+1512...' and '1512...' are one)."""
        bare = called.removeprefix("+")
        for did, extension in self.inbound.items():
            if did.removeprefix("+") == bare:
                return extension
        return self.inbound_default


class RouteConfig(Model):
    """[[route]]: numbers dialled with `prefix` go out through `trunk`."""

    prefix: Annotated[StrictStr, AfterValidator(_check_prefix)]
    trunk: WayOut  # a [[trunk]] name, or the board's phone line: "fxo:1"
    allow: Annotated[tuple[Annotated[StrictStr, AfterValidator(_check_pattern)], ...],
                     Field(min_length=1)]
    international: bool = Field(False, strict=True)
    prepend: Annotated[StrictStr, Field(pattern=r"^\+?[0-9]{0,8}$")] = Field(
        "", description="put before the number sent to the provider, e.g. +1")

    def patterns(self) -> tuple[DialPattern, ...]:
        return tuple(DialPattern.parse(text) for text in self.allow)


def trunk_checks(data: Mapping[str, Any]) -> list[Issue]:
    """Checks that involve trunks, routes and extensions together."""
    issues: list[Issue] = []
    names: dict[str, KeyPath] = {}
    extensions = {ext.get("number") for _, ext in tables(data, "extension")}
    for path, trunk in tables(data, "trunk"):
        name = trunk.get("name")
        if isinstance(name, str) and name in names:
            issues.append(Issue((*path, "name"), f"trunk {name!r} is defined twice (also at "
                                f"{format_key(names[name])})", "give each trunk its own name"))
        elif isinstance(name, str):
            names[name] = path
        if trunk.get("register", True) is True and "secret" not in trunk:
            issues.append(Issue(path, "the box must register to the provider but has no"
                                " password for it", 'add secret = "..." from the provider, or'
                                " register = false if the provider lets the box in by address"))
    country = (data.get("site") or {}).get("country", "us")
    issues += _route_checks(data, names, extensions, INTERNATIONAL_PREFIX.get(country, "00"))
    return issues


def _route_checks(data: Mapping[str, Any], trunks: Mapping[str, KeyPath],
                  extensions: set[object], international: str) -> list[Issue]:
    issues: list[Issue] = []
    prefixes: dict[str, KeyPath] = {}
    for path, route in tables(data, "route"):
        trunk = route.get("trunk")
        if isinstance(trunk, str) and trunk not in trunks and not FXO_PORT.fullmatch(trunk):
            have = ", ".join(sorted(trunks)) or "none defined"
            issues.append(Issue((*path, "trunk"), f"there is no trunk {trunk!r} ({have})",
                                'name a [[trunk]] by its name, or a phone line: "fxo:1"'))
        prefix = route.get("prefix")
        if isinstance(prefix, str):
            if prefix in prefixes:
                issues.append(Issue((*path, "prefix"), f"prefix {prefix} is used twice (also"
                                    f" at {format_key(prefixes[prefix])})",
                                    "give each route its own prefix"))
            prefixes[prefix] = path
            clash = sorted(str(n) for n in extensions if isinstance(n, str)
                           and (n.startswith(prefix) or prefix.startswith(n)))
            if clash:
                issues.append(Issue((*path, "prefix"), f"prefix {prefix} clashes with "
                                    f"extension {', '.join(clash)}: the box cannot tell an "
                                    "outside number from the extension",
                                    "use a prefix no extension number begins with, e.g. 9"))
        if route.get("international", False) is not True:
            allow = route.get("allow")
            for j, text in enumerate(allow if isinstance(allow, list | tuple) else ()):
                try:
                    start = DialPattern.parse(text).literal_start() if isinstance(text, str) \
                        else ""
                except PatternError:
                    continue
                if start.startswith(international):
                    issues.append(Issue(
                        (*path, "allow", j), f"{text!r} is an international number, and "
                        "international calls are off on this route",
                        "set international = true on this route if the office may call abroad"))
    return issues
