"""The transaction layer (RFC 3261 §17, RFC 6026): matching, timers, the TU's API.

    layer = TransactionLayer()
    actions = layer.receive_data(datagram, Peer("192.0.2.1", 5060), now)
    tx, actions = layer.send_request(request, peer, now)
    actions = layer.send_response(tx, response, now)
    when = layer.next_deadline();  actions = layer.handle_timer(now)

Matching (§17.1.3, §17.2.3): a client transaction is the top Via branch plus
the CSeq method; a server transaction is branch, sent-by and method, an ACK
matching its INVITE. Requests from RFC 2543 peers (no z9hG4bK cookie) match on
Request-URI, From tag, Call-ID, CSeq and top Via instead. Responses that match
nothing are dropped (RFC 6026 §8.9); so are responses with more than one Via
(§18.1.2).

Received requests get `received`/`rport` on their top Via (§18.2.1, RFC 3581
§4); responses go back to the address the request came from.

Retained transactions: a transaction that only waits out its last timer
(server INVITE Accepted for Timer L, RFC 6026 §8.7; server non-INVITE Completed
for Timer J, §17.2.2; and the other four of `RETAINED`) is kept as a `Kept`
tuple of bytes, numbers and strings, not as a `Transaction`. At 800 calls/s
that is ~25,000 transactions kept 32 s each: as objects with their parsed
messages, every collection of the garbage collector traced them; as tuples of
atomic values the collector stops tracking them at its first pass. An event
that reaches one (a retransmitted BYE, an ACK reusing the INVITE's branch)
revives it for one step of the tables; its timer expiring just deletes it
(every retained state's timer ends it with no action).

Timers are a heap of (deadline, seq, timer name, key) for live transactions and
one FIFO of (deadline, key) per interval for retained ones. Neither holds a
transaction: an entry whose transaction has gone or moved on is skipped.

Load shedding: with `max_server_transactions` set, a *new* request beyond it is
answered 503 + Retry-After statelessly (§21.5.4) while retransmissions of
requests already held keep being absorbed -- the collapse the research notes
saw came from treating retransmissions as new work.
"""

from __future__ import annotations

import heapq
import itertools
from collections import deque

from ivr.sip.actions import Action, DeliverRequest, Dropped, Peer, SendMessage, TxKey
from ivr.sip.builders import error_response, make_response, stateless_tag
from ivr.sip.errors import LocalSipError, SipParseError
from ivr.sip.message import Request, Response, parse_message
from ivr.sip.transaction_states import (
    PROCEEDING,
    RETAINED,
    RETAINED_BY_NAME,
    TERMINATED,
    TIMER_EVENTS,
    TIMER_NAMES,
    TRYING,
    Event,
    Kept,
    Kind,
    Schedule,
    State,
    Timer,
    TimerConfig,
    Transaction,
    enter_initial,
    revive,
    step,
)
from ivr.sip.values import MAGIC_COOKIE, Via


def client_key(branch: str, method: str) -> TxKey:
    return ("c", branch, method)


def server_key(request: Request) -> TxKey:
    via = request.top_via
    method = "INVITE" if request.method == "ACK" else request.method
    branch = via.branch  # once: `rfc3261_branch` would look it up again
    if branch is not None and branch.startswith(MAGIC_COOKIE):
        # `via.sent_by` spelt out: no tuple made and unpacked, and the port's text kept
        port = via.port
        if port is None:  # the transport's default port (§18.2.2)
            port = 5061 if via.transport in ("TLS", "WSS") else 5060
        return ("s", branch, _host_key(via.host), _port_text(port), method)
    # RFC 2543 peers (§17.2.3, second half). The ACK repeats the INVITE's
    # Request-URI, From tag, Call-ID, CSeq number and top Via.
    cseq = str(request.cseq.number)
    return (
        "s2543",
        request.target,
        request.from_tag or "",
        request.call_id,
        cseq,
        str(via),
        method,
    )


_PORT_TEXTS: dict[int, str] = {}  # port -> its text: the same few ports, request after request
_HOST_KEYS: dict[str, str] = {}  # sent-by host -> lower-cased: `lower` made a string a request


def _host_key(host: str) -> str:
    key = _HOST_KEYS.get(host)
    if key is None:
        key = host.lower()
        if len(_HOST_KEYS) < 4096:  # a flood of hosts must not grow it without bound
            _HOST_KEYS[host] = key
    return key


def _port_text(port: int) -> str:
    text = _PORT_TEXTS.get(port)
    if text is None:
        text = str(port)
        if len(_PORT_TEXTS) < 4096:  # a flood of ports must not grow it without bound
            _PORT_TEXTS[port] = text
    return text


def stamp_via(request: Request, peer: Peer) -> None:
    """Add `received` (and fill `rport`) to the top Via as §18.2.1 / RFC 3581 §4 say."""
    via = request.top_via
    rport = via.rport
    if via.host == peer.host and rport is None:
        return
    # One new Via, as `with_param("received")` then `with_param("rport")` would give.
    drop = ("received", "rport") if rport == "" else ("received",)
    params = [p for p in via.params if p[0].lower() not in drop]
    params.append(("received", peer.host))
    if rport == "":
        params.append(("rport", str(peer.port)))
    via = Via(via.transport, via.host, via.port, tuple(params), via.protocol)
    # The other fields' views kept: CSeq, From, To and Contact are not parsed again.
    request.headers.replace_top_via(str(via), via)


def check_tu_headers(request: Request) -> None:
    """Parse now what every TU reads: From, To and an INVITE's Contact.

    A malformed one is then a 400 from here (§8.2.6 via `SipParseError`)
    before a transaction exists, not an exception inside the TU with a
    half-answered INVITE left behind. An ACK is never answered (§17.2.3): a
    bad one is dropped.
    """
    try:
        request.from_tag  # noqa: B018 -- parse and cache
        to_tag = request.to_tag
        if request.method == "INVITE" and not to_tag:
            contacts = request.contacts
            if not contacts or contacts[0].uri == "*":  # §8.1.1.8, §12.1.1
                raise SipParseError("INVITE without a usable Contact", can_respond=True)
    except SipParseError as exc:
        exc.can_respond = request.method != "ACK"
        exc.headers = request.headers
        raise


TimerEntry = tuple[float, int, str, TxKey]  # deadline, seq, timer name, transaction key
ExpiryEntry = tuple[float, TxKey]  # a retained transaction's deadline and key

_TIMERS_BY_NAME = {name: timer for timer, name in TIMER_NAMES.items()}
_SERVER_KEPT = frozenset(name for name, spec in RETAINED_BY_NAME.items() if not spec[0].client)


class TransactionLayer:
    def __init__(
        self,
        *,
        timers: TimerConfig | None = None,
        auto_trying: bool = True,
        max_server_transactions: int | None = None,
        retry_after: int = 5,
    ) -> None:
        """`auto_trying`: answer every INVITE with 100 at once (§17.2.1 allows it)."""
        self.timers = timers if timers is not None else TimerConfig()
        self.auto_trying = auto_trying
        self.max_server_transactions = max_server_transactions
        self.retry_after = retry_after
        # Live transactions, and retained ones as `Kept` tuples (see the module's doc).
        self._txs: dict[TxKey, Transaction | Kept] = {}
        self._servers = 0
        self._heap: list[TimerEntry] = []
        self._seq = itertools.count()
        # Retained transactions' deadlines, one FIFO per interval (64·T1, T4): a clock
        # that only goes forward appends each in deadline order.
        self._expiry: dict[float, deque[ExpiryEntry]] = {}
        # Bound once: `self._schedule` made a bound-method object at every step.
        self._scheduler: Schedule = self._schedule

    # -- introspection -------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._txs)

    def state(self, tx: TxKey) -> State | None:
        found = self._txs.get(tx)
        if found is None:
            return None
        if isinstance(found, Transaction):
            return found.state
        return RETAINED_BY_NAME[found[0]][1]

    # -- from the wire -----------------------------------------------------------------

    def receive_data(self, data: bytes, peer: Peer, now: float) -> list[Action]:
        """A datagram: parse it, answer 4xx/5xx if it is a bad request we can answer."""
        try:
            message = parse_message(data)
        except SipParseError as exc:
            return self._reject(exc, peer)
        return self.receive(message, peer, now)

    def receive(self, message: Request | Response, peer: Peer, now: float) -> list[Action]:
        try:
            if isinstance(message, Request):
                return self._receive_request(message, peer, now)
            return self._receive_response(message, peer, now)
        except SipParseError as exc:  # a header read lazily here was malformed
            return self._reject(exc, peer)

    def _reject(self, exc: SipParseError, peer: Peer) -> list[Action]:
        response = error_response(exc)
        if response is None:
            return [Dropped(peer=peer, reason=f"{exc.status} {exc.detail}")]
        return [SendMessage(data=response.serialise(), message=response, peer=peer)]

    def _receive_request(self, request: Request, peer: Peer, now: float) -> list[Action]:
        if request.method != "ACK":  # an ACK is never answered: its Via is never used
            stamp_via(request, peer)
        key = server_key(request)
        check_tu_headers(request)
        found = self._txs.get(key)
        if found is not None:
            event = Event.ACK if request.method == "ACK" else Event.REQUEST
            return self._step_any(key, found, event, now, request)
        if request.method == "ACK":  # the ACK to a 2xx: its own transaction (§17.2.3)
            return [DeliverRequest(request=request, peer=peer, tx=None)]
        limit = self.max_server_transactions
        if limit is not None and self._servers >= limit:
            return self._shed(request, peer)
        return self._new_server(key, request, peer, now)

    def _new_server(self, key: TxKey, request: Request, peer: Peer, now: float) -> list[Action]:
        invite = request.method == "INVITE"
        kind = Kind.SERVER_INVITE if invite else Kind.SERVER_NON_INVITE
        tx = self._add(Transaction(key, kind, request, peer), now)
        actions: list[Action] = []
        if invite and self.auto_trying:
            actions += self._step(tx, Event.SEND_1XX, now, make_response(request, 100))
        actions.append(DeliverRequest(request=request, peer=peer, tx=key))
        return actions

    def _shed(self, request: Request, peer: Peer) -> list[Action]:
        retry = [("Retry-After", str(self.retry_after))]
        response = make_response(request, 503, to_tag=stateless_tag(request.headers), headers=retry)
        return [SendMessage(data=response.serialise(), message=response, peer=peer)]

    def _receive_response(self, response: Response, peer: Peer, now: float) -> list[Action]:
        if len(response.vias) != 1:
            return [Dropped(peer=peer, reason="response with more than one Via (§18.1.2)")]
        key = client_key(response.top_via.branch or "", response.cseq.method)
        found = self._txs.get(key)
        if found is None:
            return [Dropped(peer=peer, reason="no matching client transaction (RFC 6026 §8.9)")]
        status = response.status
        if status < 200:
            event = Event.RESPONSE_1XX
        elif status < 300:
            event = Event.RESPONSE_2XX
        else:
            event = Event.RESPONSE_FINAL
        return self._step_any(key, found, event, now, response)

    # -- from the TU ---------------------------------------------------------------------

    def send_request(self, request: Request, peer: Peer, now: float) -> tuple[TxKey, list[Action]]:
        """Start a client transaction; the request goes out at once."""
        if request.method == "ACK":
            raise LocalSipError("an ACK to a 2xx has no transaction: use send_stateless")
        via = request.top_via
        if not via.rfc3261_branch:
            raise LocalSipError("requests we send need a z9hG4bK branch (§8.1.1.7)")
        key = client_key(via.branch or "", request.method)
        if key in self._txs:
            raise LocalSipError(f"a transaction with branch {via.branch} already exists")
        kind = Kind.CLIENT_INVITE if request.method == "INVITE" else Kind.CLIENT_NON_INVITE
        tx = self._add(Transaction(key, kind, request, peer), now)
        return key, [SendMessage(data=tx.request_data, message=request, peer=peer)]

    def send_response(self, tx: TxKey, response: Response, now: float) -> list[Action]:
        found = self._txs.get(tx)
        if found is None or not _server(found):
            raise LocalSipError(f"no server transaction {tx!r} (already terminated?)")
        if response.status >= 200 and isinstance(found, Transaction):
            timer = _retained_by_final(found, response.status, self.timers)
            if timer is not None:
                return self._answer_at_once(found, response, timer, now)
        if response.status < 200:
            event = Event.SEND_1XX
        elif response.status < 300:
            event = Event.SEND_2XX
        else:
            event = Event.SEND_FINAL
        return self._step_any(tx, found, event, now, response)

    def send_response_data(
        self, tx: TxKey, status: int, data: bytes, now: float
    ) -> list[Action] | None:
        """`send_response` for a final response given as its bytes (`response_data`)
        that ends a live server transaction's last live state: into the retained
        state (`_answer_at_once`) or, its timer being 0 s (Timer J on a reliable hop),
        terminated there, as `step` would. Nothing then reads the Response, so none is
        made. None, with nothing done, when the tables must decide (a 1xx, a non-2xx
        to an INVITE, a transaction not live): send the Response instead."""
        found = self._txs.get(tx)
        if status < 200 or not isinstance(found, Transaction) or found.client:
            return None
        timer = _final_timer(found, status)
        if timer is None:
            return None
        interval = self.timers.initial(timer, found.peer.reliable)
        if interval is None:  # L and J always start: not reached
            return None
        if interval > 0:
            return self._retained_at_once(found, data, None, timer, interval, now)
        # §17.2.2: Timer J of 0 s fires at once and the transaction is gone.
        found.state = TERMINATED
        found.deadlines.clear()
        self._forget(self._txs.pop(tx))
        return [SendMessage(data=data, peer=found.peer)]

    def _answer_at_once(
        self, tx: Transaction, response: Response, timer: Timer, now: float
    ) -> list[Action]:
        """`step` for a live server transaction's final response that moves it into the
        retained state `timer` ends (`_retained_by_final`): the same `SendMessage`,
        state and `Kept` tuple, without a step's record, its table look-ups and its
        timer dicts -- the transaction leaves them behind at once anyway. Every call's
        INVITE 2xx (Timer L, RFC 6026 §8.7) and BYE 200 (Timer J, §17.2.2) take it."""
        interval = self.timers.initial(timer, tx.peer.reliable)
        assert interval is not None  # `_retained_by_final` made sure: more than 0 s
        return self._retained_at_once(tx, response.serialise(), response, timer, interval, now)

    def _retained_at_once(
        self,
        tx: Transaction,
        data: bytes,
        response: Response | None,
        timer: Timer,
        interval: float,
        now: float,
    ) -> list[Action]:
        tx.last, tx.last_data = response, data  # a Timer J transaction keeps the bytes
        tx.state = RETAINED[timer][1]
        tx.deadlines.clear()  # a server's Proceeding/Trying runs none; keep `step`'s rule
        self._retain(tx, timer, now + interval, interval)
        return [SendMessage(data=data, message=response, peer=tx.peer)]

    def transport_error(self, tx: TxKey, now: float) -> list[Action]:
        """The transport could not send for `tx` (ICMP unreachable, connection lost)."""
        found = self._txs.get(tx)
        return [] if found is None else self._step_any(tx, found, Event.TRANSPORT_ERROR, now)

    def send_stateless(self, message: Request | Response, peer: Peer) -> SendMessage:
        """Send outside any transaction: the ACK to a 2xx (§13.2.2.4)."""
        return SendMessage(data=message.serialise(), message=message, peer=peer)

    def invite_for_cancel(self, cancel: Request) -> TxKey | None:
        """The INVITE server transaction a CANCEL targets (§9.2), if it is still there."""
        key = server_key(cancel)
        invite_key = (*key[:-1], "INVITE")
        return invite_key if invite_key in self._txs else None

    # -- time ----------------------------------------------------------------------------

    def next_deadline(self) -> float | None:
        heap = self._heap
        while heap and not self._live(heap[0]):
            heapq.heappop(heap)
        best = heap[0][0] if heap else None
        for queue in self._expiry.values():
            while queue and not self._kept(queue[0]):
                queue.popleft()
            if queue and (best is None or queue[0][0] < best):
                best = queue[0][0]
        return best

    def handle_timer(self, now: float) -> list[Action]:
        actions: list[Action] = []
        heap = self._heap
        while heap and heap[0][0] <= now:
            entry = heapq.heappop(heap)
            if self._live(entry):
                tx = self._txs[entry[3]]
                assert isinstance(tx, Transaction)
                timer = _TIMERS_BY_NAME[entry[2]]
                del tx.deadlines[timer]
                actions += self._step(tx, TIMER_EVENTS[timer], now)
        # A retained transaction's timer ends it with no action (`RETAINED`): no step needed.
        for queue in self._expiry.values():
            while queue and queue[0][0] <= now:
                due = queue.popleft()
                if self._kept(due):
                    self._forget(self._txs.pop(due[1]))
        return actions

    # -- plumbing ------------------------------------------------------------------------

    def _add(self, tx: Transaction, now: float) -> Transaction:
        self._txs[tx.key] = tx
        if tx.client:
            enter_initial(tx, now, self.timers, self._scheduler)
        else:  # a server's initial state (Proceeding, Trying) starts no timer: `STARTS`
            self._servers += 1
        return tx

    def _schedule(self, tx: Transaction, timer: Timer, when: float) -> None:
        if timer in RETAINED:  # the state's only timer, and its end: keep it as a tuple
            self._retain(tx, timer, when, tx.intervals[timer])
        else:
            heapq.heappush(self._heap, (when, next(self._seq), TIMER_NAMES[timer], tx.key))

    def _retain(self, tx: Transaction, timer: Timer, when: float, interval: float) -> None:
        key = tx.key
        self._txs[key] = tx.kept(timer, when)
        queue = self._expiry.get(interval)
        if queue is None:
            queue = self._expiry[interval] = deque()
        if queue and when < queue[-1][0]:  # a clock set back (tests): keep the order
            index = len(queue)
            while index and queue[index - 1][0] > when:
                index -= 1
            queue.insert(index, (when, key))
        else:
            queue.append((when, key))

    def _step_any(
        self,
        key: TxKey,
        found: Transaction | Kept,
        event: Event,
        now: float,
        message: Request | Response | None = None,
    ) -> list[Action]:
        if isinstance(found, Transaction):
            return self._step(found, event, now, message)
        # Retained: revive it for this one event. Its rules loop back or terminate, so
        # the tuple stays as it was or goes.
        tx = revive(key, found)
        actions = step(tx, event, now, self.timers, self._scheduler, message)
        if tx.state is TERMINATED:  # (`found` may be a copy: compiled, a tuple is unboxed)
            self._forget(self._txs.pop(key))
        return actions

    def _step(
        self, tx: Transaction, event: Event, now: float, message: Request | Response | None = None
    ) -> list[Action]:
        actions = step(tx, event, now, self.timers, self._scheduler, message)
        if tx.state is TERMINATED and self._txs.get(tx.key) is tx:
            self._forget(self._txs.pop(tx.key))
        return actions

    def _forget(self, gone: Transaction | Kept) -> None:
        """Count a transaction that just left `_txs` out of the server total."""
        if _server(gone):
            self._servers -= 1

    def _live(self, entry: TimerEntry) -> bool:
        """A timer still armed: its transaction is live and has this deadline for it."""
        tx = self._txs.get(entry[3])
        return (
            isinstance(tx, Transaction) and tx.deadlines.get(_TIMERS_BY_NAME[entry[2]]) == entry[0]
        )

    def _kept(self, entry: ExpiryEntry) -> bool:
        """A retained transaction's deadline still stands (it was not ended early)."""
        kept = self._txs.get(entry[1])
        return isinstance(kept, tuple) and kept[1] == entry[0]


def _retained_by_final(tx: Transaction, status: int, cfg: TimerConfig) -> Timer | None:
    """The retained state a final response moves a live server transaction into at
    once, by the timer that ends it; None when the tables must decide: only when
    the timer does not fire at once (J is 0 s on a reliable hop and ends the
    transaction there: `step` does that)."""
    timer = _final_timer(tx, status)
    if timer is None:
        return None
    interval = cfg.initial(timer, tx.peer.reliable)
    return timer if interval is not None and interval > 0 else None


def _final_timer(tx: Transaction, status: int) -> Timer | None:
    """The timer of the state a final response moves a live server transaction into,
    when that state is retained (`RETAINED`): a server INVITE in Proceeding goes to
    Accepted on a 2xx (Timer L: RFC 6026 §8.7); a 300-699 starts G and H, which are
    not retained. A server non-INVITE in Trying or Proceeding goes to Completed on any
    final (Timer J, §17.2.2)."""
    state = tx.state
    if tx.kind is Kind.SERVER_INVITE:
        return Timer.L if state is PROCEEDING and status < 300 else None
    if state is TRYING or state is PROCEEDING:  # a server non-INVITE (the caller's check)
        return Timer.J
    return None


def _server(found: Transaction | Kept) -> bool:
    if isinstance(found, Transaction):
        return not found.client
    return found[0] in _SERVER_KEPT
