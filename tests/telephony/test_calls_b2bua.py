"""The B2BUA's SIP-to-event translation: caller id (RFC 3325) and INFO DTMF (RFC 6086)."""

from __future__ import annotations

import random
from types import SimpleNamespace
from typing import Any

import pytest

from ivr.calls import events as ce
from ivr.calls.b2bua import B2bua, caller_id
from ivr.sip.builders import make_request
from ivr.sip.message import Request


def invite(**headers: str) -> Request:
    return make_request(
        "INVITE",
        "sip:18005550101@ringway.example",
        via="SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKcli1",
        from_=headers.pop("from_", "<sip:+447700900456@trunk.example>;tag=t1"),
        to="<sip:18005550101@ringway.example>",
        call_id="cli-1",
        cseq=1,
        headers=list(headers.items()),
    )


def test_p_asserted_identity_wins_over_from() -> None:
    """RFC 3325 §9.1: the asserted identity from a trusted trunk is the caller."""
    request = invite(**{"P-Asserted-Identity": '"Margaret" <sip:+442079460958@trunk>'})
    assert caller_id(request) == "sip:+442079460958@trunk"


def test_from_is_the_fallback_and_a_broken_pai_is_skipped() -> None:
    assert caller_id(invite()) == "sip:+447700900456@trunk.example"
    assert caller_id(invite(**{"P-Asserted-Identity": "<"})) == "sip:+447700900456@trunk.example"


class Recorder:
    def __init__(self) -> None:
        self.events: list[Any] = []

    def handle(self, event: Any) -> None:
        self.events.append(event)


def info(content_type: str, body: bytes) -> Request:
    return make_request(
        "INFO",
        "sip:ringway@127.0.0.1",
        via="SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKinfo1",
        from_="<sip:+447700900456@trunk>;tag=t1",
        to="<sip:18005550101@ringway>;tag=r1",
        call_id="call-1",
        cseq=2,
        body=body,
        content_type=content_type,
    )


@pytest.fixture
def b2bua() -> tuple[B2bua, Recorder]:
    b2bua = B2bua(None, host="127.0.0.1", rng=random.Random(1))  # type: ignore[arg-type]
    driver = Recorder()
    b2bua.drivers["call-1"] = driver  # type: ignore[assignment]
    return b2bua, driver


CALL = SimpleNamespace(call_id="call-1")


@pytest.mark.parametrize(
    ("content_type", "body", "status", "digit"),
    [
        ("application/dtmf-relay", b"Signal=5\r\nDuration=160\r\n", 200, "5"),
        ("application/dtmf-relay", b"Signal=11\r\nDuration=100\r\n", 200, "#"),
        ("application/dtmf", b"*", 200, "*"),
        ("application/dtmf-relay", b"Signal=Z\r\n", 400, None),
        ("application/dtmf-relay", b"Duration=100\r\n", 400, None),
        ("text/plain", b"hello", 415, None),  # RFC 6086 §4.2.2: not a package we take
    ],
)
def test_info_dtmf(
    b2bua: tuple[B2bua, Recorder], content_type: str, body: bytes, status: int, digit: str | None
) -> None:
    handler, driver = b2bua
    assert handler.on_info(CALL, info(content_type, body)) == status  # type: ignore[arg-type]
    expected = [] if digit is None else [ce.DigitsCollected(digit=digit, method="info")]
    assert driver.events == expected


def test_info_for_a_call_no_longer_here_is_481(b2bua: tuple[B2bua, Recorder]) -> None:
    handler, _ = b2bua
    gone = SimpleNamespace(call_id="other")
    assert handler.on_info(gone, info("application/dtmf", b"1")) == 481  # type: ignore[arg-type]
