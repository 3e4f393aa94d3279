"""The header block of a SIP message: an ordered list of fields (RFC 3261 §7.3).

Names are case-insensitive and compact forms are the same header (§7.3.3), so
every field is looked up by a *key*: the lower-case long name. A field keeps the
exact text it was received as (`raw`, folding included) until it is changed;
that is what makes a parsed message re-serialise byte for byte.

Values are kept as text. Typed views (Via, name-addr, CSeq) are parsed on demand
by `ivr.sip.values` and cached here until the next mutation: the ones every
message is read for in slots, any other in `cached`'s dict; so is an index of
the first value per key, built on the first `get` (a message is read a dozen
times for every time it is changed).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any, Final, TypeVar

from ivr.sip.start_line import TOKEN as _TOKEN
from ivr.sip.values import CSeq, NameAddr, Via, split_commas

T = TypeVar("T")

# §7.3.3 and the IANA SIP header registry: compact form -> long name.
COMPACT_FORMS: Final = {
    "a": "accept-contact",
    "b": "referred-by",
    "c": "content-type",
    "d": "request-disposition",
    "e": "content-encoding",
    "f": "from",
    "i": "call-id",
    "j": "reject-contact",
    "k": "supported",
    "l": "content-length",
    "m": "contact",
    "o": "event",
    "r": "refer-to",
    "s": "subject",
    "t": "to",
    "u": "allow-events",
    "v": "via",
    "x": "session-expires",
    "y": "identity",
}

# Headers whose grammar is a comma-separated list (§7.3.1): `Headers.values`
# splits them. Authorization and WWW-Authenticate are *not* lists of values.
LIST_HEADERS: Final = frozenset(
    {
        "accept",
        "accept-encoding",
        "accept-language",
        "allow",
        "allow-events",
        "contact",
        "content-encoding",
        "in-reply-to",
        "path",
        "proxy-require",
        "record-route",
        "require",
        "route",
        "service-route",
        "supported",
        "unsupported",
        "via",
    }
)


# `HeaderField.kind`: bits for the keys the parser keeps first values of (`Headers.first`)
# and checks (§8.1.1, §7.3.1), and those a response copies (§8.2.6.2).
VIA: Final = 1
FROM: Final = 2
TO: Final = 4
CALL_ID: Final = 8
CSEQ: Final = 16
LENGTH: Final = 32  # Content-Length
MAX_FORWARDS: Final = 64
CONTENT_TYPE: Final = 128
COPIED: Final = VIA | FROM | TO | CALL_ID | CSEQ
_ONCE: Final = FROM | TO | CALL_ID | CSEQ | LENGTH | MAX_FORWARDS | CONTENT_TYPE  # SINGLETONS
_KINDS: Final = {
    "via": VIA,
    "from": FROM,
    "to": TO,
    "call-id": CALL_ID,
    "cseq": CSEQ,
    "content-length": LENGTH,
    "max-forwards": MAX_FORWARDS,
    "content-type": CONTENT_TYPE,
}
FROM_TAG_READ: Final = 1  # `Headers._tags_read`: `_from_tag` holds the From's tag
TO_TAG_READ: Final = 2  # and `_to_tag` the To's
_MISSING: Any = object()  # `Headers.cached`: no entry (None may be a parsed value)
_KEY_OF: Final[dict[str, str]] = {}  # name as written -> key; names repeat in every message
_MAX_KEYS: Final = 4096  # random names from a flood must not grow it without bound


def header_key(name: str) -> str:
    key = _KEY_OF.get(name)
    if key is None:
        lower = name.lower()
        key = COMPACT_FORMS.get(lower, lower)
        if len(_KEY_OF) < _MAX_KEYS:
            _KEY_OF[name] = key
    return key


def adopt_fields(fields: list[HeaderField], index: dict[str, str] | None = None) -> Headers:
    """A header block around `fields` itself, not a copy of it: for the parser and the
    builders, which made the list and hand it over (a copy a message saved)."""
    return Headers(fields, index=index, adopt=True)


class HeaderField:
    """One header line: `name` as written, its unfolded `value`, its `raw` text.

    `kind`: its key's bit of `_KINDS`, or 0."""

    __slots__ = ("key", "kind", "name", "raw", "value")

    def __init__(self, name: str, value: str, raw: str | None = None, key: str | None = None):
        key = key if key is not None else header_key(name)
        self.key = key
        self.kind = _KINDS.get(key, 0)
        self.name = name
        self.value = value
        self.raw = raw

    def line(self) -> str:
        return self.raw if self.raw is not None else f"{self.name}: {self.value}"

    def __repr__(self) -> str:
        return f"HeaderField({self.name!r}, {self.value!r})"


_V: Final = 0x56  # ord("V"): literals, so compiled they are inlined
_F: Final = 0x46  # ord("F")
_C: Final = 0x43  # ord("C")
_A: Final = 0x61  # ord("a")


def unique_field(line: str) -> HeaderField | None:
    """The field of a Via, From or Call-ID line in the spelling nearly every UA uses
    ("Name: value"), else None.

    These lines are new in every transaction or call (a branch, a tag, a Call-ID:
    §8.1.1.7, §8.1.1.3, §8.1.1.4), so the parser's line cache (`LINES`)
    never holds them: they are matched by prefix before the cache is probed
    (hashing the whole line for nothing), and their name is a constant, not a
    slice looked up. Any other spelling (compact form, other case, LWS before the
    colon) goes the general way (`new_field`), which gives the same
    field for these."""
    if len(line) < 5:
        return None
    # The first letter first: an inline character read, where each `startswith` is
    # a call (~100 instructions), and most lines are none of the three.
    first = ord(line[0])
    if first == _V and line.startswith("Via: "):
        return HeaderField("Via", line[5:].strip(" \t"), line, "via")
    if first == _F and line.startswith("From: "):
        return HeaderField("From", line[6:].strip(" \t"), line, "from")
    if first == _C and ord(line[1]) == _A and line.startswith("Call-ID: "):  # not CSeq, Co...
        return HeaderField("Call-ID", line[9:].strip(" \t"), line, "call-id")
    return None


# -- reading a header block ------------------------------------------------------------

# Header names repeat in every message: name as written -> key, validated once.
_NAME_KEYS: Final[dict[str, str]] = {}
# Fields that may appear once only (§7.3.1 and RFC 4475 §3.1.2.19).
SINGLETONS: Final = frozenset(
    {"call-id", "cseq", "from", "to", "content-length", "max-forwards", "content-type"}
)
# Whole header lines seen before -> their field, shared between messages: a field is
# never changed in place, only replaced (`Headers.set`), so sharing is safe, and most
# lines repeat call after call. Via (branch), From (tag) and Call-ID are new in every
# transaction or call (§8.1.1.4, §8.1.1.7, §19.3): they would only churn the cache.
LINES: Final[dict[str, HeaderField]] = {}
MAX_LINES: Final = 2048
UNIQUE: Final = frozenset({"via", "from", "call-id"})


def field_key(name: str) -> str | None:
    """The header key for a field name, or None if the name is not a token."""
    key = _NAME_KEYS.get(name)
    if key is None:
        if _TOKEN(name) is None:
            return None
        key = header_key(name)
        if len(_NAME_KEYS) < _MAX_KEYS:
            _NAME_KEYS[name] = key
    return key


def new_field(line: str) -> HeaderField | None:
    """The field of one unfolded header line, or None if it is not `token LWS ":" value`."""
    colon = line.find(":")
    if colon <= 0:
        return None
    name = line[:colon]
    key = _NAME_KEYS.get(name)  # the usual case: a name seen before, no LWS before ':'
    if key is None:
        name = name.rstrip(" \t")
        key = field_key(name)
        if key is None:
            return None
    # The usual "Name: value": one slice, not a slice and a stripped copy of it.
    value = line[colon + 2 :] if line[colon + 1 : colon + 2] == " " else line[colon + 1 :]
    # One primitive call, not two one-character slices and two set look-ups: with no
    # LWS at either end (nearly every value) strip returns the value itself.
    value = value.strip(" \t")
    return HeaderField(name, value, line, key)


# What a list of fields is filled with before it is read: one list of the final size,
# then assigned, instead of an append a line and three regrowths.
_NO_FIELD: Final = HeaderField("", "", "", "")


def remember_line(line: str, field: HeaderField) -> None:
    """Put a new field of a line that repeats (not Via, From, Call-ID) in `LINES`."""
    if field.key not in UNIQUE:
        if len(LINES) >= MAX_LINES:  # a flood of distinct lines: start again
            LINES.clear()
        LINES[line] = field


# Start line -> the fields of the last block read after it (`scan_fields`). A UA writes
# its headers in the same order call after call: each line is first compared with the
# raw text of the field at its place last time (a length check and a memcmp), before
# it is hashed and looked up in `LINES`.
_TEMPLATES: Final[dict[str, list[HeaderField]]] = {}
_MAX_TEMPLATES: Final = 1024
_MAX_PREDICTED: Final = 32  # places remembered per start line


def scan_fields(lines: list[str]) -> tuple[Headers, str | None] | None:
    """The header block split on CRLF (`lines[0]` its start line) read as
    `message._parse_lines` reads it: its fields, and the first singleton that came
    twice. None when a line needs the general reader (folding, a bare CR or LF, a
    malformed line, the start line's included): it then reads the whole block,
    errors included.

    A line equal to the one at its place after the same start line last time is that
    field again: no hash and look-up. The first values of the keys every layer reads
    are kept in the block's slots (`Headers._hot`): no index dict made a message."""
    start = lines[0]
    template = _TEMPLATES.get(start)
    if template is None:  # a start line seen before was checked then
        if "\r" in start or "\n" in start:
            return None
        if len(_TEMPLATES) >= _MAX_TEMPLATES:
            _TEMPLATES.clear()
        template = _TEMPLATES[start] = []
    known = len(template)
    count = len(lines)
    fields: list[HeaderField] = [_NO_FIELD] * (count - 1)
    cache = LINES
    duplicate: str | None = None
    seen = 0
    via: str | None = None
    from_: str | None = None
    to: str | None = None
    call_id: str | None = None
    cseq: str | None = None
    length: str | None = None
    # Where the fields a response copies lie in the text (`Headers._copy_start`).
    pos = len(start) + 2
    copy_start = copy_end = to_end = -1
    together = True
    for i in range(1, count):
        line = lines[i]
        field: HeaderField | None = None
        if i <= known:
            field = template[i - 1]
            raw = field.raw
            if raw is None or raw != line:  # equal: checked when first read
                field = None
        if field is None:
            field = unique_field(line)  # not in the cache: a new value every transaction
            if field is not None:
                if "\r" in line or "\n" in line:
                    return None
            else:
                field = cache.get(line)
                if field is None:
                    if "\r" in line or "\n" in line:
                        return None
                    first = line[:1]
                    if first == " " or first == "\t":  # §7.3.1 folding
                        return None
                    field = new_field(line)
                    if field is None:
                        return None
                    remember_line(line, field)
            if i <= known:
                template[i - 1] = field
            elif i <= _MAX_PREDICTED:
                template.append(field)
                known += 1
        fields[i - 1] = field
        kind = field.kind
        line_end = pos + len(line)
        if kind & COPIED:
            if copy_start < 0:
                copy_start = pos
            elif copy_end + 2 != pos:  # another line between two copied ones
                together = False
            copy_end = line_end
            if kind == TO and to_end < 0:
                to_end = line_end
        pos = line_end + 2
        if kind:
            if seen & kind:  # a second field of the key
                if kind & _ONCE and duplicate is None:
                    duplicate = field.name
            else:
                seen |= kind
                if kind == VIA:
                    via = field.value
                elif kind == FROM:
                    from_ = field.value
                elif kind == TO:
                    to = field.value
                elif kind == CALL_ID:
                    call_id = field.value
                elif kind == CSEQ:
                    cseq = field.value
                elif kind == LENGTH:
                    length = field.value
    if count - 1 < known:
        del template[count - 1 :]
    headers = adopt_fields(fields)
    headers._hot = True
    headers._h_via, headers._h_from, headers._h_to = via, from_, to
    headers._h_call_id, headers._h_cseq, headers._h_length = call_id, cseq, length
    if together:
        headers._copy_start, headers._copy_end, headers._to_end = copy_start, copy_end, to_end
    return headers, duplicate


class Headers:
    """Ordered, case-insensitive, compact-form-aware header fields."""

    __slots__ = (
        "_contacts",
        "_copied",
        "_copy_end",
        "_copy_start",
        "_copy_wire",
        "_cseq",
        "_fields",
        "_first",
        "_from",
        "_from_tag",
        "_h_call_id",
        "_h_cseq",
        "_h_from",
        "_h_length",
        "_h_to",
        "_h_via",
        "_hot",
        "_memo",
        "_tagged_to",
        "_tags_read",
        "_to",
        "_to_end",
        "_to_tag",
        "_via",
        "_wire",
    )

    def __init__(
        self,
        fields: Iterable[HeaderField] = (),
        *,
        index: dict[str, str] | None = None,
        adopt: bool = False,
    ) -> None:
        """`index`: key -> first value of `fields`, when the caller has it (the parser).
        `adopt`: a list `fields` is kept itself, not copied (`adopt_fields`)."""
        self._fields: list[HeaderField] = (
            fields if adopt and isinstance(fields, list) else list(fields)
        )
        self._first: dict[str, str] | None = index  # key -> first value, built on demand
        self._memo: dict[str, Any] | None = None  # `cached`'s views, made on first use
        # The wire form `Message.serialise` made or the parser kept: start line, body,
        # bytes.
        self._wire: tuple[str, bytes, bytes] | None = None
        # The typed views every message is read for (`ivr.sip.message.Message`) and
        # what a response copies from it (`ivr.sip.builders`): slots, not entries of a
        # dict that was made for every message and grew at its sixth.
        self._via: Via | None = None
        self._cseq: CSeq | None = None
        self._from: NameAddr | None = None
        self._to: NameAddr | None = None
        self._contacts: list[NameAddr] | None = None
        self._from_tag: str | None = None
        self._to_tag: str | None = None
        self._tags_read = 0  # FROM_TAG_READ | TO_TAG_READ: a tag may be None
        self._copied: list[HeaderField] | None = None
        self._tagged_to: tuple[str, HeaderField] | None = None
        # The first values of the keys the parser reads, from its pass over the lines
        # (`scan_fields`): `first` answers from these while `_hot`, until a change.
        self._hot = False
        self._h_via: str | None = None
        self._h_from: str | None = None
        self._h_to: str | None = None
        self._h_call_id: str | None = None
        self._h_cseq: str | None = None
        self._h_length: str | None = None
        # While `_hot`: the copied fields' lines (§8.2.6.2) are the received bytes'
        # `_copy_start` to `_copy_end`, one after the other, the To's ending at
        # `_to_end` (-1: none); `_copy_start` -1 when other lines lie between them.
        # `builders.response_data` copies them from the received bytes in one slice.
        self._copy_start = -1
        self._copy_end = -1
        self._to_end = -1
        self._copy_wire: bytes | None = None  # the bytes received (`message.parse_message`)

    @classmethod
    def from_pairs(cls, pairs: Iterable[tuple[str, str]]) -> Headers:
        return cls(HeaderField(name, value) for name, value in pairs)

    # -- reading ---------------------------------------------------------------

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return ((f.name, f.value) for f in self._fields)

    def __len__(self) -> int:
        return len(self._fields)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.get(name) is not None

    @property
    def fields(self) -> tuple[HeaderField, ...]:
        return tuple(self._fields)

    def get(self, name: str) -> str | None:
        """The value of the first field called `name` (any form, any case)."""
        key = _KEY_OF.get(name)  # header_key inlined: this runs ~25 times per call
        return self.first(key if key is not None else header_key(name))

    def first(self, key: str) -> str | None:
        """`get` for a name that is already its key (lower-case long form): the views'
        own reads skip mapping the name (a look-up each, several a message)."""
        if self._hot:  # a parsed block not changed since: its slots, or its fields
            if key == "via":
                return self._h_via
            if key == "call-id":
                return self._h_call_id
            if key == "cseq":
                return self._h_cseq
            if key == "from":
                return self._h_from
            if key == "to":
                return self._h_to
            if key == "content-length":
                return self._h_length
            for f in self._fields:  # ~10 fields: fewer instructions than a dict made
                if f.key == key:
                    return f.value
            return None
        first = self._first
        if first is None:
            first = self.first_values()
        return first.get(key)

    def first_values(self) -> dict[str, str]:
        """Key -> value of the first field with that key; read it, never change it."""
        first = self._first
        if first is None:
            first = self._first = {}
            for f in reversed(self._fields):
                first[f.key] = f.value
        return first

    def get_all(self, name: str) -> list[str]:
        """The value of every field called `name`, one per header line, in order."""
        key = header_key(name)
        return [f.value for f in self._fields if f.key == key]

    def values(self, name: str) -> list[str]:
        """Every element of a list header across all its lines (§7.3.1), in order."""
        key = header_key(name)
        out: list[str] = []
        for f in self._fields:  # one pass, no `get_all` list in between
            if f.key == key:
                value = f.value
                if "," in value:
                    out.extend(split_commas(value))
                else:  # the usual one Contact, one Via: what split_commas gives it
                    out.append(value.strip())
        return out

    def count(self, name: str) -> int:
        key = header_key(name)
        return sum(1 for f in self._fields if f.key == key)

    def cached(self, key: str, parse: Callable[[], T]) -> T:
        """`parse()` once per key until the headers change."""
        memo = self._memo
        if memo is None:
            memo = self._memo = {}
        # A look-up, not try/except KeyError: most keys miss once per message, and a
        # raised KeyError (traceback entry included, compiled) cost more than the parse.
        found = memo.get(key, _MISSING)
        if found is _MISSING:
            found = memo[key] = parse()
        return found  # type: ignore[no-any-return]

    def lines(self) -> list[str]:
        return [f.line() for f in self._fields]

    def copy(self) -> Headers:
        return Headers(HeaderField(f.name, f.value, f.raw, f.key) for f in self._fields)

    # -- changing (each change drops the raw text of what it touches) ----------

    def _changed(self) -> None:
        self._hot = False
        self._memo = None
        self._first = None
        self._wire = None
        self._via = None
        self._cseq = None
        self._from = None
        self._to = None
        self._contacts = None
        self._tags_read = 0
        self._copied = None
        self._tagged_to = None

    def replace_top_via(self, element: str, via: Via) -> None:
        """`replace_first_element("via", element)` for `via` as `element`'s parse: the
        other fields' views are kept (§18.2.1: a stamped Via changes nothing else), so
        CSeq, From, To and Contact are not parsed again."""
        cseq, from_, to, contacts = self._cseq, self._from, self._to, self._contacts
        from_tag, to_tag, tags_read = self._from_tag, self._to_tag, self._tags_read
        self.replace_first_element("via", element)
        self._cseq, self._from, self._to, self._contacts = cseq, from_, to, contacts
        self._from_tag, self._to_tag, self._tags_read = from_tag, to_tag, tags_read
        self._via = via

    def add(self, name: str, value: str) -> None:
        self._changed()
        self._fields.append(HeaderField(name, value))

    def prepend(self, name: str, value: str) -> None:
        """Insert above the first field of the same name, or at the top (§16.6, §18.1.1)."""
        self._changed()
        key = header_key(name)
        index = next((i for i, f in enumerate(self._fields) if f.key == key), 0)
        self._fields.insert(index, HeaderField(name, value, key=key))

    def set(self, name: str, value: str) -> None:
        """Replace the first field called `name` and drop the others; append if absent."""
        self._changed()
        key = header_key(name)
        kept: list[HeaderField] = []
        replaced = False
        for f in self._fields:
            if f.key != key:
                kept.append(f)
            elif not replaced:
                kept.append(HeaderField(f.name, value, key=key))
                replaced = True
        if not replaced:
            kept.append(HeaderField(name, value, key=key))
        self._fields = kept

    def remove(self, name: str) -> int:
        self._changed()
        key = header_key(name)
        before = len(self._fields)
        self._fields = [f for f in self._fields if f.key != key]
        return before - len(self._fields)

    def replace_first_element(self, name: str, element: str) -> None:
        """Rewrite the first element of a list header, e.g. the top Via (§18.2.1)."""
        key = header_key(name)
        for i, f in enumerate(self._fields):
            if f.key == key:
                rest = split_commas(f.value)[1:]
                value = ", ".join([element, *rest])
                self._fields[i] = HeaderField(f.name, value, key=key)
                self._changed()
                return
        raise KeyError(name)
