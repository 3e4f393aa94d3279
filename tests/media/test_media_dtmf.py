"""RFC 4733 telephone-events and SIP INFO DTMF (T15 and sipp captures)."""

from __future__ import annotations

import contextlib
import random
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ivr.media.dtmf import (
    DtmfDigit,
    DtmfReceiver,
    TelephoneEvent,
    dtmf_packets,
    event_code,
    parse_info_body,
    parse_telephone_event,
)
from ivr.media.errors import DtmfParseError
from ivr.media.pcap import read_udp
from ivr.media.rtp import RtpPacket, parse_rtp

SIPP = Path("/usr/share/sip-tester")
NAMES = {**{d: d for d in "0123456789"}, "#": "pound", "*": "star"}


def captured(digit: str) -> list[RtpPacket]:
    data = (SIPP / f"dtmf_2833_{NAMES[digit]}.pcap").read_bytes()
    return [parse_rtp(d.payload) for d in read_udp(data)]


def feed_all(receiver: DtmfReceiver, packets: list[RtpPacket]) -> list[DtmfDigit]:
    return [digit for packet in packets for digit in receiver.feed(packet)]


def test_payload_fields_rfc4733_section_2_3() -> None:
    event = parse_telephone_event(bytes.fromhex("0b8a08c0"))
    assert event == TelephoneEvent(event=11, end=True, volume=10, duration=2240)
    assert event.serialize() == bytes.fromhex("0b8a08c0")
    with pytest.raises(DtmfParseError, match="3 octets"):
        parse_telephone_event(b"\x0b\x8a\x08")


def test_t15_pound_is_event_11_with_three_identical_end_packets() -> None:
    sent = dtmf_packets("#", payload_type=101, ssrc=7, sequence=1000, timestamp=48000)
    events = [parse_telephone_event(p.payload) for _, p in sent]
    assert {e.event for e in events} == {event_code("#")} == {11}
    ends = [(offset, p) for offset, p in sent if parse_telephone_event(p.payload).end]
    assert len(ends) == 3 and sent[-3:] == ends
    assert {(p.timestamp, parse_telephone_event(p.payload).duration) for _, p in ends} == {
        (48000, 1280)
    }
    assert {p.timestamp for _, p in sent} == {48000}  # §2.5.1.2: one timestamp per event
    assert [p.sequence for _, p in sent] == list(range(1000, 1000 + len(sent)))
    assert [p.marker for _, p in sent] == [True] + [False] * (len(sent) - 1)
    assert [e.duration for e in events[:-3]] == list(range(0, 1280, 160))
    assert [offset for offset, _ in sent] == [*range(0, 1280, 160), 1280, 1280, 1280]


def test_sender_shape_matches_sipp_capture() -> None:
    real = captured("#")
    ours = dtmf_packets(
        "#",
        payload_type=101,
        ssrc=real[0].ssrc,
        sequence=real[0].sequence,
        timestamp=real[0].timestamp,
        duration=2240,
        interval=320,
    )
    assert [p.payload for _, p in ours] == [p.payload for p in real]
    assert [(p.timestamp, p.marker) for _, p in ours] == [(p.timestamp, p.marker) for p in real]


@pytest.mark.parametrize("digit", list(NAMES))
def test_each_captured_digit_is_reported_once(digit: str) -> None:
    receiver = DtmfReceiver()
    digits = feed_all(receiver, captured(digit))
    assert [d.digit for d in digits] == [digit]
    assert digits[0].duration == 2240 and receiver.flush() == []


def test_redundant_retransmitted_and_reordered_packets_give_one_digit_each() -> None:
    stream = captured("1") + [
        RtpPacket(
            payload_type=p.payload_type,
            sequence=p.sequence + 20,
            timestamp=p.timestamp + 8000,
            ssrc=p.ssrc,
            marker=p.marker,
            payload=p.payload.replace(b"\x01", b"\x02", 1),
        )
        for p in captured("1")
    ]
    for seed in range(20):
        shuffled = stream * 2  # every packet retransmitted once
        random.Random(seed).shuffle(shuffled)
        # reordering within the network's window: keep events roughly in order
        shuffled.sort(key=lambda p: p.timestamp)
        digits = feed_all(DtmfReceiver(), shuffled)
        assert [d.digit for d in digits] == ["1", "2"]


def test_late_packets_of_a_finished_event_are_ignored() -> None:
    packets = captured("5")
    receiver = DtmfReceiver()
    assert [d.digit for d in feed_all(receiver, packets[-3:])] == ["5"]  # end arrives first
    assert feed_all(receiver, packets[:-3]) == []  # then the delayed updates


def test_lost_end_packets_new_event_ends_the_open_one() -> None:
    # §2.5.1.5: all three end packets lost; the next event's timestamp closes it
    first, second = captured("3")[:-3], captured("4")
    second = [
        RtpPacket(
            payload_type=101,
            sequence=p.sequence + 100,
            timestamp=p.timestamp + 9600,
            ssrc=p.ssrc,
            payload=p.payload,
        )
        for p in second
    ]
    receiver = DtmfReceiver()
    assert [d.digit for d in feed_all(receiver, first + second)] == ["3", "4"]


def test_flush_reports_an_event_without_end() -> None:
    receiver = DtmfReceiver()
    assert feed_all(receiver, captured("9")[:4]) == []
    assert [d.digit for d in receiver.flush()] == ["9"]
    assert receiver.flush() == []


def test_open_event_times_out_when_every_end_packet_is_lost() -> None:
    receiver = DtmfReceiver(timeout=0.5)
    assert receiver.next_deadline() is None
    for index, packet in enumerate(captured("7")[:-3]):
        assert receiver.feed(packet, now=10.0 + 0.02 * index) == []
    assert receiver.next_deadline() == pytest.approx(10.12 + 0.5)
    assert receiver.handle_timer(10.6) == []
    assert [d.digit for d in receiver.handle_timer(10.63)] == ["7"]
    assert receiver.next_deadline() is None
    assert receiver.feed(captured("7")[-1], now=10.7) == []  # its late end packet: no repeat


def test_garbage_and_non_dtmf_events_are_dropped() -> None:
    receiver = DtmfReceiver()
    assert (
        receiver.feed(RtpPacket(payload_type=101, sequence=1, timestamp=1, ssrc=1, payload=b"x"))
        == []
    )
    flash = TelephoneEvent(event=16, end=True, volume=0, duration=800).serialize()  # hook flash
    assert (
        receiver.feed(RtpPacket(payload_type=101, sequence=2, timestamp=2, ssrc=1, payload=flash))
        == []
    )
    assert receiver.dropped == 1


def test_sender_round_trips_through_receiver() -> None:
    receiver, timestamp, sequence, got = DtmfReceiver(), 0, 0, []
    for digit in "0123456789*#ABCD":
        packets = dtmf_packets(
            digit, payload_type=101, ssrc=1, sequence=sequence, timestamp=timestamp
        )
        got += feed_all(receiver, [p for _, p in packets])
        sequence, timestamp = sequence + len(packets), timestamp + 4000
    assert "".join(d.digit for d in got) == "0123456789*#ABCD"


@pytest.mark.parametrize(
    ("content_type", "body", "expected"),
    [
        (
            "application/dtmf-relay",
            b"Signal=5\r\nDuration=160\r\n",
            DtmfDigit(digit="5", duration=160),
        ),
        (
            "Application/DTMF-Relay; charset=x",
            b"Signal= #\nDuration= 250",
            DtmfDigit(digit="#", duration=250),
        ),
        (
            "application/dtmf-relay",
            b"Signal=11\r\nDuration=100",
            DtmfDigit(digit="#", duration=100),
        ),
        ("application/dtmf-relay", b"Signal=*", DtmfDigit(digit="*", duration=0)),
        ("application/dtmf", b"7", DtmfDigit(digit="7", duration=0)),
    ],
)
def test_sip_info_bodies(content_type: str, body: bytes, expected: DtmfDigit) -> None:
    assert parse_info_body(content_type, body) == expected


@pytest.mark.parametrize(
    ("content_type", "body", "message"),
    [
        ("application/dtmf-relay", b"Duration=160", "without Signal"),
        ("application/dtmf-relay", b"Signal=X", "not a DTMF signal"),
        ("application/dtmf-relay", b"Signal=1\r\nDuration=-5", "bad Duration"),
        ("application/sdp", b"v=0", "not a DTMF INFO content type"),
        ("application/dtmf", b"\xff", "not ASCII"),
    ],
)
def test_invalid_sip_info_bodies(content_type: str, body: bytes, message: str) -> None:
    with pytest.raises(DtmfParseError, match=message):
        parse_info_body(content_type, body)


def test_sender_rejects_what_it_cannot_encode() -> None:
    with pytest.raises(ValueError, match="not a DTMF digit"):
        event_code("E")
    with pytest.raises(ValueError, match="duration"):
        dtmf_packets("1", payload_type=101, ssrc=1, sequence=0, timestamp=0, duration=70000)


@given(st.binary(max_size=12))
def test_fuzz_telephone_event_parser(payload: bytes) -> None:
    try:
        event = parse_telephone_event(payload)
    except DtmfParseError:
        return
    assert event.serialize() == payload[:4] or payload[1] & 0x40  # R bit is not re-sent


@given(st.text(max_size=40), st.binary(max_size=40))
def test_fuzz_info_body_parser(content_type: str, body: bytes) -> None:
    for kind in (content_type, "application/dtmf-relay", "application/dtmf"):
        with contextlib.suppress(DtmfParseError):
            parse_info_body(kind, body)


@given(
    st.lists(st.binary(min_size=4, max_size=4), max_size=30),
    st.lists(st.integers(0, 5), max_size=30),
)
def test_fuzz_receiver_reports_each_timestamp_at_most_once(
    payloads: list[bytes], stamps: list[int]
) -> None:
    receiver = DtmfReceiver()
    digits = [
        d
        for i, (payload, ts) in enumerate(zip(payloads, stamps, strict=False))
        for d in receiver.feed(
            RtpPacket(payload_type=101, sequence=i, timestamp=ts, ssrc=1, payload=payload)
        )
    ]
    digits += receiver.flush()
    assert len({d.timestamp for d in digits}) == len(digits)
