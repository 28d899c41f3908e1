"""The SDP offer/answer model (RFC 3264) for G.711 calls.

Offer/answer (RFC 3264 §6). The answer has exactly one m= line per offered m= line, in the
same order. We accept the first audio stream offered over plain RTP/AVP for which we share a
codec and reject every other stream with port 0 (§6: a rejected stream keeps its media
type and formats). The chosen codec is the first of the *offerer's* formats that we support,
because the offer lists formats in the offerer's order of preference (§5.1); the answer
reuses the offerer's payload type numbers (§6.1) and answers telephone-event on the
offerer's payload type. Directions mirror (§6.1): the offerer's sendonly becomes our
recvonly and so on; when we hold, we take away our receive half.

Hold (RFC 3264 §8.4). A re-INVITE with `a=sendonly` (or `a=inactive`) puts the other side on
hold. RFC 2543 did the same with `c=0.0.0.0`, which still arrives from old phones: it means
"do not send to me", so we treat it as the offerer taking away its receive half.

`make_offer` and `make_answer` build the `SessionDescription` we send; `negotiated` reads a
finished exchange into what our RTP session must do (`Negotiated`). The SDP types, `parse()`
and `bytes()` are in `firmware.sip.sdp`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from firmware.sip.sdp import (
    PCMA,
    PCMU,
    TELEPHONE_EVENT,
    Codec,
    Direction,
    MediaDescription,
    Origin,
    SdpError,
    SessionDescription,
)

__all__ = ["Negotiated", "make_answer", "make_offer", "negotiated"]


def _origin(username: str, session_id: int, version: int, address: str) -> Origin:
    return Origin(username, session_id, version, "IN", "IP6" if ":" in address else "IP4", address)


def make_offer(
    address: str,
    port: int,
    *,
    codecs: Sequence[Codec] = (PCMU, PCMA),
    dtmf: Codec | None = TELEPHONE_EVENT,
    direction: Direction = Direction.SENDRECV,
    ptime: int | None = 20,
    session_id: int,
    version: int,
    username: str = "-",
) -> SessionDescription:
    """An offer of one audio stream, codecs in our order of preference (RFC 3264 §5).

    For a re-INVITE keep `session_id` and pass `version + 1` (RFC 3264 §8); to hold, offer
    `Direction.SENDONLY` (or `INACTIVE` when we play nothing), as RFC 3264 §8.4 asks.
    """
    chosen = (*codecs, dtmf) if dtmf is not None else tuple(codecs)
    formats = tuple(codec.payload_type for codec in chosen)
    if not codecs or len(set(formats)) != len(formats):
        raise SdpError("an offer needs at least one codec and distinct payload types")
    stream = MediaDescription(
        "audio", port, "RTP/AVP", formats, chosen, direction=direction, ptime=ptime
    )
    return SessionDescription(
        origin=_origin(username, session_id, version, address),
        connection=address,
        media=(stream,),
    )


def make_answer(
    offer: SessionDescription,
    address: str,
    port: int,
    *,
    supported: Sequence[Codec] = (PCMU, PCMA),
    dtmf: bool = True,
    session_id: int,
    version: int,
    hold: bool = False,
    username: str = "-",
) -> SessionDescription:
    """Answer `offer` (RFC 3264 §6): one m= line per offered one, the first usable audio
    stream accepted on `address`:`port`, everything else rejected with port 0.

    Raises `SdpError` with status 488 when no audio stream can be accepted. Keep our
    `session_id` for the whole dialog and raise `version` by one for every new SDP we send
    in it (RFC 3264 §8).
    """
    answered: list[MediaDescription] = []
    accepted = False
    mismatch = False
    for stream in offer.media:
        answer = None
        if not accepted and _answerable(stream):
            answer = _answer_audio(offer, stream, port, supported, dtmf=dtmf, hold=hold)
            mismatch = mismatch or answer is None
        accepted = accepted or answer is not None
        answered.append(answer or _rejected(stream))
    if not accepted:
        reason = "no common codec" if mismatch else "no audio stream over RTP/AVP to accept"
        raise SdpError(reason, status=488)
    return SessionDescription(
        origin=_origin(username, session_id, version, address),
        connection=address,
        media=tuple(answered),
    )


def _answerable(stream: MediaDescription) -> bool:
    # Only plain RTP/AVP: SRTP (RTP/SAVP), AVPF feedback and DTLS profiles are not ours to
    # answer (RFC 3264 §6: the answer must use the offered transport).
    return stream.media == "audio" and not stream.rejected and stream.proto.upper() == "RTP/AVP"


def _answer_audio(
    offer: SessionDescription,
    stream: MediaDescription,
    port: int,
    supported: Sequence[Codec],
    *,
    dtmf: bool,
    hold: bool,
) -> MediaDescription | None:
    codec = _first_common(stream.codecs, supported)
    if codec is None:
        return None
    chosen = [codec]
    if dtmf:
        event = _dtmf_for(stream, codec.rate)
        if event is not None:
            # Answer on the offerer's PT; our fmtp says which events we can receive.
            chosen.append(replace(TELEPHONE_EVENT, payload_type=event.payload_type))
    theirs = stream.direction
    if offer.address_of(stream) == "0.0.0.0":  # RFC 2543 hold: "do not send to me"
        theirs = Direction.of(sends=theirs.sends, receives=False)
    ours = theirs.reverse()
    if hold:
        ours = Direction.of(sends=ours.sends, receives=False)
    return MediaDescription(
        "audio",
        port,
        stream.proto,
        tuple(c.payload_type for c in chosen),
        tuple(chosen),
        direction=ours,
        ptime=20,
    )


def _first_common(offered: Sequence[Codec], supported: Sequence[Codec]) -> Codec | None:
    """The first offered codec we support, in the offerer's order, with the offerer's PT."""
    for theirs in offered:
        if theirs.is_dtmf:
            continue
        for ours in supported:
            if ours.same_format(theirs):
                return replace(ours, payload_type=theirs.payload_type)
    return None


def _rejected(stream: MediaDescription) -> MediaDescription:
    # RFC 3264 §6: a rejected stream is answered with port 0 and the offered formats (their
    # rtpmaps too, so that the answer reads back exactly as written).
    return MediaDescription(
        stream.media,
        0,
        stream.proto,
        stream.formats,
        stream.codecs,
        direction=Direction.INACTIVE,
        format_tokens=stream.format_tokens,
    )


@dataclass(frozen=True, slots=True)
class Negotiated:
    """What a finished offer/answer exchange means for our RTP session.

    `codec` and `dtmf_payload_type` carry the payload type numbers of the *remote* SDP, which
    is what we must send with (RFC 3264 §5.1: each side declares what it wants to receive);
    `direction` is what we may do; `ptime` is the packet time the remote asked for.
    """

    codec: Codec
    dtmf_payload_type: int | None
    remote_address: str
    remote_port: int
    direction: Direction
    ptime: int


def negotiated(
    offer: SessionDescription, answer: SessionDescription, *, we_offered: bool
) -> Negotiated:
    """The outcome of `offer` and `answer`, seen from our side (`we_offered` says which SDP
    is ours). Raises `SdpError` (488) when the answer accepts no audio or no offered codec."""
    if len(answer.media) != len(offer.media):  # RFC 3264 §6: one answer line per offer line
        raise SdpError(
            f"the answer has {len(answer.media)} m= lines for the offer's {len(offer.media)}"
        )
    index = next(
        (i for i, m in enumerate(answer.media) if m.media == "audio" and not m.rejected), None
    )
    if index is None or offer.media[index].media != "audio":
        raise SdpError("the answer accepts no audio stream", status=488)
    ours, theirs = (offer, answer) if we_offered else (answer, offer)
    local, remote = ours.media[index], theirs.media[index]
    codec = _agreed_codec(offer.media[index], answer.media[index])
    sent = next((c for c in remote.codecs if c.same_format(codec)), codec)
    local_dtmf, remote_dtmf = (_dtmf_for(m, codec.rate) for m in (local, remote))
    address = theirs.address_of(remote)
    if address is None:  # parse() guarantees a c= for an accepted stream; a built one may lack it
        raise SdpError("the remote audio stream has no connection address")
    direction = Direction.of(
        sends=local.direction.sends and remote.direction.receives and address != "0.0.0.0",
        receives=local.direction.receives and remote.direction.sends,
    )
    return Negotiated(
        codec=sent,
        dtmf_payload_type=(remote_dtmf.payload_type if local_dtmf and remote_dtmf else None),
        remote_address=address,
        remote_port=remote.port,
        direction=direction,
        ptime=remote.ptime or 20,
    )


def _dtmf_for(stream: MediaDescription, rate: int) -> Codec | None:
    # telephone-event must run at the audio codec's clock rate (RFC 4733 §7.1.1)
    return next((c for c in stream.codecs if c.is_dtmf and c.rate == rate), None)


def _agreed_codec(offered: MediaDescription, answered: MediaDescription) -> Codec:
    """The first codec of the answer that the offer listed (RFC 3264 §6.1); DTMF and comfort
    noise ride along with it and are never the call's codec."""
    for codec in answered.codecs:
        if codec.is_dtmf or codec.name.upper() == "CN":
            continue
        if any(codec.same_format(o) for o in offered.codecs):
            return codec
    raise SdpError("the answer names no codec that the offer listed", status=488)
