"""An ended call leaves nothing for the garbage collector (RFC 3261 §17 retention aside).

With the collector off the whole time, every object of a call -- the `Call`,
its `Dialog`, the parsed requests and responses, the transactions -- must be
freed by reference counting once the call ends: a reference cycle would keep
them until a collection, and at 800 calls/s each collection then had thousands
of ended calls to trace. What does stay 32 s, the transactions absorbing
retransmissions (Timers J and L), must be tuples the collector does not track.
"""

from __future__ import annotations

import gc
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

from ivr.edge import Call, CallHandler, SipEdge
from ivr.sip.actions import Peer
from ivr.sip.offer_answer import LocalMedia

PEER = Peer("127.0.0.1", 5061)
INVITE = (
    "INVITE sip:service@127.0.0.1:5060 SIP/2.0\r\n"
    "Via: SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK-{i}-0\r\n"
    "From: sipp <sip:sipp@127.0.0.1:5061>;tag={i}SIPpTag00\r\n"
    "To: service <sip:service@127.0.0.1:5060>\r\n"
    "Call-ID: {i}-1@127.0.0.1\r\nCSeq: 1 INVITE\r\nContact: sip:sipp@127.0.0.1:5061\r\n"
    "Max-Forwards: 70\r\nContent-Type: application/sdp\r\n"
    "Content-Length: 129\r\n\r\n"
    "v=0\r\no=user1 53655765 2353687637 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\n"
    "t=0 0\r\nm=audio 6004 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"
)
IN_DIALOG = (
    "{method} sip:service@127.0.0.1:5060 SIP/2.0\r\n"
    "Via: SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK-{i}-{n}\r\n"
    "From: sipp <sip:sipp@127.0.0.1:5061>;tag={i}SIPpTag00\r\n"
    "To: service <sip:service@127.0.0.1:5060>;tag={tag}\r\n"
    "Call-ID: {i}-1@127.0.0.1\r\nCSeq: {n} {method}\r\nContact: sip:sipp@127.0.0.1:5061\r\n"
    "Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
)
PER_CALL = {"Call", "Dialog", "Transaction", "Request", "Response", "Headers", "_Pending"}


class Answering(CallHandler):
    """Rings in `on_invite` and answers afterwards (the B2BUA's shape)."""

    def __init__(self) -> None:
        self.pending: Call | None = None
        self.ended = 0

    def on_invite(self, call: Call) -> None:
        call.ring()
        self.pending = call

    def on_ended(self, call: Call) -> None:
        self.ended += 1


@contextmanager
def collector_off() -> Iterator[None]:
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def census() -> Counter[str]:
    return Counter(
        name for o in gc.get_objects() if (name := type(o).__name__) in PER_CALL or name == "tuple"
    )


def test_ended_calls_are_freed_by_reference_counting_and_what_stays_is_untracked() -> None:
    handler = Answering()
    edge = SipEdge("127.0.0.1", 5060, {}, handler=handler, max_server_transactions=None)

    def call(i: int, now: float) -> None:
        edge.on_data(INVITE.format(i=i).encode(), PEER, now)
        pending, handler.pending = handler.pending, None
        assert pending is not None
        pending.answer(LocalMedia(address="127.0.0.1", port=20000 + 2 * i))
        tag = pending.tag
        del pending
        for method, n in (("ACK", 1), ("BYE", 2)):
            edge.on_data(IN_DIALOG.format(method=method, i=i, n=n, tag=tag).encode(), PEER, now)

    for i in range(20):  # warm the parser's and the SDP answer's caches
        call(i, 0.0)
    calls = 300
    with collector_off():
        gc.collect()
        before = census()
        for i in range(20, 20 + calls):
            call(i, 0.0)
        assert handler.ended == 20 + calls
        assert len(edge.calls) == len(edge.dialogs) == len(edge.answers) == 0
        alive = census() - before
        leaked = {name: count for name, count in alive.items() if name != "tuple"}
        assert leaked == {}, leaked  # nothing of a call outlives it but the kept transactions
        assert len(edge.layer) == 2 * (20 + calls)  # INVITE (Timer L) and BYE (Timer J)
        gc.collect()  # a pass untracks tuples of atomic values (the kept transactions);
        gc.collect()  # a tuple of such tuples may need a second
        assert (census() - before)["tuple"] < calls // 10
        edge.on_timer(40.0)  # 64·T1 later: all expired
        assert len(edge.layer) == 0 and edge.next_deadline() is None
