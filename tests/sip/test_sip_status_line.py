"""`message._is_status_line` answers as `start[:4].upper() == "SIP/"` did, for any start."""

from __future__ import annotations

import pytest

from ivr.sip.builders import reason_phrase
from ivr.sip.message import Response, _is_status_line, parse_message

STARTS = [
    "SIP/2.0 200 OK",
    "sip/2.0 200 OK",
    "sIp/2.0 180 Ringing",
    "\u017fIP/2.0 200 OK",  # long s: upper-cases to "S"
    "INVITE sip:a@b SIP/2.0",
    "SUBSCRIBE sip:a@b SIP/2.0",
    "SIP",
    "S",
    "",
    "\u00e9IP/2.0 200 OK",
]


@pytest.mark.parametrize("start", STARTS)
def test_the_first_character_check_changes_no_answer(start: str) -> None:
    assert _is_status_line(start) == (start[:4].upper() == "SIP/")


def test_a_response_is_still_read_as_one() -> None:
    data = (
        b"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h:5060;branch=z9hG4bK-st\r\n"
        b"From: <sip:a@h>;tag=1\r\nTo: <sip:b@h>;tag=2\r\nCall-ID: st-1\r\n"
        b"CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
    )
    message = parse_message(data)
    assert isinstance(message, Response) and message.status == 200
    assert message.serialise() == data


@pytest.mark.parametrize(("status", "phrase"), [(200, "OK"), (299, "OK"), (499, "Bad Request")])
def test_reason_phrase_falls_back_to_the_class(status: int, phrase: str) -> None:
    assert reason_phrase(status) == phrase


def test_reason_phrase_of_an_unknown_class() -> None:
    assert reason_phrase(799) == "Unknown"
