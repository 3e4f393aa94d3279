"""URIs, name-addr, Via, CSeq and the header container (RFC 3261 §19.1, §20, §25)."""

from __future__ import annotations

import pytest

from ivr.sip.errors import SipParseError
from ivr.sip.headers import Headers, header_key
from ivr.sip.uri import parse_uri
from ivr.sip.values import (
    parse_cseq,
    parse_header_params,
    parse_name_addr,
    parse_via,
    split_commas,
)


@pytest.mark.parametrize(
    "text",
    [
        "sip:alice@atlanta.com",
        "sip:alice:secretword@atlanta.com;transport=tcp",
        "sips:alice@atlanta.com?subject=project%20x&priority=urgent",
        "sip:+1-212-555-1212:1234@gateway.com;user=phone",
        "sip:atlanta.com;method=REGISTER?to=alice%40atlanta.com",
        "sip:alice;day=tuesday@atlanta.com",
        "sip:[2001:db8::10]:5070;lr",
        "tel:+1-201-555-0123;phone-context=example.com",
    ],
)
def test_sip_19_1_3_example_uris_round_trip(text: str) -> None:
    assert str(parse_uri(text)) == text


def test_sip_19_1_1_uri_parts() -> None:
    uri = parse_uri("sip:alice:pw@[2001:db8::10]:5070;transport=tcp;lr?h=v")
    assert (uri.scheme, uri.user, uri.password) == ("sip", "alice", "pw")
    assert (uri.host, uri.port) == ("[2001:db8::10]", 5070)
    assert uri.param("TRANSPORT") == "tcp" and uri.param("lr") == "" and uri.param("x") is None
    assert uri.headers == (("h", "v"),)
    tel = parse_uri("TEL:+15551230001")
    assert tel.scheme == "tel" and tel.user == "+15551230001"


@pytest.mark.parametrize(
    ("text", "status"),
    [
        ("http://example.com/", 416),
        ("mailto:a@b", 416),
        ("sip:", 400),
        ("sip:alice@", 400),
        ("sip:@host", 400),
        ("sip:host:99999", 400),
        ("sip:host:5o60", 400),
        ("sip:ho st", 400),
        ("sip:[::1", 400),
        ("nocolon", 400),
    ],
)
def test_sip_8_2_2_1_bad_uris(text: str, status: int) -> None:
    with pytest.raises(SipParseError) as caught:
        parse_uri(text)
    assert caught.value.status == status


def test_sip_20_10_name_addr_forms() -> None:
    quoted = parse_name_addr('"Bob \\"B\\"" <sip:bob@biloxi.com>;tag=a6c85cf')
    assert quoted.display_name == 'Bob "B"' and quoted.tag == "a6c85cf"
    token = parse_name_addr("Anonymous <sip:c8oqz84zk7z@privacy.org>;tag=hyh8")
    assert token.display_name == "Anonymous"
    bare = parse_name_addr("sip:+12125551212@server.phone2net.com;tag=887s")
    assert bare.uri == "sip:+12125551212@server.phone2net.com" and bare.tag == "887s"
    assert parse_name_addr("*").uri == "*"
    assert str(quoted) == '"Bob \\"B\\"" <sip:bob@biloxi.com>;tag=a6c85cf'
    assert parse_name_addr(str(token.with_tag("x"))).tag == "x"


@pytest.mark.parametrize(
    "text", ["", '"unterminated <sip:a@b>', "<sip:a@b", "Bob sip:a@b", "<a b>"]
)
def test_sip_25_malformed_name_addr(text: str) -> None:
    with pytest.raises(SipParseError):
        parse_name_addr(text)


def test_sip_20_42_via_forms() -> None:
    via = parse_via(
        "SIP/2.0/UDP pc33.atlanta.com;branch=z9hG4bK776asdhds;rport=5060;received=192.0.2.1"
    )
    assert via.transport == "UDP" and via.host == "pc33.atlanta.com" and via.port is None
    assert via.sent_by == ("pc33.atlanta.com", 5060)
    assert via.received == "192.0.2.1" and via.rport == "5060"
    tls = parse_via("SIP/2.0/TLS [2001:db8::1]:5071;branch=z9hG4bKx")
    assert tls.sent_by == ("[2001:db8::1]", 5071)
    assert parse_via("SIP/2.0/TLS host;branch=z9hG4bKx").sent_by == ("host", 5061)
    assert str(via.with_param("received", "10.0.0.1")).endswith(";rport=5060;received=10.0.0.1")
    legacy = parse_via("SIP/2.0/UDP host;branch=1234")
    assert not legacy.rfc3261_branch


@pytest.mark.parametrize(
    "text", ["SIP/2.0 host", "SIP/2.0/UDP", "SIP/2.0/UDPhost", "HTTP/1.1/TCP h"]
)
def test_sip_25_malformed_via(text: str) -> None:
    with pytest.raises(SipParseError):
        parse_via(text)


def test_sip_20_16_cseq() -> None:
    assert parse_cseq("4711 INVITE").number == 4711
    assert str(parse_cseq("  0009   INVITE ")) == "9 INVITE"
    for bad in ("INVITE", "1", "x INVITE", "1 INVITE extra", "-1 INVITE", "4294967296 ACK"):
        with pytest.raises(SipParseError):
            parse_cseq(bad)


def test_sip_7_3_1_list_splitting_respects_quotes_and_brackets() -> None:
    value = '"Doe, John" <sip:j@x;a=1,2>;q=0.5, <sip:b@y>'
    assert split_commas(value) == ['"Doe, John" <sip:j@x;a=1,2>;q=0.5', "<sip:b@y>"]
    assert split_commas("INVITE, ACK,BYE") == ["INVITE", "ACK", "BYE"]
    assert parse_header_params(' ; a = "x;y" ; b') == (("a", '"x;y"'), ("b", None))


def test_sip_7_3_3_header_container_is_case_and_compact_insensitive() -> None:
    headers = Headers.from_pairs([("v", "SIP/2.0/UDP a"), ("VIA", "SIP/2.0/UDP b, SIP/2.0/UDP c")])
    assert header_key("I") == "call-id"
    assert headers.values("Via") == ["SIP/2.0/UDP a", "SIP/2.0/UDP b", "SIP/2.0/UDP c"]
    headers.prepend("Via", "SIP/2.0/UDP top")
    assert headers.values("via")[0] == "SIP/2.0/UDP top"
    headers.replace_first_element("via", "SIP/2.0/UDP new")
    assert headers.values("via")[:2] == ["SIP/2.0/UDP new", "SIP/2.0/UDP a"]
    headers.set("Contact", "<sip:x@y>")
    assert "contact" in headers and "m" in headers and headers.count("m") == 1
    assert headers.remove("v") == 3 and "via" not in headers
