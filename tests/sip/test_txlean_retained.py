"""Transactions that only wait out their last timer are kept as untracked tuples.

At 800 calls/s the server transactions kept 32 s to absorb retransmissions
(Timer J, RFC 3261 §17.2.2; Timer L, RFC 6026 §8.7) are ~25,000 at any time.
Kept as objects they made every garbage collection trace them; kept as tuples
of atomic values the collector stops tracking them. These tests pin that the
tables allow it (each retained state has one timer, which ends it with no
action, and no rule out of it goes anywhere but itself or Terminated), that a
kept transaction still answers as the RFC says, and that it costs the
collector nothing.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from ivr.sip.actions import DeliverRequest, Peer, SendMessage, TransactionFailed, TxKey
from ivr.sip.builders import make_response
from ivr.sip.errors import LocalSipError
from ivr.sip.message import Request, Response, parse_message
from ivr.sip.transaction import TransactionLayer
from ivr.sip.transaction_states import (
    KEEPS,
    RETAINED,
    STARTS,
    TABLES,
    TERMINATED,
    TIMER_EVENTS,
    State,
    Timer,
    TimerConfig,
)

FIXTURES = Path(__file__).parent / "fixtures"
CALLER = Peer("127.0.0.1", 15061)
INVITE = (FIXTURES / "ivr_call" / "01-INVITE.sip").read_bytes()
BYE = (FIXTURES / "ivr_call" / "11-BYE.sip").read_bytes()


def branch(data: bytes, n: int) -> bytes:
    """The same request with a branch of its own: another transaction (§17.2.3)."""
    marker = b"branch=z9hG4bK"
    assert marker in data
    return data.replace(marker, marker + f"tx{n}-".encode(), 1)


def deliver(layer: TransactionLayer, data: bytes, now: float) -> DeliverRequest:
    (up,) = [a for a in layer.receive_data(data, CALLER, now) if isinstance(a, DeliverRequest)]
    assert up.tx is not None
    return up


def answer(layer: TransactionLayer, up: DeliverRequest, status: int, now: float) -> bytes:
    assert up.tx is not None
    (sent,) = layer.send_response(up.tx, make_response(up.request, status, to_tag="t1"), now)
    assert isinstance(sent, SendMessage)
    return sent.data


@contextmanager
def collector_off() -> Iterator[None]:
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


# -- the tables allow it --------------------------------------------------------------


@pytest.mark.parametrize("timer", list(RETAINED), ids=lambda t: t.value)
def test_each_retained_state_has_one_timer_that_ends_it_and_only_loops_or_ends(
    timer: Timer,
) -> None:
    kind, state, _, _ = RETAINED[timer]
    assert STARTS[(kind, state)] == (timer,)
    assert (kind, state) not in KEEPS  # no other timer runs on into it
    table = TABLES[kind]
    assert table[(state, TIMER_EVENTS[timer])] == (TERMINATED, ())  # expiry needs no step
    targets = {target for (source, _), (target, _) in table.items() if source is state}
    assert targets <= {state, TERMINATED}
    # ...and the timer is started nowhere else, so it names the state.
    assert [key for key, timers in STARTS.items() if timer in timers] == [(kind, state)]


# -- a kept transaction still behaves --------------------------------------------------


def test_kept_bye_resends_its_200_byte_for_byte_until_timer_j() -> None:
    layer = TransactionLayer()
    up = deliver(layer, BYE, 0.0)
    ok = answer(layer, up, 200, 0.1)
    assert layer.state(up.tx) is State.COMPLETED  # type: ignore[arg-type]
    for now in (0.6, 5.0, 32.0):
        (again,) = layer.receive_data(BYE, CALLER, now)
        assert isinstance(again, SendMessage) and again.retransmission
        assert again.data == ok and again.peer == CALLER
        assert isinstance(again.message, Response) and again.message.serialise() == ok
    assert layer.next_deadline() == pytest.approx(32.1)  # Timer J = 64·T1 after the 200
    assert layer.handle_timer(32.0) == [] and len(layer) == 1
    assert layer.handle_timer(32.1) == [] and len(layer) == 0
    assert layer.next_deadline() is None
    assert len([a for a in layer.receive_data(BYE, CALLER, 33.0) if isinstance(a, DeliverRequest)])


def test_kept_invite_absorbs_retransmissions_passes_acks_and_sends_the_tus_2xx() -> None:
    layer = TransactionLayer(auto_trying=False)
    up = deliver(layer, INVITE, 0.0)
    assert up.tx is not None
    ok = make_response(up.request, 200, to_tag="t1")
    layer.send_response(up.tx, ok, 0.2)
    assert layer.state(up.tx) is State.ACCEPTED
    assert layer.receive_data(INVITE, CALLER, 0.6) == []  # RFC 6026 §8.7: not a new call
    (again,) = layer.send_response(up.tx, ok, 0.7)  # the TU's retransmission (§13.3.1.4)
    assert isinstance(again, SendMessage) and again.data == ok.serialise()
    with pytest.raises(LocalSipError):
        layer.send_response(up.tx, make_response(up.request, 486, to_tag="t1"), 0.8)
    ack = INVITE.replace(b"INVITE sip:", b"ACK sip:", 1).replace(b" INVITE\r\n", b" ACK\r\n")
    (passed,) = layer.receive_data(ack, Peer("127.0.0.1", 15061), 0.9)
    assert isinstance(passed, DeliverRequest) and passed.tx is None and passed.peer == CALLER
    assert layer.transport_error(up.tx, 1.0) == [] and layer.state(up.tx) is State.ACCEPTED
    layer.handle_timer(32.2)  # Timer L = 64·T1 after the 2xx
    assert layer.state(up.tx) is None and len(layer) == 0


def test_kept_bye_reports_its_request_on_a_transport_error_and_is_gone() -> None:
    layer = TransactionLayer()
    up = deliver(layer, BYE, 0.0)
    answer(layer, up, 200, 0.1)
    (failed,) = layer.transport_error(up.tx, 0.2)  # type: ignore[arg-type]
    assert isinstance(failed, TransactionFailed) and failed.tx == up.tx
    assert failed.request.serialise() == up.request.serialise()
    assert len(layer) == 0 and layer.next_deadline() is None  # its expiry entry is stale
    assert layer.handle_timer(40.0) == []


def test_kept_server_transactions_still_count_against_the_limit_until_they_expire() -> None:
    layer = TransactionLayer(max_server_transactions=2)
    for n in range(2):
        answer(layer, deliver(layer, branch(BYE, n), 0.0), 200, 0.0)
    (shed,) = layer.receive_data(branch(BYE, 2), CALLER, 1.0)
    assert isinstance(shed, SendMessage) and shed.data.startswith(b"SIP/2.0 503 ")
    layer.handle_timer(32.0)
    deliver(layer, branch(BYE, 3), 33.0)  # both expired: room again


def test_client_transactions_kept_resend_their_ack_and_pass_2xx_with_the_request() -> None:
    layer = TransactionLayer()
    invite = parse_message((FIXTURES / "cancel" / "01-INVITE.sip").read_bytes())
    assert isinstance(invite, Request)
    tx, _ = layer.send_request(invite, Peer("127.0.0.1", 15090), 0.0)
    final = (FIXTURES / "cancel" / "06-487.sip").read_bytes()
    (_, ack) = layer.receive_data(final, CALLER, 1.0)  # passed up, then ACKed
    assert isinstance(ack, SendMessage) and layer.state(tx) is State.COMPLETED
    (again,) = layer.receive_data(final, CALLER, 2.0)  # §17.1.1.2: the same ACK again
    assert isinstance(again, SendMessage) and again.data == ack.data and again.retransmission
    layer.handle_timer(33.0)  # Timer D = 32 s
    assert layer.state(tx) is None
    tx, _ = layer.send_request(parse_message(branch(bytes(invite), 9)), CALLER, 40.0)  # type: ignore[arg-type]
    ok = make_response(parse_message(branch(bytes(invite), 9)), 200, to_tag="u")  # type: ignore[arg-type]
    layer.receive(ok, CALLER, 40.1)
    assert layer.state(tx) is State.ACCEPTED
    (up,) = layer.receive_data(ok.serialise(), CALLER, 40.5)  # RFC 6026 §8.4: to the TU
    assert up.response.status == 200 and up.request.serialise() == branch(bytes(invite), 9)  # type: ignore[union-attr]


def test_a_clock_set_back_still_expires_kept_transactions_in_deadline_order() -> None:
    layer = TransactionLayer(timers=TimerConfig(t1=0.5))
    first = deliver(layer, branch(BYE, 1), 10.0)
    answer(layer, first, 200, 10.0)  # expires at 42
    second = deliver(layer, branch(BYE, 2), 5.0)
    answer(layer, second, 200, 5.0)  # expires at 37: earlier, appended later
    assert layer.next_deadline() == 37.0
    layer.handle_timer(37.0)
    assert layer.state(second.tx) is None and layer.state(first.tx) is State.COMPLETED  # type: ignore[arg-type]
    layer.handle_timer(42.0)
    assert len(layer) == 0


# -- what the collector sees ------------------------------------------------------------


def test_kept_transactions_are_invisible_to_the_collector() -> None:
    layer = TransactionLayer(auto_trying=False)
    calls = 400

    def run(first: int) -> None:
        for n in range(first, first + calls):
            answer(layer, deliver(layer, branch(INVITE, n), 0.0), 200, 0.0)
            answer(layer, deliver(layer, branch(BYE, n), 0.0), 200, 0.0)

    run(0)  # warm whatever the parser caches
    gc.collect()
    with collector_off():
        before = len(gc.get_objects())
        run(calls)
        assert len(layer) == 4 * calls
        gc.collect()  # a pass untracks tuples of atomic values
        grown = len(gc.get_objects()) - before
    # Kept as objects: ~4 tracked objects a transaction (itself, two dicts, its timer entry).
    assert grown < calls // 4, grown
    layer.handle_timer(40.0)
    assert len(layer) == 0


def test_every_transaction_is_freed_by_reference_counting_alone() -> None:
    layer = TransactionLayer(auto_trying=False)
    keys: list[TxKey] = []
    with collector_off():
        gc.collect()
        for n in range(50):
            up = deliver(layer, branch(INVITE, n), 0.0)
            answer(layer, up, 486, 0.0)  # Completed, Timer G and H on the heap
            assert up.tx is not None
            keys.append(up.tx)
        layer.handle_timer(40.0)  # Timer H: each gives up (no ACK)
        assert len(layer) == 0 and layer.next_deadline() is None
        alive = [o for o in gc.get_objects() if type(o).__name__ == "Transaction"]
        assert alive == []
