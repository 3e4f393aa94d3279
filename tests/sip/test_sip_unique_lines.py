"""Via, From and Call-ID lines are read by prefix, before the line cache is probed.

They are new in every transaction or call, so `_LINES` never holds them;
`headers.unique_field` makes their field from the usual "Name: value" spelling
without slicing and looking up the name. These tests pin that it gives the field
the general reader (`_new_field`) gives, that the parser takes it, and that what
the general reader checks still holds for these lines.
"""

from __future__ import annotations

import pytest

from ivr.sip.errors import SipParseError
from ivr.sip.headers import unique_field as _unique_field
from ivr.sip.message import _LINES, _new_field, parse_message

LINES = [
    "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK-1-0",
    "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK-1-0 \t",
    "Via:  SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK-2, SIP/2.0/TCP h;branch=z9hG4bK-3",
    'From: "A" <sip:a@example.com>;tag=1928301774',
    "From: ",
    "Call-ID: a84b4c76e66710@pc33.atlanta.com",
    "Call-ID:  x \t",
    # Each end of the value alone with LWS (`headers._value_at` reads both ends).
    "Via: SIP/2.0/UDP h;branch=z9hG4bK-4\t",
    "Via: \tSIP/2.0/UDP h;branch=z9hG4bK-5",
    "From:  <sip:a@example.com>;tag=2",
    "Call-ID: y ",
    "Call-ID:  ",
]


@pytest.mark.parametrize("line", LINES)
def test_the_prefix_reader_gives_the_general_readers_field(line: str) -> None:
    fast = _unique_field(line)
    general = _new_field(line)
    assert fast is not None and general is not None
    assert (fast.name, fast.value, fast.raw, fast.key) == (
        general.name,
        general.value,
        general.raw,
        general.key,
    )


OTHERS = ["v: SIP/2.0/UDP h", "VIA: x", "Via : x", "Call-ID:\tx", "To: <sip:b", "CSeq: 1 A"]


@pytest.mark.parametrize("line", OTHERS)
def test_other_spellings_and_other_headers_go_the_general_way(line: str) -> None:
    assert _unique_field(line) is None


def request(via: str) -> bytes:
    return (
        "OPTIONS sip:b@example.com SIP/2.0\r\n"
        f"{via}\r\n"
        "Max-Forwards: 70\r\nTo: <sip:b@example.com>\r\n"
        "From: <sip:a@example.com>;tag=77\r\nCall-ID: unique-lines-1\r\n"
        "CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
    ).encode()


def test_a_message_read_so_round_trips_and_leaves_the_cache_alone() -> None:
    data = request("Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK-unique-lines")
    before = set(_LINES)
    message = parse_message(data)
    assert message.serialise() == data
    message.headers.set("Max-Forwards", "69")  # rebuilt from the fields, not the bytes
    assert message.serialise() == data.replace(b"Max-Forwards: 70", b"Max-Forwards: 69")
    assert message.top_via.branch == "z9hG4bK-unique-lines"
    assert message.call_id == "unique-lines-1"
    assert message.from_tag == "77"
    added = set(_LINES) - before
    assert not {line for line in added if line.startswith(("Via", "From", "Call-ID"))}


def test_a_bare_cr_inside_a_via_line_is_still_a_400() -> None:
    with pytest.raises(SipParseError) as caught:
        parse_message(request("Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK-x\rjunk"))
    assert caught.value.status == 400


def test_a_folded_via_is_still_unfolded() -> None:
    data = request("Via: SIP/2.0/UDP 192.0.2.1:5060\r\n ;branch=z9hG4bK-folded")
    message = parse_message(data)
    assert message.top_via.branch == "z9hG4bK-folded"
    assert message.serialise() == data
