"""A server transaction answered with a final response goes straight to its retained state.

`TransactionLayer.send_response` takes a short cut for the two finals every call
sends: the INVITE's 2xx (Proceeding -> Accepted, Timer L, RFC 6026 §8.7) and a
non-INVITE's final on an unreliable hop (Trying/Proceeding -> Completed, Timer J,
RFC 3261 §17.2.2). These tests pin that the short cut gives what the tables
(`transaction_states.step`) give -- the same bytes out, the same state, the same
`Kept` tuple, the same later behaviour -- that it is taken, and that every other
final still goes through the tables.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ivr.sip.actions import DeliverRequest, Peer, SendMessage
from ivr.sip.builders import make_response
from ivr.sip.message import Request
from ivr.sip.transaction import TransactionLayer
from ivr.sip.transaction_states import Event, State, Timer, Transaction

FIXTURES = Path(__file__).parent / "fixtures"
UDP = Peer("127.0.0.1", 15061)
TCP = Peer("127.0.0.1", 15061, "TCP")
INVITE = (FIXTURES / "ivr_call" / "01-INVITE.sip").read_bytes()
BYE = (FIXTURES / "ivr_call" / "11-BYE.sip").read_bytes()


def received(layer: TransactionLayer, data: bytes, peer: Peer) -> DeliverRequest:
    (up,) = [a for a in layer.receive_data(data, peer, 1.0) if isinstance(a, DeliverRequest)]
    assert up.tx is not None
    return up


def live(layer: TransactionLayer, up: DeliverRequest) -> Transaction:
    assert up.tx is not None
    tx = layer._txs[up.tx]
    assert isinstance(tx, Transaction)
    return tx


def by_the_tables(data: bytes, peer: Peer, status: int) -> tuple[TransactionLayer, list[object]]:
    """The same final sent through `step` itself, the path before the short cut."""
    layer = TransactionLayer(auto_trying=False)
    up = received(layer, data, peer)
    assert up.tx is not None
    response = make_response(up.request, status, to_tag="t1")
    event = Event.SEND_2XX if status < 300 else Event.SEND_FINAL
    actions = layer._step_any(up.tx, live(layer, up), event, 2.0, response)
    return layer, list(actions)


@pytest.mark.parametrize(
    ("data", "status", "state", "timer"),
    [
        (INVITE, 200, State.ACCEPTED, Timer.L),
        (BYE, 200, State.COMPLETED, Timer.J),
        (BYE, 481, State.COMPLETED, Timer.J),
    ],
    ids=["INVITE 200", "BYE 200", "BYE 481"],
)
def test_the_short_cut_gives_what_the_tables_give(
    data: bytes, status: int, state: State, timer: Timer
) -> None:
    layer = TransactionLayer(auto_trying=False)
    up = received(layer, data, UDP)
    assert up.tx is not None
    tx = live(layer, up)
    (sent,) = layer.send_response(up.tx, make_response(up.request, status, to_tag="t1"), 2.0)
    reference, (expected,) = by_the_tables(data, UDP, status)
    assert isinstance(sent, SendMessage) and isinstance(expected, SendMessage)
    assert (sent.data, sent.peer, sent.retransmission) == (
        expected.data,
        expected.peer,
        expected.retransmission,
    )
    assert layer.state(up.tx) is reference.state(up.tx) is state
    assert layer._txs[up.tx] == reference._txs[up.tx]  # the same Kept tuple
    kept = layer._txs[up.tx]
    assert isinstance(kept, tuple) and kept[0] == timer.value
    assert layer.next_deadline() == reference.next_deadline() == 2.0 + 32.0
    # Taken: the tables' path records the timer's interval on the transaction; the
    # short cut hands the interval straight to the retained FIFO.
    assert tx.intervals == {}


def test_a_retransmitted_bye_after_the_short_cut_gets_the_same_200() -> None:
    layer = TransactionLayer(auto_trying=False)
    up = received(layer, BYE, UDP)
    assert up.tx is not None
    (sent,) = layer.send_response(up.tx, make_response(up.request, 200, to_tag="t1"), 2.0)
    assert isinstance(sent, SendMessage)
    (again,) = layer.receive_data(BYE, UDP, 3.0)
    assert isinstance(again, SendMessage) and again.retransmission
    assert again.data == sent.data
    layer.handle_timer(2.0 + 32.0)
    assert len(layer) == 0  # Timer J ended it (§17.2.2)


def test_an_invite_after_its_2xx_is_absorbed_and_the_ack_goes_up() -> None:
    layer = TransactionLayer(auto_trying=False)
    up = received(layer, INVITE, UDP)
    assert up.tx is not None
    layer.send_response(up.tx, make_response(up.request, 200, to_tag="t1"), 2.0)
    assert layer.receive_data(INVITE, UDP, 3.0) == []  # RFC 6026 §8.7
    layer.handle_timer(2.0 + 32.0)
    assert len(layer) == 0  # Timer L ended it


@pytest.mark.parametrize(
    ("data", "peer", "status", "state"),
    [
        (INVITE, UDP, 486, State.COMPLETED),  # Timers G and H: not retained
        (BYE, TCP, 200, None),  # Timer J is 0 s on a reliable hop: ended at once
    ],
    ids=["INVITE 486", "BYE 200 over TCP"],
)
def test_other_finals_still_go_through_the_tables(
    data: bytes, peer: Peer, status: int, state: State | None
) -> None:
    layer = TransactionLayer(auto_trying=False)
    up = received(layer, data, peer)
    assert up.tx is not None
    tx = live(layer, up)
    layer.send_response(up.tx, make_response(up.request, status, to_tag="t1"), 2.0)
    assert layer.state(up.tx) is state
    reference, _ = by_the_tables(data, peer, status)
    assert reference.state(up.tx) is state
    if state is State.COMPLETED:
        assert tx.intervals  # the tables armed G and H on it


def test_an_invite_2xx_over_tcp_is_retained_for_timer_l() -> None:
    """Timer L is 64·T1 on every transport (RFC 6026 §8.7): the short cut applies."""
    layer = TransactionLayer(auto_trying=False)
    up = received(layer, INVITE, TCP)
    assert up.tx is not None
    layer.send_response(up.tx, make_response(up.request, 200, to_tag="t1"), 2.0)
    reference, _ = by_the_tables(INVITE, TCP, 200)
    assert layer._txs[up.tx] == reference._txs[up.tx]
    assert layer.state(up.tx) is State.ACCEPTED


def test_a_new_server_transaction_arms_no_timer() -> None:
    layer = TransactionLayer(auto_trying=False)
    up = received(layer, INVITE, UDP)
    assert isinstance(up.request, Request)
    assert layer.next_deadline() is None
    assert live(layer, up).deadlines == {}
