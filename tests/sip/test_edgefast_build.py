"""Responses built from shared pieces serialise as they did when built afresh; ids and
tags keep their format; header values are read with the LWS rules of §7.3.1."""

from __future__ import annotations

import random

import pytest

from ivr.sip.builders import make_response, new_branch, new_call_id, new_tag
from ivr.sip.errors import SipParseError
from ivr.sip.message import Request, Response, parse_message

INVITE = (
    b"INVITE sip:service@127.0.0.1:5060 SIP/2.0\r\n"
    b"Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-1-0\r\n"
    b"From: sipp <sip:1@127.0.0.1:5070>;tag=1SIPpTag00\r\n"
    b"To: service <sip:service@127.0.0.1:5060>\r\n"
    b"Call-ID: 1-core@127.0.0.1\r\nCSeq: 1 INVITE\r\nContact: sip:sipp@127.0.0.1:5070\r\n"
    b"Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
)


def invite() -> Request:
    message = parse_message(INVITE)
    assert isinstance(message, Request)
    return message


def test_ids_and_tags_keep_their_format_and_randomness() -> None:
    a, b = random.Random(3), random.Random(3)
    for _ in range(200):
        assert new_tag(a) == f"{b.getrandbits(48):012x}"
        assert new_branch(a) == f"z9hG4bK{b.getrandbits(64):016x}"
        assert new_call_id(a, "h") == f"{b.getrandbits(96):024x}@h"
    low = random.Random()
    low.getrandbits = lambda bits: 5  # type: ignore[method-assign]
    assert new_tag(low) == "000000000005"


def test_a_response_with_added_fields_serialises_as_written() -> None:
    for _ in range(2):  # the second time from the shared fields
        ok = make_response(
            invite(),
            200,
            to_tag="abc",
            headers=[("Contact", "<sip:x@h>"), ("Allow", "INVITE, ACK")],
            body=b"v=0\r\n",
            content_type="application/sdp",
        )
        assert ok.serialise() == (
            b"SIP/2.0 200 OK\r\n"
            b"Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-1-0\r\n"
            b"From: sipp <sip:1@127.0.0.1:5070>;tag=1SIPpTag00\r\n"
            b"To: service <sip:service@127.0.0.1:5060>;tag=abc\r\n"
            b"Call-ID: 1-core@127.0.0.1\r\nCSeq: 1 INVITE\r\nContact: <sip:x@h>\r\n"
            b"Allow: INVITE, ACK\r\nContent-Type: application/sdp\r\nContent-Length: 5\r\n\r\n"
            b"v=0\r\n"
        )
        assert ok.headers.get("content-length") == "5" and ok.cseq.number == 1


def test_a_shared_added_field_is_replaced_not_changed() -> None:
    first = make_response(invite(), 200, headers=[("Allow", "INVITE")])
    first.headers.set("Allow", "BYE")
    second = make_response(invite(), 200, headers=[("Allow", "INVITE")])
    assert second.headers.get("allow") == "INVITE" and first.headers.get("allow") == "BYE"


def test_status_lines_cached_and_not() -> None:
    assert make_response(invite(), 486).start_line() == "SIP/2.0 486 Busy Here"
    assert make_response(invite(), 486, "Later").start_line() == "SIP/2.0 486 Later"
    other = Response(200, "OK", version="SIP/3.0")
    assert other.start_line() == "SIP/3.0 200 OK"
    changed = make_response(invite(), 200)
    changed.status, changed.reason = 404, "Gone"
    assert changed.serialise().startswith(b"SIP/2.0 404 Gone\r\n")


@pytest.mark.parametrize(
    ("line", "value"),
    [
        (b"Subject: a b", "a b"),
        (b"Subject:a b", "a b"),
        (b"Subject:  a b", "a b"),
        (b"Subject: \ta b \t", "a b"),
        (b"Subject:\ta b", "a b"),
        (b"Subject :  a", "a"),
        (b"Subject:", ""),
        (b"Subject: ", ""),
        (b"Subject:   ", ""),
    ],
)
def test_header_values_are_stripped_of_lws(line: bytes, value: str) -> None:
    data = INVITE.replace(b"Max-Forwards: 70\r\n", line + b"\r\n")
    message = parse_message(data)
    assert message.headers.get("subject") == value
    assert message.serialise() == data


def test_a_message_that_is_not_ascii_parses_as_before() -> None:
    utf8 = INVITE.replace(b"From: sipp", 'From: "Zoë"'.encode())
    message = parse_message(utf8)
    assert message.from_.display_name == "Zoë" and message.serialise() == utf8
    binary = INVITE.replace(b"Content-Length: 0", b"Content-Length: 4") + b"\xff\x00\x80a"
    message = parse_message(binary)
    assert message.body == b"\xff\x00\x80a" and message.serialise() == binary
    leading = b"\r\n\r\n" + binary
    assert parse_message(leading).serialise() == binary


@pytest.mark.parametrize(
    ("data", "detail"),
    [
        (INVITE.replace(b"sipp <", b"\xff <"), "header block is not UTF-8"),
        (INVITE[:-2], "no empty line after the header block"),
        (INVITE[:-2] + b"\xff", "no empty line after the header block"),
        (b"\r\n" + INVITE[:-4], "no empty line after the header block"),
    ],
)
def test_undecodable_or_unended_blocks_are_still_400s(data: bytes, detail: str) -> None:
    with pytest.raises(SipParseError) as caught:
        parse_message(data)
    assert caught.value.detail == detail


def test_a_received_request_line_is_rebuilt_once_its_parts_change() -> None:
    request = invite()
    assert request.start_line() == "INVITE sip:service@127.0.0.1:5060 SIP/2.0"
    request.method = "OPTIONS"
    assert request.start_line() == "OPTIONS sip:service@127.0.0.1:5060 SIP/2.0"
    request = invite()
    request.target = "sip:other@h"
    assert request.serialise().startswith(b"INVITE sip:other@h SIP/2.0\r\n")
    request = invite()
    request.version = "SIP/2.1"
    assert request.start_line() == "INVITE sip:service@127.0.0.1:5060 SIP/2.1"


@pytest.mark.parametrize(
    ("length", "body"),
    [(b"0", b""), (b"00", b""), (b"4", b"abcd"), (b"3", b"abc"), (b"5", None)]
    + [(bad, None) for bad in (b"x", b"-1", b"\xd9\xa3", b"")],
)
def test_content_length_is_read_the_same_every_time(length: bytes, body: bytes | None) -> None:
    data = INVITE.replace(b"Content-Length: 0", b"Content-Length: " + length) + b"abcd"
    for _ in range(2):  # the second time from the cache of lengths read
        if body is None:
            with pytest.raises(SipParseError) as caught:
                parse_message(data)
            assert caught.value.status == 400 and caught.value.can_respond
        else:
            assert parse_message(data).body == body
