"""A response's To view comes from its request's when we add the tag (§8.2.6.2, §12.1.1).

`make_response` sets the tagged response's parsed To (and tag) from the request's
parsed To instead of leaving them to be parsed again; what it sets must be exactly
what parsing the response's To line gives.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ivr.sip.builders import make_response
from ivr.sip.message import Request, Response, parse_message

FIXTURES = Path(__file__).parent / "fixtures"
REQUESTS = [
    path
    for folder in ("call_udp", "call_tcp", "ivr_call", "register", "cancel", "handmade")
    for path in sorted((FIXTURES / folder).glob("*.sip"))
    if isinstance(
        message := parse_message(path.read_bytes(), stream="tcp" in path.parent.name), Request
    )
    and message.method != "ACK"
]
ODD_TOS = [
    "<sip:a@example.com>",
    '"Quoted, Name" <sip:a@example.com;transport=udp>;x=1',
    "sip:a@example.com;user=phone",
    "<sip:a@example.com>;TAG=upper",  # a tag already (any case): nothing is set
    "<sip:a@example.com> ; tag = spaced",
]


def reparsed(response: Response) -> Response:
    again = parse_message(response.serialise())
    assert isinstance(again, Response)
    return again


def check(request: Request) -> None:
    request.to  # noqa: B018 -- parsed, as the transaction layer does before the TU
    for status in (180, 200, 486):
        response = make_response(request, status, to_tag="f00dfeed")
        fresh = reparsed(response)
        assert response.to == fresh.to and response.to_tag == fresh.to_tag


@pytest.mark.parametrize("path", REQUESTS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_the_set_to_view_is_what_parsing_gives(path: Path) -> None:
    message = parse_message(path.read_bytes(), stream="tcp" in path.parent.name)
    assert isinstance(message, Request)
    check(message)


@pytest.mark.parametrize("to", ODD_TOS)
def test_odd_to_values(to: str) -> None:
    data = (FIXTURES / "call_udp/01-INVITE.sip").read_bytes()
    message = parse_message(data)
    assert isinstance(message, Request)
    message.headers.set("To", to)
    check(message)


def test_the_180_and_the_200_share_the_tagged_to_field() -> None:
    message = parse_message((FIXTURES / "call_udp/01-INVITE.sip").read_bytes())
    assert isinstance(message, Request)
    ringing = make_response(message, 180, to_tag="t1")
    ok = make_response(message, 200, to_tag="t1")
    other = make_response(message, 200, to_tag="t2")
    to_field = next(f for f in ringing.headers.fields if f.key == "to")
    assert to_field in ok.headers.fields and other.to_tag == "t2" == reparsed(other).to_tag
    assert make_response(message, 100).to_tag is None  # §8.2.6.2: no tag on a 100
