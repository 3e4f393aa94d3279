"""`OutboundCall`, the agent leg as a UAC, on the real edge core with a fake wire and clock.

The SIP edge (transactions, dialogs) is the real one; only its transport is a
recorder, and time advances by calling `on_timer(now)`.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass, field

from ivr.calls.outbound import LegState, OutboundCall
from ivr.edge import SipEdge
from ivr.sip.actions import Peer, SendMessage
from ivr.sip.builders import make_request, make_response
from ivr.sip.message import Request, Response, parse_message
from ivr.sip.offer_answer import LocalMedia, Negotiated
from ivr.transport import SipTransport

PHONE = Peer("127.0.0.1", 5062, "UDP")
TARGET = "sip:1002@127.0.0.1:5062"
PHONE_SDP = (
    b"v=0\r\no=phone 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
    b"m=audio 7078 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"
)


class _Clock(asyncio.AbstractEventLoop):
    """A loop that only tells the time: the edge reads `transport.loop.time()`."""

    def __init__(self) -> None:
        self.now = 100.0

    def time(self) -> float:
        return self.now


class Wire(SipTransport):
    """A real `SipTransport`, never bound: records what the edge sends, gives it a clock.

    A subclass rather than a duck-typed stand-in: the compiled edge checks the
    transport's type (docs/native-build.md)."""

    def __init__(self, edge: SipEdge) -> None:
        self.clock = _Clock()
        super().__init__(edge, edge.host, edge.port, loop=self.clock)
        self.sent: list[SendMessage] = []

    def send(self, message: SendMessage) -> None:
        self.sent.append(message)

    def requests(self, method: str) -> list[Request]:
        out = []
        for item in self.sent:
            message = parse_message(item.data)
            if isinstance(message, Request) and message.method == method:
                out.append(message)
        return out

    def responses(self) -> list[Response]:
        out = []
        for item in self.sent:
            message = parse_message(item.data)
            if isinstance(message, Response):
                out.append(message)
        return out


@dataclass
class Observer:
    seen: list[str] = field(default_factory=list)
    media: Negotiated | None = None

    def on_ringing(self) -> None:
        self.seen.append("ringing")

    def on_answered(self, media: Negotiated) -> None:
        self.seen.append("answered")
        self.media = media

    def on_failed(self, status: int) -> None:
        self.seen.append(f"failed {status}")

    def on_ended(self) -> None:
        self.seen.append("ended")


def leg() -> tuple[SipEdge, Wire, Observer, OutboundCall]:
    edge = SipEdge("127.0.0.1", 5070, {}, rng=random.Random(1))
    wire = Wire(edge)
    edge.transport = wire
    observer = Observer()
    call = OutboundCall(
        edge,
        target=TARGET,
        caller="<sip:+447700900456@trunk.example>",
        local=LocalMedia(address="127.0.0.1", port=40002),
        observer=observer,
        rng=random.Random(2),
    )
    call.start()
    return edge, wire, observer, call


def reply(edge: SipEdge, request: Request, status: int, **kwargs: object) -> Response:
    response = make_response(request, status, to_tag="phone-tag", **kwargs)  # type: ignore[arg-type]
    edge.on_data(response.serialise(), PHONE, edge.now())
    return response


def ok(edge: SipEdge, invite: Request) -> Response:
    return reply(
        edge,
        invite,
        200,
        headers=[("Contact", f"<{TARGET}>")],
        body=PHONE_SDP,
        content_type="application/sdp",
    )


def test_invite_carries_an_offer_with_telephone_event() -> None:
    _, wire, _, call = leg()
    (invite,) = wire.requests("INVITE")
    assert invite.target == TARGET and wire.sent[0].peer == PHONE
    assert b"m=audio 40002 RTP/AVP 0 8 101" in invite.body
    assert b"telephone-event/8000" in invite.body
    assert invite.from_tag and not invite.to_tag and call.state is LegState.CALLING


def test_ringing_then_200_is_acked_and_answered() -> None:
    """RFC 3261 §13.2.2.4: the UAC ACKs the 2xx; RFC 3264 §7: the answer is read."""
    edge, wire, observer, call = leg()
    (invite,) = wire.requests("INVITE")
    reply(edge, invite, 180)
    ok(edge, invite)
    assert observer.seen == ["ringing", "answered"]
    assert observer.media is not None and observer.media.remote_port == 7078
    assert observer.media.codec == "PCMU"
    (ack,) = wire.requests("ACK")
    assert ack.to_tag == "phone-tag" and ack.cseq.number == invite.cseq.number
    assert call.state is LegState.ANSWERED


def test_retransmitted_200_is_acked_again() -> None:
    edge, wire, observer, _ = leg()
    (invite,) = wire.requests("INVITE")
    ok(edge, invite)
    ok(edge, invite)
    assert len(wire.requests("ACK")) == 2 and observer.seen == ["answered"]


def test_bye_from_the_phone_ends_the_leg_with_200() -> None:
    edge, wire, observer, call = leg()
    (invite,) = wire.requests("INVITE")
    ok(edge, invite)
    assert call.dialog is not None
    bye = make_request(
        "BYE",
        "sip:ringway@127.0.0.1:5070",
        via="SIP/2.0/UDP 127.0.0.1:5062;branch=z9hG4bKbye1",
        from_=f"<{TARGET}>;tag=phone-tag",
        to=f"{invite.headers.get('from')}",
        call_id=invite.call_id,
        cseq=1,
    )
    edge.on_data(bye.serialise(), PHONE, edge.now())
    assert observer.seen == ["answered", "ended"]
    assert [r.status for r in wire.responses()] == [200]
    assert call.state is LegState.ENDED and not edge.users


def test_hang_up_sends_bye_in_the_dialog() -> None:
    edge, wire, _, call = leg()
    (invite,) = wire.requests("INVITE")
    ok(edge, invite)
    call.hang_up()
    (bye,) = wire.requests("BYE")
    assert bye.to_tag == "phone-tag" and bye.cseq.number == invite.cseq.number + 1
    assert call.state is LegState.ENDED


def test_busy_fails_the_leg_and_the_transaction_acks_it() -> None:
    """§17.1.1.3: the client transaction ACKs a non-2xx final itself."""
    edge, wire, observer, call = leg()
    (invite,) = wire.requests("INVITE")
    reply(edge, invite, 486)
    assert observer.seen == ["failed 486"] and call.state is LegState.ENDED
    (ack,) = wire.requests("ACK")
    assert ack.top_via.branch == invite.top_via.branch


def test_cancel_waits_for_a_provisional() -> None:
    """§9.1: no CANCEL before a provisional response; sent as soon as one arrives."""
    edge, wire, observer, call = leg()
    (invite,) = wire.requests("INVITE")
    call.cancel()
    assert wire.requests("CANCEL") == []
    reply(edge, invite, 180)
    (cancel,) = wire.requests("CANCEL")
    assert cancel.top_via.branch == invite.top_via.branch
    assert cancel.cseq.number == invite.cseq.number and cancel.target == invite.target
    reply(edge, invite, 487)
    assert observer.seen == ["failed 487"]  # a 180 after the cancel is not shown as ringing


def test_200_crossing_our_cancel_is_acked_and_hung_up() -> None:
    edge, wire, observer, call = leg()
    (invite,) = wire.requests("INVITE")
    reply(edge, invite, 180)
    call.cancel()
    ok(edge, invite)
    assert len(wire.requests("ACK")) == 1 and len(wire.requests("BYE")) == 1
    assert observer.seen == ["ringing", "failed 487"] and call.state is LegState.ENDED


def test_no_answer_at_all_times_out_with_408() -> None:
    """Timer B (64·T1, §17.1.1.2): the transaction reports a local 408."""
    edge, wire, observer, _ = leg()
    for _ in range(12):  # Timer A retransmissions, then B
        deadline = edge.next_deadline()
        assert deadline is not None
        wire.clock.now = deadline
        edge.on_timer(deadline)
        if observer.seen:
            break
    assert observer.seen == ["failed 408"]
    assert wire.clock.now == 100.0 + 64 * 0.5
    assert len(wire.requests("INVITE")) > 1  # retransmitted while waiting (Timer A)


def test_unusable_answer_sdp_is_hung_up_as_488() -> None:
    edge, wire, observer, _ = leg()
    (invite,) = wire.requests("INVITE")
    reply(
        edge,
        invite,
        200,
        headers=[("Contact", f"<{TARGET}>")],
        body=PHONE_SDP.replace(b"RTP/AVP 0", b"RTP/AVP 99").replace(b"0 PCMU", b"99 G729"),
        content_type="application/sdp",
    )
    assert observer.seen == ["failed 488"]
    assert len(wire.requests("ACK")) == 1 and len(wire.requests("BYE")) == 1


def phone_request(invite: Request, method: str, cseq: int, body: bytes = b"") -> Request:
    return make_request(
        method,
        "sip:ringway@127.0.0.1:5070",
        via=f"SIP/2.0/UDP 127.0.0.1:5062;branch=z9hG4bK{method.lower()}{cseq}",
        from_=f"<{TARGET}>;tag=phone-tag",
        to=f"{invite.headers.get('from')}",
        call_id=invite.call_id,
        cseq=cseq,
        contact=f"<{TARGET}>",
        body=body,
        content_type="application/sdp" if body else None,
    )


def test_reinvite_from_the_phone_is_answered_from_the_same_port() -> None:
    """RFC 3261 §14.2 / RFC 3264 §8.4: the phone puts us on hold (sendonly); we answer
    200 with our address and recvonly, and retransmit it until the ACK (§13.3.1.4)."""
    edge, wire, observer, call = leg()
    (invite,) = wire.requests("INVITE")
    ok(edge, invite)
    hold = PHONE_SDP + b"a=sendonly\r\n"
    edge.on_data(phone_request(invite, "INVITE", 2, hold).serialise(), PHONE, edge.now())
    (answer,) = [r for r in wire.responses() if r.cseq.method == "INVITE" and r.status >= 200]
    assert answer.status == 200 and answer.to_tag == invite.from_tag
    assert b"m=audio 40002 RTP/AVP 0" in answer.body and b"a=recvonly" in answer.body
    assert len(edge.answers) == 1  # retransmitted until the phone's ACK
    ack = phone_request(invite, "ACK", 2)
    edge.on_data(ack.serialise(), PHONE, edge.now())
    assert len(edge.answers) == 0
    assert observer.seen == ["answered"] and call.state is LegState.ANSWERED


def test_reinvite_without_a_common_codec_is_488() -> None:
    edge, wire, _, _ = leg()
    (invite,) = wire.requests("INVITE")
    ok(edge, invite)
    g729 = PHONE_SDP.replace(b"RTP/AVP 0", b"RTP/AVP 18").replace(b"0 PCMU", b"18 G729")
    edge.on_data(phone_request(invite, "INVITE", 2, g729).serialise(), PHONE, edge.now())
    finals = [r.status for r in wire.responses() if r.cseq.method == "INVITE" and r.status >= 200]
    assert finals == [488]


def test_reinvite_from_the_caller_refreshes_the_session() -> None:
    """A trunk's session-timer refresh (RFC 4028 §9) is a re-INVITE: answered 200 with
    the SDP of the call's own media address, not 405."""
    edge = SipEdge("127.0.0.1", 5070, {}, rng=random.Random(1))
    wire = Wire(edge)
    edge.transport = wire
    trunk = Peer("192.0.2.9", 5060, "UDP")
    first = make_request(
        "INVITE",
        "sip:18005550101@127.0.0.1:5070",
        via="SIP/2.0/UDP 192.0.2.9:5060;branch=z9hG4bKtrunk1",
        from_="<sip:+447700900456@192.0.2.9>;tag=trunk",
        to="<sip:18005550101@127.0.0.1>",
        call_id="trunk-call",
        cseq=1,
        contact="<sip:trunk@192.0.2.9:5060>",
        body=PHONE_SDP,
        content_type="application/sdp",
    )
    edge.on_data(first.serialise(), trunk, edge.now())  # the default handler answers
    (ok200,) = [r for r in wire.responses() if r.status == 200]
    refresh = make_request(
        "INVITE",
        "sip:ringway@127.0.0.1:5070",
        via="SIP/2.0/UDP 192.0.2.9:5060;branch=z9hG4bKtrunk2",
        from_="<sip:+447700900456@192.0.2.9>;tag=trunk",
        to=f"<sip:18005550101@127.0.0.1>;tag={ok200.to_tag}",
        call_id="trunk-call",
        cseq=2,
        contact="<sip:trunk@192.0.2.9:5060>",
        body=PHONE_SDP,
        content_type="application/sdp",
    )
    edge.on_data(refresh.serialise(), trunk, edge.now())
    finals = [r for r in wire.responses() if r.status >= 200 and r.cseq.number == 2]
    assert [r.status for r in finals] == [200]
    assert finals[0].body == ok200.body  # same address, same session version
