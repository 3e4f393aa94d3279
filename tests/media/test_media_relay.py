"""B2BUA RTP relay continuity (RFC 3550 §5.1, RFC 7667 §3.2.1.2) and the asyncio endpoint."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from ivr.media.audio import silence
from ivr.media.dtmf import DtmfDigit, DtmfReceiver
from ivr.media.endpoint import MediaEndpoint, bridge
from ivr.media.pcap import read_udp
from ivr.media.player import Player
from ivr.media.recorder import Recorder
from ivr.media.relay import Relay, RelayRewriter
from ivr.media.rtp import RtpPacket, parse_rtp, seq_delta, ts_delta

SIPP = Path("/usr/share/sip-tester")


def stream(ssrc: int, seq: int, ts: int, count: int, step: int = 160) -> list[RtpPacket]:
    return [
        RtpPacket(
            payload_type=0,
            sequence=(seq + i) % 65536,
            timestamp=(ts + i * step) % 2**32,
            ssrc=ssrc,
            payload=bytes([i]) * 160,
            marker=i == 0,
        )
        for i in range(count)
    ]


def test_rewrite_keeps_our_ssrc_and_passes_gaps_and_reordering() -> None:
    rewriter = RelayRewriter(ssrc=0xB2B, sequence=100, timestamp=5000)
    packets = stream(0xAAA, 65530, 2**32 - 320, 10)
    arrival = [packets[0], packets[1], packets[3], packets[2], packets[5]]  # 4 lost, 2/3 swapped
    out = [rewriter.rewrite(p, now=i * 0.02) for i, p in enumerate(arrival)]
    assert {p.ssrc for p in out} == {0xB2B}
    assert [p.sequence for p in out] == [100, 101, 103, 102, 105]
    assert [p.timestamp for p in out] == [5000, 5160, 5480, 5320, 5800]
    assert [p.payload for p in out] == [p.payload for p in arrival]
    assert [p.marker for p in out] == [True, False, False, False, False]


def test_upstream_source_change_continues_sequence_and_timestamp() -> None:
    rewriter = RelayRewriter(ssrc=7)
    first = [
        rewriter.rewrite(p, now=1.0 + i * 0.02) for i, p in enumerate(stream(1, 40000, 123456, 50))
    ]
    # transfer: a new upstream source with unrelated numbering, 0.5 s after the last packet
    second = [rewriter.rewrite(p, now=2.48 + i * 0.02) for i, p in enumerate(stream(2, 9, 77, 50))]
    assert seq_delta(second[0].sequence, first[-1].sequence) == 1
    assert ts_delta(second[0].timestamp, first[-1].timestamp) == 4000  # 0.5 s at 8 kHz
    assert second[0].marker and not any(p.marker for p in second[1:])
    out = first + second
    assert all(seq_delta(b.sequence, a.sequence) == 1 for a, b in itertools.pairwise(out))
    assert {p.ssrc for p in out} == {7}


def test_relay_has_independent_directions() -> None:
    relay = Relay(ssrc_to_a=0xA, ssrc_to_b=0xB)
    to_b = relay.from_a(stream(1, 0, 0, 1)[0], now=0.0)
    to_a = relay.from_b(stream(2, 500, 900, 1)[0], now=0.0)
    assert (to_b.ssrc, to_a.ssrc) == (0xB, 0xA)


async def until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    """Poll the loop until `condition` holds (loopback UDP under load is not instant)."""
    loop = asyncio.get_running_loop()
    give_up = loop.time() + timeout
    while not condition() and loop.time() < give_up:
        await asyncio.sleep(0.005)


class Sink(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.packets: list[RtpPacket] = []

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.packets.append(parse_rtp(data))


async def endpoint_scenario() -> tuple[list[DtmfDigit], MediaEndpoint, Recorder, Sink]:
    loop = asyncio.get_running_loop()
    digits: list[DtmfDigit] = []
    recorder = Recorder()
    ivr_transport, ivr = await loop.create_datagram_endpoint(
        lambda: MediaEndpoint(on_digit=digits.append, recorder=recorder),
        local_addr=("127.0.0.1", 0),
    )
    phone, sink = await loop.create_datagram_endpoint(Sink, local_addr=("127.0.0.1", 0))
    address = ivr_transport.get_extra_info("sockname")
    captured = [d.payload for d in read_udp((SIPP / "dtmf_2833_pound.pcap").read_bytes())]
    audio = [d.payload for d in read_udp((SIPP / "g711a.pcap").read_bytes())][:20]
    ivr.dtmf = DtmfReceiver(timeout=0.1)
    for data in [b"garbage", *audio, *captured, *captured]:  # the whole event retransmitted
        phone.sendto(data, address)
    for data in captured[:-3]:  # a second '#' (new timestamp) whose end packets are all lost
        packet = parse_rtp(data)
        phone.sendto(replace(packet, timestamp=packet.timestamp + 8000).serialize(), address)
    player = Player(start=loop.time(), ssrc=0x51, codec="PCMA")
    player.play(silence(200))
    await until(lambda: ivr.received + ivr.dropped == 48)  # ivr learns the phone's address
    await ivr.run_player(player)  # (symmetric RTP, RFC 4961)
    await until(lambda: len(sink.packets) == 10 and len(digits) == 2)
    ivr_transport.close()
    phone.close()
    return digits, ivr, recorder, sink


def test_endpoint_detects_digit_once_records_and_plays() -> None:
    digits, ivr, recorder, sink = asyncio.run(endpoint_scenario())
    assert [d.digit for d in digits] == ["#", "#"]  # the second by timeout
    assert ivr.dropped == 1 and ivr.received == 47
    assert [p.sequence for p in sink.packets] == list(range(10))
    assert len(recorder.pcm()) == 2 * 2 * 20 * 240  # stereo, 20 captured 30 ms frames


async def bridge_scenario() -> list[RtpPacket]:
    loop = asyncio.get_running_loop()
    leg_a_transport, leg_a = await loop.create_datagram_endpoint(
        MediaEndpoint, local_addr=("127.0.0.1", 0)
    )
    leg_b_transport, leg_b = await loop.create_datagram_endpoint(
        MediaEndpoint, local_addr=("127.0.0.1", 0)
    )
    caller, _ = await loop.create_datagram_endpoint(Sink, local_addr=("127.0.0.1", 0))
    agent_transport, agent = await loop.create_datagram_endpoint(Sink, local_addr=("127.0.0.1", 0))
    leg_b.remote = agent_transport.get_extra_info("sockname")
    bridge(leg_a, leg_b, ssrc_to_a=0xA, ssrc_to_b=0xB)
    for packet in stream(0xCA11, 1000, 0, 5):
        caller.sendto(packet.serialize(), leg_a_transport.get_extra_info("sockname"))
    await until(lambda: len(agent.packets) == 5)
    for transport in (leg_a_transport, leg_b_transport, caller, agent_transport):
        transport.close()
    return agent.packets


def test_bridge_relays_caller_to_agent_with_our_ssrc() -> None:
    packets = asyncio.run(bridge_scenario())
    assert [p.ssrc for p in packets] == [0xB] * 5
    assert [p.sequence for p in packets] == [0, 1, 2, 3, 4]
    assert [p.timestamp for p in packets] == [0, 160, 320, 480, 640]
