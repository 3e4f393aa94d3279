"""RTP header (RFC 3550 §5.1) on real packets captured by sipp's pcap-play files."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ivr.media.errors import RtpParseError
from ivr.media.pcap import read_udp
from ivr.media.rtp import RtpPacket, is_rtcp, parse_rtp, seq_delta, ts_delta

# Installed with sipp (Debian sip-tester) by scripts/install-peers.sh.
SIPP = Path("/usr/share/sip-tester")


def captured(name: str) -> list[bytes]:
    return [d.payload for d in read_udp((SIPP / name).read_bytes())]


def test_captured_g711a_stream_round_trips_byte_for_byte() -> None:
    datagrams = captured("g711a.pcap")
    packets = [parse_rtp(d) for d in datagrams]
    assert len(packets) == 236
    assert [p.serialize() for p in packets] == datagrams
    first = packets[0]
    assert (first.payload_type, first.marker, first.sequence, first.timestamp) == (
        8,
        True,
        59133,
        240,
    )
    assert first.ssrc == 3739283087 and first.csrcs == () and first.extension_profile is None
    assert {len(p.payload) for p in packets} == {240}  # 30 ms of PCMA
    assert all(seq_delta(b.sequence, a.sequence) == 1 for a, b in itertools.pairwise(packets))
    assert all(ts_delta(b.timestamp, a.timestamp) == 240 for a, b in itertools.pairwise(packets))
    assert not any(p.marker for p in packets[1:])


@pytest.mark.parametrize("digit", [*"0123456789", "pound", "star"])
def test_captured_rfc4733_packets_round_trip(digit: str) -> None:
    datagrams = captured(f"dtmf_2833_{digit}.pcap")
    assert len(datagrams) == 10
    for data in datagrams:
        packet = parse_rtp(data)
        assert packet.payload_type == 101 and len(packet.payload) == 4
        assert packet.serialize() == data


def test_csrc_extension_and_padding_round_trip() -> None:
    # RFC 3550 §5.1 CSRC list, §5.3.1 header extension, §5.1 P bit: hand-built
    packet = RtpPacket(
        payload_type=0,
        marker=True,
        sequence=65535,
        timestamp=0xFFFFFFFF,
        ssrc=0x12345678,
        csrcs=(1, 2, 3),
        extension_profile=0xBEDE,  # RFC 8285 one-byte header profile
        extension=bytes.fromhex("10ff0000"),
        payload=b"\xff" * 160,
        padding=b"\x00\x00\x00\x04",
    )
    data = packet.serialize()
    assert data[:2] == bytes([0x80 | 0x20 | 0x10 | 3, 0x80])
    assert len(data) == 12 + 12 + 8 + 160 + 4
    assert parse_rtp(data) == packet
    assert parse_rtp(data).serialize() == data


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\x80\x00\x00", "too short"),
        (bytes.fromhex("400000000000000000000000"), "version 1"),
        (bytes.fromhex("820000000000000000000000") + b"\x00" * 4, "CSRC"),
        (bytes.fromhex("900000000000000000000000") + b"\xbe", "extension"),
        (bytes.fromhex("90000000000000000000000000000002") + b"\x00" * 4, "extension longer"),
        (bytes.fromhex("a00000000000000000000000") + b"\x00", "padding count 0"),
        (bytes.fromhex("a00000000000000000000000") + b"\x09", "padding count 9"),
    ],
)
def test_invalid_packets_raise_rtp_parse_error(data: bytes, message: str) -> None:
    with pytest.raises(RtpParseError, match=message):
        parse_rtp(data)


def test_rtcp_is_told_apart_on_a_muxed_port() -> None:
    # RFC 5761 §4: second octet 200 (SR) .. 204 (APP) is RTCP
    assert is_rtcp(bytes([0x80, 200]) + bytes(26))
    assert not is_rtcp(captured("g711a.pcap")[1])


def test_sequence_and_timestamp_arithmetic_wraps() -> None:
    # RFC 3550 §A.1: sequence numbers are compared modulo 2**16
    assert seq_delta(0, 65535) == 1
    assert seq_delta(65535, 0) == -1
    assert ts_delta(100, 0xFFFFFF00) == 356


@given(st.binary(max_size=80))
def test_fuzz_only_rtp_parse_error_escapes(data: bytes) -> None:
    try:
        packet = parse_rtp(data)
    except RtpParseError:
        return
    assert packet.serialize() == data


@given(
    st.builds(
        RtpPacket,
        payload_type=st.integers(0, 127),
        marker=st.booleans(),
        sequence=st.integers(0, 65535),
        timestamp=st.integers(0, 2**32 - 1),
        ssrc=st.integers(0, 2**32 - 1),
        csrcs=st.lists(st.integers(0, 2**32 - 1), max_size=15).map(tuple),
        payload=st.binary(max_size=40),
    )
)
def test_any_packet_survives_serialise_then_parse(packet: RtpPacket) -> None:
    assert parse_rtp(packet.serialize()) == packet
