"""The agent leg offers what the caller negotiated, so the relay never transcodes."""

from __future__ import annotations

import random

from ivr.calls.media import MediaLeg
from ivr.sip.offer_answer import Negotiated, make_offer


def negotiated(codec: str, pt: int, dtmf: int | None) -> Negotiated:
    return Negotiated(
        codec=codec,
        payload_type=pt,
        clock_rate=8000,
        dtmf_payload_type=dtmf,
        dtmf_events=None if dtmf is None else "0-15",
        remote_address="192.0.2.9",
        remote_port=30000,
        ptime=20,
        direction="sendrecv",
    )


def legs() -> tuple[MediaLeg, MediaLeg]:
    return MediaLeg("127.0.0.1", random.Random(1)), MediaLeg("127.0.0.1", random.Random(2))


def test_agent_offer_follows_the_callers_codec_and_event_payload_type() -> None:
    caller, agent = legs()
    caller.negotiated = negotiated("PCMA", 8, 96)  # a European trunk: A-law, events on 96
    offer = make_offer(agent.matching(caller)).serialise()
    assert b"m=audio 0 RTP/AVP 8 96\r\n" in offer
    assert b"a=rtpmap:96 telephone-event/8000" in offer and b"PCMU" not in offer


def test_caller_without_telephone_event_gets_an_offer_without_it() -> None:
    caller, agent = legs()
    caller.negotiated = negotiated("PCMU", 0, None)
    offer = make_offer(agent.matching(caller)).serialise()
    assert b"m=audio 0 RTP/AVP 0\r\n" in offer and b"telephone-event" not in offer


def test_before_the_caller_is_connected_both_codecs_are_offered() -> None:
    caller, agent = legs()
    assert agent.matching(caller).codecs == ("PCMU", "PCMA")
