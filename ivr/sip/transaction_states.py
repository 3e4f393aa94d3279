"""The four RFC 3261 §17 transaction state machines, as tables, with RFC 6026.

Rules (read these first; the code below only interprets them):

* Client INVITE (§17.1.1.2, Figure 5; RFC 6026 §8.4): Calling starts A (T1,
  doubling without cap, unreliable only) and B (64·T1). 1xx → Proceeding (no
  timers: the TU CANCELs). 2xx → Accepted for Timer M (64·T1), every 2xx goes
  up so the TU ACKs each. 300-699 → Completed: ACK (built here, §17.1.1.3),
  Timer D (32 s unreliable, 0 reliable); retransmitted finals are re-ACKed.
* Client non-INVITE (§17.1.2.2, Figure 6): Trying starts E (T1, doubling up to
  T2, unreliable only) and F (64·T1); Proceeding keeps both, E resets to T2.
  Any final → Completed, Timer K (T4 unreliable, 0 reliable).
* Server INVITE (§17.2.1, Figure 7; RFC 6026 §7.1, §8.5-8.7): Proceeding
  resends the last provisional on a retransmitted INVITE. 2xx → Accepted for
  Timer L (64·T1): retransmitted INVITEs are absorbed, ACKs go to the TU, the
  TU's 2xx retransmissions go out. 300-699 → Completed: G (T1 doubling to T2,
  unreliable only) resends, H (64·T1) gives up and reports no ACK; ACK →
  Confirmed, Timer I (T4 unreliable, 0 reliable) absorbs further ACKs.
* Server non-INVITE (§17.2.2, Figure 8): Trying absorbs retransmissions;
  Proceeding/Completed resend the last response; Completed lasts Timer J
  (64·T1 unreliable, 0 reliable).
* Six states are only waited out: server INVITE Accepted (Timer L) and
  Confirmed (I), server non-INVITE Completed (J), client INVITE Accepted (M)
  and Completed (D), client non-INVITE Completed (K). Each has one timer, which
  ends it, and every rule out of it loops back or terminates (`RETAINED`). The
  layer keeps a transaction in one of them as a tuple of atomic values
  (`Kept`), which the garbage collector does not track, and revives it
  (`revive`) only for an event that reaches it.
* A wire or timer event with no rule is absorbed. A TU event with no rule is
  the TU's bug: `LocalSipError`.
* A timer of 0 s (reliable transports) fires at once, inside the same step.
* Timeouts and transport errors surface: a client hands the TU a local 408 or
  503 (§8.1.3.1), a server reports `TransactionFailed`.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass

from ivr.sip.actions import (
    Action,
    DeliverRequest,
    DeliverResponse,
    Peer,
    SendMessage,
    TransactionFailed,
    TxKey,
)
from ivr.sip.builders import make_response
from ivr.sip.errors import LocalSipError
from ivr.sip.headers import HeaderField, Headers
from ivr.sip.message import Request, Response, parse_message


class Kind(enum.Enum):
    __hash__ = object.__hash__  # members are singletons; Enum's own hashes the name in Python

    CLIENT_INVITE = "ict"
    CLIENT_NON_INVITE = "nict"
    SERVER_INVITE = "ist"
    SERVER_NON_INVITE = "nist"

    @property
    def client(self) -> bool:
        return self in (Kind.CLIENT_INVITE, Kind.CLIENT_NON_INVITE)


class State(enum.Enum):
    __hash__ = object.__hash__  # members are singletons; Enum's own hashes the name in Python

    CALLING = "calling"
    TRYING = "trying"
    PROCEEDING = "proceeding"
    COMPLETED = "completed"
    CONFIRMED = "confirmed"
    ACCEPTED = "accepted"
    TERMINATED = "terminated"


class Timer(enum.Enum):
    __hash__ = object.__hash__  # members are singletons; Enum's own hashes the name in Python

    A = "A"
    B = "B"
    D = "D"
    E = "E"
    F = "F"
    G = "G"
    H = "H"
    I = "I"  # noqa: E741 -- RFC 3261's own name
    J = "J"
    K = "K"
    L = "L"
    M = "M"


class Event(enum.Enum):
    __hash__ = object.__hash__  # members are singletons; Enum's own hashes the name in Python

    REQUEST = "request retransmission"  # server: the request again, from the wire
    ACK = "ACK"  # server INVITE: the ACK for a non-2xx (or a 2xx, RFC 6026 §8.5)
    RESPONSE_1XX = "1xx from the wire"
    RESPONSE_2XX = "2xx from the wire"
    RESPONSE_FINAL = "300-699 from the wire"
    SEND_1XX = "1xx from the TU"
    SEND_2XX = "2xx from the TU"
    SEND_FINAL = "300-699 from the TU"
    TRANSPORT_ERROR = "transport error"
    TIMER_A = Timer.A
    TIMER_B = Timer.B
    TIMER_D = Timer.D
    TIMER_E = Timer.E
    TIMER_F = Timer.F
    TIMER_G = Timer.G
    TIMER_H = Timer.H
    TIMER_I = Timer.I
    TIMER_J = Timer.J
    TIMER_K = Timer.K
    TIMER_L = Timer.L
    TIMER_M = Timer.M


class Do(enum.Enum):
    PASS = "pass the message to the TU"
    SEND = "send the TU's response"
    RESEND = "retransmit the last request / response"
    ACK = "build and send the ACK for a non-2xx (§17.1.1.3)"
    RESEND_ACK = "retransmit that ACK"
    DOUBLE = "re-arm the timer that fired at twice its interval"
    BACKOFF = "re-arm it at min(2 * interval, T2)"
    AT_T2 = "re-arm it at T2"
    TIMEOUT = "report a timeout"
    TRANSPORT_FAILED = "report a transport error"


CALLING, TRYING, PROCEEDING = State.CALLING, State.TRYING, State.PROCEEDING
COMPLETED, CONFIRMED, ACCEPTED = State.COMPLETED, State.CONFIRMED, State.ACCEPTED
TERMINATED = State.TERMINATED
E = Event
Rule = tuple[State, tuple[Do, ...]]

CLIENT_INVITE: dict[tuple[State, Event], Rule] = {
    (CALLING, E.TIMER_A): (CALLING, (Do.RESEND, Do.DOUBLE)),
    (CALLING, E.TIMER_B): (TERMINATED, (Do.TIMEOUT,)),
    (CALLING, E.RESPONSE_1XX): (PROCEEDING, (Do.PASS,)),
    (CALLING, E.RESPONSE_2XX): (ACCEPTED, (Do.PASS,)),
    (CALLING, E.RESPONSE_FINAL): (COMPLETED, (Do.PASS, Do.ACK)),
    (CALLING, E.TRANSPORT_ERROR): (TERMINATED, (Do.TRANSPORT_FAILED,)),
    (PROCEEDING, E.RESPONSE_1XX): (PROCEEDING, (Do.PASS,)),
    (PROCEEDING, E.RESPONSE_2XX): (ACCEPTED, (Do.PASS,)),
    (PROCEEDING, E.RESPONSE_FINAL): (COMPLETED, (Do.PASS, Do.ACK)),
    (COMPLETED, E.RESPONSE_FINAL): (COMPLETED, (Do.RESEND_ACK,)),
    (COMPLETED, E.TRANSPORT_ERROR): (TERMINATED, ()),
    (COMPLETED, E.TIMER_D): (TERMINATED, ()),
    (ACCEPTED, E.RESPONSE_2XX): (ACCEPTED, (Do.PASS,)),
    (ACCEPTED, E.TIMER_M): (TERMINATED, ()),
}

CLIENT_NON_INVITE: dict[tuple[State, Event], Rule] = {
    (TRYING, E.TIMER_E): (TRYING, (Do.RESEND, Do.BACKOFF)),
    (TRYING, E.TIMER_F): (TERMINATED, (Do.TIMEOUT,)),
    (TRYING, E.RESPONSE_1XX): (PROCEEDING, (Do.PASS,)),
    (TRYING, E.RESPONSE_2XX): (COMPLETED, (Do.PASS,)),
    (TRYING, E.RESPONSE_FINAL): (COMPLETED, (Do.PASS,)),
    (TRYING, E.TRANSPORT_ERROR): (TERMINATED, (Do.TRANSPORT_FAILED,)),
    (PROCEEDING, E.TIMER_E): (PROCEEDING, (Do.RESEND, Do.AT_T2)),
    (PROCEEDING, E.TIMER_F): (TERMINATED, (Do.TIMEOUT,)),
    (PROCEEDING, E.RESPONSE_1XX): (PROCEEDING, (Do.PASS,)),
    (PROCEEDING, E.RESPONSE_2XX): (COMPLETED, (Do.PASS,)),
    (PROCEEDING, E.RESPONSE_FINAL): (COMPLETED, (Do.PASS,)),
    (PROCEEDING, E.TRANSPORT_ERROR): (TERMINATED, (Do.TRANSPORT_FAILED,)),
    (COMPLETED, E.TIMER_K): (TERMINATED, ()),
}

SERVER_INVITE: dict[tuple[State, Event], Rule] = {
    (PROCEEDING, E.REQUEST): (PROCEEDING, (Do.RESEND,)),
    (PROCEEDING, E.SEND_1XX): (PROCEEDING, (Do.SEND,)),
    (PROCEEDING, E.SEND_2XX): (ACCEPTED, (Do.SEND,)),
    (PROCEEDING, E.SEND_FINAL): (COMPLETED, (Do.SEND,)),
    (PROCEEDING, E.TRANSPORT_ERROR): (TERMINATED, (Do.TRANSPORT_FAILED,)),
    (COMPLETED, E.REQUEST): (COMPLETED, (Do.RESEND,)),
    (COMPLETED, E.TIMER_G): (COMPLETED, (Do.RESEND, Do.BACKOFF)),
    (COMPLETED, E.ACK): (CONFIRMED, ()),
    (COMPLETED, E.TIMER_H): (TERMINATED, (Do.TIMEOUT,)),
    (COMPLETED, E.TRANSPORT_ERROR): (TERMINATED, (Do.TRANSPORT_FAILED,)),
    (CONFIRMED, E.TIMER_I): (TERMINATED, ()),
    (ACCEPTED, E.REQUEST): (ACCEPTED, ()),  # RFC 6026 §8.7: absorbed, not a new call
    (ACCEPTED, E.ACK): (ACCEPTED, (Do.PASS,)),  # RFC 6026 §8.7: ACKs go to the TU
    (ACCEPTED, E.SEND_2XX): (ACCEPTED, (Do.SEND,)),
    (ACCEPTED, E.TIMER_L): (TERMINATED, ()),
}

SERVER_NON_INVITE: dict[tuple[State, Event], Rule] = {
    (TRYING, E.REQUEST): (TRYING, ()),
    (TRYING, E.SEND_1XX): (PROCEEDING, (Do.SEND,)),
    (TRYING, E.SEND_2XX): (COMPLETED, (Do.SEND,)),
    (TRYING, E.SEND_FINAL): (COMPLETED, (Do.SEND,)),
    (PROCEEDING, E.REQUEST): (PROCEEDING, (Do.RESEND,)),
    (PROCEEDING, E.SEND_1XX): (PROCEEDING, (Do.SEND,)),
    (PROCEEDING, E.SEND_2XX): (COMPLETED, (Do.SEND,)),
    (PROCEEDING, E.SEND_FINAL): (COMPLETED, (Do.SEND,)),
    (PROCEEDING, E.TRANSPORT_ERROR): (TERMINATED, (Do.TRANSPORT_FAILED,)),
    (COMPLETED, E.REQUEST): (COMPLETED, (Do.RESEND,)),
    (COMPLETED, E.TIMER_J): (TERMINATED, ()),
    (COMPLETED, E.TRANSPORT_ERROR): (TERMINATED, (Do.TRANSPORT_FAILED,)),
}

TABLES = {
    Kind.CLIENT_INVITE: CLIENT_INVITE,
    Kind.CLIENT_NON_INVITE: CLIENT_NON_INVITE,
    Kind.SERVER_INVITE: SERVER_INVITE,
    Kind.SERVER_NON_INVITE: SERVER_NON_INVITE,
}
INITIAL = {
    Kind.CLIENT_INVITE: CALLING,
    Kind.CLIENT_NON_INVITE: TRYING,
    Kind.SERVER_INVITE: PROCEEDING,
    Kind.SERVER_NON_INVITE: TRYING,
}
# Timers started on entering a state, and timers allowed to keep running in it.
STARTS: dict[tuple[Kind, State], tuple[Timer, ...]] = {
    (Kind.CLIENT_INVITE, CALLING): (Timer.A, Timer.B),
    (Kind.CLIENT_INVITE, COMPLETED): (Timer.D,),
    (Kind.CLIENT_INVITE, ACCEPTED): (Timer.M,),
    (Kind.CLIENT_NON_INVITE, TRYING): (Timer.E, Timer.F),
    (Kind.CLIENT_NON_INVITE, COMPLETED): (Timer.K,),
    (Kind.SERVER_INVITE, COMPLETED): (Timer.G, Timer.H),
    (Kind.SERVER_INVITE, CONFIRMED): (Timer.I,),
    (Kind.SERVER_INVITE, ACCEPTED): (Timer.L,),
    (Kind.SERVER_NON_INVITE, COMPLETED): (Timer.J,),
}
KEEPS: dict[tuple[Kind, State], frozenset[Timer]] = {
    (Kind.CLIENT_NON_INVITE, PROCEEDING): frozenset({Timer.E, Timer.F}),
}
_KEEP_NONE: frozenset[Timer] = frozenset()
_CLIENT_KINDS = frozenset({Kind.CLIENT_INVITE, Kind.CLIENT_NON_INVITE})
TIMER_EVENTS = {timer: Event(timer) for timer in Timer}  # Event(timer) is a slow lookup
EVENT_TIMERS = {event: timer for timer, event in TIMER_EVENTS.items()}
TIMER_NAMES = {timer: timer.value for timer in Timer}  # `.value` is a property call on an Enum

# The states a transaction only waits out, by the one timer that ends each (the
# timer names the state: STARTS starts it on entering that state and nowhere
# else). `keeps_request`: a rule of the state can still need the request --
# a server non-INVITE's transport error reports it (§17.2.4), a client INVITE
# in Accepted passes every 2xx up with it (RFC 6026 §8.4). `keeps_data`: a rule
# resends bytes -- a server non-INVITE its final response (§17.2.2), a client
# INVITE its ACK for a non-2xx (§17.1.1.2). A server INVITE in Accepted resends
# nothing: the TU retransmits its 2xx itself (§13.3.1.4, RFC 6026 §7.1).
RETAINED: dict[Timer, tuple[Kind, State, bool, bool]] = {
    # timer: (kind, state, keeps_request, keeps_data)
    Timer.L: (Kind.SERVER_INVITE, ACCEPTED, False, False),  # RFC 6026 §8.7; §13.3.1.4
    Timer.I: (Kind.SERVER_INVITE, CONFIRMED, False, False),  # §17.2.1: absorbs ACKs
    Timer.J: (Kind.SERVER_NON_INVITE, COMPLETED, True, True),  # §17.2.2
    Timer.M: (Kind.CLIENT_INVITE, ACCEPTED, True, False),  # RFC 6026 §8.4
    Timer.D: (Kind.CLIENT_INVITE, COMPLETED, False, True),  # §17.1.1.2
    Timer.K: (Kind.CLIENT_NON_INVITE, COMPLETED, False, False),  # §17.1.2.2
}
RETAINED_BY_NAME = {TIMER_NAMES[timer]: spec for timer, spec in RETAINED.items()}  # see `Kept`

# A transaction in a retained state, kept until its deadline: (timer name,
# deadline, request bytes or b"", last response / ACK bytes or None, peer host,
# port, transport). Only str, float, bytes, int and None: CPython stops tracking
# such a tuple at the next collection that sees it, so 32 s of ended calls
# (~25,000 transactions at 800 calls/s) cost no collection any work.
Kept = tuple[str, float, bytes, bytes | None, str, int, str]


@dataclass(frozen=True, slots=True)
class TimerConfig:
    """T1, T2, T4 of §17.1.1.1 / Table 4; defaults are the RFC's."""

    t1: float = 0.5
    t2: float = 4.0
    t4: float = 5.0

    def initial(self, timer: Timer, reliable: bool) -> float | None:
        """First interval of `timer`, 0 to fire at once, None not to start it."""
        t1, t4 = self.t1, self.t4
        if timer in (Timer.A, Timer.E, Timer.G):
            return None if reliable else t1
        if timer is Timer.D:
            return 0.0 if reliable else max(32.0, 64 * t1)
        if timer in (Timer.I, Timer.K):
            return 0.0 if reliable else t4
        if timer is Timer.J:
            return 0.0 if reliable else 64 * t1
        return 64 * t1  # B, F, H, L, M: the same on every transport


class Transaction:
    """One transaction's state; `step` moves it by the tables above."""

    __slots__ = (
        "_ack",
        "_last",
        "_request",
        "_request_wire",
        "ack_data",
        "client",
        "deadlines",
        "intervals",
        "key",
        "kind",
        "last_data",
        "peer",
        "request_data",
        "state",
    )

    def __init__(
        self, key: TxKey, kind: Kind, request: Request | None, peer: Peer, wire: bytes = b""
    ) -> None:
        """`request` parsed, or None and `wire` its bytes (a revived transaction)."""
        self.key = key
        self.kind = kind
        self.client = kind in _CLIENT_KINDS  # `kind.client` is a property call on an Enum
        self._request = request
        self._request_wire = wire
        self.peer = peer
        self.state = INITIAL[kind]
        self.request_data = request.serialise() if request is not None and self.client else wire
        self._last: Response | None = None  # server: the last response sent ...
        self.last_data: bytes | None = None  # ... and its bytes
        self._ack: Request | None = None  # client INVITE: the ACK for a non-2xx ...
        self.ack_data: bytes | None = None  # ... and its bytes
        self.deadlines: dict[Timer, float] = {}
        self.intervals: dict[Timer, float] = {}

    @property
    def request(self) -> Request:
        if self._request is None:  # revived: parse it back (a rare path: errors, 2xx resent)
            message = parse_message(self._request_wire)
            assert isinstance(message, Request)
            self._request = message
        return self._request

    @property
    def last(self) -> Response | None:
        if self._last is None and self.last_data is not None:
            message = parse_message(self.last_data)
            assert isinstance(message, Response)
            self._last = message
        return self._last

    @last.setter
    def last(self, response: Response | None) -> None:
        self._last = response

    @property
    def ack(self) -> Request | None:
        if self._ack is None and self.ack_data is not None:
            message = parse_message(self.ack_data)
            assert isinstance(message, Request)
            self._ack = message
        return self._ack

    @ack.setter
    def ack(self, ack: Request | None) -> None:
        self._ack = ack

    def kept(self, timer: Timer, deadline: float) -> Kept:
        """This transaction, entering the retained state `timer` ends, as a `Kept` tuple.

        Only what the state's rules can still use is kept: the parsed messages
        and the dicts go, so nothing of the call is left for the collector."""
        _, _, keeps_request, keeps_data = RETAINED[timer]
        client = self.client
        wire = b""
        if keeps_request:
            wire = self.request_data if client else self.request.serialise()
        data = (self.ack_data if client else self.last_data) if keeps_data else None
        peer = self.peer
        return (TIMER_NAMES[timer], deadline, wire, data, peer.host, peer.port, peer.transport)


def revive(key: TxKey, kept: Kept) -> Transaction:
    """The transaction `kept` stands for, to run one event through the tables."""
    name, _, wire, data, host, port, transport = kept
    kind, state, _, _ = RETAINED_BY_NAME[name]
    tx = Transaction(key, kind, None, Peer(host, port, transport), wire)
    tx.state = state
    if tx.client:
        tx.ack_data = data
    else:
        tx.last_data = data
    return tx


Schedule = Callable[[Transaction, Timer, float], None]


def enter_initial(tx: Transaction, now: float, cfg: TimerConfig, schedule: Schedule) -> None:
    """Start the initial state's timers (A+B, E+F; none for servers)."""
    _start_timers(tx, now, cfg, schedule)


@dataclass(slots=True)
class _Step:
    """What one table action needs: the transaction, the event and the outbox."""

    tx: Transaction
    event: Event
    now: float
    cfg: TimerConfig
    schedule: Schedule
    message: Request | Response | None
    out: list[Action]

    def __init__(
        self,
        tx: Transaction,
        event: Event,
        now: float,
        cfg: TimerConfig,
        schedule: Schedule,
        message: Request | Response | None,
        out: list[Action],
    ) -> None:  # compiled: see `ivr.sip.actions`
        self.tx = tx
        self.event = event
        self.now = now
        self.cfg = cfg
        self.schedule = schedule
        self.message = message
        self.out = out


def step(
    tx: Transaction,
    event: Event,
    now: float,
    cfg: TimerConfig,
    schedule: Schedule,
    message: Request | Response | None = None,
) -> list[Action]:
    rule = TABLES[tx.kind].get((tx.state, event))
    if rule is None:
        if event in (E.SEND_1XX, E.SEND_2XX, E.SEND_FINAL):
            raise LocalSipError(f"cannot send that response in state {tx.state.value}")
        return []
    target, todo = rule
    ctx = _Step(tx, event, now, cfg, schedule, message, [])
    for do in todo:
        _DO[do](ctx)
    if target is not tx.state:
        tx.state = target
        if target is TERMINATED:
            tx.deadlines.clear()
        else:
            ctx.out += _start_timers(tx, now, cfg, schedule)
    return ctx.out


def _start_timers(
    tx: Transaction, now: float, cfg: TimerConfig, schedule: Schedule
) -> list[Action]:
    where = (tx.kind, tx.state)
    if tx.deadlines:
        keep = KEEPS.get(where, _KEEP_NONE)
        for timer in [t for t in tx.deadlines if t not in keep]:
            del tx.deadlines[timer]
    out: list[Action] = []
    starts = STARTS.get(where)
    if starts is None:  # a server's initial state, or Proceeding: nothing to start
        return out
    reliable = tx.peer.reliable
    fire_now: list[Timer] = []
    for timer in starts:
        interval = cfg.initial(timer, reliable)
        if interval is None:
            continue
        if interval == 0:
            fire_now.append(timer)
            continue
        tx.intervals[timer] = interval
        tx.deadlines[timer] = now + interval
        schedule(tx, timer, now + interval)
    for timer in fire_now:
        if tx.state is not TERMINATED:
            out += step(tx, TIMER_EVENTS[timer], now, cfg, schedule)
    return out


# -- the actions of the tables ---------------------------------------------------------


def _pass(s: _Step) -> None:
    if isinstance(s.message, Response):
        s.out.append(DeliverResponse(response=s.message, request=s.tx.request, tx=s.tx.key))
    elif isinstance(s.message, Request):  # an ACK in Accepted (RFC 6026 §8.7)
        s.out.append(DeliverRequest(request=s.message, peer=s.tx.peer, tx=None))


def _send(s: _Step) -> None:
    assert isinstance(s.message, Response)
    tx = s.tx
    tx.last, tx.last_data = s.message, s.message.serialise()
    s.out.append(SendMessage(data=tx.last_data, message=s.message, peer=tx.peer))


def _resend(s: _Step) -> None:
    tx = s.tx
    if tx.client:
        s.out.append(_again(tx.request_data, tx.request, tx.peer))
    else:
        last = tx.last
        if last is not None and tx.last_data is not None:
            s.out.append(_again(tx.last_data, last, tx.peer))


def _ack(s: _Step) -> None:
    assert isinstance(s.message, Response)
    tx = s.tx
    ack = ack_for_non_2xx(tx.request, s.message)
    tx.ack, tx.ack_data = ack, ack.serialise()
    s.out.append(SendMessage(data=tx.ack_data, message=ack, peer=tx.peer))


def _resend_ack(s: _Step) -> None:
    tx = s.tx
    ack = tx.ack
    if ack is not None and tx.ack_data is not None:
        s.out.append(_again(tx.ack_data, ack, tx.peer))


def _again(data: bytes, message: Request | Response, peer: Peer) -> SendMessage:
    return SendMessage(data=data, message=message, peer=peer, retransmission=True)


def _rearm(next_interval: Callable[[float, TimerConfig], float]) -> Callable[[_Step], None]:
    def rearm(s: _Step) -> None:
        timer = EVENT_TIMERS[s.event]
        interval = s.tx.intervals[timer] = next_interval(s.tx.intervals[timer], s.cfg)
        s.tx.deadlines[timer] = s.now + interval
        s.schedule(s.tx, timer, s.now + interval)

    return rearm


def _timeout(s: _Step) -> None:
    tx = s.tx
    if tx.client:  # §17.1.1.2 / §17.1.2.2: Timer B or F is a 408 for the TU (§8.1.3.1)
        s.out.append(_local_response(tx, 408))
    else:  # §17.2.1: Timer H, the ACK never came
        s.out.append(TransactionFailed(tx=tx.key, request=tx.request, reason="no ACK (Timer H)"))


def _transport_failed(s: _Step) -> None:
    tx = s.tx
    if tx.client:  # §8.1.3.1: a transport error is treated as a 503
        s.out.append(_local_response(tx, 503))
    else:
        s.out.append(TransactionFailed(tx=tx.key, request=tx.request, reason="transport error"))


def _local_response(tx: Transaction, status: int) -> DeliverResponse:
    response = make_response(tx.request, status)
    return DeliverResponse(response=response, request=tx.request, tx=tx.key, local=True)


_DO: dict[Do, Callable[[_Step], None]] = {
    Do.PASS: _pass,
    Do.SEND: _send,
    Do.RESEND: _resend,
    Do.ACK: _ack,
    Do.RESEND_ACK: _resend_ack,
    Do.DOUBLE: _rearm(lambda interval, cfg: 2 * interval),
    Do.BACKOFF: _rearm(lambda interval, cfg: min(2 * interval, cfg.t2)),
    Do.AT_T2: _rearm(lambda interval, cfg: cfg.t2),
    Do.TIMEOUT: _timeout,
    Do.TRANSPORT_FAILED: _transport_failed,
}


def ack_for_non_2xx(request: Request, response: Response) -> Request:
    """The ACK a client INVITE transaction sends for a 300-699 (§17.1.1.3).

    Request-URI, Call-ID, From, CSeq number and the top Via (only) are the
    INVITE's; To is the response's (with its tag); Route is copied.
    """
    src = request.headers
    fields = [HeaderField("Via", str(request.top_via)), HeaderField("Max-Forwards", "70")]
    fields += [HeaderField(f.name, f.value, f.raw, f.key) for f in src.fields if f.key == "route"]
    for key in ("from", "to", "call-id"):
        origin = response.headers if key == "to" else src
        fields += [
            HeaderField(f.name, f.value, f.raw, f.key) for f in origin.fields if f.key == key
        ]
    fields.append(HeaderField("CSeq", f"{request.cseq.number} ACK"))
    fields.append(HeaderField("Content-Length", "0"))
    return Request("ACK", request.target, Headers(fields))
