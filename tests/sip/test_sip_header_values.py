"""`Headers.values` (one pass, a comma-less value stripped in place) gives what
splitting every line of the header with `split_commas` gives (§7.3.1)."""

from __future__ import annotations

import pytest

from ivr.sip.headers import Headers
from ivr.sip.message import parse_message
from ivr.sip.values import split_commas

PAIRS = [
    ("Via", "SIP/2.0/UDP 192.0.2.9:5070;branch=z9hG4bKtop;rport"),
    ("Contact", "  <sip:a@192.0.2.7>;expires=60 "),  # built, not parsed: not stripped
    ("v", " SIP/2.0/UDP 192.0.2.8;branch=z9hG4bKmid , SIP/2.0/TCP 192.0.2.7;branch=z9hG4bKl"),
    ("m", '"Last, First" <sip:b@192.0.2.7>, <sip:c@192.0.2.7;lr>'),
    ("Contact", "\t*\t"),
    ("Route", "<sip:p1@192.0.2.1;lr>,<sip:p2@192.0.2.2;lr>"),
    ("Supported", ""),
    ("Allow", "INVITE, ACK,BYE"),
]
WIRE = (
    b"INVITE sip:s@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK-1\r\n"
    b"From: <sip:a@127.0.0.1>;tag=1\r\nTo: <sip:s@127.0.0.1>\r\nCall-ID: 1@h\r\n"
    b"CSeq: 1 INVITE\r\nContact: <sip:a@127.0.0.1:5061>\r\nm: <sip:b@h>, <sip:c@h>\r\n"
    b"Content-Length: 0\r\n\r\n"
)


def split_each_line(headers: Headers, name: str) -> list[str]:
    return [v for value in headers.get_all(name) for v in split_commas(value)]


@pytest.mark.parametrize("name", ["via", "Contact", "m", "route", "supported", "allow", "x"])
def test_values_are_every_line_split(name: str) -> None:
    built = Headers.from_pairs(PAIRS)
    assert built.values(name) == split_each_line(built, name)
    parsed = parse_message(WIRE).headers
    assert parsed.values(name) == split_each_line(parsed, name)


def test_a_built_contact_is_stripped() -> None:
    assert Headers.from_pairs(PAIRS).values("contact")[:1] == ["<sip:a@192.0.2.7>;expires=60"]
