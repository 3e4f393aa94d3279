"""Final answers sent as bytes only: `response_data` and `send_response_data`.

The INVITE's 2xx and a non-INVITE's final leave their transaction at once
(Timers L and J: RFC 6026 §8.7, RFC 3261 §17.2.2), so the edge builds them as
bytes, never as a `Response`. These tests hold the bytes to what
`make_response(...).serialise()` gives (§8.2.6.2: Via in order, From, To with
our tag unless it has one, Call-ID, CSeq, each as received), the layer to what
`send_response` does with the same answer, and the records built from bytes to
the messages those bytes parse back to.
"""

from __future__ import annotations

import heapq
from pathlib import Path

import pytest

from ivr.sip.actions import AckTimeout, DeliverRequest, Peer, SendMessage
from ivr.sip.answer import AnswerRetransmitter
from ivr.sip.builders import header_lines, make_response, response_data
from ivr.sip.message import Request, Response, parse_message
from ivr.sip.transaction import TransactionLayer
from ivr.sip.transaction_states import State

FIXTURES = Path(__file__).parent / "fixtures"
UDP = Peer("127.0.0.1", 15061)
TCP = Peer("127.0.0.1", 15061, "TCP")
SDP = b"v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"

PLAIN = (
    "INVITE sip:service@127.0.0.1:5060 SIP/2.0\r\n"
    "Via: SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK-1-0\r\n"
    "From: sipp <sip:sipp@127.0.0.1:5061>;tag=1SIPpTag00\r\n"
    "To: service <sip:service@127.0.0.1:5060>\r\n"
    "Call-ID: 1-1@127.0.0.1\r\nCSeq: 1 INVITE\r\nContact: sip:sipp@127.0.0.1:5061\r\n"
    "Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
)
# Several Vias (two lines, one with two values), the copied fields interleaved with
# others, compact forms, odd spacing and case, a To that already has a tag.
SEVERAL_VIAS = (
    "BYE sip:service@127.0.0.1:5060 SIP/2.0\r\n"
    "Via: SIP/2.0/UDP 192.0.2.9:5070;branch=z9hG4bKtop;rport\r\n"
    "Max-Forwards: 69\r\n"
    "v:  SIP/2.0/UDP 192.0.2.8;branch=z9hG4bKmid , SIP/2.0/TCP 192.0.2.7;branch=z9hG4bKlow\r\n"
    "f: <sip:a@192.0.2.7>;tag=abc\r\n"
    "Subject: between\r\n"
    't :   "Service"   <sip:service@127.0.0.1:5060> ;TAG=ours\r\n'
    "i: 7@192.0.2.7\r\n"
    "cseq:   2   BYE\r\n"
    "l: 0\r\n\r\n"
)
TIMESTAMPED = PLAIN.replace("Max-Forwards: 70\r\n", "Max-Forwards: 70\r\nTimestamp: 54.3 1\r\n")
TAG_IN_URI = PLAIN.replace(
    "To: service <sip:service@127.0.0.1:5060>", "To: <sip:service@127.0.0.1;tag=x>;day=1"
)
REQUESTS = {
    "plain": PLAIN.encode(),
    "several vias": SEVERAL_VIAS.encode(),
    "timestamp": TIMESTAMPED.encode(),
    "tag inside the uri": TAG_IN_URI.encode(),
    "ivr INVITE": (FIXTURES / "ivr_call" / "01-INVITE.sip").read_bytes(),
    "ivr BYE": (FIXTURES / "ivr_call" / "11-BYE.sip").read_bytes(),
    "tortuous": (FIXTURES / "handmade" / "tortuous_invite.sip").read_bytes(),
}
ADDED = [("Contact", "<sip:ringway@127.0.0.1:5060>"), ("Allow", "INVITE, ACK, BYE")]


def request(name: str) -> Request:
    parsed = parse_message(REQUESTS[name])
    assert isinstance(parsed, Request)
    return parsed


@pytest.mark.parametrize("name", list(REQUESTS))
@pytest.mark.parametrize("status", [100, 180, 200, 481])
@pytest.mark.parametrize("to_tag", [None, "f00d"])
def test_the_bytes_are_make_responses_bytes(name: str, status: int, to_tag: str | None) -> None:
    """With and without added headers and a body; a fresh request each time and the
    same request answered twice (the copied fields are kept on its header block)."""
    for headers, body, content_type in [([], b"", None), (ADDED, SDP, "application/sdp")]:
        tail = header_lines(headers, content_type)
        slow = make_response(
            request(name),
            status,
            to_tag=to_tag,
            headers=headers,
            body=body,
            content_type=content_type,
        ).serialise()
        once = request(name)
        assert response_data(once, status, to_tag=to_tag, tail=tail, body=body) == slow
        assert response_data(once, status, to_tag=to_tag, tail=tail, body=body) == slow
        made_first = request(name)
        make_response(made_first, status, to_tag=to_tag)  # its copied fields kept by the slow path
        assert response_data(made_first, status, to_tag=to_tag, tail=tail, body=body) == slow


def test_the_tag_goes_on_the_to_only_when_it_has_none() -> None:
    """§8.2.6.2; and a 100 never gets one. The To of SEVERAL_VIAS has `;TAG=`."""
    plain = parse_message(response_data(request("plain"), 200, to_tag="f00d"))
    assert isinstance(plain, Response) and plain.to_tag == "f00d"
    kept = parse_message(response_data(request("several vias"), 200, to_tag="f00d"))
    assert isinstance(kept, Response) and kept.to_tag == "ours"
    trying = parse_message(response_data(request("plain"), 100, to_tag="f00d"))
    assert isinstance(trying, Response) and trying.to_tag is None
    vias = [str(v) for v in kept.vias]
    assert [v.split(";")[1] for v in vias] == [
        "branch=z9hG4bKtop",
        "branch=z9hG4bKmid",
        "branch=z9hG4bKlow",
    ]


def received(layer: TransactionLayer, data: bytes, peer: Peer) -> DeliverRequest:
    (up,) = [a for a in layer.receive_data(data, peer, 1.0) if isinstance(a, DeliverRequest)]
    assert up.tx is not None
    return up


@pytest.mark.parametrize(
    ("name", "peer", "status", "state"),
    [
        ("ivr INVITE", UDP, 200, State.ACCEPTED),  # Timer L
        ("ivr INVITE", TCP, 200, State.ACCEPTED),  # Timer L on every transport
        ("ivr BYE", UDP, 200, State.COMPLETED),  # Timer J
        ("ivr BYE", UDP, 481, State.COMPLETED),
        ("ivr BYE", TCP, 200, None),  # Timer J of 0 s: ended with the send
    ],
)
def test_the_layer_does_with_the_bytes_what_it_does_with_the_response(
    name: str, peer: Peer, status: int, state: State | None
) -> None:
    fast, slow = TransactionLayer(auto_trying=False), TransactionLayer(auto_trying=False)
    up, reference = received(fast, REQUESTS[name], peer), received(slow, REQUESTS[name], peer)
    assert up.tx is not None and reference.tx is not None
    data = response_data(up.request, status, to_tag="t1")
    sent = fast.send_response_data(up.tx, status, data, 2.0)
    expected = slow.send_response(
        reference.tx, make_response(reference.request, status, to_tag="t1"), 2.0
    )
    assert sent is not None and len(sent) == len(expected) == 1
    (one,), (other,) = sent, expected
    assert isinstance(one, SendMessage) and isinstance(other, SendMessage)
    assert (one.data, one.peer, one.retransmission) == (other.data, other.peer, False)
    assert one.message.serialise() == other.message.serialise() == data  # parsed back
    assert fast.state(up.tx) is slow.state(reference.tx) is state
    assert fast._txs.get(up.tx) == slow._txs.get(reference.tx)  # the same Kept tuple
    assert len(fast) == len(slow) and fast._servers == slow._servers
    assert fast.next_deadline() == slow.next_deadline()
    again = fast.receive_data(REQUESTS[name], peer, 3.0)  # a retransmission: as ever
    assert [a.data for a in again if isinstance(a, SendMessage)] == [
        a.data for a in slow.receive_data(REQUESTS[name], peer, 3.0) if isinstance(a, SendMessage)
    ]


@pytest.mark.parametrize(("name", "status"), [("ivr INVITE", 486), ("ivr INVITE", 180)])
def test_what_the_tables_must_decide_is_left_to_send_response(name: str, status: int) -> None:
    layer = TransactionLayer(auto_trying=False)
    up = received(layer, REQUESTS[name], UDP)
    assert up.tx is not None
    data = response_data(up.request, status, to_tag="t1")
    assert layer.send_response_data(up.tx, status, data, 2.0) is None
    assert layer.state(up.tx) is State.PROCEEDING  # nothing done


def test_a_transaction_no_longer_live_is_left_to_send_response() -> None:
    layer = TransactionLayer(auto_trying=False)
    up = received(layer, REQUESTS["ivr BYE"], UDP)
    assert up.tx is not None
    data = response_data(up.request, 200)
    assert layer.send_response_data(up.tx, 200, data, 2.0) is not None
    assert layer.send_response_data(up.tx, 200, data, 2.5) is None  # retained: a tuple
    assert layer.send_response_data(("s", "gone"), 200, data, 2.5) is None


def test_a_2xx_retransmitted_from_bytes_and_its_ack_timeout() -> None:
    """§13.3.1.4: the bytes again at T1, 2·T1, ...; after 64·T1 the AckTimeout carries
    the response those bytes parse back to."""
    invite = request("plain")
    data = response_data(invite, 200, to_tag="f00d", body=SDP)
    answers = AnswerRetransmitter()
    answers.start_data(data, UDP, 0.0, (invite.call_id, "f00d", 1))
    events = []
    while (when := answers.next_deadline()) is not None:
        events += [(when, a) for a in answers.handle_timer(when)]
    resent = [a for _, a in events if isinstance(a, SendMessage)]
    assert resent and all(a.data == data and a.retransmission for a in resent)
    assert resent[0].message.serialise() == data
    (when, timeout) = events[-1]
    assert when == 32.0 and not isinstance(timeout, SendMessage)
    response = timeout.response  # type: ignore[union-attr]
    assert (response.call_id, response.to_tag, response.from_tag) == (
        invite.call_id,
        "f00d",
        "1SIPpTag00",
    )


def test_a_send_message_without_its_message_parses_it_back_once() -> None:
    data = make_response(request("plain"), 200, to_tag="f00d").serialise()
    sent = SendMessage(data=data, peer=UDP)
    first = sent.message
    assert isinstance(first, Response) and first.status == 200 and first.serialise() == data
    assert sent.message is first
    given = make_response(request("plain"), 200, to_tag="f00d")
    assert SendMessage(data=data, message=given, peer=UDP).message is given


class HeapOnly:
    """The retransmitter before the FIFO of first retransmissions: one heap for all."""

    def __init__(self, t1: float = 0.5, t2: float = 4.0) -> None:
        self.t1, self.t2 = t1, t2
        self.pending: dict[tuple[str, str, int], list[float]] = {}  # interval, due, give_up
        self.heap: list[tuple[float, int, tuple[str, str, int]]] = []
        self.seq = 0

    def start(self, key: tuple[str, str, int], now: float) -> None:
        self.pending[key] = [self.t1, now + self.t1, now + 64 * self.t1]
        self.seq += 1
        heapq.heappush(self.heap, (now + self.t1, self.seq, key))

    def handle_timer(self, now: float) -> list[tuple[str, str]]:
        out = []
        while self.heap and self.heap[0][0] <= now:
            due, _, key = heapq.heappop(self.heap)
            state = self.pending.get(key)
            if state is None or state[1] != due:
                continue
            if now >= state[2]:
                del self.pending[key]
                out.append(("timeout", key[0]))
                continue
            state[0] = min(2 * state[0], self.t2)
            state[1] = min(now + state[0], state[2])
            self.seq += 1
            heapq.heappush(self.heap, (state[1], self.seq, key))
            out.append(("again", key[0]))
        return out


def test_the_first_retransmissions_queue_keeps_the_heaps_order() -> None:
    """Starts in time order (and one with the clock set back), ACKs, and timers run
    both exactly at each deadline and on a coarse tick that finds several due: the
    same retransmissions and timeouts, in the same order, as one heap gives."""
    for tick in (None, 0.37, 1.3):
        answers, reference = AnswerRetransmitter(), HeapOnly()
        starts = [(f"c{i}", 0.1 * i) for i in range(12)] + [("back", 0.45)]
        acks = {"c3": 0.8, "c7": 3.0, "c0": 0.2}
        got: list[tuple[str, str]] = []
        expected: list[tuple[str, str]] = []
        now = 0.0
        events = sorted(
            [(t, "start", c) for c, t in starts] + [(t, "ack", c) for c, t in acks.items()]
        )
        while events or answers.next_deadline() is not None:
            due = answers.next_deadline()
            if tick is not None and due is not None:
                due = (due // tick + 1) * tick  # a coarse timer finds it late
            if events and (due is None or events[0][0] <= due):
                when, kind, call = events.pop(0)
                now = max(now, when) if call != "back" else when
                key = (call, "tag", 1)
                if kind == "start":
                    invite = parse_message(PLAIN.replace("1-1@127.0.0.1", call).encode())
                    assert isinstance(invite, Request)
                    answers.start_data(response_data(invite, 200, to_tag="tag"), UDP, now, key)
                    reference.start(key, now)
                else:
                    answers._pending.pop(key, None)
                    reference.pending.pop(key, None)
                continue
            assert due is not None
            now = due
            for action in answers.handle_timer(now):
                if isinstance(action, SendMessage):
                    got.append(("again", action.message.call_id))
                else:
                    assert isinstance(action, AckTimeout)
                    got.append(("timeout", action.response.call_id))
            expected += reference.handle_timer(now)
        assert got == expected and len(got) > 20
        assert len(answers) == len(reference.pending) == 0
