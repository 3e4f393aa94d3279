"""Mutated real messages never crash the parser, the framer or the transaction layer.

12,000 generated inputs in all: the captured sipp messages with byte flips,
truncations, insertions (CR, LF, NUL, UTF-8 junk), duplicated and dropped
header lines, huge or negative Content-Length, and plain random bytes. The
contract (RFC 3261 §18.3 / §21.4.1 as the parser applies it): the parser either
returns a message that re-serialises stably, or raises `SipParseError` -- never
anything else -- and the error says whether a response can be sent; when it
can, `error_response` builds one.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ivr.sip.actions import Peer
from ivr.sip.builders import error_response
from ivr.sip.errors import SipParseError
from ivr.sip.framing import StreamFramer
from ivr.sip.message import Request, Response, parse_message
from ivr.sip.transaction import TransactionLayer

FIXTURES = Path(__file__).parent / "fixtures"
SEEDS = [p.read_bytes() for p in sorted(FIXTURES.glob("**/*.sip"))]
SETTINGS = {
    "deadline": None,
    "database": None,
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large],
}

Draw = Callable[..., object]


def _pos(draw: Draw, data: bytearray) -> int:
    return draw(st.integers(0, max(len(data) - 1, 0)))  # type: ignore[return-value]


def flip(draw: Draw, data: bytearray) -> bytearray:
    if data:
        data[_pos(draw, data)] ^= draw(st.integers(1, 255))  # type: ignore[operator]
    return data


def truncate(draw: Draw, data: bytearray) -> bytearray:
    return data[: _pos(draw, data)]


def insert(draw: Draw, data: bytearray) -> bytearray:
    junk = draw(st.sampled_from([b"\r", b"\n", b"\r\n", b"\x00", b" ", b":", b";", b",", b'"', b"<",
                                 b"\xff\xfe", "é".encode(), b"\r\n\r\n", b"\r\n "]))  # fmt: skip
    at = _pos(draw, data)
    return data[:at] + junk + data[at:]  # type: ignore[operator]


def _lines(data: bytearray) -> list[bytes]:
    return bytes(data).split(b"\r\n")


def duplicate_line(draw: Draw, data: bytearray) -> bytearray:
    lines = _lines(data)
    i = draw(st.integers(0, len(lines) - 1))
    lines.insert(i, lines[i])  # type: ignore[arg-type]
    return bytearray(b"\r\n".join(lines))


def drop_line(draw: Draw, data: bytearray) -> bytearray:
    lines = _lines(data)
    del lines[draw(st.integers(0, len(lines) - 1))]  # type: ignore[arg-type]
    return bytearray(b"\r\n".join(lines))


def content_length(draw: Draw, data: bytearray) -> bytearray:
    value = draw(
        st.sampled_from([b"-1", b"99999999999999999999", b"1e3", b"", b"0", b"65536", b" 12 "])
    )
    lines = [
        (line.split(b":", 1)[0] + b": " + value)  # type: ignore[operator]
        if line.lower().startswith((b"content-length", b"l:"))
        else line
        for line in _lines(data)
    ]
    return bytearray(b"\r\n".join(lines))


SWAPS = [
    (b"SIP/2.0", b"SIP/3.0"),
    (b"SIP/2.0", b"SIP/2.0 "),
    (b"sip:", b"xmpp:"),
    (b"sip:", b"tel:"),
    (b"Via:", b"v:"),
    (b"branch=z9hG4bK", b"branch="),
    (b"CSeq: 1 ", b"CSeq: 1 X"),
    (b"Call-ID", b"Call-Id"),
    (b"<", b""),
    (b">", b""),
    (b'"', b""),
    (b";tag=", b";tag"),
]


def swap(draw: Draw, data: bytearray) -> bytearray:
    old, new = draw(st.sampled_from(SWAPS))  # type: ignore[misc]
    return bytearray(bytes(data).replace(old, new, draw(st.integers(1, 3))))  # type: ignore[arg-type]


# Truncation and raw binary mostly stop at "no end of headers"; keep them rarer.
MUTATIONS = [flip, insert, insert, duplicate_line, duplicate_line, drop_line, content_length]
MUTATIONS += [content_length, swap, swap, swap, truncate]


@st.composite
def mutated(draw: Draw) -> bytes:
    data = bytearray(draw(st.sampled_from(SEEDS)))  # type: ignore[arg-type]
    for _ in range(draw(st.integers(1, 4))):  # type: ignore[arg-type]
        data = draw(st.sampled_from(MUTATIONS))(draw, data)  # type: ignore[operator]
    return bytes(data)


INPUTS = st.one_of(mutated(), mutated(), mutated(), mutated(), st.binary(max_size=400))


def check_error(exc: SipParseError) -> None:
    assert exc.status in (400, 413, 416, 505)
    assert isinstance(exc.can_respond, bool)
    response = error_response(exc, to_tag="fuzz")
    if exc.can_respond:
        assert response is not None and response.status == exc.status
        response.serialise()
    else:
        assert response is None


def read_every_view(message: Request | Response) -> None:
    views = ["top_via", "vias", "cseq", "from_", "to", "contacts", "record_route", "route"]
    for name in views + (["uri"] if isinstance(message, Request) else []):
        try:
            getattr(message, name)
        except SipParseError as exc:
            assert exc.can_respond == isinstance(message, Request) or name in ("top_via", "vias")


@settings(max_examples=8000, **SETTINGS)  # type: ignore[arg-type]
@given(INPUTS)
def test_sip_parser_raises_only_sip_parse_error_and_says_if_it_can_answer(data: bytes) -> None:
    try:
        message = parse_message(data)
    except SipParseError as exc:
        check_error(exc)
        return
    again = message.serialise()
    assert parse_message(again).serialise() == again
    message.headers._wire = None  # the lines joined again, not the bytes kept at parse
    assert message.serialise() == again
    read_every_view(message)


@settings(max_examples=2500, **SETTINGS)  # type: ignore[arg-type]
@given(st.lists(INPUTS, min_size=1, max_size=4), st.integers(1, 700))
def test_sip_framer_raises_only_sip_parse_error(messages: list[bytes], chunk: int) -> None:
    framer = StreamFramer(max_size=4096)
    stream = b"".join(messages)
    for i in range(0, len(stream), chunk):
        if framer.broken:
            return
        framer.feed(stream[i : i + chunk])
        while True:
            try:
                if framer.next_message() is None:
                    break
            except SipParseError as exc:
                check_error(exc)
                if framer.broken:
                    return


@settings(max_examples=1500, **SETTINGS)  # type: ignore[arg-type]
@given(st.lists(INPUTS, min_size=1, max_size=3))
def test_sip_transaction_layer_survives_any_datagram(datagrams: list[bytes]) -> None:
    layer = TransactionLayer()
    peer = Peer("192.0.2.9", 5060)
    for i, data in enumerate(datagrams):
        actions = layer.receive_data(data, peer, float(i))
        assert isinstance(actions, list)
    while (when := layer.next_deadline()) is not None:
        assert isinstance(layer.handle_timer(when), list)
