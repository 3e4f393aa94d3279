"""SIP requests and responses: parse bytes, serialise back (RFC 3261 §7, §18.3, §25).

The parser splits on CRLF once, unfolds continuation lines and keeps every
header line's raw text, so an unmodified message re-serialises to the bytes it
came from. It validates only what every layer relies on -- the start line, the
top Via, From/To/Call-ID/CSeq presence, CSeq, Request-URI and Content-Length --
and leaves every other value as text until someone asks (`ivr.sip.values`).

Errors are `SipParseError` with the status to answer with and `can_respond`:
a request can be answered only when its top Via is usable (§18.2.2); responses
are never answered, only discarded (§18.1.2).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Final, TypeVar

from ivr.sip.errors import SipParseError
from ivr.sip.headers import (
    FROM_TAG_READ,
    TO_TAG_READ,
    HeaderField,
    Headers,
    adopt_fields,
    remember_line,
    scan_fields,
    unique_field,
)
from ivr.sip.headers import LINES as _LINES
from ivr.sip.headers import MAX_LINES as _MAX_LINES  # noqa: F401 -- read by tests
from ivr.sip.headers import SINGLETONS as _SINGLETONS
from ivr.sip.headers import new_field as _new_field
from ivr.sip.start_line import METHODS as _METHODS
from ivr.sip.start_line import is_status_line as _is_status_line
from ivr.sip.start_line import is_token
from ivr.sip.uri import Uri, parse_uri
from ivr.sip.values import (
    CSeq,
    NameAddr,
    Via,
    parse_cseq,
    parse_name_addr,
    parse_via,
    split_commas,
)

T = TypeVar("T")

SIP_VERSION: Final = "SIP/2.0"
CRLF: Final = "\r\n"

_UNKNOWN = "\0unknown"  # `ParsedHead.duplicate` when parsing could not tell
_MAX_KEYS: Final = 4096  # a flood of distinct texts must not grow a cache without bound
# Fields every request and response carries (§8.1.1); Via is checked apart.
_REQUIRED: Final = ("from", "to", "call-id", "cseq")
_LENGTH_VALUES: Final[dict[str, int]] = {}  # Content-Length text -> its value, validated
# status -> (reason, status line): keyed on the int, not on a (status, reason) pair
# built and hashed for every look-up; a status seen with another reason replaces it.
_STATUS_LINES: Final[dict[int, tuple[str, str]]] = {}


def _first_element(value: str) -> str:
    """`split_commas(value)[0]` without the list when there is one element (§7.3.1)."""
    return value.strip() if "," not in value else split_commas(value)[0]


class Message:
    """What requests and responses share: version, headers, body, typed views."""

    __slots__ = ("body", "headers", "version")

    def __init__(
        self, headers: Headers | None = None, body: bytes = b"", version: str = SIP_VERSION
    ):
        self.headers = headers if headers is not None else Headers()
        self.body = body
        self.version = version

    def start_line(self) -> str:
        raise NotImplementedError

    def serialise(self) -> bytes:
        """The wire form, built once while headers, body and start line stay the same."""
        start = self.start_line()
        headers = self.headers
        wire = headers._wire
        if wire is not None and wire[0] == start and wire[1] is self.body:
            return wire[2]
        fields = headers._fields
        # Sized at once (the start line, a line a field, two empty strings), then
        # filled: appending grew the list two or three times a message.
        parts = [start] * (len(fields) + 3)
        i = 1
        for f in fields:
            raw = f.raw
            parts[i] = raw if raw is not None else f"{f.name}: {f.value}"
            i += 1
        parts[i] = ""  # the joined lines end with the empty line: CRLF CRLF (§7)
        parts[i + 1] = ""
        data = CRLF.join(parts).encode() + self.body
        headers._wire = (start, self.body, data)
        return data

    def __bytes__(self) -> bytes:
        return self.serialise()

    def set_body(self, body: bytes, content_type: str | None = None) -> None:
        """Replace the body and keep Content-Length (and Content-Type) in step."""
        self.body = body
        if content_type is not None:
            self.headers.set("Content-Type", content_type)
        self.headers.set("Content-Length", str(len(body)))

    # -- typed views (parsed on first use, cached until the headers change) ------

    def _view(self, key: str, parse: Callable[[], T]) -> T:
        try:
            return self.headers.cached(key, parse)
        except SipParseError as exc:
            raise self._view_error(exc, key) from None

    def _view_error(self, exc: SipParseError, key: str) -> SipParseError:
        """`exc` made answerable as the parser's own errors are (§18.2.2: not a bad Via)."""
        exc.can_respond = isinstance(self, Request) and key != "via"
        exc.headers = self.headers
        return exc

    # The views read on every request are parsed inline, not through `_view`: a
    # lambda there is a closure object and a generic call per first read, about a
    # dozen a call. Each keeps `_view`'s contract: parsed once until the headers
    # change, a `SipParseError` marked by `_view_error`.

    def _required(self, name: str) -> str:
        """The first value of the header whose key is `name` (§7.3.3), or a 400."""
        value = self.headers.first(name)
        if value is None:
            raise SipParseError(f"missing {name} header")
        return value

    @property
    def top_via(self) -> Via:
        headers = self.headers
        via = headers._via
        if via is None:
            try:
                via = headers._via = parse_via(_first_element(self._required("via")))
            except SipParseError as exc:
                raise self._view_error(exc, "via") from None
        return via

    @property
    def vias(self) -> list[Via]:
        return self._view("vias", lambda: [parse_via(v) for v in self.headers.values("via")])

    @property
    def cseq(self) -> CSeq:
        headers = self.headers
        cseq = headers._cseq
        if cseq is None:
            try:
                cseq = headers._cseq = parse_cseq(self._required("cseq"))
            except SipParseError as exc:
                raise self._view_error(exc, "cseq") from None
        return cseq

    @property
    def call_id(self) -> str:
        value = self.headers.first("call-id")
        return value if value is not None else self._required("call-id")

    @property
    def from_(self) -> NameAddr:
        headers = self.headers
        found = headers._from
        if found is None:
            try:
                found = headers._from = parse_name_addr(self._required("from"))
            except SipParseError as exc:
                raise self._view_error(exc, "from") from None
        return found

    @property
    def to(self) -> NameAddr:
        headers = self.headers
        found = headers._to
        if found is None:
            try:
                found = headers._to = parse_name_addr(self._required("to"))
            except SipParseError as exc:
                raise self._view_error(exc, "to") from None
        return found

    @property
    def from_tag(self) -> str | None:
        headers = self.headers
        if headers._tags_read & FROM_TAG_READ:
            return headers._from_tag
        tag = headers._from_tag = self.from_.tag
        headers._tags_read |= FROM_TAG_READ
        return tag

    @property
    def to_tag(self) -> str | None:
        headers = self.headers
        if headers._tags_read & TO_TAG_READ:
            return headers._to_tag
        tag = headers._to_tag = self.to.tag
        headers._tags_read |= TO_TAG_READ
        return tag

    @property
    def contacts(self) -> list[NameAddr]:
        headers = self.headers
        found = headers._contacts
        if found is None:
            try:
                found = [parse_name_addr(v) for v in headers.values("contact")]
            except SipParseError as exc:
                raise self._view_error(exc, "contact") from None
            headers._contacts = found
        return found

    @property
    def record_route(self) -> list[str]:
        if self.headers.first("record-route") is None:  # the usual: none, one look-up
            return []
        return self.headers.values("record-route")

    @property
    def route(self) -> list[str]:
        return self.headers.values("route")

    @property
    def content_type(self) -> str | None:
        return self.headers.get("content-type")


class Request(Message):
    __slots__ = ("_received", "_target", "_uri", "method")

    def __init__(
        self,
        method: str,
        target: str,
        headers: Headers | None = None,
        body: bytes = b"",
        version: str = SIP_VERSION,
    ):
        super().__init__(headers, body, version)
        self.method = method
        self._target = target
        self._uri: Uri | None = None
        # The start line as received, with the parts it was split into: `start_line`
        # returns it while they are still the parts (a request serialised again to be
        # kept, `Transaction.kept`, need not rebuild it).
        self._received: tuple[str, str, str, str] | None = None

    @property
    def target(self) -> str:
        """The Request-URI as text."""
        return self._target

    @target.setter
    def target(self, value: str) -> None:
        self._target, self._uri = value, None

    @property
    def uri(self) -> Uri:
        if self._uri is None:
            self._uri = parse_uri(self._target)
        return self._uri

    def start_line(self) -> str:
        received = self._received
        if (
            received is not None
            and received[0] is self.method
            and received[1] is self._target
            and received[2] is self.version
        ):
            return received[3]
        return f"{self.method} {self._target} {self.version}"

    def __repr__(self) -> str:
        return f"<Request {self.method} {self._target}>"


class Response(Message):
    __slots__ = ("reason", "status")

    def __init__(
        self,
        status: int,
        reason: str,
        headers: Headers | None = None,
        body: bytes = b"",
        version: str = SIP_VERSION,
    ):
        super().__init__(headers, body, version)
        self.status = status
        self.reason = reason

    def start_line(self) -> str:
        if self.version is not SIP_VERSION and self.version != SIP_VERSION:
            return f"{self.version} {self.status} {self.reason}"
        # Read two or three times per response (`serialise` compares it with the wire
        # form it kept), and the same few statuses every call: built once.
        found = _STATUS_LINES.get(self.status)
        if found is not None and found[0] == self.reason:
            return found[1]
        line = f"{SIP_VERSION} {self.status} {self.reason}"
        _STATUS_LINES[self.status] = (self.reason, line)  # at most one entry a status
        return line

    def __repr__(self) -> str:
        return f"<Response {self.status} {self.reason}>"


# -- parsing ---------------------------------------------------------------------------


@dataclass(slots=True)
class ParsedHead:
    """A start line and header block, before the body is attached."""

    start: str
    headers: Headers
    duplicate: str | None = None  # the first field that may appear once but did not

    def __init__(
        self, start: str, headers: Headers, duplicate: str | None = None
    ) -> None:  # compiled: see `ivr.sip.actions`
        self.start = start
        self.headers = headers
        self.duplicate = duplicate


def parse_message(data: bytes, *, stream: bool = False) -> Request | Response:
    """Parse one whole message.

    `stream=False` (a datagram): Content-Length is optional, bytes past it are
    discarded, fewer bytes than it promises are an error (§18.3). `stream=True`:
    `data` is exactly one framed message (see `StreamFramer`) and Content-Length
    is mandatory.
    """
    start = 0
    if data.startswith(b"\r\n"):  # one-argument startswith: a compiled primitive
        while data.startswith(b"\r\n", start):  # §7.5: ignore CRLFs before the start line
            start += 2
    try:
        # The usual message is ASCII through and through (SDP included): decoded whole,
        # a compiled primitive, its empty line is found with a compiled str find, and
        # the header block is that text's slice -- what the UTF-8 decoding of its bytes
        # would give. (bytes.find is a generic method call: ~2,000 instructions.)
        text = data.decode("ascii")
    except UnicodeDecodeError:
        end = data.find(b"\r\n\r\n", start)
        if end < 0:
            raise SipParseError("no empty line after the header block") from None
        head = parse_head(data[start:end])
        first, headers, duplicate = head.start, head.headers, head.duplicate
    else:
        end = text.find("\r\n\r\n", start)
        if end < 0:
            raise SipParseError("no empty line after the header block")
        lines = text[start:end].split(CRLF)
        scanned = scan_fields(lines)
        if scanned is None:  # folding, a bad line: the general reader, its errors
            first, headers, duplicate = _parse_lines(lines)
        else:
            first = lines[0]
            headers, duplicate = scanned
    # A tuple, not a `ParsedHead`: compiled, a C struct, not an object made and freed.
    message = _build(first, headers, duplicate, data[end + 4 :], stream)
    if len(message.body) == len(data) - end - 4:  # nothing after the body: no copy needed
        # The wire form is the bytes received: `serialise` returns them until a header
        # changes (a stamped Via: §18.2.1), not the lines joined again. A request line is
        # its parts joined by single spaces (`_request_from`): what `start_line` rebuilds.
        wire = data if start == 0 else data[start:]
        line = first if isinstance(message, Request) else message.start_line()
        message.headers._wire = (line, message.body, wire)
        message.headers._copy_wire = wire  # what `_copy_start` counts in (`scan_fields`)
    return message


def parse_head(raw: bytes) -> ParsedHead:
    """Split a header block (without its final CRLFCRLF) into start line and fields."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise SipParseError("header block is not UTF-8") from None
    return parse_head_text(text)


def parse_head_text(text: str) -> ParsedHead:
    """`parse_head` for the block already decoded."""
    start, headers, duplicate = _parse_lines(text.split(CRLF))
    return ParsedHead(start, headers, duplicate)


_NO_FIELD: Final = HeaderField("", "", "", "")  # fills a list of fields before it is read


def _parse_lines(lines: list[str]) -> tuple[str, Headers, str | None]:
    """The parts of a `ParsedHead` from `lines`: the header block split on CRLF."""
    # A bare CR or LF is looked for with `in` (~120 instructions), not `find` (~200).
    start = lines[0]
    if "\r" in start or "\n" in start:
        raise SipParseError("bare CR or LF in the header block")
    count = len(lines)
    fields: list[HeaderField] = [_NO_FIELD] * (count - 1)
    kept = 0
    bad: str | None = None
    cache = _LINES
    # The index of first values `Headers.get` builds, and the singleton check of
    # `_check_headers`, done in this one pass over the lines instead of two more.
    index: dict[str, str] = {}
    duplicate: str | None = None
    for i in range(1, count):
        line = lines[i]
        field = unique_field(line)  # not in the cache: a new value every transaction
        if field is not None:
            if "\r" in line or "\n" in line:
                raise SipParseError("bare CR or LF in the header block")
        else:
            field = cache.get(line)  # a line seen before (Max-Forwards: 70, CSeq: 1 INVITE)
        if field is None:
            # A cached line was checked when it was first read: neither a bare CR or
            # LF (left inside a line by the split) nor a continuation line.
            if "\r" in line or "\n" in line:
                raise SipParseError("bare CR or LF in the header block")
            first = line[:1]
            if first == " " or first == "\t":  # §7.3.1 folding: rare, the general loop
                return _parse_folded(lines)
            field = _new_field(line)
            if field is None:
                bad = bad or f"malformed header line {line[:60]!r}"
                continue
            remember_line(line, field)
        fields[kept] = field
        kept += 1
        size = len(index)
        key = field.key
        index.setdefault(key, field.value)  # one hash probe: a first value goes in
        if len(index) == size and duplicate is None and key in _SINGLETONS:
            duplicate = field.name  # the key was there: a second field of it
    if kept < count - 1:  # malformed lines were left out
        del fields[kept:]
    headers = adopt_fields(fields, index)
    if bad is not None:  # read on, so the 400 can still be sent along the Via
        is_request = start[:4].upper() != "SIP/"
        raise SipParseError(bad, can_respond=is_request and _usable_via(headers), headers=headers)
    return start, headers, duplicate


def _parse_folded(lines: list[str]) -> tuple[str, Headers, str | None]:
    """`_parse_lines` for a block with continuation lines (§7.3.1): fields built one by one."""
    joined = "".join(lines)  # what `parse_head` has not checked yet: every line
    if joined.find("\r") >= 0 or joined.find("\n") >= 0:
        raise SipParseError("bare CR or LF in the header block")
    fields: list[HeaderField] = []
    bad: str | None = None
    for i in range(1, len(lines)):
        line = lines[i]
        first = line[:1]
        if first == " " or first == "\t":  # §7.3.1: a continuation line is one SP
            if fields:
                # A fresh field (never one of `_LINES`'): it is changed in place here.
                last = fields[-1]
                last.raw = f"{last.raw}\r\n{line}"
                last.value = (last.value + " " + line.strip(" \t")).strip(" \t")
            else:
                bad = bad or "continuation line before any header"
            continue
        field = _new_field(line)
        if field is None:
            bad = bad or f"malformed header line {line[:60]!r}"
        else:
            fields.append(field)
    headers = Headers(fields)  # index built on demand: values changed as lines were read
    if bad is not None:
        is_request = lines[0][:4].upper() != "SIP/"
        raise SipParseError(bad, can_respond=is_request and _usable_via(headers), headers=headers)
    return lines[0], headers, _UNKNOWN


def build_message(head: ParsedHead, body: bytes, *, stream: bool) -> Request | Response:
    return _build(head.start, head.headers, head.duplicate, body, stream)


def _build(
    start: str, headers: Headers, duplicate: str | None, body: bytes, stream: bool
) -> Request | Response:
    if _is_status_line(start):
        response = _response_from(start, headers)
        _check_headers(headers, False, duplicate)
        response.body = _frame_body(headers, body, stream, False)
        return response
    can_respond = _usable_via(headers)
    request = _request_from(start, headers, can_respond)
    _check_headers(headers, can_respond, duplicate)
    _check_request(request, can_respond)
    request.body = _frame_body(headers, body, stream, can_respond)
    return request


def _error(detail: str, headers: Headers, can_respond: bool, status: int = 400) -> SipParseError:
    return SipParseError(detail, status=status, can_respond=can_respond, headers=headers)


def _usable_via(headers: Headers) -> bool:
    """A request can be answered only along a top Via we can read (§18.2.2)."""
    value = headers.first("via")
    if value is None:
        return False
    if headers._via is None:  # parsed here, as `top_via` would (no closure)
        try:
            headers._via = parse_via(_first_element(value))
        except SipParseError:
            return False
    return True


# Request lines read before -> `Request._received`: the same few lines call after call
# (an INVITE to a service, an ACK or BYE to our Contact), one look-up instead of a split,
# a method look-up and a tuple. Only lines that passed go in.
_REQUEST_LINES: Final[dict[str, tuple[str, str, str, str]]] = {}


def _request_from(start: str, headers: Headers, can_respond: bool) -> Request:
    parts = _REQUEST_LINES.get(start)
    if parts is None:
        parts = _request_parts(start, headers, can_respond)
    request = Request(parts[0], parts[1], headers, version=parts[2])
    request._received = parts
    return request


def _request_parts(start: str, headers: Headers, can_respond: bool) -> tuple[str, str, str, str]:
    split = start.split(" ")
    if len(split) != 3 or not split[1] or (split[0] not in _METHODS and not is_token(split[0])):
        raise _error(f"malformed request line {start[:80]!r}", headers, can_respond)
    method, target, version = split
    if version != SIP_VERSION:
        _check_version(version, headers, can_respond)
    parts = (method, target, version, start)  # split on single spaces: `start_line`
    if len(_REQUEST_LINES) >= _MAX_KEYS:  # a flood of distinct lines: start again
        _REQUEST_LINES.clear()
    _REQUEST_LINES[start] = parts
    return parts


def _response_from(start: str, headers: Headers) -> Response:
    version, _, rest = start.partition(" ")
    code, _, reason = rest.partition(" ")
    if len(code) != 3 or not code.isdigit() or not code.isascii() or not "100" <= code <= "699":
        raise _error(f"malformed status line {start[:80]!r}", headers, False)
    if version != SIP_VERSION:
        _check_version(version, headers, False)
    return Response(int(code), reason, headers, version=version)


def _check_version(version: str, headers: Headers, can_respond: bool) -> None:
    if version.upper() == SIP_VERSION:
        return
    name, slash, number = version.partition("/")
    major, dot, minor = number.partition(".")
    if name.upper() == "SIP" and slash and dot and major.isdigit() and minor.isdigit():
        raise _error(f"unsupported version {version!r}", headers, can_respond, status=505)
    raise _error(f"malformed protocol version {version!r}", headers, can_respond)


def _check_headers(headers: Headers, can_respond: bool, duplicate: str | None) -> None:
    """`duplicate`: what `parse_head` found, or `_UNKNOWN` to look here."""
    via = headers.first("via")
    if via is None:
        raise _error("missing Via header", headers, False)
    if duplicate is _UNKNOWN:
        duplicate = _duplicate_singleton(headers)
    if duplicate is not None:
        raise _error(f"more than one {duplicate} header", headers, can_respond)
    cseq = headers.first("cseq")
    if (
        cseq is None
        or headers.first("from") is None
        or headers.first("to") is None
        or headers.first("call-id") is None
    ):
        for key in _REQUIRED:  # name the first one missing, in the usual order
            if headers.first(key) is None:
                raise _error(f"missing {key} header", headers, can_respond)
    try:
        if headers._cseq is None:  # parsed as `Message.cseq` would (no closure)
            headers._cseq = parse_cseq(cseq or "")
        if not can_respond and headers._via is None:  # a response, or a request we could
            headers._via = parse_via(_first_element(via))  # not answer anyway
    except SipParseError as exc:
        raise _error(exc.detail, headers, can_respond) from None


def _duplicate_singleton(headers: Headers) -> str | None:
    seen: set[str] = set()
    for field in headers.fields:
        key = field.key
        if key in _SINGLETONS:
            if key in seen:
                return field.name
            seen.add(key)
    return None


def _check_request(request: Request, can_respond: bool) -> None:
    if request.cseq.method != request.method:
        raise _error("CSeq method does not match the request method", request.headers, can_respond)
    try:
        request.uri  # noqa: B018 -- parse now: 416 / 400 belong to the parser (§8.2.2.1)
    except SipParseError as exc:
        raise _error(exc.detail, request.headers, can_respond, status=exc.status) from None


def _frame_body(headers: Headers, body: bytes, stream: bool, can_respond: bool) -> bytes:
    text = headers.first("content-length")
    if text is None:
        if stream:
            raise _error("Content-Length is required on stream transports", headers, can_respond)
        return body
    length = _LENGTH_VALUES.get(text)  # "0", "129": the same few texts message after message
    if length is None:
        if not text.isdigit() or not text.isascii():
            raise _error(f"malformed Content-Length {text!r}", headers, can_respond)
        length = int(text)
        if len(_LENGTH_VALUES) < _MAX_KEYS:
            _LENGTH_VALUES[text] = length
    if length > len(body):
        # §18.3: "If the transport packet ends before the end of the message
        # body, this is considered an error." A request gets a 400.
        raise _error("body shorter than Content-Length", headers, can_respond)
    return body if length == len(body) else body[:length]
