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
import itertools
from dataclasses import dataclass

from ivr.sip.actions import AckTimeout, Action, Peer, SendMessage
from ivr.sip.message import Request, Response, parse_message
from ivr.sip.transaction_states import TimerConfig

AnswerKey = tuple[str, str, int]  # Call-ID, local (To) tag, CSeq number


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
        self._heap: list[tuple[float, int, AnswerKey]] = []
        self._seq = itertools.count()

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
        pending = _Pending(response, data, peer, t1, now + t1, now + 64 * t1)
        self._pending[key] = pending
        heapq.heappush(self._heap, (pending.due, next(self._seq), key))

    def ack_received(self, ack: Request) -> bool:
        """Stop retransmitting; False when no 2xx was waiting for this ACK."""
        return self._pending.pop(answer_key(ack), None) is not None

    def next_deadline(self) -> float | None:
        heap = self._heap
        while heap and not self._live(heap[0]):
            heapq.heappop(heap)
        return heap[0][0] if heap else None

    def handle_timer(self, now: float) -> list[Action]:
        actions: list[Action] = []
        heap = self._heap
        while heap and heap[0][0] <= now:
            entry = heapq.heappop(heap)
            if self._live(entry):
                actions.append(self._fire(entry[2], now))
        return actions

    def _fire(self, key: AnswerKey, now: float) -> Action:
        pending = self._pending[key]
        if now >= pending.give_up:
            del self._pending[key]
            return AckTimeout(response=_response(pending))
        pending.interval = min(2 * pending.interval, self.timers.t2)
        pending.due = min(now + pending.interval, pending.give_up)
        heapq.heappush(self._heap, (pending.due, next(self._seq), key))
        return SendMessage(
            data=pending.data, message=pending.response, peer=pending.peer, retransmission=True
        )

    def _live(self, entry: tuple[float, int, AnswerKey]) -> bool:
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
