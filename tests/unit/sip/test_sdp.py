"""SDP parsing, writing and offer/answer (RFC 4566, RFC 3264, RFC 4733).

The bodies below are written in the shape real user agents send them (baresip, Linphone,
Yealink, Asterisk, an old RFC 2543 phone, a WebRTC gateway); addresses are from the
documentation ranges. Expected values are read off the bodies by hand.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from firmware.sip.offer_answer import (
    make_answer,
    make_offer,
    negotiated,
)
from firmware.sip.sdp import (
    PCMA,
    PCMU,
    TELEPHONE_EVENT,
    Codec,
    Direction,
    MediaDescription,
    SdpError,
    SessionDescription,
)

G729 = Codec(18, "G729")


def crlf(text: str) -> bytes:
    """A body written one line per source line, with the CRLF ends RFC 4566 §5 asks for."""
    return "".join(f"{line}\r\n" for line in text.strip("\n").split("\n")).encode()


# Asterisk (chan_pjsip) style: canonical attribute order, so it round-trips byte for byte.
ASTERISK = crlf("""
v=0
o=- 1403528862 1403528864 IN IP4 203.0.113.7
s=Asterisk
c=IN IP4 203.0.113.7
t=0 0
m=audio 17070 RTP/AVP 8 0 101
a=rtpmap:8 PCMA/8000
a=rtpmap:0 PCMU/8000
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-16
a=ptime:20
a=maxptime:150
a=sendrecv
""")

# baresip with its ICE module, sent with LF-only line ends.
BARESIP = b"""v=0
o=- 1876525323 3104727281 IN IP4 192.0.2.20
s=-
c=IN IP4 192.0.2.20
t=0 0
a=tool:baresip 3.10.1
a=ice-lite
m=audio 11024 RTP/AVP 0 8 101
b=AS:64
a=rtpmap:0 PCMU/8000
a=rtpmap:8 PCMA/8000
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-15
a=rtcp:11025
a=sendrecv
a=label:1
a=ssrc:2391745183 cname:b0a0e3a1-5d6c-4c6b-9f0e-2f3c1a9b7e21
a=rtcp-rsize
a=ice-ufrag:Dq3b
a=ice-pwd:h8Zk2LqQ9Xv1WmY3cJt0aR
a=candidate:1 1 UDP 2113932031 192.0.2.20 11024 typ host
a=candidate:1 2 UDP 2113932030 192.0.2.20 11025 typ host
"""

# Linphone: opus first, three telephone-event clock rates, a video stream, ICE, rtcp-fb.
LINPHONE = crlf("""
v=0
o=alice 3306 1582 IN IP4 192.0.2.33
s=Talk
c=IN IP4 192.0.2.33
t=0 0
a=ice-pwd:31ec21eb38b2ec6d36e8dc7b
a=ice-ufrag:e1d0d2a5
a=rtcp-xr:rcvr-rtt=all:10000 stat-summary=loss,dup,jitt,TTL voip-metrics
a=record:off
m=audio 7078 RTP/AVP 96 97 98 0 8 18 101 99 100
a=rtpmap:96 opus/48000/2
a=fmtp:96 useinbandfec=1
a=rtpmap:97 speex/16000
a=fmtp:97 vbr=on
a=rtpmap:98 speex/8000
a=fmtp:98 vbr=on
a=fmtp:18 annexb=yes
a=rtpmap:101 telephone-event/48000
a=rtpmap:99 telephone-event/16000
a=rtpmap:100 telephone-event/8000
a=rtcp:7079
a=candidate:1 1 UDP 2130706431 192.0.2.33 7078 typ host
a=candidate:1 2 UDP 2130706430 192.0.2.33 7079 typ host
a=rtcp-fb:* trr-int 1000
a=rtcp-fb:* ccm tmmbr
m=video 9078 RTP/AVP 96 97
a=rtpmap:96 VP8/90000
a=rtpmap:97 H264/90000
a=fmtp:97 profile-level-id=42801F
a=rtcp-fb:* trr-int 1000
a=rtcp-fb:96 nack pli
a=rtcp:9079
""")

# Yealink: G.729 and G.722 offered, fmtp before its rtpmap, best-effort SRTP on RTP/AVP.
YEALINK = crlf("""
v=0
o=- 20013 20013 IN IP4 192.0.2.50
s=SDP data
c=IN IP4 192.0.2.50
t=0 0
m=audio 11780 RTP/AVP 18 8 0 9 101
a=rtpmap:18 G729/8000
a=fmtp:18 annexb=no
a=rtpmap:8 PCMA/8000
a=rtpmap:0 PCMU/8000
a=rtpmap:9 G722/8000
a=fmtp:101 0-15
a=rtpmap:101 telephone-event/8000
a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVzcyAo
a=ptime:20
a=sendrecv
""")

# An RFC 2543 phone holding the call: connection address 0.0.0.0, no direction attribute.
OLD_HOLD = crlf("""
v=0
o=CiscoSystemsSIP-GW-UserAgent 6131 2742 IN IP4 192.0.2.90
s=SIP Call
c=IN IP4 0.0.0.0
t=0 0
m=audio 18456 RTP/AVP 0 101
c=IN IP4 0.0.0.0
a=rtpmap:0 PCMU/8000
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-16
""")

# A WebRTC gateway: DTLS-SRTP only, nothing we can answer.
WEBRTC = crlf("""
v=0
o=- 4611731400430051336 2 IN IP4 127.0.0.1
s=-
t=0 0
a=group:BUNDLE 0
a=msid-semantic: WMS
m=audio 9 UDP/TLS/RTP/SAVPF 111 0 8 126
c=IN IP4 0.0.0.0
a=rtcp:9 IN IP4 0.0.0.0
a=ice-ufrag:khLS
a=ice-pwd:cxLzteJaJBou3DspNaPsJhlQ
a=fingerprint:sha-256 FA:14:42:3B:C7:97:1B:E8:AE:0C:2E:5A:5B:8C:6C:3A:1B:5E:24:6F
a=setup:actpass
a=mid:0
a=rtcp-mux
a=rtpmap:111 opus/48000/2
a=rtpmap:0 PCMU/8000
a=rtpmap:8 PCMA/8000
a=rtpmap:126 telephone-event/8000
""")

REAL_WORLD = {
    "asterisk": ASTERISK,
    "baresip": BARESIP,
    "linphone": LINPHONE,
    "yealink": YEALINK,
    "rfc2543-hold": OLD_HOLD,
    "webrtc": WEBRTC,
}


def offer_of(*codecs: Codec, direction: Direction = Direction.SENDRECV) -> SessionDescription:
    """An offer from the far end listing `codecs` (each with its own payload type)."""
    media = MediaDescription(
        "audio", 30000, "RTP/AVP", tuple(c.payload_type for c in codecs), codecs, direction
    )
    return replace(make_offer("198.51.100.9", 1, session_id=9, version=1), media=(media,))


def answer(
    offer: SessionDescription,
    *,
    supported: tuple[Codec, ...] = (PCMU, PCMA),
    dtmf: bool = True,
    hold: bool = False,
) -> SessionDescription:
    return make_answer(
        offer, "192.0.2.1", 4000, supported=supported, dtmf=dtmf, hold=hold, session_id=5, version=1
    )


def sent_codecs(sd: SessionDescription) -> list[str]:
    assert sd.audio is not None
    return [c.name for c in sd.audio.codecs]


# ---------------------------------------------------------------------------------------------
# Parsing real-world bodies


def test_asterisk_body_parses_and_round_trips_byte_for_byte() -> None:
    sd = SessionDescription.parse(ASTERISK)
    assert sd.origin.session_id == 1403528862 and sd.origin.version == 1403528864
    assert sd.origin.address == "203.0.113.7" and sd.session_name == "Asterisk"
    audio = sd.audio
    assert audio is not None
    assert audio.formats == (8, 0, 101)
    assert audio.codecs == (PCMA, PCMU, TELEPHONE_EVENT)
    assert audio.ptime == 20 and audio.direction is Direction.SENDRECV
    assert audio.attributes == (("maxptime", "150"),)
    assert sd.rtp_address == ("203.0.113.7", 17070)
    assert not sd.on_hold
    assert bytes(sd) == ASTERISK


def test_baresip_body_with_lf_line_ends_and_ice_lines() -> None:
    sd = SessionDescription.parse(BARESIP)
    assert sd == SessionDescription.parse(BARESIP.replace(b"\n", b"\r\n"))
    assert sd.attributes == (("tool", "baresip 3.10.1"), ("ice-lite", None))
    audio = sd.audio
    assert audio is not None
    assert [c.name for c in audio.codecs] == ["PCMU", "PCMA", "telephone-event"]
    assert audio.codecs[2].fmtp == "0-15"
    assert audio.ptime is None
    assert audio.lines == (("b", "AS:64"),)
    assert audio.attribute("rtcp") == "11025"
    assert audio.attribute("ice-ufrag") == "Dq3b"
    assert [v for n, v in audio.attributes if n == "candidate"] == [
        "1 1 UDP 2113932031 192.0.2.20 11024 typ host",
        "1 2 UDP 2113932030 192.0.2.20 11025 typ host",
    ]
    assert sd.rtp_address == ("192.0.2.20", 11024)


def test_linphone_body_keeps_dynamic_codecs_and_fmtp_of_static_ones() -> None:
    sd = SessionDescription.parse(LINPHONE)
    assert sd.origin.username == "alice" and sd.session_name == "Talk"
    audio, video = sd.media
    assert audio.codecs[0] == Codec(96, "opus", 48000, "useinbandfec=1", 2)
    assert audio.codec(18) == Codec(18, "G729", fmtp="annexb=yes")  # static, no rtpmap
    assert [c.rate for c in audio.codecs if c.is_dtmf] == [48000, 16000, 8000]
    assert video.media == "video" and video.port == 9078
    assert video.codec(97) == Codec(97, "H264", 90000, "profile-level-id=42801F")
    assert video.attribute("rtcp") == "9079"
    assert sd.audio is audio


def test_yealink_body_with_crypto_and_fmtp_before_rtpmap() -> None:
    sd = SessionDescription.parse(YEALINK)
    audio = sd.audio
    assert audio is not None
    assert audio.formats == (18, 8, 0, 9, 101)
    assert audio.codec(101) == Codec(101, "telephone-event", fmtp="0-15")
    assert audio.codec(9) == Codec(9, "G722")
    crypto = audio.attribute("crypto")  # kept, unused: we answer plain RTP
    assert crypto is not None and crypto.startswith("1 AES_CM_128_HMAC_SHA1_80 inline:")


def test_old_style_hold_is_on_hold() -> None:
    sd = SessionDescription.parse(OLD_HOLD)
    audio = sd.audio
    assert audio is not None
    assert audio.direction is Direction.SENDRECV
    assert audio.connection == "0.0.0.0"
    assert sd.on_hold


@pytest.mark.parametrize("body", REAL_WORLD.values(), ids=REAL_WORLD.keys())
def test_real_world_bodies_reparse_to_the_same_description(body: bytes) -> None:
    sd = SessionDescription.parse(body)
    again = bytes(sd)
    assert SessionDescription.parse(again) == sd
    assert bytes(SessionDescription.parse(again)) == again
    assert b"\r\n" in again and b"\n" not in again.replace(b"\r\n", b"")


def test_our_offer_and_answer_are_canonical() -> None:
    offer = make_offer("192.0.2.1", 4000, session_id=42, version=1)
    assert bytes(offer) == crlf("""
v=0
o=- 42 1 IN IP4 192.0.2.1
s=-
c=IN IP4 192.0.2.1
t=0 0
m=audio 4000 RTP/AVP 0 8 101
a=rtpmap:0 PCMU/8000
a=rtpmap:8 PCMA/8000
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-16
a=ptime:20
a=sendrecv
""")
    assert SessionDescription.parse(bytes(offer)) == offer
    ans = make_answer(
        SessionDescription.parse(LINPHONE), "192.0.2.1", 4000, session_id=7, version=1
    )
    assert SessionDescription.parse(bytes(ans)) == ans
    assert bytes(SessionDescription.parse(bytes(ans))) == bytes(ans)


def test_session_lines_are_written_in_rfc_4566_order() -> None:
    # i= and b= arrive in the wrong order; they are kept and written where §5 puts them.
    body = crlf("""
v=0
o=- 1 1 IN IP4 192.0.2.1
s=call
b=CT:128
i=a conference
c=IN IP4 192.0.2.1
t=0 0
z=2882844526 -1h
k=prompt
a=recvonly
m=audio 4000 RTP/AVP 0
k=clear:secret
i=speech
""")
    sd = SessionDescription.parse(body)
    assert sd.lines == (
        ("i", "a conference"),
        ("b", "CT:128"),
        ("t", "0 0"),
        ("z", "2882844526 -1h"),
        ("k", "prompt"),
    )
    assert sd.media[0].lines == (("i", "speech"), ("k", "clear:secret"))
    assert bytes(sd) == crlf("""
v=0
o=- 1 1 IN IP4 192.0.2.1
s=call
i=a conference
c=IN IP4 192.0.2.1
b=CT:128
t=0 0
z=2882844526 -1h
k=prompt
a=recvonly
m=audio 4000 RTP/AVP 0
i=speech
k=clear:secret
a=rtpmap:0 PCMU/8000
a=recvonly
""")


def test_session_level_direction_is_the_default_for_each_stream() -> None:
    body = crlf("""
v=0
o=- 1 2 IN IP4 192.0.2.1
s=-
c=IN IP4 192.0.2.1
t=0 0
a=sendonly
m=audio 4000 RTP/AVP 0
m=audio 4002 RTP/AVP 8
a=sendrecv
""")
    first, second = SessionDescription.parse(body).media
    assert first.direction is Direction.SENDONLY
    assert second.direction is Direction.SENDRECV
    assert SessionDescription.parse(body).on_hold


def test_tolerated_quirks() -> None:
    body = crlf("""
v=0
o=- 1 1 IN IP6 2001:db8::1
x=an unknown type letter is skipped
c=IN IP6 2001:db8::1
t=0 0
m=audio 4000 RTP/AVP 0 96
a=fmtp:96 mode=20
a=ptime:abc
a=rtpmap:97 iLBC/8000
m=video 0 RTP/AVP 31
""")
    sd = SessionDescription.parse(body)
    assert sd.session_name == "-"  # no s= line: the RFC's placeholder
    audio, video = sd.media
    assert audio.codecs == (PCMU,)  # 96 has no rtpmap: no codec, its fmtp stays an attribute
    assert audio.ptime is None
    assert audio.attributes == (
        ("ptime", "abc"),
        ("rtpmap", "97 iLBC/8000"),
        ("fmtp", "96 mode=20"),
    )
    assert video.rejected and video.connection is None
    assert sd.rtp_address == ("2001:db8::1", 4000)
    assert b"c=IN IP6 2001:db8::1\r\n" in bytes(sd)
    assert SessionDescription.parse(bytes(sd)) == sd


def test_non_rtp_stream_keeps_its_format_tokens() -> None:
    body = crlf("""
v=0
o=- 1 1 IN IP4 192.0.2.1
s=-
c=IN IP4 192.0.2.1
t=0 0
m=image 4002 udptl t38
a=T38FaxVersion:0
a=T38FaxRateManagement:transferredTCF
""")
    sd = SessionDescription.parse(body)
    (image,) = sd.media
    assert image.format_tokens == ("t38",) and image.formats == ()
    assert image.attribute("T38FaxRateManagement") == "transferredTCF"
    assert sd.audio is None and sd.rtp_address is None and not sd.on_hold


def test_port_count_and_multicast_ttl() -> None:
    body = crlf("""
v=0
o=- 1 1 IN IP4 192.0.2.1
s=-
c=IN IP4 233.252.0.1/127
t=0 0
m=audio 4000/2 RTP/AVP 0
a=rtpmap:0 PCMU/8000
a=sendrecv
""")
    sd = SessionDescription.parse(body)
    assert sd.media[0].port_count == 2
    assert sd.rtp_address == ("233.252.0.1", 4000)
    assert bytes(sd) == body


BASE = "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("", "an SDP body must start with v=0"),
        ("o=- 1 1 IN IP4 192.0.2.1\r\n", "an SDP body must start with v=0"),
        ("v=1\r\n", "an SDP body must start with v=0"),
        ("v=0\r\ns=-\r\n", "the SDP body has no o= line"),
        (BASE + "o=- 1 1 IN IP4 192.0.2.1\r\n", "line 6: a second o= line"),
        ("v=0\r\no=- 1 1 IN IP4\r\n", "line 2: o= needs 6 fields, got 5"),
        ("v=0\r\no=- 1x 1 IN IP4 a\r\n", "line 2: o= session id is not a number: '1x'"),
        ("v=0\r\no=- 1 ² IN IP4 a\r\n", "line 2: o= session version is not a number: '²'"),
        (BASE + "hello\r\n", "line 6 is not a <type>=<value> line: 'hello'"),
        (BASE + "m=audio 4000 RTP/AVP\r\n", "line 6: m= needs '<media> <port> <proto> <fmt> ...'"),
        (BASE + "m=audio 70000 RTP/AVP 0\r\n", "line 6: m= port is not a port number: '70000'"),
        (BASE + "m=audio -1 RTP/AVP 0\r\n", "line 6: m= port is not a port number: '-1'"),
        (
            BASE + "m=audio 4000 RTP/AVP 128\r\n",
            "line 6: m= format is not an RTP payload type: '128'",
        ),
        (
            BASE + "m=audio 4000 RTP/AVP PCMU\r\n",
            "line 6: m= format is not an RTP payload type: 'PCMU'",
        ),
        (BASE + "m=audio 4000 RTP/AVP 0 0\r\n", "line 6: m= lists payload type 0 twice"),
        (BASE + "c=IN IP4 192.0.2.2\r\n", "line 6: a second session-level c= line"),
        (
            BASE + "m=audio 1 RTP/AVP 0\r\nc=IN IP4 a\r\nc=IN IP4 b\r\n",
            "line 8: a second c= line in one m= section",
        ),
        (
            "v=0\r\no=- 1 1 IN IP4 a\r\nc=IN IP5 a\r\n",
            "line 3: c= must be 'IN IP4|IP6 <address>': 'IN IP5 a'",
        ),
        (
            "v=0\r\no=- 1 1 IN IP4 a\r\nm=audio 4000 RTP/AVP 0\r\n",
            "m= line 1 has no c= line and the session has none",
        ),
        (
            BASE + "m=audio 1 RTP/AVP 0\r\na=rtpmap:0 PCMU\r\n",
            "line 7: malformed a=rtpmap: '0 PCMU'",
        ),
        (
            BASE + "m=audio 1 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:0 PCMU/8000\r\n",
            "line 8: a second a=rtpmap for payload type 0",
        ),
        (BASE + "m=audio 1 RTP/AVP 0\r\na=fmtp:x y\r\n", "line 7: malformed a=fmtp: 'x y'"),
        (
            BASE + "m=audio 1 RTP/AVP 0\r\na=fmtp:0 a\r\na=fmtp:0 b\r\n",
            "line 8: a second a=fmtp for payload type 0",
        ),
        (BASE + "a=:x\r\n", "line 6: an a= line without an attribute name"),
    ],
)
def test_malformed_bodies_raise_sdp_error_with_exact_message(body: str, message: str) -> None:
    with pytest.raises(SdpError) as caught:
        SessionDescription.parse(body)
    assert str(caught.value) == message
    assert caught.value.status == 400


def test_hold_detection() -> None:
    for direction, held in [
        (Direction.SENDRECV, False),
        (Direction.RECVONLY, False),
        (Direction.SENDONLY, True),
        (Direction.INACTIVE, True),
    ]:
        sd = make_offer("192.0.2.1", 4000, direction=direction, session_id=1, version=2)
        assert SessionDescription.parse(bytes(sd)).on_hold is held, direction


def test_direction_reverse() -> None:
    assert Direction.SENDONLY.reverse() is Direction.RECVONLY
    assert Direction.RECVONLY.reverse() is Direction.SENDONLY
    assert Direction.SENDRECV.reverse() is Direction.SENDRECV
    assert Direction.INACTIVE.reverse() is Direction.INACTIVE


def test_offer_options() -> None:
    offer = make_offer(
        "2001:db8::5",
        5000,
        codecs=(PCMA,),
        dtmf=None,
        ptime=None,
        session_id=3,
        version=4,
        username="pbx",
    )
    assert bytes(offer).startswith(b"v=0\r\no=pbx 3 4 IN IP6 2001:db8::5\r\n")
    assert offer.media[0].formats == (8,)
    with pytest.raises(SdpError):
        make_offer("192.0.2.1", 1, codecs=(), session_id=1, version=1)
    with pytest.raises(SdpError):
        make_offer(
            "192.0.2.1", 1, codecs=(PCMU, replace(PCMA, payload_type=0)), session_id=1, version=1
        )


# ---------------------------------------------------------------------------------------------
# Offer/answer matrix (RFC 3264 §6)


@pytest.mark.parametrize(
    ("offered", "chosen"),
    [
        ((PCMU,), "PCMU"),
        ((PCMA,), "PCMA"),
        ((PCMU, PCMA), "PCMU"),
        ((PCMA, PCMU), "PCMA"),  # the offerer's preference, not ours
        ((G729, PCMA), "PCMA"),
        ((G729, PCMU, PCMA), "PCMU"),
        ((Codec(0, "pcmu"),), "PCMU"),  # encoding names are case-insensitive
    ],
)
def test_answer_picks_the_offerers_first_supported_codec(
    offered: tuple[Codec, ...], chosen: str
) -> None:
    offer = offer_of(*offered)
    ans = answer(offer)
    assert sent_codecs(ans) == [chosen]
    assert ans.audio is not None and ans.audio.ptime == 20
    result = negotiated(offer, ans, we_offered=False)
    assert result.codec.name.upper() == chosen
    assert result.dtmf_payload_type is None  # nothing offered
    assert (result.remote_address, result.remote_port) == ("198.51.100.9", 30000)


def test_our_supported_list_limits_the_choice() -> None:
    ans = answer(offer_of(PCMU, PCMA), supported=(PCMA,))
    assert sent_codecs(ans) == ["PCMA"]


@pytest.mark.parametrize("pt", [96, 101, 127])
def test_telephone_event_is_answered_on_the_offerers_payload_type(pt: int) -> None:
    event = Codec(pt, "telephone-event", fmtp="0-15")
    offer = offer_of(PCMA, event)
    ans = answer(offer)
    assert ans.audio is not None
    assert ans.audio.formats == (8, pt)
    assert ans.audio.codec(pt) == Codec(pt, "telephone-event", fmtp="0-16")
    for we_offered in (False, True):
        assert negotiated(offer, ans, we_offered=we_offered).dtmf_payload_type == pt


def test_telephone_event_can_be_declined() -> None:
    ans = answer(offer_of(PCMU, TELEPHONE_EVENT), dtmf=False)
    assert sent_codecs(ans) == ["PCMU"]
    assert (
        negotiated(offer_of(PCMU, TELEPHONE_EVENT), ans, we_offered=False).dtmf_payload_type is None
    )


def test_telephone_event_must_match_the_codec_clock_rate() -> None:
    ans = make_answer(
        SessionDescription.parse(LINPHONE), "192.0.2.1", 4000, session_id=1, version=1
    )
    audio, video = ans.media
    assert audio.formats == (0, 100)  # PCMU, and telephone-event/8000 on Linphone's PT 100
    assert video.port == 0 and video.formats == (96, 97)  # rejected, formats echoed
    result = negotiated(SessionDescription.parse(LINPHONE), ans, we_offered=False)
    assert result.codec == PCMU and result.dtmf_payload_type == 100
    assert (result.remote_address, result.remote_port) == ("192.0.2.33", 7078)


def test_no_common_codec_is_488() -> None:
    with pytest.raises(SdpError) as caught:
        answer(offer_of(G729, Codec(96, "opus", 48000, channels=2), TELEPHONE_EVENT))
    assert str(caught.value) == "no common codec"
    assert caught.value.status == 488


def test_no_plain_rtp_audio_is_488() -> None:
    with pytest.raises(SdpError) as caught:
        answer(SessionDescription.parse(WEBRTC))
    assert caught.value.status == 488
    assert str(caught.value) == "no audio stream over RTP/AVP to accept"


def test_video_and_fax_streams_are_rejected_with_port_zero() -> None:
    body = crlf("""
v=0
o=- 1 1 IN IP4 198.51.100.9
s=-
c=IN IP4 198.51.100.9
t=0 0
m=video 30002 RTP/AVP 96
a=rtpmap:96 H264/90000
m=audio 30000 RTP/AVP 8 0
m=image 30004 udptl t38
m=audio 30006 RTP/AVP 0
""")
    offer = SessionDescription.parse(body)
    ans = answer(offer)
    assert [(m.media, m.port, m.proto) for m in ans.media] == [
        ("video", 0, "RTP/AVP"),
        ("audio", 4000, "RTP/AVP"),
        ("image", 0, "udptl"),
        ("audio", 0, "RTP/AVP"),  # one audio stream is all we take
    ]
    assert ans.media[2].format_tokens == ("t38",)
    assert b"m=image 0 udptl t38\r\n" in bytes(ans)
    assert SessionDescription.parse(bytes(ans)) == ans
    assert ans.rtp_address == ("192.0.2.1", 4000)
    result = negotiated(offer, ans, we_offered=True)
    assert result.codec == PCMA and (result.remote_address, result.remote_port) == (
        "192.0.2.1",
        4000,
    )


def test_an_audio_stream_without_a_common_codec_lets_a_later_one_be_accepted() -> None:
    offer = offer_of(G729)
    second = MediaDescription("audio", 30010, "RTP/AVP", (0,), (PCMU,))
    offer = replace(offer, media=(*offer.media, second))
    ans = answer(offer)
    assert [m.port for m in ans.media] == [0, 4000]
    assert negotiated(offer, ans, we_offered=False).remote_port == 30010


@pytest.mark.parametrize(
    ("offered", "hold", "answered"),
    [
        (Direction.SENDRECV, False, Direction.SENDRECV),
        (Direction.SENDONLY, False, Direction.RECVONLY),  # they hold us
        (Direction.RECVONLY, False, Direction.SENDONLY),
        (Direction.INACTIVE, False, Direction.INACTIVE),
        (Direction.SENDRECV, True, Direction.SENDONLY),  # we hold them
        (Direction.SENDONLY, True, Direction.INACTIVE),  # both hold
        (Direction.RECVONLY, True, Direction.SENDONLY),
        (Direction.INACTIVE, True, Direction.INACTIVE),
    ],
)
def test_answer_direction(offered: Direction, hold: bool, answered: Direction) -> None:
    offer = offer_of(PCMU, direction=offered)
    ans = answer(offer, hold=hold)
    assert ans.audio is not None and ans.audio.direction is answered
    assert ans.on_hold is (hold or not offered.sends)
    assert negotiated(offer, ans, we_offered=False).direction is answered
    assert negotiated(offer, ans, we_offered=True).direction is answered.reverse()


def test_old_style_hold_offer_is_answered_recvonly() -> None:
    offer = SessionDescription.parse(OLD_HOLD)
    ans = answer(offer)
    assert ans.audio is not None and ans.audio.direction is Direction.RECVONLY
    result = negotiated(offer, ans, we_offered=False)
    assert result.direction is Direction.RECVONLY
    assert result.remote_address == "0.0.0.0"


def test_we_never_send_to_an_old_style_hold_address() -> None:
    offer = make_offer("192.0.2.1", 4000, session_id=1, version=1)
    result = negotiated(offer, SessionDescription.parse(OLD_HOLD), we_offered=True)
    assert not result.direction.sends and result.direction.receives


def test_negotiated_uses_the_remote_payload_types_and_ptime() -> None:
    # We offered telephone-event on 101; a peer answered it on 96 and asked for 30 ms.
    offer = make_offer("192.0.2.1", 4000, session_id=1, version=1)
    peer = MediaDescription(
        "audio",
        30000,
        "RTP/AVP",
        (8, 96),
        (PCMA, Codec(96, "telephone-event", fmtp="0-15")),
        Direction.SENDRECV,
        ptime=30,
    )
    peer_answer = replace(make_offer("198.51.100.9", 1, session_id=2, version=1), media=(peer,))
    ours = negotiated(offer, peer_answer, we_offered=True)
    assert ours.codec == PCMA and ours.dtmf_payload_type == 96 and ours.ptime == 30
    assert (ours.remote_address, ours.remote_port) == ("198.51.100.9", 30000)
    theirs = negotiated(offer, peer_answer, we_offered=False)
    assert theirs.dtmf_payload_type == 101 and theirs.ptime == 20


def test_negotiated_rejects_answers_that_do_not_fit_the_offer() -> None:
    offer = make_offer("192.0.2.1", 4000, session_id=1, version=1)
    rejected = replace(offer, media=(replace(offer.media[0], port=0),))
    with pytest.raises(SdpError, match="accepts no audio stream") as caught:
        negotiated(offer, rejected, we_offered=True)
    assert caught.value.status == 488
    g729_only = replace(offer, media=(MediaDescription("audio", 5, "RTP/AVP", (18,), (G729,)),))
    with pytest.raises(SdpError, match="names no codec that the offer listed"):
        negotiated(offer, g729_only, we_offered=True)
    with pytest.raises(SdpError, match="the answer has 2 m= lines for the offer's 1"):
        negotiated(offer, replace(offer, media=offer.media * 2), we_offered=True)


def test_answer_origin_and_session_lines() -> None:
    ans = make_answer(offer_of(PCMU), "192.0.2.1", 4000, session_id=77, version=3, username="pbx")
    text = bytes(ans).decode()
    assert text.startswith(
        "v=0\r\no=pbx 77 3 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n"
    )


# ---------------------------------------------------------------------------------------------
# Fuzzing: garbage in, SdpError out


def _parse_or_error(data: bytes) -> SessionDescription | None:
    try:
        return SessionDescription.parse(data)
    except SdpError:
        return None


@settings(max_examples=500)
@given(st.binary(max_size=600))
def test_random_bytes_raise_only_sdp_error(data: bytes) -> None:
    _parse_or_error(data)
    _parse_or_error(b"v=0\r\n" + data)


GOOD_LINES = [
    "c=IN IP4 192.0.2.1",
    "c=IN IP4 0.0.0.0",
    "c=IN IP6 2001:db8::1",
    "m=audio 4000 RTP/AVP 0 8 101",
    "m=audio 4002 RTP/AVP 96 18 13",
    "m=audio 0 RTP/AVP 0",
    "m=video 4004 RTP/AVP 96",
    "m=image 4006 udptl t38",
    "m=audio 4008 RTP/SAVP 0",
    "a=rtpmap:0 PCMU/8000",
    "a=rtpmap:96 opus/48000/2",
    "a=rtpmap:96 telephone-event/8000",
    "a=rtpmap:101 telephone-event/8000",
    "a=fmtp:101 0-16",
    "a=fmtp:96",
    "a=sendonly",
    "a=recvonly",
    "a=inactive",
    "a=sendrecv",
    "a=ptime:20",
    "a=ptime:x",
    "a=rtcp:4001",
    "a=candidate:1 1 UDP 2130706431 192.0.2.1 4000 typ host",
    "b=AS:64",
    "i=info",
    "t=0 0",
    "s=-",
    "x=unknown",
]
LINE = st.one_of(
    st.sampled_from(GOOD_LINES),
    st.builds(
        "{}={}".format,
        st.sampled_from("vosciabtmkzx"),
        st.one_of(st.text(max_size=30), st.sampled_from([g[2:] for g in GOOD_LINES])),
    ),
)


@settings(max_examples=500)
@given(st.lists(LINE, max_size=14), st.sampled_from(["\r\n", "\n"]))
def test_random_line_soups_raise_only_sdp_error_and_reparse_stably(
    lines: list[str], end: str
) -> None:
    head = "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\n"
    body = head + "".join(f"{line}{end}" for line in lines)
    sd = _parse_or_error(body.encode("utf-8", "surrogatepass"))
    if sd is not None:
        written = bytes(sd)
        assert SessionDescription.parse(written) == sd
        assert bytes(SessionDescription.parse(written)) == written
        for stream in sd.media:
            if not stream.rejected and stream.media == "audio" and stream.codecs:
                try:
                    ans = answer(sd)
                except SdpError as error:
                    assert error.status == 488
                else:
                    assert len(ans.media) == len(sd.media)
                    negotiated(sd, ans, we_offered=False)
                break
