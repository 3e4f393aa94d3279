"""RFC 3261 §17 transactions with RFC 6026, on a fake clock and real sipp messages."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ivr.sip.actions import (
    Action,
    DeliverRequest,
    DeliverResponse,
    Dropped,
    Peer,
    SendMessage,
    TransactionFailed,
)
from ivr.sip.builders import make_response
from ivr.sip.errors import LocalSipError
from ivr.sip.message import Request, Response, parse_message
from ivr.sip.transaction import TransactionLayer
from ivr.sip.transaction_states import State, TimerConfig

FIXTURES = Path(__file__).parent / "fixtures"
UDP = Peer("127.0.0.1", 15090)
TCP = Peer("127.0.0.1", 15090, "TCP")
CALLER = Peer("127.0.0.1", 15061)


def req(name: str) -> Request:
    message = parse_message((FIXTURES / name).read_bytes())
    assert isinstance(message, Request)
    return message


def res(name: str) -> Response:
    message = parse_message((FIXTURES / name).read_bytes())
    assert isinstance(message, Response)
    return message


def sends(actions: list[Action]) -> list[SendMessage]:
    return [a for a in actions if isinstance(a, SendMessage)]


def run_timers(layer: TransactionLayer, until: float = 1000.0) -> list[tuple[float, Action]]:
    """Fire every timer in order on a fake clock; (time, action) for each action."""
    out = []
    while (when := layer.next_deadline()) is not None and when <= until:
        out += [(when, a) for a in layer.handle_timer(when)]
    return out


def retransmit_times(events: list[tuple[float, Action]]) -> list[float]:
    return [t for t, a in events if isinstance(a, SendMessage) and a.retransmission]


# -- client INVITE (§17.1.1) ---------------------------------------------------------


def test_timer_a_doubles_until_timer_b_fires_at_64_t1_with_408_to_the_tu() -> None:
    # RFC 3261 §17.1.1.2: an unanswered INVITE over UDP goes out again at
    # 0.5, 1.5, 3.5, 7.5, 15.5, 31.5 s and Timer B ends it at 64·T1 = 32 s.
    layer = TransactionLayer()
    tx, first = layer.send_request(req("call_udp/01-INVITE.sip"), UDP, 0.0)
    assert len(sends(first)) == 1 and not first[0].retransmission  # type: ignore[union-attr]
    events = run_timers(layer)
    assert retransmit_times(events) == [0.5, 1.5, 3.5, 7.5, 15.5, 31.5]
    ((when, timeout),) = [(t, a) for t, a in events if isinstance(a, DeliverResponse)]
    assert when == 32.0 and timeout.local and timeout.response.status == 408
    assert timeout.tx == tx and layer.state(tx) is None and len(layer) == 0


def test_timer_a_and_e_schedule_matches_sipps_own_retransmissions() -> None:
    # retransmissions.json: when sipp 3.6.1 retransmitted into a black hole.
    captured = json.loads((FIXTURES / "retransmissions.json").read_text())["offsets"]
    layer = TransactionLayer()
    layer.send_request(req("call_udp/01-INVITE.sip"), UDP, 0.0)
    layer.send_request(req("register/05-OPTIONS.sip"), UDP, 0.0)
    events = run_timers(layer)
    invite = [
        t for t, a in events if isinstance(a, SendMessage) and a.message.cseq.method == "INVITE"
    ]
    options = [
        t for t, a in events if isinstance(a, SendMessage) and a.message.cseq.method == "OPTIONS"
    ]
    for ours, theirs in ((invite, captured["INVITE"][1:]), (options, captured["OPTIONS"][1:])):
        assert ours[: len(theirs)] == pytest.approx(theirs, abs=0.05)


def test_timer_b_is_the_only_timer_on_a_reliable_transport() -> None:
    layer = TransactionLayer()
    layer.send_request(req("call_tcp/01-INVITE.sip"), TCP, 0.0)
    events = run_timers(layer)
    assert retransmit_times(events) == []  # §17.1.1.2: Timer A only for unreliable transports
    assert [(t, a.response.status) for t, a in events if isinstance(a, DeliverResponse)] == [
        (32.0, 408)
    ]


def test_sip_17_1_1_2_provisional_stops_retransmission_and_timer_b() -> None:
    layer = TransactionLayer()
    invite = req("call_udp/01-INVITE.sip")
    tx, _ = layer.send_request(invite, UDP, 0.0)
    run_timers(layer, until=0.5)
    up = layer.receive(res("call_udp/02-180.sip"), UDP, 0.7)
    assert [a.response.status for a in up if isinstance(a, DeliverResponse)] == [180]
    assert layer.state(tx) is State.PROCEEDING
    assert run_timers(layer, until=100.0) == [] and layer.state(tx) is State.PROCEEDING


def test_sip_17_1_1_3_ack_for_a_non_2xx_matches_the_ack_sipp_sent() -> None:
    layer = TransactionLayer()
    invite = req("cancel/01-INVITE.sip")
    tx, _ = layer.send_request(invite, UDP, 0.0)
    actions = layer.receive(res("cancel/06-487.sip"), UDP, 1.0)
    (ack,) = [a.message for a in sends(actions)]
    (up,) = [a for a in actions if isinstance(a, DeliverResponse)]
    assert up.response.status == 487 and layer.state(tx) is State.COMPLETED
    theirs = req("cancel/07-ACK.sip")
    assert isinstance(ack, Request) and ack.method == "ACK" and ack.target == theirs.target
    for name in ("via", "from", "to", "call-id", "cseq", "content-length", "max-forwards"):
        assert ack.headers.get(name) == theirs.headers.get(name), name
    # A retransmitted 487 is ACKed again and not passed up; Timer D (32 s) ends it.
    again = layer.receive(res("cancel/06-487.sip"), UDP, 2.0)
    assert [a.data for a in sends(again)] == [ack.serialise()]
    assert not [a for a in again if isinstance(a, DeliverResponse)]
    run_timers(layer, until=32.9)
    assert layer.state(tx) is State.COMPLETED
    run_timers(layer, until=33.0)
    assert layer.state(tx) is None


def test_sip_17_1_1_2_timer_d_is_zero_on_reliable_transports() -> None:
    layer = TransactionLayer()
    tx, _ = layer.send_request(req("cancel/01-INVITE.sip"), TCP, 0.0)
    layer.receive(res("cancel/06-487.sip"), TCP, 1.0)
    assert layer.state(tx) is None


def test_rfc6026_8_4_client_accepted_passes_every_2xx_until_timer_m() -> None:
    layer = TransactionLayer()
    tx, _ = layer.send_request(req("call_udp/01-INVITE.sip"), UDP, 0.0)
    ok = res("call_udp/03-200.sip")
    first = layer.receive(ok, UDP, 0.1)
    assert layer.state(tx) is State.ACCEPTED and not sends(first)  # the TU ACKs a 2xx
    again = layer.receive(res("call_udp/03-200.sip"), UDP, 0.6)
    assert [a.response.status for a in again if isinstance(a, DeliverResponse)] == [200]
    assert retransmit_times(run_timers(layer)) == []  # Timer A stopped at the 2xx
    assert layer.state(tx) is None  # Timer M
    late = layer.receive(res("call_udp/03-200.sip"), UDP, 40.0)
    assert isinstance(late[0], Dropped)  # RFC 6026 §8.9: unmatched → discarded


# -- client non-INVITE (§17.1.2) -------------------------------------------------------


def test_timer_e_backs_off_to_t2_and_timer_f_fires_at_64_t1() -> None:
    layer = TransactionLayer()
    tx, _ = layer.send_request(req("register/05-OPTIONS.sip"), UDP, 0.0)
    events = run_timers(layer)
    expected = [0.5, 1.5, 3.5, 7.5, 11.5, 15.5, 19.5, 23.5, 27.5, 31.5]
    assert retransmit_times(events) == expected
    assert [(t, a.response.status) for t, a in events if isinstance(a, DeliverResponse)] == [
        (32.0, 408)
    ]
    assert layer.state(tx) is None


def test_sip_17_1_2_2_timer_e_runs_at_t2_in_proceeding() -> None:
    layer = TransactionLayer()
    options = req("register/05-OPTIONS.sip")
    layer.send_request(options, UDP, 0.0)
    layer.handle_timer(0.5)  # first retransmission, next due at 1.5
    layer.receive(make_response(options, 100), UDP, 0.6)
    times = retransmit_times(run_timers(layer))
    assert times[:3] == [1.5, 5.5, 9.5]


def test_sip_17_1_2_2_timer_k_absorbs_retransmitted_finals() -> None:
    layer = TransactionLayer()
    options = req("register/05-OPTIONS.sip")
    tx, _ = layer.send_request(options, UDP, 0.0)
    ok = res("register/06-200.sip")
    assert len(layer.receive(ok, UDP, 0.1)) == 1
    assert layer.state(tx) is State.COMPLETED
    assert layer.receive(res("register/06-200.sip"), UDP, 0.2) == []
    run_timers(layer)
    assert layer.state(tx) is None
    tcp = TransactionLayer()
    tx, _ = tcp.send_request(options, TCP, 0.0)
    tcp.receive(ok, TCP, 0.1)
    assert tcp.state(tx) is None  # Timer K = 0 on TCP


# -- server INVITE (§17.2.1, RFC 6026) --------------------------------------------------


def new_invite(
    layer: TransactionLayer, peer: Peer = CALLER
) -> tuple[Request, DeliverRequest, list[Action]]:
    actions = layer.receive(req("ivr_call/01-INVITE.sip"), peer, 0.0)
    (delivered,) = [a for a in actions if isinstance(a, DeliverRequest)]
    return delivered.request, delivered, actions


def test_sip_17_2_1_invite_gets_100_trying_and_reaches_the_tu_once() -> None:
    layer = TransactionLayer()
    _invite, delivered, actions = new_invite(layer)
    (trying,) = [a.message for a in sends(actions)]
    assert isinstance(trying, Response) and trying.status == 100
    again = layer.receive(req("ivr_call/01-INVITE.sip"), CALLER, 0.5)
    assert [a.message for a in sends(again)] == [trying]  # the last provisional again
    assert not [a for a in again if isinstance(a, DeliverRequest)]
    assert layer.state(delivered.tx) is State.PROCEEDING  # type: ignore[arg-type]


def test_sip_18_2_1_rport_and_received_are_stamped_on_the_top_via() -> None:
    layer = TransactionLayer()
    invite, _, actions = new_invite(layer, Peer("192.0.2.7", 40000))
    assert invite.top_via.received == "192.0.2.7" and invite.top_via.rport == "40000"
    trying = sends(actions)[0]
    assert trying.peer == Peer("192.0.2.7", 40000)
    assert b"received=192.0.2.7;rport=40000" in trying.data


def test_timer_g_retransmits_the_final_response_until_the_ack() -> None:
    layer = TransactionLayer()
    invite, delivered, _ = new_invite(layer)
    assert delivered.tx is not None
    busy = make_response(invite, 486, to_tag="t1")
    layer.send_response(delivered.tx, busy, 1.0)
    assert layer.state(delivered.tx) is State.COMPLETED
    events = run_timers(layer, until=12.5)
    assert retransmit_times(events) == [1.5, 2.5, 4.5, 8.5, 12.5]  # T1 doubling, capped at T2
    ack = req("ivr_call/01-INVITE.sip")
    ack.method = "ACK"
    ack.headers.set("CSeq", "1 ACK")
    assert layer.receive(ack, CALLER, 12.6) == []  # absorbed, not for the TU
    assert layer.state(delivered.tx) is State.CONFIRMED
    assert retransmit_times(run_timers(layer, until=17.5)) == []  # ACK stopped G
    run_timers(layer, until=17.6)  # Timer I = T4 = 5 s
    assert layer.state(delivered.tx) is None


def test_timer_h_gives_up_at_64_t1_and_tells_the_tu() -> None:
    layer = TransactionLayer()
    invite, delivered, _ = new_invite(layer)
    assert delivered.tx is not None
    layer.send_response(delivered.tx, make_response(invite, 486, to_tag="t1"), 0.0)
    events = run_timers(layer)
    assert retransmit_times(events) == [0.5, 1.5, 3.5, 7.5, 11.5, 15.5, 19.5, 23.5, 27.5, 31.5]
    ((when, failed),) = [(t, a) for t, a in events if isinstance(a, TransactionFailed)]
    assert when == 32.0 and "Timer H" in failed.reason


def test_sip_17_2_1_reliable_transport_no_timer_g_and_timer_i_zero() -> None:
    layer = TransactionLayer()
    invite, delivered, _ = new_invite(layer, Peer("127.0.0.1", 15061, "TCP"))
    assert delivered.tx is not None
    layer.send_response(delivered.tx, make_response(invite, 486, to_tag="t1"), 0.0)
    ack = req("ivr_call/01-INVITE.sip")
    ack.method = "ACK"
    ack.headers.set("CSeq", "1 ACK")
    assert retransmit_times(run_timers(layer, until=31.0)) == []
    layer.receive(ack, Peer("127.0.0.1", 15061, "TCP"), 1.0)
    assert layer.state(delivered.tx) is None


def test_rfc6026_8_7_accepted_absorbs_invite_retransmissions_and_passes_acks() -> None:
    layer = TransactionLayer()
    invite, delivered, _ = new_invite(layer)
    assert delivered.tx is not None
    ok = make_response(invite, 200, to_tag="t1")
    layer.send_response(delivered.tx, ok, 0.2)
    assert layer.state(delivered.tx) is State.ACCEPTED
    # A retransmitted INVITE is not a second call (the sipua pitfall) and gets nothing.
    assert layer.receive(req("ivr_call/01-INVITE.sip"), CALLER, 0.6) == []
    # The TU's own 2xx retransmissions go out (§13.3.1.4).
    assert len(sends(layer.send_response(delivered.tx, ok, 0.7))) == 1
    # The ACK to the 2xx has its own branch and no transaction: it reaches the TU.
    ack = req("ivr_call/05-ACK.sip")
    (up,) = layer.receive(ack, CALLER, 0.8)
    assert isinstance(up, DeliverRequest) and up.tx is None and up.request.method == "ACK"
    # Timer L (64·T1 from the 2xx at 0.2 s) ends the transaction.
    assert retransmit_times(run_timers(layer, until=32.1)) == []
    assert layer.state(delivered.tx) is State.ACCEPTED
    run_timers(layer, until=32.2)
    assert layer.state(delivered.tx) is None


def test_rfc6026_8_7_ack_reusing_the_invite_branch_is_passed_to_the_tu() -> None:
    layer = TransactionLayer()
    invite, delivered, _ = new_invite(layer)
    assert delivered.tx is not None
    layer.send_response(delivered.tx, make_response(invite, 200, to_tag="t1"), 0.0)
    ack = req("ivr_call/01-INVITE.sip")
    ack.method = "ACK"
    ack.headers.set("CSeq", "1 ACK")
    (up,) = layer.receive(ack, CALLER, 0.1)
    assert isinstance(up, DeliverRequest) and up.tx is None


def test_sip_17_2_1_tu_cannot_send_after_a_final_response() -> None:
    layer = TransactionLayer()
    invite, delivered, _ = new_invite(layer)
    assert delivered.tx is not None
    layer.send_response(delivered.tx, make_response(invite, 486, to_tag="t"), 0.0)
    with pytest.raises(LocalSipError):
        layer.send_response(delivered.tx, make_response(invite, 180, to_tag="t"), 0.1)
    with pytest.raises(LocalSipError):
        layer.send_response(("s", "nope"), make_response(invite, 200), 0.1)


# -- server non-INVITE (§17.2.2) --------------------------------------------------------


def test_sip_17_2_2_retransmitted_bye_gets_the_same_200_again() -> None:
    layer = TransactionLayer()
    (up,) = layer.receive(req("ivr_call/11-BYE.sip"), CALLER, 0.0)
    assert isinstance(up, DeliverRequest) and up.tx is not None
    assert layer.receive(req("ivr_call/11-BYE.sip"), CALLER, 0.1) == []  # Trying absorbs
    ok = make_response(up.request, 200)
    layer.send_response(up.tx, ok, 0.2)
    again = layer.receive(req("ivr_call/11-BYE.sip"), CALLER, 0.6)
    assert [a.data for a in sends(again)] == [ok.serialise()]  # the aiosipua/sipua pitfall
    run_timers(layer, until=32.1)
    assert layer.state(up.tx) is State.COMPLETED
    run_timers(layer, until=32.2)  # Timer J = 64·T1 after the 200 at 0.2 s
    assert layer.state(up.tx) is None


def test_sip_17_2_2_timer_j_is_zero_on_tcp() -> None:
    layer = TransactionLayer()
    (up,) = layer.receive(req("call_tcp/05-BYE.sip"), TCP, 0.0)
    assert isinstance(up, DeliverRequest) and up.tx is not None
    layer.send_response(up.tx, make_response(up.request, 200), 0.1)
    assert layer.state(up.tx) is None


# -- matching (§17.1.3, §17.2.3), errors, shedding ---------------------------------------


def test_sip_17_1_3_response_with_other_branch_or_two_vias_is_dropped() -> None:
    layer = TransactionLayer()
    layer.send_request(req("call_udp/01-INVITE.sip"), UDP, 0.0)
    other = res("call_udp/02-180.sip")
    other.headers.replace_first_element("via", "SIP/2.0/UDP 127.0.0.1:15061;branch=z9hG4bKother")
    assert isinstance(layer.receive(other, UDP, 0.1)[0], Dropped)
    two = res("call_udp/02-180.sip")
    two.headers.add("Via", "SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKx")
    assert isinstance(layer.receive(two, UDP, 0.1)[0], Dropped)


def test_sip_9_2_cancel_is_its_own_transaction_and_finds_its_invite() -> None:
    layer = TransactionLayer()
    layer.receive(req("cancel/01-INVITE.sip"), CALLER, 0.0)
    actions = layer.receive(req("cancel/04-CANCEL.sip"), CALLER, 1.0)
    (up,) = [a for a in actions if isinstance(a, DeliverRequest)]
    assert up.request.method == "CANCEL" and up.tx is not None and up.tx[-1] == "CANCEL"
    invite_tx = layer.invite_for_cancel(up.request)
    assert invite_tx is not None and layer.state(invite_tx) is State.PROCEEDING
    assert len(layer) == 2


def test_sip_17_2_3_same_branch_from_another_sent_by_is_another_transaction() -> None:
    layer = TransactionLayer()
    new_invite(layer)
    forged = req("ivr_call/01-INVITE.sip")
    forged.headers.replace_first_element(
        "via", str(forged.top_via).replace("127.0.0.1:15061", "127.0.0.1:15099")
    )
    actions = layer.receive(forged, CALLER, 0.1)
    assert [a for a in actions if isinstance(a, DeliverRequest)] and len(layer) == 2


def test_sip_17_2_3_rfc2543_requests_without_the_cookie_still_match() -> None:
    layer = TransactionLayer()
    old = (FIXTURES / "call_udp/01-INVITE.sip").read_bytes().replace(b"z9hG4bK-", b"2543-")
    first = layer.receive_data(old, CALLER, 0.0)
    tx = next(a for a in first if isinstance(a, DeliverRequest)).tx
    assert tx is not None and tx[0] == "s2543"
    assert not [a for a in layer.receive_data(old, CALLER, 0.1) if isinstance(a, DeliverRequest)]


def test_sip_21_5_4_new_requests_over_the_limit_get_503_retransmissions_do_not() -> None:
    layer = TransactionLayer(max_server_transactions=1, retry_after=7)
    new_invite(layer)
    shed = layer.receive(req("call_udp/01-INVITE.sip"), CALLER, 0.1)
    ((sent,),) = [sends(shed)]
    assert isinstance(sent.message, Response) and sent.message.status == 503
    assert sent.message.headers.get("Retry-After") == "7" and len(layer) == 1
    assert len(sends(layer.receive(req("ivr_call/01-INVITE.sip"), CALLER, 0.2))) == 1  # 100 again


def test_sip_18_2_1_bad_datagrams_get_400_or_are_dropped() -> None:
    layer = TransactionLayer()
    data = (FIXTURES / "call_udp/01-INVITE.sip").read_bytes()
    (answer,) = layer.receive_data(data.replace(b"CSeq: 1 INVITE", b"CSeq: x"), CALLER, 0.0)
    assert isinstance(answer, SendMessage) and answer.data.startswith(b"SIP/2.0 400 Bad Request")
    assert isinstance(answer.message, Response) and answer.message.to_tag  # §8.2.6.2
    (again,) = layer.receive_data(data.replace(b"CSeq: 1 INVITE", b"CSeq: x"), CALLER, 0.5)
    assert isinstance(again, SendMessage) and again.data == answer.data  # same tag (§8.2.7)
    (dropped,) = layer.receive_data(data.replace(b"Via:", b"Xia:"), CALLER, 0.0)
    assert isinstance(dropped, Dropped) and len(layer) == 0


def test_sip_8_1_3_1_transport_errors_become_503_or_a_failure() -> None:
    layer = TransactionLayer()
    tx, _ = layer.send_request(req("register/05-OPTIONS.sip"), UDP, 0.0)
    (up,) = layer.transport_error(tx, 0.1)
    assert isinstance(up, DeliverResponse) and up.local and up.response.status == 503
    _invite, delivered, _ = new_invite(layer)
    assert delivered.tx is not None
    (failed,) = layer.transport_error(delivered.tx, 0.2)
    assert isinstance(failed, TransactionFailed) and failed.reason == "transport error"


def test_sip_8_1_1_7_requests_we_send_need_a_cookie_branch_and_no_ack() -> None:
    layer = TransactionLayer()
    old = parse_message(
        (FIXTURES / "call_udp/01-INVITE.sip").read_bytes().replace(b"z9hG4bK-", b"x-")
    )
    assert isinstance(old, Request)
    with pytest.raises(LocalSipError):
        layer.send_request(old, UDP, 0.0)
    with pytest.raises(LocalSipError):
        layer.send_request(req("call_udp/04-ACK.sip"), UDP, 0.0)
    layer.send_request(req("call_udp/01-INVITE.sip"), UDP, 0.0)
    with pytest.raises(LocalSipError):
        layer.send_request(req("call_udp/01-INVITE.sip"), UDP, 0.0)


def test_sip_17_timers_scale_with_t1() -> None:
    layer = TransactionLayer(timers=TimerConfig(t1=0.1, t2=0.4, t4=1.0))
    layer.send_request(req("register/05-OPTIONS.sip"), UDP, 0.0)
    events = run_timers(layer)
    assert retransmit_times(events)[:5] == pytest.approx([0.1, 0.3, 0.7, 1.1, 1.5])
    assert [t for t, a in events if isinstance(a, DeliverResponse)] == pytest.approx([6.4])
