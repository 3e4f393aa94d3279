"""A final answer's copied fields taken from the request's bytes in one slice.

`response_data` copies Via, From, To, Call-ID and CSeq (§8.2.6.2) from the bytes
received when the parser found them on adjacent lines and nothing changed the
header block since (`Headers._copy_start`, `_hot`); a To that gets our tag is two
slices around the tag, when it was received as "To: value". These tests hold the
bytes to `make_response(...).serialise()` for requests laid out every way the
copied lines can be, and show that the slice is what is used.
"""

from __future__ import annotations

import random

import pytest

from ivr.sip.builders import header_lines, make_response, response_data
from ivr.sip.headers import HeaderField
from ivr.sip.message import Request, parse_message

VIA = "Via: SIP/2.0/UDP 192.0.2.1:5061;branch=z9hG4bK-{n}"
COPIED = [
    VIA,
    "From: sipp <sip:sipp@192.0.2.1:5061>;tag={n}SIPpTag00",
    "To: service <sip:service@192.0.2.2:5060>",
    "Call-ID: {n}-slices@192.0.2.1",
    "CSeq: 1 OPTIONS",
]
TOS = [
    "To: service <sip:service@192.0.2.2:5060>",
    "To:<sip:service@192.0.2.2>",
    "To: <sip:service@192.0.2.2> ",
    "To:  <sip:service@192.0.2.2>",
    "To:\t<sip:service@192.0.2.2>",
    "t: <sip:service@192.0.2.2>",
    "TO: <sip:service@192.0.2.2>",
    "To : <sip:service@192.0.2.2>",
    "To: <sip:service@192.0.2.2>;tag=theirs",
    "To: <sip:service@192.0.2.2;tag=x>;day=1",
]
OTHERS = [
    "Max-Forwards: 70",
    "Subject: s",
    "Via: SIP/2.0/UDP 192.0.2.3;branch=z9hG4bK-second",
    "Contact: <sip:sipp@192.0.2.1:5061>",
]
ANSWERS = [
    (200, "ours", [("Contact", "<sip:ringway@192.0.2.2:5060>"), ("Allow", "INVITE, BYE")], b"v=0"),
    (200, None, [], b""),
    (481, "ours", [], b""),
    (486, None, [("Retry-After", "5")], b""),
    (180, "ours", [], b""),
]


def request(lines: list[str], lead: str = "") -> Request:
    text = lead + "OPTIONS sip:service@192.0.2.2:5060 SIP/2.0\r\n"
    text += "".join(f"{line}\r\n" for line in lines) + "Content-Length: 0\r\n\r\n"
    message = parse_message(text.encode())
    assert isinstance(message, Request)
    return message


def both(
    message: Request, status: int, tag: str | None, pairs: list[tuple[str, str]], body: bytes
) -> tuple[bytes, bytes]:
    kind = "application/sdp" if body else None
    data = response_data(message, status, to_tag=tag, tail=header_lines(pairs, kind), body=body)
    made = make_response(message, status, to_tag=tag, headers=pairs, body=body, content_type=kind)
    return data, made.serialise()


def test_every_layout_of_the_copied_lines_gives_make_responses_bytes() -> None:
    rng = random.Random(8262)
    for n in range(400):
        lines = [line.format(n=n) for line in COPIED]
        lines[2] = rng.choice(TOS)
        if rng.random() < 0.2:
            rng.shuffle(lines)
        for other in rng.sample(OTHERS, rng.randrange(3)):
            lines.insert(rng.randrange(len(lines) + 1), other)
        message = request(lines, "\r\n" if rng.random() < 0.1 else "")
        for status, tag, pairs, body in ANSWERS:
            data, made = both(message, status, tag, pairs, body)
            assert data == made, (lines, status, tag)


def test_the_copied_lines_come_from_the_bytes_received() -> None:
    """Break the slice (or stop taking it) and this fails: a field swapped behind the
    block's back shows in the fields written one by one, never in the slice."""
    message = request([line.format(n=1) for line in COPIED])
    headers = message.headers
    assert headers._copy_start > 0
    headers._fields[0] = HeaderField("Via", "SIP/2.0/UDP swapped;branch=z9hG4bK-x")
    data = response_data(message, 200, to_tag="ours")
    assert b"\r\nVia: SIP/2.0/UDP 192.0.2.1:5061;branch=z9hG4bK-1\r\n" in data
    assert b";tag=ours\r\n" in data
    headers.set("Subject", "changed")  # a change: the slice is no longer the block
    assert b"swapped" in response_data(message, 200, to_tag="ours")


@pytest.mark.parametrize("target", ["sip:other@192.0.2.2", "sip:x"])
def test_a_request_changed_and_serialised_again_still_copies_its_fields(target: str) -> None:
    message = request([line.format(n=2) for line in COPIED])
    message.target = target
    message.body = b"x"
    message.serialise()  # its kept bytes now start with another line
    data, made = both(message, 200, "ours", [], b"")
    assert data == made
