"""Dialogs (RFC 3261 §12) and the UAS 2xx retransmission (§13.3.1.4), on the sipp IVR call."""

from __future__ import annotations

from pathlib import Path

import pytest

from ivr.sip.actions import AckTimeout, Peer, SendMessage
from ivr.sip.answer import AnswerRetransmitter
from ivr.sip.builders import make_response
from ivr.sip.dialog import Dialog, DialogState, DialogTable
from ivr.sip.errors import CallDoesNotExist, LocalSipError, OutOfOrderRequest, RemoteSipError
from ivr.sip.message import Request, Response, parse_message
from ivr.sip.values import Via

FIXTURES = Path(__file__).parent / "fixtures"
VIA = Via(transport="UDP", host="127.0.0.1", port=15061, params=(("branch", "z9hG4bKnew"),))


def msg(name: str) -> Request | Response:
    return parse_message((FIXTURES / name).read_bytes())


def req(name: str) -> Request:
    message = msg(name)
    assert isinstance(message, Request)
    return message


def res(name: str) -> Response:
    message = msg(name)
    assert isinstance(message, Response)
    return message


def uac_dialog() -> Dialog:
    return Dialog.as_uac(req("ivr_call/01-INVITE.sip"), res("ivr_call/04-200.sip"))


def uas_dialog() -> Dialog:
    return Dialog.as_uas(req("ivr_call/01-INVITE.sip"), res("ivr_call/04-200.sip"), local_seq=100)


# -- the UAC side, checked against the in-dialog requests sipp built ------------------


def test_sip_12_1_2_uac_dialog_from_the_2xx() -> None:
    dialog = uac_dialog()
    ok = res("ivr_call/04-200.sip")
    assert dialog.state is DialogState.CONFIRMED
    assert dialog.id.call_id == ok.call_id
    assert (dialog.local_tag, dialog.remote_tag) == (ok.from_tag, ok.to_tag)
    assert dialog.remote_target == "sip:ivr@127.0.0.1:15090;transport=UDP"
    assert list(dialog.route_set) == list(reversed(ok.record_route))  # reversed for the UAC
    assert dialog.local_seq == 1 and dialog.remote_seq is None


@pytest.mark.parametrize(
    ("method", "fixture"), [("INFO", "06-INFO"), ("INVITE", "08-INVITE"), ("BYE", "11-BYE")]
)
def test_sip_12_2_1_1_in_dialog_requests_match_sipps(method: str, fixture: str) -> None:
    dialog = uac_dialog()
    dialog.local_seq = req(f"ivr_call/{fixture}.sip").cseq.number - 1
    ours = dialog.create_request(method, via=VIA)
    theirs = req(f"ivr_call/{fixture}.sip")
    assert ours.target == theirs.target
    assert ours.route == theirs.route  # loose routing: Route = the route set
    assert ours.cseq == theirs.cseq and ours.call_id == theirs.call_id
    assert (ours.from_tag, ours.to_tag) == (theirs.from_tag, theirs.to_tag)
    assert ours.from_.uri == theirs.from_.uri and ours.to.uri == theirs.to.uri
    assert bool(ours.contacts) == (method == "INVITE")  # target refreshes carry Contact


def test_sip_13_2_2_4_ack_for_a_2xx_reuses_the_invite_cseq() -> None:
    dialog = uac_dialog()
    ack = dialog.create_ack(req("ivr_call/01-INVITE.sip"), via=VIA)
    theirs = req("ivr_call/05-ACK.sip")
    assert (ack.method, ack.target, ack.cseq, ack.route) == (
        "ACK",
        theirs.target,
        theirs.cseq,
        theirs.route,
    )
    assert dialog.local_seq == 1  # an ACK takes no new number
    with pytest.raises(LocalSipError):
        dialog.create_request("ACK", via=VIA)


def test_sip_12_1_early_dialog_from_180_is_confirmed_by_the_200() -> None:
    invite = req("ivr_call/01-INVITE.sip")
    dialog = Dialog.as_uac(invite, res("ivr_call/03-180.sip"))
    assert dialog.state is DialogState.EARLY
    dialog.receive_response(invite, res("ivr_call/04-200.sip"))
    assert dialog.state is DialogState.CONFIRMED


def test_sip_12_3_non_2xx_final_ends_an_early_dialog() -> None:
    invite = req("ivr_call/01-INVITE.sip")
    dialog = Dialog.as_uac(invite, res("ivr_call/03-180.sip"))
    dialog.receive_response(invite, make_response(invite, 486, to_tag=dialog.remote_tag))
    assert dialog.state is DialogState.TERMINATED


@pytest.mark.parametrize("status", [481, 408])
def test_sip_12_2_1_2_481_or_408_to_an_in_dialog_request_ends_the_dialog(status: int) -> None:
    dialog = uac_dialog()
    info = dialog.create_request("INFO", via=VIA)
    dialog.receive_response(info, make_response(info, status))
    assert dialog.state is DialogState.TERMINATED
    with pytest.raises(LocalSipError):
        dialog.create_request("BYE", via=VIA)


def test_sip_12_2_1_2_2xx_to_a_reinvite_refreshes_the_remote_target() -> None:
    dialog = uac_dialog()
    reinvite = dialog.create_request("INVITE", via=VIA)
    ok = make_response(reinvite, 200, headers=[("Contact", "<sip:ivr@192.0.2.99:5080>")])
    dialog.receive_response(reinvite, ok)
    assert dialog.remote_target == "sip:ivr@192.0.2.99:5080"


def test_sip_12_2_1_1_strict_route_goes_into_the_request_uri() -> None:
    dialog = uac_dialog()
    dialog.route_set = ("<sip:strict.example.com;maddr=10.0.0.1>", "<sip:p2.example.com;lr>")
    bye = dialog.create_request("BYE", via=VIA)
    assert bye.target == "sip:strict.example.com"
    assert bye.route == ["<sip:p2.example.com;lr>", f"<{dialog.remote_target}>"]


def test_sip_12_1_dialog_needs_tag_and_contact() -> None:
    invite = req("ivr_call/01-INVITE.sip")
    with pytest.raises(RemoteSipError):
        Dialog.as_uac(invite, make_response(invite, 200))  # no To tag
    no_contact = make_response(invite, 200, to_tag="x")
    with pytest.raises(RemoteSipError):
        Dialog.as_uac(invite, no_contact)
    with pytest.raises(LocalSipError):
        Dialog.as_uas(invite, make_response(invite, 200))


# -- the UAS side ---------------------------------------------------------------------


def test_sip_12_1_1_uas_dialog_and_its_bye() -> None:
    invite = req("ivr_call/01-INVITE.sip")
    invite.headers.prepend("Record-Route", "<sip:p1.example.com;lr>, <sip:p2.example.com;lr>")
    dialog = Dialog.as_uas(invite, res("ivr_call/04-200.sip"), local_seq=100)
    assert dialog.route_set == ("<sip:p1.example.com;lr>", "<sip:p2.example.com;lr>")  # in order
    assert dialog.remote_target == "sip:+15551230001@127.0.0.1:15061;transport=UDP"
    assert dialog.remote_seq == 1
    bye = dialog.create_request("BYE", via=VIA)
    assert bye.target == dialog.remote_target and bye.cseq.number == 101
    assert bye.from_tag == res("ivr_call/04-200.sip").to_tag
    assert bye.to_tag == invite.from_tag
    assert bye.route == ["<sip:p1.example.com;lr>", "<sip:p2.example.com;lr>"]


def test_sip_12_2_2_table_routes_the_callers_in_dialog_requests() -> None:
    table = DialogTable()
    dialog = uas_dialog()
    table.add(dialog)
    assert table.for_request(req("ivr_call/01-INVITE.sip")) is None  # no To tag: not in a dialog
    for name, seq in (("06-INFO", 2), ("08-INVITE", 3), ("10-ACK", 3)):
        assert table.for_request(req(f"ivr_call/{name}.sip")) is dialog
        assert dialog.remote_seq == seq
    assert table.for_request(req("ivr_call/11-BYE.sip")) is dialog
    assert dialog.state is DialogState.TERMINATED
    table.remove(dialog)
    assert len(table) == 0


def test_sip_12_2_2_unknown_dialog_is_481() -> None:
    table = DialogTable()
    table.add(uas_dialog())
    stranger = req("ivr_call/11-BYE.sip")
    stranger.headers.set("To", "<sip:ivr@127.0.0.1:15090>;tag=nobody")
    with pytest.raises(CallDoesNotExist) as caught:
        table.for_request(stranger)
    assert caught.value.status == 481
    answer = make_response(stranger, caught.value.status, caught.value.reason)
    assert answer.serialise().startswith(b"SIP/2.0 481 Call/Transaction Does Not Exist\r\n")


def test_sip_12_2_2_lower_cseq_is_500() -> None:
    dialog = uas_dialog()
    dialog.receive_request(req("ivr_call/08-INVITE.sip"))
    with pytest.raises(OutOfOrderRequest) as caught:
        dialog.receive_request(req("ivr_call/06-INFO.sip"))
    assert caught.value.status == 500


def test_sip_12_2_table_matches_responses_by_local_from_tag() -> None:
    table = DialogTable()
    dialog = uac_dialog()
    table.add(dialog)
    assert table.for_response(res("ivr_call/12-200.sip")) is dialog
    assert table.get(dialog.id) is dialog


# -- §13.3.1.4: the 2xx goes out again until the ACK ------------------------------------


def test_sip_13_3_1_4_2xx_retransmitted_t1_doubling_to_t2_until_ack() -> None:
    answers = AnswerRetransmitter()
    ok = res("ivr_call/04-200.sip")
    answers.start(ok, Peer("127.0.0.1", 15061), 0.0)
    times = []
    while (when := answers.next_deadline()) is not None and when < 8.0:
        actions = answers.handle_timer(when)
        assert all(isinstance(a, SendMessage) and a.data == ok.serialise() for a in actions)
        times.append(when)
    assert times == [0.5, 1.5, 3.5, 7.5]
    assert answers.ack_received(req("ivr_call/05-ACK.sip"))
    assert answers.next_deadline() is None and len(answers) == 0
    assert not answers.ack_received(req("ivr_call/05-ACK.sip"))


def test_sip_13_3_1_4_no_ack_within_64_t1_reports_ack_timeout() -> None:
    answers = AnswerRetransmitter()
    answers.start(res("ivr_call/04-200.sip"), Peer("127.0.0.1", 15061, "TCP"), 0.0)
    events = []
    while (when := answers.next_deadline()) is not None:
        events += [(when, a) for a in answers.handle_timer(when)]
    sent = [t for t, a in events if isinstance(a, SendMessage)]
    assert sent == [0.5, 1.5, 3.5, 7.5, 11.5, 15.5, 19.5, 23.5, 27.5, 31.5]  # TCP too
    assert [(t, type(a)) for t, a in events[-1:]] == [(32.0, AckTimeout)]
