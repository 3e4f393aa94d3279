"""The fast paths keep their meaning: caches follow every change, released state is unused.

Each speed-up of the hot path (benchmarks/sip_cps.py) trades work for a cache or
for dropped state; these tests pin what must still hold: a changed message
serialises its change, a header index follows `set`/`add`/`remove`, a response
does not alias the request's To, an Accepted INVITE transaction still absorbs
retransmissions and passes ACKs after releasing its messages (RFC 6026 §8.7),
and a malformed From, To or Contact is a 400 before any transaction exists.
"""

from __future__ import annotations

from pathlib import Path

from ivr.sip.actions import DeliverRequest, Dropped, Peer, SendMessage, TransactionFailed
from ivr.sip.builders import make_response
from ivr.sip.message import Request, parse_message
from ivr.sip.transaction import TransactionLayer
from ivr.sip.transaction_states import State
from ivr.sip.values import parse_name_addr

FIXTURES = Path(__file__).parent / "fixtures"
CALLER = Peer("127.0.0.1", 15061)
INVITE = (FIXTURES / "call_udp" / "01-INVITE.sip").read_bytes()
ACK = (FIXTURES / "call_udp" / "04-ACK.sip").read_bytes()


def invite() -> Request:
    message = parse_message(INVITE)
    assert isinstance(message, Request)
    return message


def test_serialise_follows_header_body_and_start_line_changes() -> None:
    message = invite()
    assert message.serialise() == INVITE  # byte for byte, and cached from here on
    message.headers.set("Subject", "changed")
    assert b"Subject: changed\r\n" in message.serialise()
    message.set_body(b"v=0\r\n")
    assert message.serialise().endswith(b"Content-Length: 5\r\n\r\nv=0\r\n")
    message.target = "sip:other@127.0.0.1"
    assert message.serialise().startswith(b"INVITE sip:other@127.0.0.1 SIP/2.0\r\n")


def test_header_index_follows_set_add_remove_and_compact_forms() -> None:
    message = invite()
    assert message.headers.get("i") == message.headers.get("Call-ID") == "1-22148@127.0.0.1"
    message.headers.set("call-id", "x@y")
    assert message.call_id == "x@y"
    message.headers.remove("Call-ID")
    assert message.headers.get("call-id") is None
    message.headers.add("i", "z@y")
    assert message.call_id == "z@y"


def test_typed_views_and_tags_are_parsed_again_after_a_change() -> None:
    message = invite()
    assert message.to_tag is None
    message.headers.set("To", "<sip:service@127.0.0.1>;tag=abc")
    assert message.to_tag == "abc" and message.to.uri == "sip:service@127.0.0.1"


def test_responses_share_copied_fields_but_never_the_request_to_tag() -> None:
    request = invite()
    ringing = make_response(request, 180, to_tag="t1")
    trying = make_response(request, 100, to_tag="t1")
    assert ringing.to_tag == "t1" and trying.to_tag is None and request.to_tag is None
    ringing.headers.set("Call-ID", "changed")  # a change replaces the field, never edits it
    assert request.call_id == trying.call_id == "1-22148@127.0.0.1"


def test_cached_name_addr_is_immutable_so_sharing_is_safe() -> None:
    first = parse_name_addr("service <sip:service@127.0.0.1:15090>")
    assert parse_name_addr("service <sip:service@127.0.0.1:15090>") is first
    tagged = first.with_tag("x")
    assert first.tag is None and tagged.tag == "x"


def test_rfc6026_8_7_accepted_invite_absorbs_and_passes_acks_after_release() -> None:
    layer = TransactionLayer()
    actions = layer.receive_data(INVITE, CALLER, 0.0)
    tx = next(a.tx for a in actions if isinstance(a, DeliverRequest))
    assert tx is not None
    ok = make_response(invite(), 200, to_tag="22149SIPpTag011")
    layer.send_response(tx, ok, 0.1)
    assert layer.state(tx) is State.ACCEPTED
    assert layer.receive_data(INVITE, CALLER, 0.2) == []  # absorbed: not a second call
    ack = ACK.replace(b"branch=z9hG4bK-22148-1-5", b"branch=z9hG4bK-22148-1-0")
    passed = layer.receive_data(ack, CALLER, 0.3)
    assert [type(a) for a in passed] == [DeliverRequest]
    assert layer.handle_timer(32.2) == [] and layer.state(tx) is None  # Timer L: gone


def test_invite_without_contact_is_400_before_any_transaction() -> None:
    layer = TransactionLayer()
    no_contact = INVITE.replace(b"Contact: sip:sipp@127.0.0.1:15061\r\n", b"")
    [answer] = layer.receive_data(no_contact, CALLER, 0.0)
    assert isinstance(answer, SendMessage) and answer.data.startswith(b"SIP/2.0 400 ")
    assert len(layer) == 0


def test_malformed_from_is_400_and_a_malformed_ack_is_dropped() -> None:
    layer = TransactionLayer()
    bad_from = INVITE.replace(b"From: sipp <sip:", b"From: sipp <nonsense ")
    [answer] = layer.receive_data(bad_from, CALLER, 0.0)
    assert isinstance(answer, SendMessage) and answer.data.startswith(b"SIP/2.0 400 ")
    assert len(layer) == 0
    bad_ack = ACK.replace(b"To: ", b"To: <broken ")
    [dropped] = layer.receive_data(bad_ack, CALLER, 0.0)
    assert isinstance(dropped, Dropped)  # §17.2.3: an ACK is never answered


BYE = (FIXTURES / "call_udp" / "05-BYE.sip").read_bytes()


def test_sip_17_2_2_completed_bye_resends_the_same_bytes_after_release() -> None:
    layer = TransactionLayer()
    [deliver] = layer.receive_data(BYE, CALLER, 0.0)
    assert isinstance(deliver, DeliverRequest) and deliver.tx is not None
    [sent] = layer.send_response(deliver.tx, make_response(deliver.request, 200), 0.1)
    assert isinstance(sent, SendMessage) and layer.state(deliver.tx) is State.COMPLETED
    [again] = layer.receive_data(BYE, CALLER, 1.0)  # the BYE retransmitted
    assert isinstance(again, SendMessage) and again.retransmission
    assert again.data == sent.data and again.message.serialise() == sent.data
    [failed] = layer.transport_error(deliver.tx, 2.0)  # §17.2.4: the TU still gets the request
    assert isinstance(failed, TransactionFailed)
    assert failed.request.serialise() == deliver.request.serialise()
