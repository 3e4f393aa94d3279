"""The header block read against the last one after the same start line.

`headers.scan_fields` compares each line with the raw text of the field at its
place after the same start line last time (`_TEMPLATES`) and hashes and looks up
only the lines that differ. These tests pin that it gives what the general reader
gives (`parse_head_text`: the block split on CRLF), errors included, for blocks
that differ from the remembered one in every way a line can, and that the
comparison really is what finds a repeated line.
"""

from __future__ import annotations

import random

import pytest

from ivr.sip import headers as headers_module
from ivr.sip.errors import SipParseError
from ivr.sip.message import Request, Response, build_message, parse_head_text, parse_message

BASE = [
    "Via: SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK-{n}-0",
    "From: sipp <sip:+447700900456@127.0.0.1:5061>;tag={n}SIPpTag00",
    "To: service <sip:service@127.0.0.1:5060>",
    "Call-ID: {n}-tpl@127.0.0.1",
    "CSeq: 1 INVITE",
    "Contact: sip:sipp@127.0.0.1:5061",
    "Max-Forwards: 70",
    "Subject: Performance Test",
    "Content-Length: 0",
]
START = "INVITE sip:service@127.0.0.1:5060 SIP/2.0"

# What a line may become: each way it can differ from the one remembered at its place.
ODD_LINES = [
    "Content-Length: 00",  # the remembered line is a prefix of it
    "Content-Length:",  # it is a prefix of the remembered line
    "Max-Forwards: 7",
    "Max-Forwards: 70 ",
    "Subject: Performance Test\rx",  # a bare CR after the remembered text
    "Subject: Performance Test\nx",
    " folded continuation",
    "\tfolded continuation",
    "Bad Line",
    ": no name",
    "Max-Forwards: 69",
    "CSeq: 1 INVITE",  # a second singleton
    "To: other <sip:o@example.com>",
    "v: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK-compact",
    "Via: SIP/2.0/UDP 10.0.0.2;branch=z9hG4bK-second",
    "X-Extra: 1",
    "l: 0",
    "Call-ID: x\ry",  # a bare CR or LF in a line read by prefix
    "From: <sip:a@example.com>;tag=1\nx",
]


def block(lines: list[str], n: int, start: str = START) -> str:
    return "\r\n".join([start, *(line.format(n=n) for line in lines)])


def outcome(read: object) -> tuple[object, ...]:
    """What a parse gave, comparable between the two readers."""
    try:
        message = read()  # type: ignore[operator]
    except SipParseError as exc:
        headers = exc.headers
        fields = None if headers is None else [(f.name, f.value, f.raw) for f in headers.fields]
        return ("error", exc.detail, exc.status, exc.can_respond, fields)
    assert isinstance(message, Request | Response)
    fields = [(f.name, f.value, f.raw, f.key) for f in message.headers.fields]
    first = {key: message.headers.first(key) for key in ("via", "to", "cseq", "content-length")}
    return ("ok", message.start_line(), fields, first, message.serialise())


def both(text: str) -> tuple[tuple[object, ...], tuple[object, ...]]:
    data = (text + "\r\n\r\n").encode()

    def general() -> Request | Response:
        return build_message(parse_head_text(text), b"", stream=False)

    return outcome(lambda: parse_message(data)), outcome(general)


def test_blocks_that_differ_from_the_remembered_one_read_as_the_general_reader_reads_them() -> None:
    rng = random.Random(3261)
    for n in range(600):
        lines = list(BASE)
        for _ in range(rng.randrange(3)):
            where = rng.randrange(len(lines) + 1)
            kind = rng.randrange(3)
            if kind == 0:
                lines.insert(where, rng.choice(ODD_LINES))
            elif kind == 1 and where < len(lines):
                lines[where] = rng.choice(ODD_LINES)
            elif where < len(lines):
                del lines[where]
        start = START if rng.random() < 0.9 else "OPTIONS sip:x@example.com SIP/2.0"
        fast, general = both(block(lines, n, start))
        assert fast == general, lines


@pytest.mark.parametrize(
    "start", ["INVITE sip:a\rb@example.com SIP/2.0", "INVITE sip:a\nb@example.com SIP/2.0"]
)
def test_a_bare_cr_or_lf_in_the_start_line_is_a_400_from_either_reader(start: str) -> None:
    fast, general = both(block(BASE, 1, start))
    assert fast == general
    assert fast[0] == "error" and "bare CR or LF" in str(fast[1])


def test_a_repeated_line_is_found_in_the_remembered_block_not_in_the_line_cache() -> None:
    """Break the comparison (or stop remembering blocks) and this fails: with the line
    cache emptied, only the remembered block can give the same field again."""
    start = "INVITE sip:template-probe@example.com SIP/2.0"
    first = parse_message((block(BASE, 1, start) + "\r\n\r\n").encode())
    headers_module.LINES.clear()
    second = parse_message((block(BASE, 2, start) + "\r\n\r\n").encode())
    before, after = first.headers.fields, second.headers.fields
    for index in (2, 4, 5, 6, 7, 8):  # To, CSeq, Contact, Max-Forwards, Subject, Length
        assert after[index] is before[index]
    for index in (0, 1, 3):  # Via, From and Call-ID are new every time
        assert after[index] is not before[index]
        assert after[index].value != before[index].value
    assert second.headers.get("call-id") == "2-tpl@127.0.0.1"
    assert second.serialise() == (block(BASE, 2, start) + "\r\n\r\n").encode()


def test_a_field_read_after_a_changed_line_keeps_its_place_in_the_remembered_block() -> None:
    start = "OPTIONS sip:template-shift@example.com SIP/2.0"
    shifted = [*BASE[:5], "X-New: 1", *BASE[5:]]
    for n, lines in enumerate([BASE, shifted, BASE, BASE[:4], BASE, shifted]):
        fast, general = both(block(lines, n, start))
        assert fast == general


def test_the_first_values_kept_in_slots_give_way_to_a_change() -> None:
    message = parse_message((block(BASE, 3) + "\r\n\r\n").encode())
    headers = message.headers
    assert headers._hot
    assert (message.call_id, headers.get("content-length")) == ("3-tpl@127.0.0.1", "0")
    assert headers.get("subject") == "Performance Test"  # not a slot: read from the fields
    assert headers.get("p-asserted-identity") is None
    headers.set("Call-ID", "changed@example.com")
    assert not headers._hot
    assert message.call_id == "changed@example.com"
    headers.replace_first_element("via", "SIP/2.0/UDP 10.0.0.9;branch=z9hG4bK-x")
    assert headers.first("via") == "SIP/2.0/UDP 10.0.0.9;branch=z9hG4bK-x"
