"""The B2BUA's SIP-to-event translation: caller id (RFC 3325) and INFO DTMF (RFC 6086)."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Sequence

import pytest

from ivr.calls.b2bua import B2bua, caller_id
from ivr.calls.driver import CallDriver
from ivr.calls.flow import FlowAction
from ivr.calls.media import CallMedia
from ivr.calls.session import CallSession
from ivr.edge import Call, SipEdge
from ivr.sip.actions import Peer
from ivr.sip.builders import make_request
from ivr.sip.message import Request


def invite(call_id: str = "cli-1", **headers: str) -> Request:
    return make_request(
        "INVITE",
        "sip:18005550101@ringway.example",
        via="SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKcli1",
        from_=headers.pop("from_", "<sip:+447700900456@trunk.example>;tag=t1"),
        to="<sip:18005550101@ringway.example>",
        call_id=call_id,
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


class SilentFlow:
    """An IVR that says nothing and asks for nothing (a `FlowRunLike`)."""

    finished = False
    attributes: dict[str, str] = {}

    def start(self, now: float) -> Sequence[FlowAction]:
        return []

    def on_digit(self, digit: str, now: float) -> Sequence[FlowAction]:
        return []

    def on_prompt_done(self, now: float) -> Sequence[FlowAction]:
        return []

    def next_deadline(self) -> float | None:
        return None

    def on_timer(self, now: float) -> Sequence[FlowAction]:
        return []


def info(content_type: str, body: bytes, call_id: str = "call-1") -> Request:
    return make_request(
        "INFO",
        "sip:ringway@127.0.0.1",
        via="SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKinfo1",
        from_="<sip:+447700900456@trunk>;tag=t1",
        to="<sip:18005550101@ringway>;tag=r1",
        call_id=call_id,
        cseq=2,
        body=body,
        content_type=content_type,
    )


def on_info(request: Request, call_id: str = "call-1") -> tuple[int, CallSession]:
    """The B2BUA's answer to ``request`` in the dialog of call ``call_id``, and the
    session of call "call-1" (real ones, never started: nothing is sent or played)."""

    async def scenario() -> tuple[int, CallSession]:
        rng = random.Random(1)
        b2bua = B2bua(None, host="127.0.0.1", rng=rng)  # type: ignore[arg-type]
        edge = SipEdge("127.0.0.1", 5060, {}, handler=b2bua, rng=rng)
        peer = Peer("192.0.2.1", 5060, "UDP")
        here = Call(edge, invite("call-1"), peer, ("z9hG4bKcli1", "INVITE"))
        session = CallSession(here.call_id, SilentFlow())
        media = CallMedia("127.0.0.1", rng, b2bua.prompts, b2bua.ports)
        b2bua.drivers[here.call_id] = CallDriver(b2bua, here, session, media)
        try:
            call = Call(edge, request, peer, ("z9hG4bKinfo1", "INFO"))
            return b2bua.on_info(call, request), session
        finally:
            media.close()

    return asyncio.run(scenario())


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
def test_info_dtmf(content_type: str, body: bytes, status: int, digit: str | None) -> None:
    answered, session = on_info(info(content_type, body))
    assert answered == status
    # the call's session was handed DigitsCollected(digit, method="info"), or nothing
    assert session.digits == (digit or "")
    assert session.record.get("dtmf_method") == ("info" if digit else None)


def test_info_for_a_call_no_longer_here_is_481() -> None:
    answered, session = on_info(info("application/dtmf", b"1", call_id="other"))
    assert answered == 481
    assert session.digits == "" and "dtmf_method" not in session.record
