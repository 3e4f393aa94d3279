"""Short cuts of the reply path that must give what the long way gives.

`server_key` spells out `Via.sent_by` (the transport's default port, the host in
lower case, §17.2.3, §18.2.2); the SDP answer cache compares a call's
`LocalMedia` with the last call's field by field (`same_media`) instead of
building and hashing its key.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from ivr.edge import Call, CallHandler, SipEdge
from ivr.sip.actions import Peer
from ivr.sip.message import Request, parse_message
from ivr.sip.offer_answer import LocalMedia
from ivr.sip.sdp_cache import KEY_FIELDS, AnswerCache, media_key, same_media
from ivr.sip.transaction import server_key

BYE = (
    "BYE sip:service@127.0.0.1 SIP/2.0\r\n"
    "Via: SIP/2.0/{via};branch=z9hG4bK-7\r\n"
    "From: <sip:a@192.0.2.7>;tag=abc\r\nTo: <sip:service@127.0.0.1>;tag=ours\r\n"
    "Call-ID: 7@192.0.2.7\r\nCSeq: 2 BYE\r\nContent-Length: 0\r\n\r\n"
)


@pytest.mark.parametrize(
    "via",
    ["UDP 192.0.2.7:5070", "UDP 192.0.2.7", "TLS Host.Example.COM", "WSS h.example", "TCP [::1]"],
)
def test_the_server_key_is_branch_sent_by_and_method(via: str) -> None:
    request = parse_message(BYE.format(via=via).encode())
    assert isinstance(request, Request)
    host, port = request.top_via.sent_by
    assert server_key(request) == ("s", "z9hG4bK-7", host, str(port), "BYE")


LOCAL = LocalMedia(address="192.0.2.7", port=41000)
OTHER_VALUES: dict[str, Any] = {
    "address": "192.0.2.99",
    "codecs": ("PCMA",),
    "telephone_events": None,
    "dtmf_payload_type": 96,
    "ptime": 30,
    "direction": "sendonly",
    "session_id": 8,
    "session_version": 2,
    "username": "other",
}


def test_every_key_field_is_compared() -> None:
    assert set(OTHER_VALUES) == set(KEY_FIELDS)
    for name, value in OTHER_VALUES.items():
        changed = replace(LOCAL, **{name: value})
        assert not same_media(LOCAL, changed) and media_key(LOCAL) != media_key(changed), name


def test_equal_media_is_the_same_whatever_its_port_or_objects() -> None:
    copies = replace(
        LOCAL, port=41002, address="".join(list(LOCAL.address)), codecs=tuple(list(LOCAL.codecs))
    )
    assert copies.address is not LOCAL.address
    assert same_media(LOCAL, copies) and media_key(LOCAL) == media_key(copies)


def test_the_cache_answers_media_not_the_last_one_by_its_key() -> None:
    """A, B, then A again: A's answer is a hit although B came between."""
    offer = (
        b"v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\n"
        b"t=0 0\r\nm=audio 5004 RTP/AVP 0\r\n"
    )
    cache = AnswerCache()
    first = cache.answer(offer, LOCAL)
    cache.answer(offer, replace(LOCAL, direction="sendonly"))
    assert cache.hits == 0
    assert cache.answer(offer, replace(LOCAL, port=41000)) == first and cache.hits == 1


INVITE = (
    "INVITE sip:service@127.0.0.1:5060 SIP/2.0\r\n"
    "Via: SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK-{i}-0\r\n"
    "From: sipp <sip:sipp@127.0.0.1:5061>;tag={i}SIPpTag00\r\n"
    "To: service <sip:service@127.0.0.1:5060>\r\n"
    "Call-ID: {i}-1@127.0.0.1\r\nCSeq: 1 INVITE\r\nContact: sip:sipp@127.0.0.1:5061\r\n"
    "Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
)


class Deciding(CallHandler):
    """Answers, rings (answering later) or fails in `on_invite`, by the call's number."""

    def on_invite(self, call: Call) -> None:
        kind = call.call_id.split("-")[0]
        if kind == "1":
            call.answer()
        elif kind == "2":
            call.ring()
        else:
            raise RuntimeError("handler bug")


def test_only_a_call_left_unanswered_by_on_invite_can_be_cancelled() -> None:
    """An INVITE answered inside `on_invite` is never listed for CANCEL (§9.2); one
    still ringing is, and so is one whose handler failed (as before)."""
    edge = SipEdge("127.0.0.1", 5060, {}, handler=Deciding())
    peer = Peer("127.0.0.1", 5061)
    edge.on_data(INVITE.format(i=1).encode(), peer, 1.0)
    assert edge._invites == {} and len(edge.calls) == 1
    edge.on_data(INVITE.format(i=2).encode(), peer, 1.0)
    (ringing,) = edge._invites.values()
    assert ringing.call_id == "2-1@127.0.0.1" and ringing.tx is not None
    ringing.answer()
    assert edge._invites == {}
    with pytest.raises(RuntimeError):
        edge.on_data(INVITE.format(i=3).encode(), peer, 1.0)
    (failed,) = edge._invites.values()
    assert failed.call_id == "3-1@127.0.0.1"
