"""SDP (RFC 4566) and offer/answer for G.711 + RFC 4733 (RFC 3264), on captured bodies."""

from __future__ import annotations

from pathlib import Path

import pytest

from ivr.sip.errors import NoCommonCodec, SdpError
from ivr.sip.message import parse_message
from ivr.sip.offer_answer import (
    LocalMedia,
    accept_answer,
    answer,
    format_events,
    make_offer,
    parse_events,
)
from ivr.sip.sdp import SessionDescription, parse_sdp

FIXTURES = Path(__file__).parent / "fixtures"
BODIES = [
    "ivr_call/01-INVITE.sip",
    "ivr_call/04-200.sip",
    "ivr_call/08-INVITE.sip",
    "ivr_call/09-200.sip",
    "call_udp/01-INVITE.sip",
    "cancel/01-INVITE.sip",
    "handmade/tortuous_invite.sip",
]
LOCAL = LocalMedia(address="192.0.2.10", port=40000, session_id=7, session_version=1)


def body(name: str) -> bytes:
    return parse_message((FIXTURES / name).read_bytes()).body


def sdp(name: str) -> SessionDescription:
    return parse_sdp(body(name))


@pytest.mark.parametrize("name", BODIES)
def test_rfc4566_captured_bodies_round_trip(name: str) -> None:
    assert parse_sdp(body(name)).serialise() == body(name)


def test_rfc4566_views_of_the_ivr_offer() -> None:
    offer = sdp("ivr_call/01-INVITE.sip")
    assert offer.origin.username == "caller" and offer.origin.address == "127.0.0.1"
    assert offer.connection == "127.0.0.1"
    (audio,) = offer.media
    assert (audio.media, audio.port, audio.proto, audio.formats) == (
        "audio",
        6004,
        "RTP/AVP",
        ["0", "8", "101"],
    )
    assert audio.rtpmap(101) is not None and audio.rtpmap(101).encoding == "telephone-event"  # type: ignore[union-attr]
    assert audio.fmtp(101) == "0-16" and audio.ptime == 20
    assert offer.media_direction(audio) == "sendrecv"
    plain = sdp("call_udp/01-INVITE.sip").media[0]
    assert plain.rtpmap(0) is not None and plain.rtpmap(8) is not None  # RFC 3551 static types


def test_rfc3264_6_1_answer_to_the_captured_ivr_offer() -> None:
    result = answer(sdp("ivr_call/01-INVITE.sip"), LOCAL)
    assert result.sdp.serialise() == (
        b"v=0\r\n"
        b"o=ringway 7 1 IN IP4 192.0.2.10\r\n"
        b"s=-\r\n"
        b"c=IN IP4 192.0.2.10\r\n"
        b"t=0 0\r\n"
        b"m=audio 40000 RTP/AVP 0 101\r\n"
        b"a=rtpmap:0 PCMU/8000\r\n"
        b"a=rtpmap:101 telephone-event/8000\r\n"
        b"a=fmtp:101 0-16\r\n"
        b"a=ptime:20\r\n"
        b"a=sendrecv\r\n"
    )
    media = result.media
    assert (media.codec, media.payload_type, media.dtmf_payload_type) == ("PCMU", 0, 101)
    assert (media.remote_address, media.remote_port, media.ptime) == ("127.0.0.1", 6004, 20)


def test_rfc3264_6_1_hold_offer_sendonly_is_answered_recvonly() -> None:
    result = answer(sdp("ivr_call/08-INVITE.sip"), LOCAL)
    assert result.media.direction == "recvonly"
    assert ("a", "recvonly") in result.sdp.media[0].lines


def test_rfc3264_8_4_old_style_hold_with_zero_address() -> None:
    data = body("ivr_call/01-INVITE.sip").replace(b"c=IN IP4 127.0.0.1", b"c=IN IP4 0.0.0.0")
    assert answer(parse_sdp(data), LOCAL).media.direction == "recvonly"


def test_rfc3264_6_1_the_offerers_codec_order_wins_among_ours() -> None:
    assert answer(sdp("cancel/01-INVITE.sip"), LOCAL).media.codec == "PCMA"
    pcma_only = LocalMedia(address="192.0.2.10", port=40000, codecs=("PCMA",))
    assert answer(sdp("ivr_call/01-INVITE.sip"), pcma_only).media.payload_type == 8


def test_rfc3264_6_refused_streams_keep_their_place_with_port_zero() -> None:
    offer = sdp("handmade/tortuous_invite.sip")  # m=audio 0 12, m=video 31
    result = answer(offer, LOCAL)
    lines = result.sdp.serialise().decode().splitlines()
    assert [line for line in lines if line.startswith("m=")] == [
        "m=audio 40000 RTP/AVP 0",
        "m=video 0 RTP/AVP 31",
    ]
    assert result.media.dtmf_payload_type is None  # none offered


def test_rfc3264_6_1_no_common_codec_is_488() -> None:
    data = body("call_udp/01-INVITE.sip").replace(
        b"RTP/AVP 0\r\na=rtpmap:0 PCMU/8000", b"RTP/AVP 18\r\na=rtpmap:18 G729/8000"
    )
    with pytest.raises(NoCommonCodec) as caught:
        answer(parse_sdp(data), LOCAL)
    assert (caught.value.status, caught.value.reason) == (488, "Not Acceptable Here")
    srtp = body("call_udp/01-INVITE.sip").replace(b"RTP/AVP", b"RTP/SAVP")
    with pytest.raises(NoCommonCodec):
        answer(parse_sdp(srtp), LOCAL)


@pytest.mark.parametrize(
    ("fmtp", "ours", "expected"),
    [
        ("0-16", "0-16", "0-16"),
        ("0-15", "0-16", "0-15"),
        (None, "0-16", "0-15"),  # RFC 4733 §7.1.1: no fmtp means 0-15
        ("0-11,16,32-35", "0-16", "0-11,16"),
        ("32-35", "0-16", None),
    ],
)
def test_rfc4733_7_1_1_event_ranges_are_intersected(
    fmtp: str | None, ours: str, expected: str | None
) -> None:
    data = body("ivr_call/01-INVITE.sip")
    data = data.replace(
        b"a=fmtp:101 0-16\r\n", b"" if fmtp is None else f"a=fmtp:101 {fmtp}\r\n".encode()
    )
    local = LocalMedia(address="192.0.2.10", port=40000, telephone_events=ours)
    media = answer(parse_sdp(data), local).media
    assert media.dtmf_events == expected
    assert media.dtmf_payload_type == (None if expected is None else 101)


def test_rfc4733_telephone_event_at_another_clock_rate_is_ignored() -> None:
    data = body("ivr_call/01-INVITE.sip").replace(b"telephone-event/8000", b"telephone-event/48000")
    assert answer(parse_sdp(data), LOCAL).media.dtmf_payload_type is None


def test_rfc3264_7_reading_the_captured_answer_to_our_offer() -> None:
    media = accept_answer(sdp("ivr_call/01-INVITE.sip"), sdp("ivr_call/04-200.sip"))
    assert (media.codec, media.payload_type, media.dtmf_payload_type) == ("PCMU", 0, 101)
    assert (media.dtmf_events, media.remote_port, media.direction) == ("0-15", 6000, "sendrecv")
    held = accept_answer(sdp("ivr_call/08-INVITE.sip"), sdp("ivr_call/09-200.sip"))
    assert held.direction == "sendonly"  # they only receive: we only send


def test_rfc3264_5_our_offer_answers_itself() -> None:
    offer = make_offer(LOCAL)
    assert parse_sdp(offer.serialise()).serialise() == offer.serialise()
    other = LocalMedia(address="192.0.2.20", port=50000)
    result = answer(parse_sdp(offer.serialise()), other)
    assert result.media.codec == "PCMU" and result.media.dtmf_events == "0-16"
    assert accept_answer(offer, result.sdp).remote_port == 50000
    refused = answer(parse_sdp(offer.serialise()), other).sdp
    refused.media[0].port = 0
    with pytest.raises(NoCommonCodec):
        accept_answer(offer, refused)


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"o=- 1 1 IN IP4 1.2.3.4\r\n",
        b"v=0\r\n",
        b"v=0\r\no=- 1 1 IN IP4\r\n",
        b"v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\nm=audio x RTP/AVP 0\r\n",
        b"v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\nm=audio 1\r\n",
        b"v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\nbad line\r\n",
        b"v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\n\xff=x\r\n",
    ],
)
def test_rfc4566_malformed_descriptions_are_400(data: bytes) -> None:
    with pytest.raises(SdpError) as caught:
        parse_sdp(data)
    assert caught.value.status == 400


def test_rfc4733_event_lists() -> None:
    assert parse_events("0-3, 7") == {0, 1, 2, 3, 7}
    assert format_events({0, 1, 2, 3, 7, 9, 10}) == "0-3,7,9-10"
    for bad in ("x", "1-", "5-2", "0-100000"):
        with pytest.raises(SdpError):
            parse_events(bad)
