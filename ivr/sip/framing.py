"""Cut a stream transport's bytes (TCP, TLS) into SIP messages (RFC 3261 §18.3).

On a stream, Content-Length is the only frame boundary, so it is mandatory; a
message whose head or announced size exceeds `max_size` is refused with 413
before its body is buffered. CRLFs between messages are skipped (§7.5); a
double CRLF there is an RFC 5626 §4.4.1 keep-alive ping, reported as `PING` so
the transport can answer with a single CRLF pong.

Usage, h11 style::

    framer.feed(data)
    while (item := framer.next_message()) is not None:
        ...   # a Request, a Response or PING

`next_message` raises `SipParseError` for a bad message. When `framer.broken`
is then True the boundary is lost: answer if `exc.can_respond`, then close.
"""

from __future__ import annotations

from typing import Final, NoReturn

from ivr.sip.errors import SipParseError
from ivr.sip.message import ParsedHead, Request, Response, build_message, parse_head

DEFAULT_MAX_SIZE = 65_535


class _Ping:
    def __repr__(self) -> str:
        return "PING"


PING: Final = _Ping()


class StreamFramer:
    __slots__ = ("_buffer", "_head", "_need", "broken", "max_size")

    def __init__(self, max_size: int = DEFAULT_MAX_SIZE) -> None:
        self.max_size = max_size
        self.broken = False
        self._buffer = bytearray()
        self._head: ParsedHead | None = None  # parsed head waiting for its body
        self._need = 0  # body bytes that head announced

    def feed(self, data: bytes) -> None:
        if self.broken:
            raise SipParseError("stream already failed; close the connection")
        self._buffer += data

    def next_message(self) -> Request | Response | _Ping | None:
        if self.broken:
            return None
        if self._head is None:
            ping = self._skip_crlf()
            if ping is not None or not self._read_head():
                return ping
        return self._read_body()

    def _skip_crlf(self) -> _Ping | None:
        buffer = self._buffer
        skip = 0
        while buffer.startswith(b"\r\n", skip):
            skip += 2
        if skip:
            del buffer[:skip]
            if skip >= 4:
                return PING
        return None

    def _read_head(self) -> bool:
        end = self._buffer.find(b"\r\n\r\n")
        if end < 0:
            if len(self._buffer) > self.max_size:
                self._fail(SipParseError("header block too large", status=413))
            return False
        raw = bytes(self._buffer[:end])
        try:
            head = parse_head(raw)
        except SipParseError as exc:
            self._fail(exc)
        try:
            need = _content_length(head)
        except SipParseError as exc:
            self._fail(exc)
        if end + 4 + need > self.max_size:
            self._fail(_salvaged("message larger than the limit", head, status=413))
        del self._buffer[: end + 4]
        self._head, self._need = head, need
        return True

    def _read_body(self) -> Request | Response | None:
        if len(self._buffer) < self._need or self._head is None:
            return None
        head, need = self._head, self._need
        body = bytes(self._buffer[:need])
        del self._buffer[:need]
        self._head, self._need = None, 0
        return build_message(head, body, stream=True)  # errors here keep the framing

    def _fail(self, exc: SipParseError) -> NoReturn:
        self.broken = True
        self._buffer.clear()
        raise exc


def _content_length(head: ParsedHead) -> int:
    text = head.headers.get("content-length")
    if text is None:
        raise _salvaged("Content-Length is required on stream transports", head)
    if not text.isdigit() or not text.isascii():
        raise _salvaged(f"malformed Content-Length {text!r}", head)
    return int(text)


def _salvaged(detail: str, head: ParsedHead, status: int = 400) -> SipParseError:
    """An error for a head we could read: answerable if it is a request with a Via."""
    try:
        message = build_message(head, b"", stream=False)
    except SipParseError as exc:
        can_respond = exc.can_respond
    else:
        can_respond = isinstance(message, Request)
    return SipParseError(detail, status=status, can_respond=can_respond, headers=head.headers)
