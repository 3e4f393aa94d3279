"""The parser's fast paths give what the general ones give.

`parse_head` shares the field of a header line it has seen before between
messages, skips the continuation-line handling when no line is folded, and finds
a bare CR or LF by one scan; `parse_via` reads the usual `SIP/2.0/UDP host;...`
with finds. These tests pin that nothing a caller sees changed: a shared field is
never changed through another message, folded and unfolded blocks give the same
values, and the fast Via equals the general parser's on every form it takes.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ivr.sip.errors import SipParseError
from ivr.sip.message import Request, parse_message
from ivr.sip.values import _parse_via, parse_via

FIXTURES = Path(__file__).parent / "fixtures"

INVITE = (
    b"INVITE sip:service@127.0.0.1:5060 SIP/2.0\r\n"
    b"Via: SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK-1-0\r\n"
    b"From: sipp <sip:sipp@127.0.0.1:5061>;tag=1SIPpTag00\r\n"
    b"To: service <sip:service@127.0.0.1:5060>\r\n"
    b"Call-ID: 1-1@127.0.0.1\r\nCSeq: 1 INVITE\r\nContact: sip:sipp@127.0.0.1:5061\r\n"
    b"Max-Forwards: 70\r\nSubject: Performance Test\r\nContent-Length: 0\r\n\r\n"
)


def request(data: bytes) -> Request:
    message = parse_message(data)
    assert isinstance(message, Request)
    return message


def test_a_change_to_one_message_never_reaches_the_next_with_the_same_line() -> None:
    first = request(INVITE)
    first.headers.set("Max-Forwards", "69")
    first.headers.replace_first_element("Subject", "changed")
    second = request(INVITE)
    assert second.headers.get("max-forwards") == "70"
    assert second.headers.get("subject") == "Performance Test"
    assert second.serialise() == INVITE
    assert b"Max-Forwards: 69\r\n" in first.serialise()


def test_folded_lines_give_the_values_of_the_unfolded_block() -> None:
    folded = INVITE.replace(b"Subject: Performance Test", b"Subject: Performance\r\n Test")
    folded = folded.replace(b"Max-Forwards: 70", b"Max-Forwards:\r\n\t70")
    message = request(folded)
    plain = request(INVITE)
    assert message.headers.get("subject") == plain.headers.get("subject")
    assert message.headers.get("max-forwards") == "70"
    assert message.serialise() == folded  # the raw lines, folding included
    # A folded field is the message's own: the next unfolded message is untouched.
    assert request(INVITE).headers.fields[6].raw == "Max-Forwards: 70"


def test_a_folded_duplicate_singleton_is_still_found() -> None:
    data = INVITE.replace(b"Max-Forwards: 70", b"Max-Forwards: 70\r\nCSeq:\r\n 1 INVITE")
    with pytest.raises(SipParseError, match="more than one CSeq"):
        parse_message(data)


@pytest.mark.parametrize(
    "bad",
    [b"Subject: a\rb", b"Subject: a\nb", b"Subject: a\r\r", b"Subject\n: a"],
)
def test_a_bare_cr_or_lf_anywhere_in_the_head_is_a_400(bad: bytes) -> None:
    with pytest.raises(SipParseError, match="bare CR or LF") as caught:
        parse_message(INVITE.replace(b"Subject: Performance Test", bad))
    assert caught.value.status == 400


def test_a_malformed_line_is_a_400_even_when_it_was_cached_valid_before() -> None:
    request(INVITE)
    with pytest.raises(SipParseError, match="malformed header line"):
        parse_message(INVITE.replace(b"Subject: Performance Test", b"Sub ject: x"))
    with pytest.raises(SipParseError, match="more than one Max-Forwards"):
        parse_message(INVITE.replace(b"Subject: Performance Test", b"Max-Forwards: 70"))


VIAS = [
    "SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK-1-0",
    "SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK-1-0;rport",
    "SIP/2.0/udp host.example.com;branch=z9hG4bKa;received=10.0.0.1",
    "SIP/2.0/TCP [2001:db8::1]:5070;branch=z9hG4bKb",
    "SIP/2.0/UDP 10.0.0.1",
    "SIP/2.0/UDP 10.0.0.1:5060  ",
    "SIP/2.0/UDP 10.0.0.1 ; branch = z9hG4bKc ; rport ",
    "SIP/2.0/UDP  10.0.0.1;branch=z9hG4bKe",
    "SIP/2.0/UDP\t10.0.0.1;branch=z9hG4bKf",
    "SIP / 2.0 / UDP 10.0.0.1;branch=z9hG4bKg",
    "sip/2.0/UDP 10.0.0.1;branch=z9hG4bKh",
    "SIP/2.0/X-Y 10.0.0.1;branch=z9hG4bKi",
    'SIP/2.0/UDP 10.0.0.1;x="a;b";branch=z9hG4bKj',
    "SIP/2.0/UDP \xa010.0.0.1;branch=z9hG4bKk",
]


@pytest.mark.parametrize("value", VIAS)
def test_the_fast_via_is_the_general_parsers_via(value: str) -> None:
    assert parse_via(value) == _parse_via(value)
    assert str(parse_via(value)) == str(_parse_via(value))


@pytest.mark.parametrize(
    "value",
    [
        "SIP/2.0/UDP ",
        "SIP/2.0/UDP :5060",
        "SIP/2.0/UDP 10.0.0.1:99999",
        "SIP/2.0/UDP 10.0.0.1;=x",
        "SIP/2.0/UDP 10.0.0.1;a b=c",
        "SIP/2.0/ 10.0.0.1",
        "SIP/2.0/UDP 10.0.0.1;",
        "SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKd;  ",
    ],
)
def test_the_fast_via_refuses_what_the_general_parser_refuses(value: str) -> None:
    with pytest.raises(SipParseError):
        _parse_via(value)
    with pytest.raises(SipParseError):
        parse_via(value)


CAPTURED = sorted(
    path
    for folder in ("call_udp", "call_tcp", "ivr_call", "register", "cancel")
    for path in (FIXTURES / folder).glob("*.sip")
)


def test_every_captured_message_round_trips_after_the_line_cache_is_warm() -> None:
    assert len(CAPTURED) == 37
    for _ in range(2):  # the second pass takes every repeated line from the cache
        for path in CAPTURED:
            data = path.read_bytes()
            message = parse_message(data, stream="tcp" in path.parent.name)
            message.headers._wire = None  # the lines joined again, not the bytes kept
            assert message.serialise() == data, path


def test_a_flood_of_distinct_lines_and_values_never_grows_the_caches_past_their_bound() -> None:
    from ivr.sip import message, uri, values

    for i in range(message._MAX_LINES + 50):
        flood = INVITE.replace(b"Performance Test", f"flood {i}".encode())
        flood = flood.replace(b"To: service <sip:service", f"To: <sip:u{i}".encode())
        parsed = request(flood)
        assert parsed.to.uri == f"sip:u{i}@127.0.0.1:5060"
        assert len(message._LINES) <= message._MAX_LINES
    for i in range(values._MAX_CACHED + 50):
        values.parse_name_addr(f"<sip:n{i}@example.com>")
        uri.parse_uri(f"sip:n{i}@example.com")
    assert len(values._NAME_ADDRS) <= values._MAX_CACHED
    assert len(uri._URIS) <= uri._MAX_CACHED
    assert request(INVITE).headers.get("subject") == "Performance Test"
