"""Framing SIP over stream transports by Content-Length (RFC 3261 §18.3, §7.5, RFC 5626 §4.4.1)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ivr.sip.errors import SipParseError
from ivr.sip.framing import PING, StreamFramer
from ivr.sip.message import Request, Response

TCP_CALL = [
    p.read_bytes() for p in sorted((Path(__file__).parent / "fixtures/call_tcp").glob("*.sip"))
]
STREAM = b"".join(TCP_CALL)


def drain(framer: StreamFramer) -> list[object]:
    out: list[object] = []
    while (item := framer.next_message()) is not None:
        out.append(item)
    return out


def test_sip_18_3_captured_tcp_call_splits_into_its_six_messages() -> None:
    framer = StreamFramer()
    framer.feed(STREAM)
    messages = drain(framer)
    assert [m.serialise() for m in messages if isinstance(m, Request | Response)] == TCP_CALL


@pytest.mark.parametrize("chunk", [1, 2, 3, 7, 64, 509, 4096])
def test_sip_18_3_any_chunking_gives_the_same_messages(chunk: int) -> None:
    framer = StreamFramer()
    out: list[object] = []
    for i in range(0, len(STREAM), chunk):
        framer.feed(STREAM[i : i + chunk])
        out += drain(framer)
    assert [m.serialise() for m in out if isinstance(m, Request | Response)] == TCP_CALL


def test_sip_rfc5626_4_4_1_double_crlf_is_a_ping_single_crlf_is_skipped() -> None:
    framer = StreamFramer()
    framer.feed(b"\r\n\r\n" + TCP_CALL[0] + b"\r\n" + TCP_CALL[1])
    items = drain(framer)
    assert items[0] is PING
    assert [bytes(m) for m in items[1:] if isinstance(m, Request | Response)] == TCP_CALL[:2]


def test_sip_18_3_announced_size_over_the_limit_is_413_before_buffering() -> None:
    framer = StreamFramer(max_size=4096)
    huge = TCP_CALL[0].replace(b"Content-Length:   129", b"Content-Length: 1000000")
    framer.feed(huge[: huge.index(b"\r\n\r\n") + 4])
    with pytest.raises(SipParseError) as caught:
        framer.next_message()
    assert caught.value.status == 413 and caught.value.can_respond
    assert framer.broken
    with pytest.raises(SipParseError):
        framer.feed(b"more")


def test_sip_18_3_endless_head_is_413_and_unanswerable() -> None:
    framer = StreamFramer(max_size=1024)
    framer.feed(b"INVITE sip:a@b SIP/2.0\r\n" + b"X-Junk: " + b"a" * 2000)
    with pytest.raises(SipParseError) as caught:
        framer.next_message()
    assert (caught.value.status, caught.value.can_respond) == (413, False)


def test_sip_18_3_missing_content_length_breaks_the_stream() -> None:
    framer = StreamFramer()
    framer.feed(TCP_CALL[3].replace(b"Content-Length: 0\r\n", b""))
    with pytest.raises(SipParseError) as caught:
        framer.next_message()
    assert caught.value.status == 400 and caught.value.can_respond and framer.broken


def test_sip_18_3_a_bad_message_with_good_framing_does_not_break_the_stream() -> None:
    framer = StreamFramer()
    bad = TCP_CALL[3].replace(b"CSeq: 1 ACK", b"CSeq: 1 BYE")
    framer.feed(bad + TCP_CALL[4])
    with pytest.raises(SipParseError) as caught:
        framer.next_message()
    assert caught.value.status == 400 and not framer.broken
    assert [bytes(m) for m in drain(framer) if isinstance(m, Request | Response)] == [TCP_CALL[4]]
