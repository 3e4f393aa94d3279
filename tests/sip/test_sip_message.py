"""Parsing and serialising SIP messages (RFC 3261 §7, §18.3, §20, §25) on real sipp captures."""

from __future__ import annotations

from pathlib import Path

import pytest

from ivr.sip.builders import error_response, make_request, make_response
from ivr.sip.errors import SipParseError
from ivr.sip.message import Request, Response, parse_message
from ivr.sip.values import NameAddr, Via

FIXTURES = Path(__file__).parent / "fixtures"
CAPTURED = sorted(FIXTURES.glob("*/[0-9][0-9]-*.sip"))


def load(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def request(name: str) -> Request:
    message = parse_message(load(name))
    assert isinstance(message, Request)
    return message


def response(name: str) -> Response:
    message = parse_message(load(name))
    assert isinstance(message, Response)
    return message


def reject(data: bytes, *, stream: bool = False) -> SipParseError:
    with pytest.raises(SipParseError) as caught:
        parse_message(data, stream=stream)
    return caught.value


def test_fixtures_were_captured() -> None:
    folders = {path.parent.name for path in CAPTURED}
    assert folders == {"call_udp", "call_tcp", "ivr_call", "register", "cancel"}
    assert len(CAPTURED) == 37


@pytest.mark.parametrize("path", CAPTURED, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_sip_7_captured_message_round_trips_byte_for_byte(path: Path) -> None:
    data = path.read_bytes()
    message = parse_message(data, stream="tcp" in path.parent.name)
    assert message.serialise() == data
    assert bytes(message) == data
    message.headers._wire = None  # not the received bytes kept: the lines joined again
    assert message.serialise() == data


def test_sip_7_an_unchanged_datagram_serialises_to_the_bytes_received() -> None:
    """No copy, no join: `Transaction.release` keeps a request as these bytes."""
    data = load("call_udp/01-INVITE.sip")
    message = parse_message(data)
    assert message.serialise() is data
    message.target = "sip:other@192.0.2.1"  # the start line changed: built again
    assert message.serialise() == data.replace(
        data.split(b"\r\n")[0], b"INVITE sip:other@192.0.2.1 SIP/2.0"
    )
    stamped = parse_message(data)
    stamped.headers.replace_first_element("via", "SIP/2.0/UDP 192.0.2.9;branch=z9hG4bKx")
    assert b"192.0.2.9" in stamped.serialise()  # a changed header: built again (§18.2.1)
    bodied = parse_message(data)
    bodied.body = b""
    assert not bodied.serialise().endswith(parse_message(data).body)


def test_sip_25_tortuous_invite_round_trips_and_reads_like_rfc_4475() -> None:
    data = load("handmade/tortuous_invite.sip")
    message = request("handmade/tortuous_invite.sip")
    assert message.serialise() == data
    message.headers._wire = None  # the folded lines joined again, not the bytes kept
    assert message.serialise() == data
    message = request("handmade/tortuous_invite.sip")
    assert message.method == "INVITE"
    assert message.uri.user == "vivekg" and message.uri.has_param("unknownparam")
    assert message.to.tag == "1918181833n"
    assert message.from_.display_name == 'J Rosenberg \\"'
    assert message.from_tag == "98asjd8"
    assert message.cseq.number == 9 and message.cseq.method == "INVITE"
    assert message.headers.get("max-forwards") == "0068"
    assert message.headers.get("NEWFANGLEDHEADER") == "newfangled value continued newfangled value"
    assert message.headers.get("subject") == ""
    # §7.3.1: the three Via values, over two lines (one of them compact), in order.
    assert [v.host for v in message.vias] == [
        "192.0.2.2",
        "spindle.example.com",
        "192.168.255.111",
    ]
    assert message.vias[1].branch == "z9hG4bK9ikj8"
    assert message.vias[2].branch == "z9hG4bK30239"
    (contact,) = message.contacts
    assert contact.display_name == 'Quoted string ""'
    assert contact.param("newparam") == "newvalue" and contact.param("q") == "0.33"
    assert message.route == ["<sip:services.example.com;lr;unknownwith=value;unknown-no-value>"]
    assert len(message.body) == 150


def test_sip_7_3_3_compact_forms_are_the_same_headers() -> None:
    info = request("ivr_call/06-INFO.sip")
    assert info.headers.get("Via") == info.headers.get("v")
    assert info.call_id == info.headers.get("i")
    assert info.content_type == "application/dtmf-relay"
    assert info.headers.get("content-length") == "24"
    assert info.body == b"Signal=5\r\nDuration=160\r\n"
    ok = response("register/06-200.sip")
    assert ok.headers.get("supported") == "timer"


def test_sip_20_42_via_branch_and_rport() -> None:
    invite = request("ivr_call/01-INVITE.sip")
    via = invite.top_via
    assert via.transport == "UDP" and via.sent_by == ("127.0.0.1", 15061)
    assert via.branch is not None and via.rfc3261_branch
    assert via.rport == ""  # RFC 3581 §3: present, no value
    assert via.received is None
    tcp = request("call_tcp/01-INVITE.sip")
    assert tcp.top_via.transport == "TCP"


def test_sip_20_30_record_route_lists_keep_their_order() -> None:
    ringing = response("ivr_call/03-180.sip")
    assert ringing.record_route == [
        "<sip:edge.ringway.test;lr>",
        "<sip:127.0.0.1:15090;lr;ftag=" + ringing.record_route[1].split("ftag=")[1],
    ]
    ok = response("ivr_call/04-200.sip")
    assert ok.record_route == ringing.record_route  # one line or two, the same list
    info = request("ivr_call/06-INFO.sip")
    assert info.route == list(reversed(ok.record_route))  # sipp reversed them (§12.1.2)


def test_sip_20_10_contact_with_quoted_instance_parameter() -> None:
    register = request("register/01-REGISTER.sip")
    (contact,) = register.contacts
    assert contact.param("+sip.instance") == '"<urn:uuid:00000000-0000-1000-8000-00a0c91e6bf6>"'
    assert contact.param("expires") == "3600"
    assert contact.parsed_uri().param("transport") == "UDP"
    assert register.from_.display_name == "Agent 1001"


def test_sip_19_1_request_uri_and_header_tags() -> None:
    invite = request("call_udp/01-INVITE.sip")
    assert invite.uri.user == "service" and invite.uri.port == 15090
    assert invite.from_tag is not None and invite.to_tag is None
    assert invite.to.display_name == "service"
    assert invite.contacts == [NameAddr(uri="sip:sipp@127.0.0.1:15061")]


def test_sip_8_2_6_response_copies_via_from_to_call_id_cseq() -> None:
    invite = request("ivr_call/01-INVITE.sip")
    ringing = make_response(invite, 180, to_tag="abc")
    for name in ("via", "from", "call-id", "cseq"):
        assert ringing.headers.get_all(name) == invite.headers.get_all(name)
    assert ringing.to_tag == "abc" and ringing.reason == "Ringing"
    trying = make_response(invite, 100, to_tag="abc")
    assert trying.to_tag is None  # §8.2.6.2: no tag needed on a 100
    again = parse_message(ringing.serialise())
    assert isinstance(again, Response) and again.serialise() == ringing.serialise()


def test_sip_8_1_1_built_request_parses_back() -> None:
    built = make_request(
        "OPTIONS",
        "sip:ivr@192.0.2.10",
        via=Via(transport="UDP", host="192.0.2.1", port=5060, params=(("branch", "z9hG4bKx"),)),
        from_=NameAddr(uri="sip:ringway@192.0.2.1", display_name="Ringway").with_tag("t1"),
        to="<sip:ivr@192.0.2.10>",
        call_id="c1@192.0.2.1",
        cseq=7,
        body=b"hello",
        content_type="text/plain",
    )
    parsed = parse_message(built.serialise())
    assert isinstance(parsed, Request)
    assert parsed.cseq.number == 7 and parsed.from_.display_name == "Ringway"
    assert parsed.body == b"hello" and parsed.serialise() == built.serialise()


def test_sip_7_changing_a_header_rewrites_only_that_line() -> None:
    data = load("call_udp/01-INVITE.sip")
    message = parse_message(data)
    message.headers.set("Max-Forwards", "69")
    out = message.serialise()
    assert out == data.replace(b"Max-Forwards: 70", b"Max-Forwards: 69")


def test_sip_18_3_datagram_surplus_after_content_length_is_discarded() -> None:
    data = load("call_udp/01-INVITE.sip")
    message = parse_message(data + b"garbage")
    assert message.serialise() == data


def test_sip_7_5_leading_crlfs_are_ignored() -> None:
    data = load("call_udp/04-ACK.sip")
    assert parse_message(b"\r\n\r\n" + data).serialise() == data


def test_sip_18_3_no_content_length_on_udp_means_the_rest_is_body() -> None:
    data = load("call_udp/01-INVITE.sip").replace(b"Content-Length:   129\r\n", b"")
    message = parse_message(data)
    assert len(message.body) == 129


# -- invalid variants: the exact status, and whether it can be sent -------------------


INVITE = load("call_udp/01-INVITE.sip")


@pytest.mark.parametrize(
    ("mutate", "status", "can_respond"),
    [
        # §8.1.1.7 / §18.2.2: no Via, nowhere to send an answer.
        (
            lambda d: d.replace(b"Via: SIP/2.0/UDP 127.0.0.1:15061;branch=z9hG4bK-", b"X-Via: x"),
            400,
            False,
        ),
        (lambda d: d.replace(b"Via: SIP/2.0/UDP", b"Via: SIP/2.0"), 400, False),
        (lambda d: d.replace(b"Call-ID:", b"Call-Identity:"), 400, True),  # §8.1.1
        (lambda d: d.replace(b"CSeq: 1 INVITE", b"CSeq: 1 INVITE\r\nCSeq: 2 INVITE"), 400, True),
        (lambda d: d.replace(b"CSeq: 1 INVITE", b"CSeq: 1 OPTIONS"), 400, True),  # §8.1.1.5
        (lambda d: d.replace(b"CSeq: 1 INVITE", b"CSeq: 4294967296 INVITE"), 400, True),
        (lambda d: d.replace(b"SIP/2.0\r\n", b"SIP/7.0\r\n", 1), 505, True),  # §8.2.1 / §21.5.6
        (lambda d: d.replace(b"SIP/2.0\r\n", b"HTTP/1.1\r\n", 1), 400, True),
        (lambda d: d.replace(b"INVITE sip:", b"INVITE http:", 1), 416, True),  # §8.2.2.1
        (
            lambda d: d.replace(b"INVITE sip:service@", b"INVITE sip:", 1).replace(
                b":15090 ", b": ", 1
            ),
            400,
            True,
        ),
        (lambda d: d.replace(b"INVITE sip:", b"INVITE  sip:", 1), 400, True),
        (lambda d: d.replace(b"Content-Length:   129", b"Content-Length: 130"), 400, True),  # §18.3
        (lambda d: d.replace(b"Content-Length:   129", b"Content-Length: -1"), 400, True),
        (
            lambda d: d.replace(b"Content-Length:   129", b"Content-Length: 99999999999999999"),
            400,
            True,
        ),
        (
            lambda d: d.replace(b"Max-Forwards: 70\r\n", b"Max-Forwards: 70\n"),
            400,
            False,
        ),  # bare LF
        (lambda d: d.replace(b"Subject:", b"Subject"), 400, True),  # a line without ':'
        (lambda d: d.replace(b"Subject:", b"Sub ject:"), 400, True),
        (lambda d: d.replace(b"sipp <sip:sipp", b"sipp <sip:\xffsipp"), 400, False),  # not UTF-8
        (lambda d: d.replace(b"\r\n\r\n", b"\r\n"), 400, False),  # no end of the head
    ],
)
def test_sip_21_4_1_invalid_invite_is_rejected_with_exact_status(
    mutate, status, can_respond
) -> None:  # type: ignore[no-untyped-def]
    exc = reject(mutate(INVITE))
    assert (exc.status, exc.can_respond) == (status, can_respond)
    answer = error_response(exc, to_tag="t")
    if can_respond:
        assert answer is not None and answer.status == status
        assert answer.headers.get_all("via") == exc.headers.get_all("via") if exc.headers else False
        assert answer.serialise().startswith(f"SIP/2.0 {status} ".encode())
    else:
        assert answer is None


def test_sip_18_1_2_bad_response_is_never_answered() -> None:
    data = load("call_udp/02-180.sip").replace(b"CSeq: 1 INVITE", b"CSeq: one INVITE")
    exc = reject(data)
    assert exc.status == 400 and not exc.can_respond
    exc = reject(load("call_udp/02-180.sip").replace(b"SIP/2.0 180", b"SIP/2.0 18"))
    assert not exc.can_respond


def test_sip_captured_sipp_request_uri_with_display_name_is_400() -> None:
    # Real sipp 3.6.1 output: [next_url] copied the Contact's display name into
    # the request line. The Via is fine, so the peer gets its 400.
    exc = reject(load("invalid/sipp_next_url_with_display_name.sip"))
    assert exc.status == 400 and exc.can_respond
    answer = error_response(exc)
    assert answer is not None and answer.call_id.startswith("1-")


def test_sip_20_14_content_length_mandatory_on_streams() -> None:
    data = load("call_tcp/04-ACK.sip").replace(b"Content-Length: 0\r\n", b"")
    exc = reject(data, stream=True)
    assert exc.status == 400 and exc.can_respond


def test_sip_lazy_header_errors_say_whether_to_answer() -> None:
    message = parse_message(INVITE.replace(b"From: sipp <sip:sipp@", b"From: sipp <sipp@"))
    with pytest.raises(SipParseError) as caught:
        message.from_  # noqa: B018
    assert caught.value.can_respond and caught.value.status == 400
