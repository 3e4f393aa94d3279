"""Responses built from what the request's parse already knows read like parsed ones.

`make_response` seeds the response's From and To tags from the request's parsed
tags, shares one tagged To field between the 180 and the 200 of an INVITE, and
the typed-view caches are plain dicts: every value read from a response (or a
cached parse) must equal what parsing its text from scratch gives (RFC 3261
§8.2.6.2: From, To, Call-ID, CSeq and Via copied; To gets our tag unless it has one).
"""

from __future__ import annotations

import pytest

from ivr.sip.builders import make_response
from ivr.sip.message import Request, Response, parse_message
from ivr.sip.uri import parse_host_port, parse_uri
from ivr.sip.values import (
    _parse_cseq,
    _parse_name_addr,
    param_value,
    parse_cseq,
    parse_name_addr,
)

TOS = [
    "service <sip:service@127.0.0.1:5060>",
    "<sip:a@example.com>;TAG=upper",
    "<sip:a@example.com;tag=inuri>",
    "sip:a@example.com",
    "sip:a@example.com;x=1",
    "<sip:a@example.com>;tag=theirs",
    "<sip:a@example.com> ; tag = spaced",
    '"Display, Name" <sip:a@example.com>;p="q;r"',
]


def invite(to: str) -> Request:
    data = (
        "INVITE sip:service@127.0.0.1:5060 SIP/2.0\r\n"
        "Via: SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK-1-0\r\n"
        "From: sipp <sip:sipp@127.0.0.1:5061>;tag=caller\r\n"
        f"To: {to}\r\n"
        "Call-ID: 1-1@127.0.0.1\r\nCSeq: 1 INVITE\r\nContact: sip:sipp@127.0.0.1:5061\r\n"
        "Content-Length: 0\r\n\r\n"
    ).encode()
    message = parse_message(data)
    assert isinstance(message, Request)
    message.from_tag  # noqa: B018 -- parsed, as the transaction layer does first
    message.to_tag  # noqa: B018
    return message


def reparsed(response: Response) -> Response:
    again = parse_message(response.serialise())
    assert isinstance(again, Response)
    return again


@pytest.mark.parametrize("to", TOS)
@pytest.mark.parametrize("status", [100, 180, 200, 486])
@pytest.mark.parametrize("to_tag", [None, "", "ours"])
def test_seeded_tags_are_the_tags_parsing_the_response_gives(
    to: str, status: int, to_tag: str | None
) -> None:
    request = invite(to)
    response = make_response(request, status, to_tag=to_tag)
    again = reparsed(response)
    assert response.to_tag == again.to_tag
    assert response.from_tag == again.from_tag == "caller"
    response.headers._tags_read = 0  # the seeded tags away: parsed from the fields
    assert response.to_tag == again.to_tag


def test_the_180_and_the_200_share_the_tagged_to_but_a_new_tag_gets_its_own() -> None:
    request = invite(TOS[0])
    ringing = make_response(request, 180, to_tag="t1")
    ok = make_response(request, 200, to_tag="t1")
    other = make_response(request, 200, to_tag="t2")
    assert ringing.headers.fields[2] is ok.headers.fields[2]
    assert ok.to_tag == "t1" and other.to_tag == "t2"
    assert reparsed(other).to_tag == "t2" and request.to_tag is None


def test_a_changed_to_is_read_again_not_taken_from_the_seed() -> None:
    response = make_response(invite(TOS[0]), 200, to_tag="t1")
    response.headers.set("To", "<sip:x@example.com>;tag=changed")
    assert response.to_tag == "changed"


@pytest.mark.parametrize("value", ["<sip:a@b>", '"A" <sip:a@b>;x=1', "sip:a@b;x", "*"])
def test_cached_parses_are_the_parses_and_shared(value: str) -> None:
    assert parse_name_addr(value) == _parse_name_addr(value)
    assert parse_name_addr(value) is parse_name_addr(value)
    assert parse_cseq("7 BYE") == _parse_cseq("7 BYE")
    assert parse_uri("sip:a@b:5070") is parse_uri("sip:a@b:5070")
    assert parse_host_port(" [::1]:5060 ") == ("[::1]", 5060)


@pytest.mark.parametrize(
    ("params", "name", "expected"),
    [
        ((("tag", "a"),), "tag", "a"),
        ((("TAG", "a"),), "tag", "a"),
        ((("Tag", "a"), ("tag", "b")), "TAG", "a"),
        ((("tags", "a"), ("ta", "b"), ("tag", None)), "tag", ""),
        ((("rport", None),), "branch", None),
    ],
)
def test_param_value_is_case_insensitive_and_first_wins(
    params: tuple[tuple[str, str | None], ...], name: str, expected: str | None
) -> None:
    assert param_value(params, name) == expected
