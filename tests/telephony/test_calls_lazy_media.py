"""What a call's media makes only when it is needed, and what it must still do then.

A caller queued without music or announcements (the router path) hears nothing
from us: its leg makes no player (no random SSRC drawn, no clock looked up) and
its endpoint no DTMF receiver. Once something plays, the stream is the one an
eager player gave (RFC 3550 §5.1: one SSRC and sequence space for the call),
paced from the first play.
"""

from __future__ import annotations

import asyncio
import random

import pytest

from ivr.calls.b2bua import CALLER_BYE, caller_id
from ivr.calls.media import CallMedia, MediaLeg
from ivr.media.audio import PromptLibrary
from ivr.media.endpoint import MediaEndpoint
from ivr.media.player import FRAME_SAMPLES, FRAME_SECONDS
from ivr.media.rtp import RtpPacket
from ivr.sip.builders import make_request
from ivr.sip.offer_answer import Negotiated
from ivr.transport import run


def negotiated(codec: str = "PCMA", pt: int = 8) -> Negotiated:
    return Negotiated(
        codec=codec,
        payload_type=pt,
        clock_rate=8000,
        dtmf_payload_type=101,
        dtmf_events="0-15",
        remote_address="192.0.2.9",
        remote_port=30000,
        ptime=20,
        direction="sendrecv",
    )


def test_a_connected_leg_that_plays_nothing_draws_no_ssrc() -> None:
    async def main() -> None:
        rng = random.Random(5)
        before = rng.getstate()
        leg = MediaLeg("127.0.0.1", rng)
        leg.connect(negotiated())
        assert leg.codec == "PCMA"  # known from the negotiation, no player needed
        assert rng.getstate() == before  # no SSRC, sequence or timestamp drawn
        leg.stop()
        leg.close()
        assert rng.getstate() == before

    run(main())


def test_the_first_play_makes_the_stream_an_eager_player_had() -> None:
    async def main() -> list[RtpPacket]:
        leg = MediaLeg("127.0.0.1", random.Random(5))
        leg.connect(negotiated())
        await asyncio.sleep(0.05)  # connected a while before anything plays
        played_at = asyncio.get_running_loop().time()
        leg.play_encoded(b"\xd5" * 480)
        player = leg.player
        assert player is not None and player is leg.player  # one stream for the call
        # paced from the first play, not from connect: no burst of the frames since then
        deadline = player.next_deadline()
        assert deadline is not None and deadline >= played_at
        packets = player.handle_timer(played_at + 1.0)
        leg.close()
        return packets

    packets = run(main())
    expected = random.Random(5)
    ssrc, sequence, timestamp = (expected.getrandbits(n) for n in (32, 16, 32))
    assert [p.ssrc for p in packets] == [ssrc] * 3
    assert [p.sequence for p in packets] == [sequence, sequence + 1, sequence + 2]
    assert [p.timestamp for p in packets] == [timestamp + i * FRAME_SAMPLES for i in range(3)]
    assert [p.payload_type for p in packets] == [8] * 3 and packets[0].marker
    assert FRAME_SECONDS == 0.020


def test_a_new_negotiation_gets_a_new_stream_in_its_codec() -> None:
    async def main() -> None:
        leg = MediaLeg("127.0.0.1", random.Random(5))
        leg.connect(negotiated())
        first = leg.player
        leg.connect(negotiated("PCMU", 0))
        second = leg.player
        assert first is not None and second is not None and second is not first
        assert (second.codec, second.payload_type, leg.codec) == ("PCMU", 0, "PCMU")
        leg.close()

    run(main())


def test_before_connect_nothing_plays() -> None:
    leg = MediaLeg("127.0.0.1", random.Random(5))
    leg.play_encoded(b"\xd5" * 160)
    assert leg.player is None and leg.codec is None


def test_an_endpoint_makes_its_dtmf_receiver_on_first_use() -> None:
    endpoint = MediaEndpoint(dtmf_payload_type=None)
    assert endpoint._dtmf is None  # a queued caller's leg never needs one
    receiver = endpoint.dtmf
    assert receiver is endpoint.dtmf  # one receiver: its history dedups end packets


@pytest.mark.parametrize("use_uvloop", [False, True])
def test_closed_media_reports_its_counters_in_the_records_order(use_uvloop: bool) -> None:
    async def main() -> dict[str, int]:
        media = CallMedia("127.0.0.1", random.Random(7), PromptLibrary())
        await media.open()
        return media.close()

    figures = run(main(), use_uvloop=use_uvloop)
    assert list(figures.items()) == [
        ("caller_to_agent", 0),
        ("agent_to_caller", 0),
        ("played_to_caller", 0),
        ("caller_packets", 0),
        ("agent_packets", 0),
        ("dropped", 0),
    ]


def test_the_shared_hang_up_is_the_one_each_call_built() -> None:
    assert (CALLER_BYE.side, CALLER_BYE.reason) == ("caller", "bye")


def test_a_from_whose_display_name_has_a_comma_still_gives_the_cli() -> None:
    """From holds one name-addr (§20.20): a comma in its quoted display name is no
    second value (the split of P-Asserted-Identity's two identities is not for it)."""
    request = make_request(
        "INVITE",
        "sip:18005550101@ringway.example",
        via="SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKcomma",
        from_='"Doe, Jane" <sip:+447700900456@trunk.example>;tag=t1',
        to="<sip:18005550101@ringway.example>",
        call_id="comma-1",
        cseq=1,
    )
    assert caller_id(request) == "sip:+447700900456@trunk.example"
    assert request.from_.uri == "sip:+447700900456@trunk.example"  # the same parse
