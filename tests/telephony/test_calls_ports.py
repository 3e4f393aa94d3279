"""RTP ports reused from call to call (`ivr.calls.ports`): what one call's peer sends
never reaches the next call on the same port."""

from __future__ import annotations

import asyncio
import gc
import os
import random
import resource
import socket
from collections.abc import Callable, Coroutine
from typing import Any

import pytest

from ivr.calls.media import CallMedia, MediaLeg
from ivr.calls.ports import KEEP, RtpPorts, default_keep
from ivr.media.audio import PromptLibrary
from ivr.media.dtmf import DtmfDigit
from ivr.media.rtp import RtpPacket
from ivr.sip.offer_answer import Negotiated
from ivr.transport import run

LOOPS = [False, True]  # asyncio's selector loop, uvloop


def negotiated(port: int) -> Negotiated:
    return Negotiated(
        codec="PCMU",
        payload_type=0,
        clock_rate=8000,
        dtmf_payload_type=101,
        dtmf_events="0-15",
        remote_address="127.0.0.1",
        remote_port=port,
        ptime=20,
        direction="sendrecv",
    )


def peer() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.setblocking(False)
    return sock


def rtp(sequence: int) -> bytes:
    packet = RtpPacket(
        payload_type=0, sequence=sequence, timestamp=160 * sequence, ssrc=7, payload=b"\xff" * 160
    )
    return packet.serialize()


def digit(sequence: int, event: int) -> bytes:
    """An RFC 4733 end packet for `event` (a DTMF digit)."""
    payload = bytes([event, 0x80 | 10, 0x03, 0x20])  # E bit, volume 10, duration 800
    packet = RtpPacket(
        payload_type=101, sequence=sequence, timestamp=8000, ssrc=9, payload=payload, marker=True
    )
    return packet.serialize()


async def settle() -> None:
    for _ in range(20):
        await asyncio.sleep(0.002)


def in_loops(main: Callable[[], Coroutine[Any, Any, None]], use_uvloop: bool) -> None:
    run(main(), use_uvloop=use_uvloop)


@pytest.mark.parametrize("use_uvloop", LOOPS)
def test_a_rested_port_serves_the_next_call_and_opens_no_socket(use_uvloop: bool) -> None:
    async def main() -> None:
        ports = RtpPorts("127.0.0.1", rest=0.0)
        first = MediaLeg("127.0.0.1", random.Random(1), ports)
        await first.open()
        port = first.port
        assert first.transport is not None and first.endpoint.transport is first.transport
        first.close()
        assert first.transport is None and first.endpoint.transport is None
        assert len(ports) == 1
        second = MediaLeg("127.0.0.1", random.Random(2), ports)
        await second.open()
        assert second.port == port and ports.opened == 1 and ports.reused == 1
        third = MediaLeg("127.0.0.1", random.Random(3), ports)
        await third.open()  # none resting: a new socket
        assert third.port != port and ports.opened == 2
        second.close()
        third.close()
        ports.close()
        assert len(ports) == 0

    in_loops(main, use_uvloop)


@pytest.mark.parametrize("use_uvloop", LOOPS)
def test_a_port_rests_before_it_is_reused_and_drops_what_reaches_it(use_uvloop: bool) -> None:
    async def main() -> None:
        ports = RtpPorts("127.0.0.1", rest=0.2)
        caller = peer()
        first = MediaLeg("127.0.0.1", random.Random(1), ports)
        await first.open()
        port = first.port
        first.connect(negotiated(caller.getsockname()[1]))
        first.close()
        caller.sendto(rtp(1), ("127.0.0.1", port))  # late: reaches the resting port
        await settle()
        assert first.endpoint.received == 0
        second = MediaLeg("127.0.0.1", random.Random(2), ports)
        await second.open()
        assert second.port != port  # still resting
        await asyncio.sleep(0.25)
        third = MediaLeg("127.0.0.1", random.Random(3), ports)
        await third.open()
        assert third.port == port and third.endpoint.received == 0
        for leg in (second, third):
            leg.close()
        ports.close()
        caller.close()

    in_loops(main, use_uvloop)


@pytest.mark.parametrize("use_uvloop", LOOPS)
def test_the_previous_calls_peer_cannot_reach_the_next_call(use_uvloop: bool) -> None:
    """A phone that keeps streaming after its call ended: its RTP and its digits stay out
    of the next call on that port; the next call's own peer gets through."""

    async def main() -> None:
        ports = RtpPorts("127.0.0.1", rest=0.0)
        old, new = peer(), peer()
        first = MediaLeg("127.0.0.1", random.Random(1), ports)
        await first.open()
        port = first.port
        first.connect(negotiated(old.getsockname()[1]))
        old.sendto(rtp(1), ("127.0.0.1", port))
        await settle()
        assert first.endpoint.received == 1
        first.close()

        second = MediaLeg("127.0.0.1", random.Random(2), ports)
        digits: list[DtmfDigit] = []
        second.endpoint.on_digit = digits.append
        await second.open()
        assert second.port == port
        old.sendto(rtp(2), ("127.0.0.1", port))  # before the answer: no remote yet
        await settle()
        assert second.endpoint.received == 0 and second.endpoint.remote is None
        second.connect(negotiated(new.getsockname()[1]))
        for sequence in range(3, 6):
            old.sendto(rtp(sequence), ("127.0.0.1", port))
        old.sendto(digit(6, 5), ("127.0.0.1", port))
        await settle()
        assert second.endpoint.received == 0 and digits == []
        new.sendto(rtp(1), ("127.0.0.1", port))
        new.sendto(digit(2, 7), ("127.0.0.1", port))
        await settle()
        assert second.endpoint.received == 2
        assert [d.digit for d in digits] == ["7"]
        assert first.endpoint.received == 1  # the first call's endpoint heard nothing more
        second.close()
        ports.close()
        old.close()
        new.close()

    in_loops(main, use_uvloop)


@pytest.mark.parametrize("use_uvloop", LOOPS)
def test_the_same_peer_calling_again_on_the_same_port_is_heard(use_uvloop: bool) -> None:
    async def main() -> None:
        ports = RtpPorts("127.0.0.1", rest=0.0)
        phone = peer()
        first = MediaLeg("127.0.0.1", random.Random(1), ports)
        await first.open()
        first.connect(negotiated(phone.getsockname()[1]))
        first.close()
        second = MediaLeg("127.0.0.1", random.Random(2), ports)
        await second.open()
        second.connect(negotiated(phone.getsockname()[1]))  # its SDP names it again
        phone.sendto(rtp(1), ("127.0.0.1", second.port))
        await settle()
        assert second.endpoint.received == 1
        second.close()
        ports.close()
        phone.close()

    in_loops(main, use_uvloop)


@pytest.mark.parametrize("use_uvloop", LOOPS)
def test_an_ended_calls_player_sends_nothing_from_the_reused_port(use_uvloop: bool) -> None:
    async def main() -> None:
        ports = RtpPorts("127.0.0.1", rest=0.0)
        listener = peer()
        first = MediaLeg("127.0.0.1", random.Random(1), ports)
        await first.open()
        first.connect(negotiated(listener.getsockname()[1]))
        first.close()
        second = MediaLeg("127.0.0.1", random.Random(2), ports)
        await second.open()
        assert second.port == first.port
        assert first.player is not None
        first.endpoint.send_player(first.player, 1e9)  # what a late tick would do
        first.endpoint.send(RtpPacket(payload_type=0, sequence=1, timestamp=0, ssrc=1))
        await settle()
        with pytest.raises(BlockingIOError):
            listener.recv(2048)
        second.close()
        ports.close()
        listener.close()

    in_loops(main, use_uvloop)


@pytest.mark.parametrize("use_uvloop", LOOPS)
def test_ports_close_when_unused_too_long_over_the_limit_and_at_stop(use_uvloop: bool) -> None:
    async def main() -> None:
        before = len(os.listdir("/proc/self/fd"))
        ports = RtpPorts("127.0.0.1", rest=0.0, idle=0.1, keep=3)
        legs = [MediaLeg("127.0.0.1", random.Random(i), ports) for i in range(5)]
        for leg in legs:
            await leg.open()
        for leg in legs:
            leg.close()
        assert len(ports) == 3  # two closed at once: over `keep`
        await asyncio.sleep(0.15)
        assert ports.take() is None and len(ports) == 0  # unused for longer than `idle`
        again = [MediaLeg("127.0.0.1", random.Random(i), ports) for i in range(2)]
        for leg in again:
            await leg.open()
        for leg in again:
            leg.close()
        assert len(ports) == 2
        ports.close()
        await asyncio.sleep(0.01)
        gc.collect()
        assert len(os.listdir("/proc/self/fd")) == before

    in_loops(main, use_uvloop)


@pytest.mark.parametrize("use_uvloop", LOOPS)
def test_an_agent_leg_closed_while_its_new_port_attaches_gives_it_back(use_uvloop: bool) -> None:
    """`open_soon` (the agent leg) binds at once and attaches in a task; a leg closed
    before that task ends leaves the new port to the pool, not open and lost."""

    async def main() -> None:
        before = len(os.listdir("/proc/self/fd"))
        ports = RtpPorts("127.0.0.1", rest=0.0)
        media = CallMedia("127.0.0.1", random.Random(1), PromptLibrary(), ports)
        media.open_agent()
        assert media.agent.port != 0
        media.close()
        await settle()
        assert len(ports) == 1
        again = CallMedia("127.0.0.1", random.Random(2), PromptLibrary(), ports)
        again.open_agent()  # a rested port: taken at once
        assert again.agent.port == media.agent.port and again.agent.transport is not None
        again.open_agent()  # idempotent
        assert ports.opened == 1
        again.close()
        ports.close()
        await asyncio.sleep(0.01)
        gc.collect()
        assert len(os.listdir("/proc/self/fd")) == before

    in_loops(main, use_uvloop)


def test_resting_ports_are_bounded_by_the_descriptor_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (1024, hard))
        assert default_keep() == 128 and RtpPorts("127.0.0.1").keep == 128
        resource.setrlimit(resource.RLIMIT_NOFILE, (64, hard))
        assert default_keep() == 16
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    assert default_keep() == (
        KEEP if soft == resource.RLIM_INFINITY else max(16, min(KEEP, soft // 8))
    )
