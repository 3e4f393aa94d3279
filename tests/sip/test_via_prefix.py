"""The next Via from the same peer read by its prefix (`values._LAST_VIA`).

`parse_via` remembers the key of the last cached Via whose branch ends it; a Via
starting with that key is its cached parse with the new branch put back, when the
rest is a branch `_spliceable` accepts. These tests hold it to the full parse.
"""

from __future__ import annotations

import pytest

from ivr.sip import values
from ivr.sip.values import _parse_via_text, parse_via

FIRST = "SIP/2.0/UDP 192.0.2.1:5061;branch=z9hG4bK-1-0"
NEXT = [
    "SIP/2.0/UDP 192.0.2.1:5061;branch=z9hG4bK-2-0",
    "SIP/2.0/UDP 192.0.2.1:5061;branch=z9hG4bK-3;rport",
    "SIP/2.0/UDP 192.0.2.1:5061;branch=z9hG4bK-4 ",
    "SIP/2.0/UDP 192.0.2.1:5061;branch=z9hG4bK-5;received=192.0.2.9",
    "SIP/2.0/UDP 192.0.2.1:5061;branch=",
    'SIP/2.0/UDP 192.0.2.1:5061;branch="q"',
    "SIP/2.0/UDP 192.0.2.1:5061;branch=a<b",
    "SIP/2.0/UDP 192.0.2.1:50610;branch=z9hG4bK-6",
    "SIP/2.0/UDP 192.0.2.1:5061;rport;branch=z9hG4bK-7",
]


@pytest.mark.parametrize("value", NEXT)
def test_a_via_after_another_from_its_peer_is_its_full_parse(value: str) -> None:
    parse_via(FIRST)
    assert parse_via(value) == _parse_via_text(value)


def test_the_prefix_is_what_reads_the_next_via() -> None:
    """Stop reading by the prefix and this fails: the cache emptied after the first
    Via would be filled again by the second."""
    assert parse_via(FIRST) == _parse_via_text(FIRST)
    assert values._LAST_VIA[0][0] == "SIP/2.0/UDP 192.0.2.1:5061;branch="
    values._VIAS.clear()
    again = NEXT[0]
    assert parse_via(again) == _parse_via_text(again)
    assert not values._VIAS
