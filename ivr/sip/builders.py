"""Building requests and responses (RFC 3261 §8.1.1, §8.2.6, §21).

Randomness (branches, tags, Call-IDs) comes from an injected `random.Random`, so
tests and the simulator are reproducible.
"""

from __future__ import annotations

import random
import zlib
from collections.abc import Iterable
from typing import Final

from ivr.sip.errors import SipParseError
from ivr.sip.headers import (
    COPIED,
    FROM_TAG_READ,
    TO,
    TO_TAG_READ,
    HeaderField,
    Headers,
    adopt_fields,
)
from ivr.sip.message import Request, Response
from ivr.sip.values import MAGIC_COOKIE, NameAddr, Via

REASONS: Final = {
    100: "Trying",
    180: "Ringing",
    181: "Call Is Being Forwarded",
    182: "Queued",
    183: "Session Progress",
    200: "OK",
    202: "Accepted",
    300: "Multiple Choices",
    301: "Moved Permanently",
    302: "Moved Temporarily",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    407: "Proxy Authentication Required",
    408: "Request Timeout",
    413: "Request Entity Too Large",
    415: "Unsupported Media Type",
    416: "Unsupported URI Scheme",
    420: "Bad Extension",
    480: "Temporarily Unavailable",
    481: "Call/Transaction Does Not Exist",
    482: "Loop Detected",
    483: "Too Many Hops",
    486: "Busy Here",
    487: "Request Terminated",
    488: "Not Acceptable Here",
    491: "Request Pending",
    500: "Server Internal Error",
    501: "Not Implemented",
    503: "Service Unavailable",
    504: "Server Time-out",
    505: "Version Not Supported",
    600: "Busy Everywhere",
    603: "Decline",
}


def reason_phrase(status: int) -> str:
    found = REASONS.get(status)  # the class's phrase looked up only when needed
    return found if found is not None else REASONS.get(status // 100 * 100, "Unknown")


# Zero-padded lower-case hex of n < 2**bits: hex(n | 2**bits) without its "0x1".
# The same text as format(n, "0{bits/4}x"), whose format-spec call cost ~2,000
# instructions compiled (a tag is made for every call).


def new_branch(rng: random.Random) -> str:
    """A branch unique in space and time, with the §8.1.1.7 magic cookie."""
    return MAGIC_COOKIE + hex(rng.getrandbits(64) | 1 << 64)[3:]


def new_tag(rng: random.Random) -> str:
    return hex(rng.getrandbits(48) | 1 << 48)[3:]  # §19.3: at least 32 bits of randomness


def new_call_id(rng: random.Random, host: str) -> str:
    return hex(rng.getrandbits(96) | 1 << 96)[3:] + "@" + host


def make_response(
    request: Request,
    status: int,
    reason: str | None = None,
    *,
    to_tag: str | None = None,
    headers: Iterable[tuple[str, str]] = (),
    body: bytes = b"",
    content_type: str | None = None,
) -> Response:
    """A response to `request` per §8.2.6: Via, From, To, Call-ID, CSeq copied."""
    added: list[HeaderField] = []
    if status == 100 and (timestamp := request.headers.get("timestamp")) is not None:
        added.append(HeaderField("Timestamp", timestamp))  # §8.2.6.1
    # The fields are listed before the block is made: `Headers.add` would drop the
    # block's caches once per field, and a response is built two or three times a call.
    for name, value in headers:  # a loop, not a generator: cheaper compiled
        added.append(_added_field(name, value))
    if content_type is not None:
        added.append(_added_field("Content-Type", content_type))
    added.append(_length_field(len(body)))
    # A new list: what `_copy_fields` gives may be the request's own.
    fields = _copy_fields(request.headers, status, to_tag) + added
    response = Response(status, reason or reason_phrase(status), adopt_fields(fields), body)
    _seed_tags(request.headers, response.headers, status, to_tag)
    return response


def response_data(
    request: Request, status: int, *, to_tag: str | None = None, tail: str = "", body: bytes = b""
) -> bytes:
    """`make_response(request, status, to_tag=..., ...).serialise()`, without the response.

    A final answer that leaves its transaction at once (the INVITE's 2xx, a BYE's
    200: `TransactionLayer.send_response_data`) is only ever needed as bytes, so the
    Response and its header block are never made: the fields `_copy_fields` gives
    (§8.2.6.2, what `make_response` copies) are written straight behind the status
    line. `tail`: the added lines, each ending in CRLF (`header_lines`), Content-Type
    included; Content-Length is appended here. tests/sip/test_reply_wire.py holds it
    to `make_response`'s bytes.
    """
    headers = request.headers
    if status != 100 and headers._hot and headers._copy_start >= 0:
        wire = headers._copy_wire
        if wire is not None:
            copied = _copied_bytes(headers, wire, status, to_tag)
            if copied is not None:
                end = f"{tail}{_length_field(len(body)).line()}\r\n\r\n" if tail else None
                return b"".join(
                    [
                        _status_bytes(status),
                        copied,
                        _tail_bytes(end) if end is not None else _length_end(len(body)),
                        body,
                    ]
                )
    fields = _copy_fields(headers, status, to_tag)
    timestamp = headers.get("timestamp") if status == 100 else None  # §8.2.6.1
    # Sized at once and filled (the status line, a line a field, a Timestamp, the last
    # line, two empty strings for the CRLF CRLF): appending grew the list a response.
    lines = [_status_line(status)] * (len(fields) + (5 if timestamp is not None else 4))
    i = 1
    for f in fields:
        raw = f.raw
        lines[i] = raw if raw is not None else f"{f.name}: {f.value}"
        i += 1
    if timestamp is not None:
        lines[i] = f"Timestamp: {timestamp}"
        i += 1
    length = _length_field(len(body)).line()  # "Content-Length: N", made once a length
    lines[i] = tail + length if tail else length
    lines[i + 1] = ""
    lines[i + 2] = ""
    text = "\r\n".join(lines)
    return text.encode() + body if body else text.encode()


def _copied_bytes(headers: Headers, wire: bytes, status: int, to_tag: str | None) -> bytes | None:
    """The copied fields' lines (§8.2.6.2) as received, with CRLFs before and after:
    one slice of the request's bytes (`Headers._copy_start`), or two around the tag a
    To gets. None when the To to tag was not received as `_tagged_to` writes it
    ("Name: value"): `response_data` then writes the lines one by one."""
    start, end = headers._copy_start - 2, headers._copy_end + 2  # the CRLFs around
    to = headers._h_to
    if not to_tag or to is None or not _adds_tag(to, status, to_tag):
        return wire[start:end]
    cut = headers._to_end
    for f in headers._fields:
        if f.kind == TO:  # the first To: the one `_copy_fields` tags (a second is a 400)
            raw, size = f.raw, len(f.name)
            if raw is None or len(raw) != size + 2 + len(f.value) or raw[size : size + 2] != ": ":
                return None
            break
    return b"".join([wire[start:cut], _tag_bytes(to_tag), wire[cut:end]])


# Bytes written into every answer, by what they are made from: the same few, call after
# call (`_MAX_ADDED` bounds the ones the TU's text makes).
_STATUS_BYTES: Final[dict[int, bytes]] = {}
_TAIL_BYTES: Final[dict[str, bytes]] = {}
_LENGTH_ENDS: Final[dict[int, bytes]] = {}


def _status_bytes(status: int) -> bytes:
    """The status line without its CRLF (the copied slice opens with one)."""
    found = _STATUS_BYTES.get(status)
    if found is None:
        found = _STATUS_BYTES[status] = _status_line(status).encode()
    return found


def _tail_bytes(text: str) -> bytes:
    found = _TAIL_BYTES.get(text)
    if found is None:
        found = text.encode()
        if len(_TAIL_BYTES) >= _MAX_ADDED:
            _TAIL_BYTES.clear()
        _TAIL_BYTES[text] = found
    return found


def _length_end(length: int) -> bytes:
    """ "Content-Length: N" and the CRLF CRLF that ends the header block."""
    found = _LENGTH_ENDS.get(length)
    if found is None:
        found = f"{_length_field(length).line()}\r\n\r\n".encode()
        if len(_LENGTH_ENDS) >= _MAX_ADDED:
            _LENGTH_ENDS.clear()
        _LENGTH_ENDS[length] = found
    return found


def _tag_bytes(tag: str) -> bytes:
    return f";tag={tag}".encode()


def header_lines(pairs: Iterable[tuple[str, str]], content_type: str | None = None) -> str:
    """The `tail` of `response_data` for these added headers (and Content-Type)."""
    text = "".join([f"{name}: {value}\r\n" for name, value in pairs])
    return text if content_type is None else f"{text}Content-Type: {content_type}\r\n"


_STATUS_TEXT: Final[dict[int, str]] = {}  # status -> its status line, as `Response` writes it


def _status_line(status: int) -> str:
    line = _STATUS_TEXT.get(status)
    if line is None:
        line = _STATUS_TEXT[status] = f"SIP/2.0 {status} {reason_phrase(status)}"
    return line


def _copied(source: Headers) -> list[HeaderField]:
    """The request's fields a response copies (§8.2.6.2), kept on its header block: a
    request is answered up to four times (100, 180, 200, retransmissions)."""
    copied = source._copied
    if copied is None:
        copied = source._copied = [f for f in source._fields if f.kind & COPIED]
    return copied


# The fields a response adds repeat response after response (Contact, Allow,
# Content-Type: application/sdp, Content-Length: 0): made once, with their wire text,
# and shared -- a field is never changed in place, only replaced (`Headers.set`).
_ADDED: Final[dict[tuple[str, str], HeaderField]] = {}
_LENGTHS: Final[dict[int, HeaderField]] = {}
_MAX_ADDED: Final = 1024  # values from the TU (a Retry-After, a Warning) must not grow it


def _added_field(name: str, value: str) -> HeaderField:
    pair = (name, value)
    field = _ADDED.get(pair)
    if field is None:
        field = HeaderField(name, value, f"{name}: {value}")
        if len(_ADDED) >= _MAX_ADDED:
            _ADDED.clear()
        _ADDED[pair] = field
    return field


def _length_field(length: int) -> HeaderField:
    field = _LENGTHS.get(length)
    if field is None:
        value = str(length)
        field = HeaderField("Content-Length", value, f"Content-Length: {value}", "content-length")
        if len(_LENGTHS) >= _MAX_ADDED:
            _LENGTHS.clear()
        _LENGTHS[length] = field
    return field


def _adds_tag(to: str, status: int, to_tag: str | None) -> bool:
    """Whether a response adds `to_tag` to the request's To (§8.2.6.2): not a 100,
    and not when the To has a tag already."""
    if not to_tag or status == 100:
        return False
    # No ';' at all, no tag parameter (the usual To of an INVITE): the copy without
    # spaces, which a To with a display name always needs, is not made.
    return ";" not in to or ";tag=" not in to.replace(" ", "")


def _seed_tags(source: Headers, target: Headers, status: int, to_tag: str | None) -> None:
    """The response's From and To tags, from what the request's parse found.

    From is copied unchanged, so its tag is the request's. To is the request's, or
    the request's with `;tag=` appended when it had no tag parameter at all; a
    tag already there (even spelt `;TAG=`, which `_adds_tag` does not see) is
    the first and so the one read. Seeded, the edge's `to_tag`/`from_tag` on its
    own 200 need no parse.
    """
    # The CSeq field is copied (§8.2.6.2): its parse is the same.
    target._cseq = source._cseq
    read = source._tags_read
    if read & FROM_TAG_READ:
        target._from_tag = source._from_tag
    if read & TO_TAG_READ:
        tag = source._to_tag
        if tag is None and _adds_tag(source.first("to") or "", status, to_tag):
            tag = to_tag
        target._to_tag = tag
    target._tags_read = read


def stateless_tag(headers: Headers) -> str:
    """A To tag for a stateless answer: the same for every retransmission (§8.2.7)."""
    key = "|".join(headers.get(name) or "" for name in ("via", "from", "call-id", "cseq"))
    return f"{zlib.crc32(key.encode()):08x}"


def error_response(exc: SipParseError, *, to_tag: str | None = None) -> Response | None:
    """The answer to a request the parser rejected, or None when none is possible."""
    if not exc.can_respond or exc.headers is None:
        return None
    tag = to_tag or stateless_tag(exc.headers)
    response = Response(exc.status, exc.reason, Headers(_copy_fields(exc.headers, 400, tag)))
    detail = exc.detail.encode("ascii", "replace").decode()[:100].replace('"', "'")
    response.headers.add("Warning", f'399 ringway "{detail}"')  # §20.43
    response.headers.add("Content-Length", "0")
    return response


def make_request(
    method: str,
    uri: str,
    *,
    via: Via | str,
    from_: NameAddr | str,
    to: NameAddr | str,
    call_id: str,
    cseq: int,
    contact: str | None = None,
    max_forwards: int = 70,
    routes: Iterable[str] = (),
    headers: Iterable[tuple[str, str]] = (),
    body: bytes = b"",
    content_type: str | None = None,
) -> Request:
    """A request with the §8.1.1 mandatory headers in the conventional order."""
    pairs = [("Via", str(via)), ("Max-Forwards", str(max_forwards))]
    pairs.extend(("Route", route) for route in routes)
    pairs += [("From", str(from_)), ("To", str(to)), ("Call-ID", call_id)]
    pairs.append(("CSeq", f"{cseq} {method}"))
    if contact is not None:
        pairs.append(("Contact", contact))
    request = Request(method, uri, Headers.from_pairs(pairs))
    _finish(request, headers, body, content_type)
    return request


def _copy_fields(source: Headers, status: int, to_tag: str | None) -> list[HeaderField]:
    """The fields a response to `source`'s request copies (§8.2.6.2), in order: the
    request's own, but the To with `to_tag` added when `_adds_tag` says so. What
    `make_response` and `response_data` both write. Read it, never change it: with
    no tag to add it is the list kept on the request (`_copied`)."""
    copied = _copied(source)
    fields = copied
    if to_tag and status != 100:
        for i, f in enumerate(copied):
            if f.key == "to" and _adds_tag(f.value, status, to_tag):
                if fields is copied:
                    fields = list(copied)  # a field is shared, never changed in place
                fields[i] = _tagged_to(source, f, to_tag)
    return fields


def _tagged_to(source: Headers, to: HeaderField, to_tag: str) -> HeaderField:
    """The To field with `;tag=` added, its wire text written with it. The 180 and the
    200 of an INVITE carry the same tag: one field for both, kept on the request."""
    cached = source._tagged_to
    if cached is not None and cached[0] == to_tag:
        return cached[1]
    name = to.name
    line = f"{name}: {to.value};tag={to_tag}"  # the line `HeaderField.line` would write
    tagged = HeaderField(name, line[len(name) + 2 :], line, "to")
    source._tagged_to = (to_tag, tagged)
    return tagged


def _finish(
    message: Request | Response,
    headers: Iterable[tuple[str, str]],
    body: bytes,
    content_type: str | None,
) -> None:
    for name, value in headers:
        message.headers.add(name, value)
    if content_type is not None:
        message.headers.add("Content-Type", content_type)
    message.headers.add("Content-Length", str(len(body)))
    message.body = body
