"""The agent leg offers what the caller negotiated, so the relay never transcodes."""

from __future__ import annotations

import asyncio
import gc
import os
import random
import weakref

import pytest

from ivr.calls.media import CallMedia, MediaLeg
from ivr.media.audio import PromptLibrary
from ivr.sip.offer_answer import Negotiated, make_offer
from ivr.transport import run


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


@pytest.mark.parametrize("use_uvloop", [False, True])
def test_a_leg_closed_while_its_port_is_handed_to_the_loop_leaks_no_socket(
    use_uvloop: bool,
) -> None:
    """`open_soon` binds at once (the port goes in the INVITE's SDP) and attaches in a
    task; closing the leg before, during or after that task leaves no descriptor."""

    async def main() -> tuple[int, int]:
        before = len(os.listdir("/proc/self/fd"))
        attached = 0
        for index in range(60):
            leg = MediaLeg("127.0.0.1", random.Random(index))
            leg.open_soon()
            assert leg.port != 0
            if index % 3 == 1:
                await asyncio.sleep(0)  # the task has started, the loop is taking it
            elif index % 3 == 2:
                await asyncio.sleep(0.02)  # attached
            attached += leg.transport is not None
            leg.close()
        await asyncio.sleep(0.05)
        gc.collect()
        return len(os.listdir("/proc/self/fd")) - before, attached

    leaked, attached = run(main(), use_uvloop=use_uvloop)
    assert leaked == 0
    assert attached >= 20


class _Owner:
    """A call's driver as the media sees it: its bound methods are the callbacks."""

    def __init__(self, media: CallMedia) -> None:
        self.media = media
        media.on_digit(self.digit)
        media.caller.on_idle = self.idle

    def digit(self, digit: object) -> None: ...

    def idle(self) -> None: ...


@pytest.mark.parametrize("use_uvloop", [False, True])
def test_closed_media_holds_no_callback_so_an_ended_call_is_freed_at_once(
    use_uvloop: bool,
) -> None:
    """The driver holds its media and the media held the driver's bound methods: each
    ended call was a reference cycle, freed only by the cyclic collector, whose passes
    over thousands of piled-up calls paused the loop under load. Closed, the media
    lets go of the callbacks, and the call goes by reference counting alone."""

    async def main() -> tuple[bool, bool]:
        media = CallMedia("127.0.0.1", random.Random(7), PromptLibrary())
        await media.open()
        owner = weakref.ref(_Owner(media))
        held = owner() is not None  # the cycle keeps it alive before close
        media.close()
        del media
        return held, owner() is None

    gc.disable()
    try:
        held, freed = run(main(), use_uvloop=use_uvloop)
    finally:
        gc.enable()
    assert held
    assert freed
