"""The SDP answer cache: a hit is byte-identical to building the answer afresh.

The B2BUA answers every call from its own RTP port, so the cache keys on the offer
and every `LocalMedia` field but the port, and writes the port into the kept answer.
"""

from __future__ import annotations

from dataclasses import fields, replace
from pathlib import Path

import pytest

from ivr.sip.errors import NoCommonCodec
from ivr.sip.message import parse_message
from ivr.sip.offer_answer import LocalMedia, answer, make_offer
from ivr.sip.sdp import parse_sdp
from ivr.sip.sdp_cache import KEY_FIELDS, AnswerCache

FIXTURES = Path(__file__).parent / "fixtures"
OFFERS = [
    "ivr_call/01-INVITE.sip",
    "call_udp/01-INVITE.sip",
    "cancel/01-INVITE.sip",
    "handmade/tortuous_invite.sip",  # a refused stream (port 0) after ours
]
LOCAL = LocalMedia(address="192.0.2.10", port=40000, session_id=7, session_version=1)


def offer(name: str) -> bytes:
    return parse_message((FIXTURES / name).read_bytes()).body


def fresh(body: bytes, local: LocalMedia) -> bytes:
    if not body:
        return make_offer(local).serialise()
    return answer(parse_sdp(body), local).sdp.serialise()


@pytest.mark.parametrize("name", [*OFFERS, None])
def test_a_hit_on_another_port_is_the_answer_built_for_that_port(name: str | None) -> None:
    body = offer(name) if name is not None else b""  # no offer: our offer (RFC 3264 §5)
    cache = AnswerCache()
    ports = (40000, 40002, 9, 65534, 40000)
    got = [cache.answer(body, replace(LOCAL, port=port))[0] for port in ports]
    assert cache.hits == len(ports) - 1
    assert got == [fresh(body, replace(LOCAL, port=port)) for port in ports]


def test_the_negotiated_media_is_the_same_on_a_hit() -> None:
    cache = AnswerCache()
    first = cache.answer(offer(OFFERS[0]), LOCAL)[1]
    again = cache.answer(offer(OFFERS[0]), replace(LOCAL, port=41000))[1]
    assert cache.hits == 1 and again == first == answer(parse_sdp(offer(OFFERS[0])), LOCAL).media


@pytest.mark.parametrize(
    "changed",
    [
        {"address": "192.0.2.99"},
        {"codecs": ("PCMA",)},
        {"telephone_events": None},
        {"dtmf_payload_type": 96},
        {"ptime": 30},
        {"direction": "sendonly"},
        {"session_id": 8},
        {"session_version": 2},
        {"username": "other"},
    ],
)
def test_any_other_local_media_field_is_a_miss(changed: dict[str, object]) -> None:
    cache = AnswerCache()
    cache.answer(offer(OFFERS[0]), LOCAL)
    other = replace(LOCAL, **changed)  # type: ignore[arg-type]
    assert cache.answer(offer(OFFERS[0]), other)[0] == fresh(offer(OFFERS[0]), other)
    assert cache.hits == 0


def test_the_key_covers_every_local_media_field_but_the_port() -> None:
    """A field added to LocalMedia later must change the key, or hits would be stale."""
    assert set(KEY_FIELDS) == {f.name for f in fields(LocalMedia)} - {"port"}


def test_port_zero_is_answered_but_not_kept() -> None:
    cache = AnswerCache()
    local = replace(LOCAL, port=0)
    for _ in range(2):
        assert cache.answer(offer(OFFERS[0]), local)[0] == fresh(offer(OFFERS[0]), local)
    assert cache.hits == 0


def test_an_offer_without_a_common_codec_raises_every_time() -> None:
    g729_only = (
        b"v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\n"
        b"t=0 0\r\nm=audio 5004 RTP/AVP 18\r\n"
    )
    cache = AnswerCache()
    for _ in range(2):
        with pytest.raises(NoCommonCodec):
            cache.answer(g729_only, LOCAL)
    assert cache.hits == 0


def test_serialise_around_port_splits_the_wire_form() -> None:
    sdp = answer(parse_sdp(offer("handmade/tortuous_invite.sip")), LOCAL).sdp
    before, after = sdp.serialise_around_port(0)
    assert before + b"40000" + after == sdp.serialise()
    assert before.endswith(b"m=audio ") and after.startswith(b" RTP/AVP")
    with pytest.raises(ValueError):
        sdp.media[0].port_count = 2
        sdp.serialise_around_port(0)
