"""The office config's SIP settings: [sip] (where the box listens) and extension secrets.

Trunks and outbound routes are in `firmware.config.trunk`.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, StrictInt, StrictStr

from firmware.config.model import Model
from firmware.config.problems import fail

__all__ = ["HOSTNAME", "Secret", "SipConfig", "parse_hostport", "parse_port_range"]

HOSTNAME = re.compile(r"(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)*"
                      r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?")
MIN_SECRET = 8  # scanners try numbers and short words first (REFERENCE.md, "Security facts")


def parse_hostport(value: str) -> tuple[str, int]:
    """'0.0.0.0:5060', '[::1]:5060' -> (host, port); ValueError with the reason."""
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ValueError("expected HOST:PORT with a port 0-65535")
    host = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    try:
        ipaddress.ip_address(host)
    except ValueError:
        raise ValueError(f"{host!r} is not an IP address") from None
    return host, int(port)


def parse_port_range(value: str) -> tuple[int, int]:
    low, sep, high = value.partition("-")
    if not sep or not low.isdigit() or not high.isdigit():
        raise ValueError("expected LOW-HIGH")
    lo, hi = int(low), int(high)
    if not 1024 <= lo < hi <= 65535 or hi - lo < 3:
        raise ValueError("the range must lie within 1024-65535 and hold at least two port pairs")
    return lo, hi


def _check_listen(value: str) -> str:
    try:
        parse_hostport(value)
    except ValueError as exc:
        raise fail(f"{value!r} is not an address to listen on: {exc}",
                   'use an IP address and port, e.g. listen = "0.0.0.0:5060"') from None
    return value


def _check_rtp_ports(value: str) -> str:
    try:
        parse_port_range(value)
    except ValueError as exc:
        raise fail(f"{value!r} is not a port range: {exc}",
                   'use e.g. rtp_ports = "10000-20000"') from None
    return value


def _check_domain(value: str) -> str:
    if not HOSTNAME.fullmatch(value):
        raise fail(f"{value!r} is not a domain name", 'use e.g. domain = "pbx.example.com"')
    return value.lower()


def _check_secret(value: str) -> str:
    if len(value) < MIN_SECRET:
        raise fail(f"a secret of {len(value)} characters is guessed by scanners in minutes",
                   f"use at least {MIN_SECRET} characters, or leave secret out and the box"
                   " generates one (shown by `python -m tools.secrets`)")
    if not value.isascii() or not value.isprintable():
        raise fail("a secret must be printable ASCII (phones cannot type the rest)",
                   "use letters, digits and punctuation")
    return value


Secret = Annotated[StrictStr, AfterValidator(_check_secret)]


class SipConfig(Model):
    """[sip]: where the box listens for phones and trunks."""

    listen: Annotated[StrictStr, AfterValidator(_check_listen)] = Field(
        "0.0.0.0:5060", description="UDP and TCP address for SIP")
    domain: Annotated[StrictStr, AfterValidator(_check_domain)] | None = Field(
        None, description="the SIP domain and auth realm; unset: any of the box's addresses")
    rtp_ports: Annotated[StrictStr, AfterValidator(_check_rtp_ports)] = Field(
        "10000-20000", description="UDP ports for call audio (RTP and RTCP)")
    # Some phones (baresip 1.0's libre, older desk-phone firmware) fail to register when
    # any challenge names an algorithm they lack, so SHA-256 (RFC 8760) is opt-in.
    auth_algorithms: Annotated[tuple[Literal["MD5", "SHA-256"], ...],
                               Field(min_length=1, max_length=2)] = Field(
        ("MD5",), description="digest algorithms offered, in this order")

    ban_failures: Annotated[StrictInt, Field(ge=1, le=100)] = Field(
        5, description="failed logins from one address that get it banned")
    ban_window_s: Annotated[float, Field(strict=True, gt=0, le=86400)] = Field(
        60.0, description="within this many seconds")
    ban_s: Annotated[float, Field(strict=True, gt=0, le=604800)] = Field(
        600.0, description="for this many seconds")

    @property
    def listen_address(self) -> tuple[str, int]:
        return parse_hostport(self.listen)

    @property
    def rtp_port_range(self) -> tuple[int, int]:
        return parse_port_range(self.rtp_ports)
