"""The parser's block-level fast paths give what the general ones give.

`parse_message` splits a body-less message's whole text (no copy of its header
block) and drops the two empty strings its closing CRLF CRLF leaves; it fills a
list made at its final size (malformed lines left out at the end); it keeps the
received bytes in a `Headers` slot, not in `memo`, and `Headers._changed` drops
them. These tests pin each against the general path: the same message with a
body, or the same block read by `parse_head_text`.
"""

from __future__ import annotations

import pytest

from ivr.sip.errors import SipParseError
from ivr.sip.headers import HeaderField, Headers, adopt_fields
from ivr.sip.message import Request, parse_head_text, parse_message

HEAD = (
    b"BYE sip:service@127.0.0.1:5060 SIP/2.0\r\n"
    b"Via: SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK-block-1\r\n"
    b"From: sipp <sip:sipp@127.0.0.1:5061>;tag=1SIPpTag00\r\n"
    b"To: service <sip:service@127.0.0.1:5060>;tag=ab12\r\n"
    b"Call-ID: block-1@127.0.0.1\r\nCSeq: 2 BYE\r\nMax-Forwards: 70\r\n"
)


def bodiless(extra: bytes = b"") -> bytes:
    return HEAD + extra + b"Content-Length: 0\r\n\r\n"


def with_body(extra: bytes = b"") -> bytes:
    return HEAD + extra + b"Content-Length: 2\r\n\r\nok"


def fields_of(message: Request) -> list[tuple[str, str, str | None, str]]:
    return [(f.name, f.value, f.raw, f.key) for f in message.headers.fields]


def request(data: bytes) -> Request:
    message = parse_message(data)
    assert isinstance(message, Request)
    return message


def test_a_bodiless_message_has_the_fields_of_its_block_and_no_more() -> None:
    message = request(bodiless())
    head = parse_head_text(bodiless()[:-4].decode())
    assert fields_of(message) == [(f.name, f.value, f.raw, f.key) for f in head.headers.fields]
    assert len(message.headers) == 7  # the closing empty strings are no fields
    assert message.headers.get("content-length") == "0"
    assert message.body == b""
    assert message.serialise() == bodiless()


def test_a_bodiless_message_reads_as_the_same_message_with_a_body() -> None:
    plain = request(bodiless(b"Subject: s\r\n"))
    full = request(with_body(b"Subject: s\r\n"))
    assert fields_of(plain)[:-1] == fields_of(full)[:-1]  # all but Content-Length


@pytest.mark.parametrize("data", [bodiless(), with_body(), b"\r\n\r\n" + bodiless()])
def test_a_folded_line_in_any_message_is_unfolded_and_nothing_added(data: bytes) -> None:
    folded = data.replace(b"Max-Forwards: 70", b"Max-Forwards:\r\n 70")
    message = request(folded)
    assert message.headers.get("max-forwards") == "70"
    assert len(message.headers) == 7
    assert message.serialise() == folded.lstrip(b"\r\n")


def test_leading_crlfs_give_the_message_without_them() -> None:
    message = request(b"\r\n\r\n" + bodiless())
    assert fields_of(message) == fields_of(request(bodiless()))
    assert message.serialise() == bodiless()


@pytest.mark.parametrize("data", [bodiless(b"Subject: a\r"), HEAD + b"Content-Length: 0\r\r\n\r\n"])
def test_a_bare_cr_before_the_closing_empty_line_is_a_400(data: bytes) -> None:
    with pytest.raises(SipParseError, match="bare CR or LF"):
        parse_message(data)


@pytest.mark.parametrize("data", [bodiless(b"Bad Line\r\n"), with_body(b"Bad Line\r\n")])
def test_a_malformed_line_is_left_out_of_the_headers_the_400_copies(data: bytes) -> None:
    with pytest.raises(SipParseError, match="malformed header line") as caught:
        parse_message(data)
    headers = caught.value.headers
    assert headers is not None
    assert caught.value.can_respond
    assert len(headers) == 7  # the good lines, no placeholder left at the end
    assert all(f.key for f in headers.fields)
    assert headers.get("content-length") in ("0", "2")


def test_the_kept_bytes_are_dropped_when_a_header_or_the_body_changes() -> None:
    message = request(bodiless())
    assert message.serialise() is not None
    assert message.headers._wire is not None
    message.headers.set("Max-Forwards", "69")
    assert message.headers._wire is None
    assert b"Max-Forwards: 69\r\n" in message.serialise()
    message.body = b"xy"
    assert message.serialise().endswith(b"\r\n\r\nxy")
    again = request(bodiless())
    again.headers.replace_first_element("via", "SIP/2.0/UDP 10.0.0.9;branch=z9hG4bK-x")
    assert b"Via: SIP/2.0/UDP 10.0.0.9;branch=z9hG4bK-x\r\n" in again.serialise()


def test_serialising_twice_gives_the_bytes_kept() -> None:
    message = request(bodiless())
    message.headers.set("Subject", "s")
    first = message.serialise()
    assert message.serialise() is first  # built once while nothing changes


def test_headers_copy_the_list_they_are_given_unless_they_adopt_it() -> None:
    fields = [HeaderField("Subject", "s")]
    assert Headers(fields)._fields is not fields
    assert Headers(fields)._fields == fields
    assert adopt_fields(fields)._fields is fields  # the parser's list, not a copy
    assert Headers(iter(fields), adopt=True)._fields == fields  # not a list: copied


def test_a_request_line_read_again_gives_the_parts_of_its_first_read() -> None:
    first = request(bodiless())
    again = request(bodiless())
    assert (again.method, again.target, again.version) == (
        "BYE",
        "sip:service@127.0.0.1:5060",
        "SIP/2.0",
    )
    assert again.start_line() == "BYE sip:service@127.0.0.1:5060 SIP/2.0"
    assert again.method is first.method  # the cached parts, shared (strings: immutable)
    again.target = "sip:other@127.0.0.1"
    assert again.start_line() == "BYE sip:other@127.0.0.1 SIP/2.0"
    assert request(bodiless()).target == "sip:service@127.0.0.1:5060"  # the cache untouched


@pytest.mark.parametrize(
    ("line", "status"),
    [
        (b"BYE sip:service@127.0.0.1:5060 SIP/3.0", 505),
        (b"BYE  sip:service@127.0.0.1:5060 SIP/2.0", 400),
        (b"B(E sip:service@127.0.0.1:5060 SIP/2.0", 400),
        (b"BYE sip:service@127.0.0.1:5060 SIP/2.0 x", 400),
    ],
)
def test_a_bad_request_line_is_refused_every_time_it_comes(line: bytes, status: int) -> None:
    data = bodiless().replace(b"BYE sip:service@127.0.0.1:5060 SIP/2.0", line, 1)
    for _ in range(2):  # never cached: refused again, with the same status
        with pytest.raises(SipParseError) as caught:
            parse_message(data)
        assert caught.value.status == status


def test_a_request_line_in_another_case_of_version_is_read_as_before() -> None:
    data = bodiless().replace(b" SIP/2.0\r\n", b" sip/2.0\r\n", 1)
    for _ in range(2):
        message = request(data)
        assert message.version == "sip/2.0"
        assert message.start_line() == "BYE sip:service@127.0.0.1:5060 sip/2.0"


def test_a_header_the_message_lacks_reads_as_absent() -> None:
    message = request(bodiless())
    for name in ("contact", "record-route", "route", "allow", "supported", "x-none"):
        assert message.headers.get(name) is None
        assert name not in message.headers
    assert message.record_route == []
    assert message.contacts == []


def test_the_first_value_wins_even_when_it_is_empty() -> None:
    extra = b"Supported: \r\nSupported: timer\r\nRoute: <sip:p1>\r\nRoute: <sip:p2>\r\n"
    extra += b"X-A: 1\r\nX-A: 2\r\n"
    message = request(bodiless(extra))
    assert message.headers.get("supported") == ""  # present, empty: not replaced
    assert message.headers.get("route") == "<sip:p1>"
    assert message.headers.get("x-a") == "1"
    assert message.route == ["<sip:p1>", "<sip:p2>"]


def test_many_header_names_past_the_seeds_room_are_all_read() -> None:
    extra = b"".join(b"X-H%d: v%d\r\n" % (i, i) for i in range(40))
    message = request(bodiless(extra))
    assert [message.headers.get(f"x-h{i}") for i in range(40)] == [f"v{i}" for i in range(40)]
    assert message.headers.get("call-id") == "block-1@127.0.0.1"


@pytest.mark.parametrize(
    ("drop", "missing"),
    [(b"To: ", "to"), (b"From: ", "from"), (b"Call-ID: ", "call-id"), (b"CSeq: ", "cseq")],
)
def test_a_missing_mandatory_header_is_named(drop: bytes, missing: str) -> None:
    data = b"".join(line for line in bodiless().splitlines(True) if not line.startswith(drop))
    with pytest.raises(SipParseError, match=f"missing {missing} header"):
        parse_message(data)


@pytest.mark.parametrize("name", [b"CSeq: 2 BYE", b"Call-ID: x", b"t: <sip:x>", b"l: 0"])
def test_a_second_singleton_is_found_whatever_its_spelling(name: bytes) -> None:
    with pytest.raises(SipParseError, match="more than one"):
        parse_message(bodiless(name + b"\r\n"))
