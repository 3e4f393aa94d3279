"""The UAS core's 2xx-to-INVITE retransmission until the ACK (RFC 3261 §13.3.1.4).

The INVITE server transaction does not retransmit a 2xx (RFC 6026 §7.1, it
only stays in Accepted to absorb the INVITE's retransmissions); the UAS core
does: at T1, doubling up to T2, until an ACK with the same Call-ID, To tag and
CSeq number arrives. After 64·T1 without one it gives up and reports
`AckTimeout`, on which the UAS confirms and immediately ends the dialog with a
BYE (§13.3.1.4). The interval starts at T1 on every transport: the ACK is
end to end, a reliable first hop does not make it arrive.
"""

from __future__ import annotations

import heapq
from collections import deque
from dataclasses import dataclass

from ivr.sip.actions import AckTimeout, Action, Peer, SendMessage
from ivr.sip.message import Request, Response, parse_message
from ivr.sip.transaction_states import TimerConfig

AnswerKey = tuple[str, str, int]  # Call-ID, local (To) tag, CSeq number
_Entry = tuple[float, int, AnswerKey]  # deadline, seq, key


@dataclass(slots=True)
class _Pending:
    response: Response | None  # None: parsed back from `data` when the ACK never comes
    data: bytes
    peer: Peer
    interval: float
    due: float
    give_up: float

    def __init__(
        self,
        response: Response | None,
        data: bytes,
        peer: Peer,
        interval: float,
        due: float,
        give_up: float,
    ) -> None:  # compiled: see `ivr.sip.actions`
        self.response = response
        self.data = data
        self.peer = peer
        self.interval = interval
        self.due = due
        self.give_up = give_up


def answer_key(message: Request | Response) -> AnswerKey:
    return (message.call_id, message.to_tag or "", message.cseq.number)


class AnswerRetransmitter:
    def __init__(self, timers: TimerConfig | None = None) -> None:
        self.timers = timers if timers is not None else TimerConfig()
        self._pending: dict[AnswerKey, _Pending] = {}
        # First retransmissions, each due T1 after its 2xx: started in time order, so a
        # FIFO holds them in deadline order (appended, popped from the front), not the
        # heap. The heap keeps the later ones (2·T1, 4·T1, T2: §13.3.1.4), which only a
        # 2xx whose ACK is late ever reaches. Both hold (deadline, seq, key): one order.
        self._first: deque[_Entry] = deque()
        self._heap: list[_Entry] = []
        self._seq = 0

    def __len__(self) -> int:
        return len(self._pending)

    def start(
        self, response: Response, peer: Peer, now: float, key: AnswerKey | None = None
    ) -> None:
        """Call after the first 2xx went out through the transaction layer.

        `key`: `answer_key(response)` when the caller has its parts at hand (the
        INVITE's Call-ID and CSeq, the To tag it chose): read back from a response
        just built, the Call-ID indexed its header block for one look-up."""
        if key is None:
            key = answer_key(response)
        self._start(response, response.serialise(), peer, now, key)

    def start_data(self, data: bytes, peer: Peer, now: float, key: AnswerKey) -> None:
        """`start` for a 2xx built only as bytes (`response_data`): its key given."""
        self._start(None, data, peer, now, key)

    def _start(
        self, response: Response | None, data: bytes, peer: Peer, now: float, key: AnswerKey
    ) -> None:
        t1 = self.timers.t1
        due = now + t1
        self._pending[key] = _Pending(response, data, peer, t1, due, now + 64 * t1)
        entry = (due, self._next_seq(), key)
        first = self._first
        if first and due < first[-1][0]:  # a clock set back (tests): keep the order
            heapq.heappush(self._heap, entry)
        else:
            first.append(entry)

    def _next_seq(self) -> int:
        seq = self._seq = self._seq + 1
        return seq

    def ack_received(self, ack: Request) -> bool:
        """Stop retransmitting; False when no 2xx was waiting for this ACK."""
        key = answer_key(ack)
        pending = self._pending.get(key)
        if pending is None:
            return False
        del self._pending[key]  # a look-up and a delete: `pop` is a generic method call
        return True

    def next_deadline(self) -> float | None:
        first, heap = self._first, self._heap
        while first and not self._live(first[0]):
            first.popleft()
        while heap and not self._live(heap[0]):
            heapq.heappop(heap)
        if not first:
            return heap[0][0] if heap else None
        return min(first[0][0], heap[0][0]) if heap else first[0][0]

    def handle_timer(self, now: float) -> list[Action]:
        actions: list[Action] = []
        while (entry := self._pop_due(now)) is not None:
            if self._live(entry):
                actions.append(self._fire(entry[2], now))
        return actions

    def _pop_due(self, now: float) -> _Entry | None:
        """The earliest entry of either queue if it is due (`(deadline, seq)` order)."""
        first, heap = self._first, self._heap
        if first and (not heap or first[0] < heap[0]):
            return first.popleft() if first[0][0] <= now else None
        if heap and heap[0][0] <= now:
            return heapq.heappop(heap)
        return None

    def _fire(self, key: AnswerKey, now: float) -> Action:
        pending = self._pending[key]
        if now >= pending.give_up:
            del self._pending[key]
            return AckTimeout(response=_response(pending))
        pending.interval = min(2 * pending.interval, self.timers.t2)
        pending.due = min(now + pending.interval, pending.give_up)
        heapq.heappush(self._heap, (pending.due, self._next_seq(), key))
        return SendMessage(
            data=pending.data, message=pending.response, peer=pending.peer, retransmission=True
        )

    def _live(self, entry: _Entry) -> bool:
        pending = self._pending.get(entry[2])
        return pending is not None and pending.due == entry[0]


def _response(pending: _Pending) -> Response:
    """The 2xx of `pending`; one sent as bytes only is parsed back (the byte-exact
    round trip: the response those bytes were serialised from)."""
    response = pending.response
    if response is None:
        parsed = parse_message(pending.data)
        assert isinstance(parsed, Response)
        response = pending.response = parsed
    return response
