"""SDP bodies (RFC 4566) for G.711 calls: the types, `parse()` and `bytes()`.

Theory of operation
-------------------
An SDP body is a list of `<type>=<value>` lines (RFC 4566 §5; RFC 8866 keeps the same
grammar). The session part comes first, then one media section per `m=` line:

    v=0                                   protocol version, always 0 (§5.1)
    o=<user> <sess-id> <version> IN IP4 <address>     origin (§5.2); the version goes up
                                          by one with every new offer in a dialog (RFC 3264 §8)
    s=<name>                              session name (§5.3)
    i= u= e= p=                           information lines we keep and ignore
    c=IN IP4 <address>                    connection (§5.7): where media goes, unless an m=
                                          section has its own c=
    b= t= r= z= k=                        bandwidth, timing, ... kept and ignored
    a=<name>[:<value>]                    session attributes (§5.13)
    m=<media> <port> <proto> <fmt> ...    one media stream (§5.14); for RTP/AVP the formats
                                          are RTP payload types (RFC 3551)
    i= c= b= k= a=...                     the same kinds of line for this stream

`parse()` is tolerant where peers differ harmlessly (LF-only line ends, unknown type letters,
unknown attributes, ICE/rtcp/crypto/ssrc lines: all kept or skipped, never fatal) and strict
where a mistake would send audio to the wrong place (v=0 first, one o=, well-formed m=, c=,
rtpmap and fmtp lines, and a c= for every stream that is not rejected). Every failure raises
`SdpError` with an exact message and a status hint (400 for a malformed body, 488 "Not
Acceptable Here" when the body is fine but nothing in it can be used).

`bytes()` writes CRLF line ends in the field order of RFC 4566 §5. Inside an m= section the
attributes are written in one canonical order: `rtpmap`/`fmtp` per payload type in format
order, `ptime`, every other attribute in the order it arrived, then the direction. Input in
that order (ours, Asterisk's) round-trips byte for byte; other input round-trips to the same
`SessionDescription`.

Codecs. Static payload types (RFC 3551 table 4: 0 PCMU, 8 PCMA, ...) are known without an
`a=rtpmap` line; dynamic ones (96-127) only through one. Codecs are matched by encoding name
(case-insensitive), clock rate and channel count, never by payload type number, because the
offerer chooses the numbers (RFC 3264 §5.1). DTMF travels as RFC 4733 `telephone-event`,
whose clock rate must equal the audio codec's (RFC 4733 §7.1.1), usually on PT 101.

Direction is per stream: a session-level direction attribute is the default for every m=
section without its own (RFC 4566 §6), and `parse()` resolves it into each
`MediaDescription.direction`; `bytes()` always writes the stream's direction explicitly.

The offer/answer model (RFC 3264: `make_offer`, `make_answer`, `negotiated`, `Negotiated`)
lives in `firmware.sip.offer_answer`.
"""

from __future__ import annotations

import enum
import itertools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

__all__ = [
    "PCMA",
    "PCMU",
    "TELEPHONE_EVENT",
    "Codec",
    "Direction",
    "MediaDescription",
    "Origin",
    "SdpError",
    "SessionDescription",
]


class SdpError(ValueError):
    """An SDP body is malformed (status hint 400) or offers nothing we can use (488)."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


# ---------------------------------------------------------------------------------------------
# Codecs and directions


@dataclass(frozen=True, slots=True)
class Codec:
    """One RTP payload format: `a=rtpmap:<payload_type> <name>/<rate>[/<channels>]`."""

    payload_type: int
    name: str
    rate: int = 8000
    fmtp: str | None = None
    channels: int | None = None  # the rtpmap's encoding parameters; None when not written

    def same_format(self, other: Codec) -> bool:
        """The same encoding, whatever payload type number each side gave it (RFC 3264 §5.1)."""
        return (
            self.name.lower() == other.name.lower()
            and self.rate == other.rate
            and (self.channels or 1) == (other.channels or 1)
        )

    @property
    def is_dtmf(self) -> bool:
        return self.name.lower() == "telephone-event"

    @property
    def rtpmap(self) -> str:
        suffix = f"/{self.channels}" if self.channels is not None else ""
        return f"{self.payload_type} {self.name}/{self.rate}{suffix}"


PCMU = Codec(0, "PCMU")
PCMA = Codec(8, "PCMA")
# Events 0-15 are the DTMF digits, 16 is hook flash (RFC 4733 §3.2).
TELEPHONE_EVENT = Codec(101, "telephone-event", fmtp="0-16")

# RFC 3551 table 4: audio payload types with a fixed meaning, valid without an rtpmap line.
_STATIC_AUDIO: dict[int, tuple[str, int]] = {
    0: ("PCMU", 8000),
    3: ("GSM", 8000),
    4: ("G723", 8000),
    8: ("PCMA", 8000),
    9: ("G722", 8000),  # its RTP clock is 8000 although it samples at 16 kHz (RFC 3551 §4.5.2)
    13: ("CN", 8000),
    18: ("G729", 8000),
}


class Direction(enum.Enum):
    """Which way media flows, seen from the side that wrote the SDP (RFC 3264 §5.1)."""

    SENDRECV = "sendrecv"
    SENDONLY = "sendonly"
    RECVONLY = "recvonly"
    INACTIVE = "inactive"

    @property
    def sends(self) -> bool:
        return self in (Direction.SENDRECV, Direction.SENDONLY)

    @property
    def receives(self) -> bool:
        return self in (Direction.SENDRECV, Direction.RECVONLY)

    @classmethod
    def of(cls, *, sends: bool, receives: bool) -> Direction:
        if sends:
            return cls.SENDRECV if receives else cls.SENDONLY
        return cls.RECVONLY if receives else cls.INACTIVE

    def reverse(self) -> Direction:
        """The direction the other side sees: the answer to an offer of this (RFC 3264 §6.1)."""
        return Direction.of(sends=self.receives, receives=self.sends)


_DIRECTIONS = {d.value: d for d in Direction}


# ---------------------------------------------------------------------------------------------
# The description


@dataclass(frozen=True, slots=True)
class Origin:
    """The o= line (RFC 4566 §5.2): who made the session and which revision this is."""

    username: str
    session_id: int
    version: int
    nettype: str
    addrtype: str
    address: str

    def __str__(self) -> str:
        return (
            f"{self.username} {self.session_id} {self.version} "
            f"{self.nettype} {self.addrtype} {self.address}"
        )


Attribute = tuple[str, str | None]  # a=<name>:<value>, or a=<name> as (name, None)
Line = tuple[str, str]  # another line kept as it came: (type letter, value)

# RFC 4566 §5 order of the lines we keep but do not model; c= sits at 4 (session) / 1 (media).
_SESSION_ORDER = {"i": 0, "u": 1, "e": 2, "p": 3, "b": 5, "t": 6, "r": 6, "z": 7, "k": 8}
_SESSION_C = 4
_MEDIA_ORDER = {"i": 0, "b": 2, "k": 3}
_MEDIA_C = 1


@dataclass(frozen=True, slots=True)
class MediaDescription:
    """One m= section. `formats` are RTP payload types; `format_tokens` holds the formats of a
    stream that is not RTP (for example `m=image 0 udptl t38`), which we only ever reject."""

    media: str
    port: int
    proto: str
    formats: tuple[int, ...]
    codecs: tuple[Codec, ...] = ()
    direction: Direction = Direction.SENDRECV
    ptime: int | None = None
    connection: str | None = None
    attributes: tuple[Attribute, ...] = ()
    lines: tuple[Line, ...] = ()
    format_tokens: tuple[str, ...] = ()
    port_count: int | None = None  # m=<media> <port>/<count>: rare, kept for the round trip

    @property
    def is_rtp(self) -> bool:
        return "RTP/" in self.proto.upper()

    @property
    def rejected(self) -> bool:
        return self.port == 0

    def codec(self, payload_type: int) -> Codec | None:
        for codec in self.codecs:
            if codec.payload_type == payload_type:
                return codec
        return None

    def attribute(self, name: str) -> str | None:
        """The value of the first `a=<name>:<value>` kept for this stream."""
        for key, value in self.attributes:
            if key == name:
                return value
        return None

    def sdp_lines(self) -> list[str]:
        port = str(self.port) if self.port_count is None else f"{self.port}/{self.port_count}"
        fmts = self.format_tokens or tuple(str(pt) for pt in self.formats)
        out = [f"m={self.media} {port} {self.proto} {' '.join(fmts)}"]
        lines = sorted(self.lines, key=lambda line: _MEDIA_ORDER.get(line[0], 9))
        out += [f"{t}={v}" for t, v in lines if _MEDIA_ORDER.get(t, 9) < _MEDIA_C]
        if self.connection is not None:
            out.append(_c_line(self.connection))
        out += [f"{t}={v}" for t, v in lines if _MEDIA_ORDER.get(t, 9) > _MEDIA_C]
        for codec in self.codecs:
            out.append(f"a=rtpmap:{codec.rtpmap}")
            if codec.fmtp:
                out.append(f"a=fmtp:{codec.payload_type} {codec.fmtp}")
        if self.ptime is not None:
            out.append(f"a=ptime:{self.ptime}")
        out += [_a_line(name, value) for name, value in self.attributes]
        out.append(f"a={self.direction.value}")
        return out


@dataclass(frozen=True, slots=True)
class SessionDescription:
    """A whole SDP body. `lines` keeps i= u= e= p= b= t= r= z= k= lines as they came (in
    RFC 4566 §5 order); `connection` is the address of a session-level c= line."""

    origin: Origin
    session_name: str = "-"
    connection: str | None = None
    media: tuple[MediaDescription, ...] = ()
    attributes: tuple[Attribute, ...] = ()
    lines: tuple[Line, ...] = (("t", "0 0"),)

    @classmethod
    def parse(cls, data: bytes | str) -> SessionDescription:
        """Parse an SDP body; raises `SdpError` (status 400) with an exact message."""
        lines = _split_lines(data)
        if not lines or lines[0][1] != "v" or lines[0][2].strip() != "0":
            raise SdpError("an SDP body must start with v=0")
        starts = [i for i, (_, kind, _) in enumerate(lines) if kind == "m"] + [len(lines)]
        head = _parse_session(lines[1 : starts[0]])
        default = _direction_of(head.attributes) or Direction.SENDRECV
        media = tuple(_parse_media(lines[a:b], default) for a, b in itertools.pairwise(starts))
        for index, stream in enumerate(media, 1):
            if stream.connection is None and head.connection is None and not stream.rejected:
                raise SdpError(f"m= line {index} has no c= line and the session has none")
        return replace(head, media=media)

    def __bytes__(self) -> bytes:
        out = ["v=0", f"o={self.origin}", f"s={self.session_name}"]
        lines = sorted(self.lines, key=lambda line: _SESSION_ORDER.get(line[0], 9))
        out += [f"{t}={v}" for t, v in lines if _SESSION_ORDER.get(t, 9) < _SESSION_C]
        if self.connection is not None:
            out.append(_c_line(self.connection))
        out += [f"{t}={v}" for t, v in lines if _SESSION_ORDER.get(t, 9) > _SESSION_C]
        out += [_a_line(name, value) for name, value in self.attributes]
        for stream in self.media:
            out += stream.sdp_lines()
        return ("\r\n".join(out) + "\r\n").encode("utf-8", "surrogateescape")

    @property
    def audio(self) -> MediaDescription | None:
        """The audio stream: the first m=audio with a non-zero port, else the first m=audio."""
        streams = [m for m in self.media if m.media == "audio"]
        accepted = [m for m in streams if not m.rejected]
        if accepted or streams:
            return (accepted or streams)[0]
        return None

    def address_of(self, stream: MediaDescription) -> str | None:
        """Where the stream's media goes: its own c= over the session's (RFC 4566 §5.7), without
        a multicast /ttl suffix."""
        address = stream.connection if stream.connection is not None else self.connection
        return None if address is None else address.split("/", 1)[0]

    @property
    def rtp_address(self) -> tuple[str, int] | None:
        """(address, port) of the audio stream; port 0 means the stream was rejected."""
        stream = self.audio
        if stream is None:
            return None
        address = self.address_of(stream)
        return None if address is None else (address, stream.port)

    @property
    def on_hold(self) -> bool:
        """Whether the writer of this SDP holds the call: its audio is sendonly or inactive
        (RFC 3264 §8.4), or its connection address is 0.0.0.0 (the RFC 2543 way)."""
        stream = self.audio
        if stream is None:
            return False
        return not stream.direction.receives or self.address_of(stream) == "0.0.0.0"


def _c_line(address: str) -> str:
    return f"c=IN {'IP6' if ':' in address else 'IP4'} {address}"


def _a_line(name: str, value: str | None) -> str:
    return f"a={name}" if value is None else f"a={name}:{value}"


# ---------------------------------------------------------------------------------------------
# Parsing

_LineRec = tuple[int, str, str]  # (line number, type letter, value)

_PORT = re.compile(r"([0-9]{1,5})(?:/([0-9]{1,5}))?")
_SMALL_INT = re.compile(r"[0-9]{1,10}")
_SESSION_ID = re.compile(r"[0-9]{1,64}")  # 1*DIGIT (RFC 4566 §9); NTP-style ids reach 20 digits
_RTPMAP = re.compile(r"([0-9]{1,3})\s+([^/\s]+)/([0-9]{1,10})(?:/([0-9]{1,3}))?\s*")
_MAX_PT = 127  # RTP payload types are 7 bits (RFC 3550 §5.1)


def _split_lines(data: bytes | str) -> list[_LineRec]:
    if isinstance(data, str):
        try:
            data = data.encode("utf-8", "surrogateescape")
        except UnicodeEncodeError:
            raise SdpError("the SDP text holds characters that cannot be encoded") from None
    text = data.decode("utf-8", "surrogateescape")
    out: list[_LineRec] = []
    for number, raw in enumerate(text.split("\n"), 1):
        line = raw[:-1] if raw.endswith("\r") else raw  # CRLF per RFC 4566 §5; LF tolerated
        if not line.strip():
            continue
        if len(line) < 2 or line[1] != "=" or not line[0].isascii() or not line[0].isalpha():
            raise SdpError(f"line {number} is not a <type>=<value> line: {line[:40]!r}")
        out.append((number, line[0], line[2:]))
    return out


def _parse_session(lines: Sequence[_LineRec]) -> SessionDescription:
    origin: Origin | None = None
    name: str | None = None
    connection: str | None = None
    attributes: list[Attribute] = []
    kept: list[Line] = []
    for number, kind, value in lines:
        if kind == "o":
            if origin is not None:
                raise SdpError(f"line {number}: a second o= line")
            origin = _parse_origin(number, value)
        elif kind == "s":
            if name is not None:
                raise SdpError(f"line {number}: a second s= line")
            name = value
        elif kind == "c":
            if connection is not None:
                raise SdpError(f"line {number}: a second session-level c= line")
            connection = _parse_connection(number, value)
        elif kind == "a":
            attributes.append(_parse_attribute(number, value))
        elif kind in _SESSION_ORDER:
            kept.append((kind, value))
        # Any other letter (a stray v=, an unknown type) is skipped: tolerant, see the docstring.
    if origin is None:
        raise SdpError("the SDP body has no o= line")
    return SessionDescription(
        origin=origin,
        session_name="-" if name is None else name,
        connection=connection,
        attributes=tuple(attributes),
        lines=tuple(sorted(kept, key=lambda line: _SESSION_ORDER[line[0]])),
    )


def _parse_origin(number: int, value: str) -> Origin:
    # o=<username> <sess-id> <sess-version> <nettype> <addrtype> <unicast-address>
    fields = value.split()
    if len(fields) != 6:
        raise SdpError(f"line {number}: o= needs 6 fields, got {len(fields)}")
    username, session_id, version, nettype, addrtype, address = fields
    for what, text in (("session id", session_id), ("session version", version)):
        if not _SESSION_ID.fullmatch(text):
            raise SdpError(f"line {number}: o= {what} is not a number: {text[:40]!r}")
    return Origin(username, int(session_id), int(version), nettype, addrtype, address)


def _parse_connection(number: int, value: str) -> str:
    # c=<nettype> <addrtype> <connection-address>   (RFC 4566 §5.7)
    fields = value.split()
    if len(fields) != 3 or fields[0] != "IN" or fields[1] not in ("IP4", "IP6"):
        raise SdpError(f"line {number}: c= must be 'IN IP4|IP6 <address>': {value[:60]!r}")
    return fields[2]


def _parse_attribute(number: int, value: str) -> Attribute:
    name, colon, rest = value.partition(":")
    if not name:
        raise SdpError(f"line {number}: an a= line without an attribute name")
    return (name, rest if colon else None)


def _direction_of(attributes: Iterable[Attribute]) -> Direction | None:
    found = None
    for name, _ in attributes:
        found = _DIRECTIONS.get(name, found)
    return found


def _parse_media(lines: Sequence[_LineRec], default: Direction) -> MediaDescription:
    number, _, value = lines[0]
    stream = _parse_m_line(number, value)
    connection: str | None = None
    attributes: list[tuple[int, Attribute]] = []
    kept: list[Line] = []
    for line_number, kind, line_value in lines[1:]:
        if kind == "c":
            if connection is not None:
                raise SdpError(f"line {line_number}: a second c= line in one m= section")
            connection = _parse_connection(line_number, line_value)
        elif kind == "a":
            attributes.append((line_number, _parse_attribute(line_number, line_value)))
        elif kind in _MEDIA_ORDER:
            kept.append((kind, line_value))
    stream = replace(
        stream,
        connection=connection,
        lines=tuple(sorted(kept, key=lambda line: _MEDIA_ORDER[line[0]])),
    )
    return _apply_attributes(stream, attributes, default)


def _parse_m_line(number: int, value: str) -> MediaDescription:
    # m=<media> <port>[/<number of ports>] <proto> <fmt> ...   (RFC 4566 §5.14)
    fields = value.split()
    if len(fields) < 4:
        raise SdpError(f"line {number}: m= needs '<media> <port> <proto> <fmt> ...'")
    media, port_text, proto, *tokens = fields
    match = _PORT.fullmatch(port_text)
    if match is None or int(match[1]) > 65535:
        raise SdpError(f"line {number}: m= port is not a port number: {port_text[:20]!r}")
    port_count = None if match[2] is None else int(match[2])
    stream = MediaDescription(media, int(match[1]), proto, (), port_count=port_count)
    if not stream.is_rtp:
        return replace(stream, format_tokens=tuple(tokens))
    formats: list[int] = []
    for token in tokens:
        if not _SMALL_INT.fullmatch(token) or int(token) > _MAX_PT:
            raise SdpError(f"line {number}: m= format is not an RTP payload type: {token[:20]!r}")
        if int(token) in formats:
            raise SdpError(f"line {number}: m= lists payload type {int(token)} twice")
        formats.append(int(token))
    return replace(stream, formats=tuple(formats))


def _apply_attributes(
    stream: MediaDescription, attributes: Sequence[tuple[int, Attribute]], default: Direction
) -> MediaDescription:
    rtpmaps: dict[int, tuple[str, int, int | None]] = {}
    fmtps: dict[int, str] = {}  # payload type -> format parameters
    others: list[Attribute] = []
    direction: Direction | None = None
    ptime: int | None = None
    for number, (name, value) in attributes:
        if name in _DIRECTIONS:
            direction = _DIRECTIONS[name]
        elif name == "ptime" and (ms := _ptime(value)) is not None:
            ptime = ms
        elif stream.is_rtp and name == "rtpmap" and value is not None:
            if not _take_rtpmap(number, value, stream.formats, rtpmaps):
                others.append((name, value))
        elif stream.is_rtp and name == "fmtp" and value is not None:
            _take_fmtp(number, value, fmtps)
        else:
            others.append((name, value))
    codecs: list[Codec] = []
    for pt in stream.formats:
        if pt in rtpmaps:
            encoding, rate, channels = rtpmaps[pt]
        elif pt in _STATIC_AUDIO and stream.media == "audio":
            (encoding, rate), channels = _STATIC_AUDIO[pt], None
        else:
            continue
        fmtp = fmtps.pop(pt, "") or None
        codecs.append(Codec(pt, encoding, rate, fmtp, channels))
    # An fmtp for a format without a codec stays an ordinary attribute, after the others.
    others += [("fmtp", f"{pt} {params}".rstrip()) for pt, params in fmtps.items()]
    return replace(
        stream,
        codecs=tuple(codecs),
        direction=direction or default,
        ptime=ptime,
        attributes=tuple(others),
    )


def _ptime(value: str | None) -> int | None:
    """a=ptime:<ms> (RFC 4566 §6). A value we cannot use is kept as a plain attribute."""
    text = (value or "").strip()
    if _SMALL_INT.fullmatch(text) and 0 < int(text) <= 1000:
        return int(text)
    return None


def _take_rtpmap(
    number: int, value: str, formats: Sequence[int], rtpmaps: dict[int, tuple[str, int, int | None]]
) -> bool:
    """a=rtpmap:<payload type> <encoding name>/<clock rate>[/<encoding parameters>]
    (RFC 4566 §6). Returns False for a map of a payload type the m= line does not list."""
    match = _RTPMAP.fullmatch(value)
    if match is None or int(match[1]) > _MAX_PT:
        raise SdpError(f"line {number}: malformed a=rtpmap: {value[:60]!r}")
    pt = int(match[1])
    if pt not in formats:
        return False
    if pt in rtpmaps:
        raise SdpError(f"line {number}: a second a=rtpmap for payload type {pt}")
    rtpmaps[pt] = (match[2], int(match[3]), None if match[4] is None else int(match[4]))
    return True


def _take_fmtp(number: int, value: str, fmtps: dict[int, str]) -> None:
    # a=fmtp:<format> <format specific parameters>   (RFC 4566 §6)
    parts = value.split(None, 1)
    if not parts or not _SMALL_INT.fullmatch(parts[0]) or int(parts[0]) > _MAX_PT:
        raise SdpError(f"line {number}: malformed a=fmtp: {value[:60]!r}")
    pt = int(parts[0])
    if pt in fmtps:
        raise SdpError(f"line {number}: a second a=fmtp for payload type {pt}")
    fmtps[pt] = parts[1] if len(parts) > 1 else ""


# ---------------------------------------------------------------------------------------------
# The offer/answer names, kept importable from here
