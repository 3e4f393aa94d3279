"""Typed views of header values: name-addr, Via, CSeq, parameters (RFC 3261 §20, §25).

Parsers take the unfolded value text (folding already replaced by one SP) and
tolerate the LWS the grammar allows around `/`, `;`, `=` and `:` (§7.3.1, RFC
4475 §3.1.1.1). They raise `SipParseError` (400) on anything else. Serialisers
produce the compact canonical form; the message keeps the original text anyway.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from ivr.sip.errors import SipParseError
from ivr.sip.uri import Params, Uri, format_params, parse_host_port, parse_uri

MAGIC_COOKIE: Final = "z9hG4bK"  # §8.1.1.7


# -- lists, quoted strings, parameters ---------------------------------------------


def split_commas(value: str) -> list[str]:
    """Split a list header on the commas outside quotes and <> (§7.3.1)."""
    if "," not in value:
        return [value.strip()]
    if '"' not in value and "<" not in value:
        return [v.strip() for v in value.split(",")]
    out, start, quoted, angle, i = [], 0, False, False, 0
    while i < len(value):
        ch = value[i]
        if quoted:
            if ch == "\\":
                i += 1
            elif ch == '"':
                quoted = False
        elif ch == '"':
            quoted = True
        elif ch == "<":
            angle = True
        elif ch == ">":
            angle = False
        elif ch == "," and not angle:
            out.append(value[start:i].strip())
            start = i + 1
        i += 1
    out.append(value[start:].strip())
    return out


def quoted_end(text: str, start: int) -> int:
    """Index just past the quoted-string that opens at `start` (§25.1)."""
    i = start + 1
    while i < len(text):
        ch = text[i]
        if ch == "\\":
            i += 2
            continue
        if ch == '"':
            return i + 1
        i += 1
    raise SipParseError(f"unterminated quoted string in {text!r}")


def unquote(text: str) -> str:
    if len(text) < 2 or text[0] != '"' or text[-1] != '"':
        return text
    inner = text[1:-1]
    if "\\" not in inner:
        return inner
    out, i = [], 0
    while i < len(inner):
        if inner[i] == "\\" and i + 1 < len(inner):
            i += 1
        out.append(inner[i])
        i += 1
    return "".join(out)


def quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def parse_header_params(text: str) -> Params:
    """`*( SEMI generic-param )` with LWS around `;` and `=` (§25.1)."""
    text = text.strip()
    if not text:
        return ()
    if text[0] != ";":
        raise SipParseError(f"expected ';' before parameters in {text!r}")
    return _parse_params(text[1:])


def _parse_params(text: str) -> Params:
    """The parameters after the first `;` of `*( SEMI generic-param )`, text stripped."""
    pieces = _split_semicolons(text)
    out: list[tuple[str, str | None]] = []
    for piece in pieces:
        name, eq, value = piece.partition("=")
        name = name.strip()
        if not name or " " in name:
            raise SipParseError(f"malformed parameter {piece!r}")
        out.append((name, value.strip() if eq else None))
    return tuple(out)


def _split_semicolons(text: str) -> list[str]:
    if '"' not in text:
        return text.split(";")
    out, start, i = [], 0, 0
    while i < len(text):
        if text[i] == '"':
            i = quoted_end(text, i)
            continue
        if text[i] == ";":
            out.append(text[start:i])
            start = i + 1
        i += 1
    out.append(text[start:])
    return out


def param_value(params: Params, name: str) -> str | None:
    return lower_param(params, name.lower())


def lower_param(params: Params, name: str) -> str | None:
    """`param_value` for a `name` already in lower case: the views' own names (tag,
    branch, rport), read several times a message, skip lowering it every time."""
    size = len(name)
    for key, value in params:
        # Equal lengths first: only a name as long as `name` is lowered and compared
        # (str.lower keeps the length except for U+0130, whose lower form is not ASCII
        # and so never equals a parameter name we ask for).
        if len(key) == size and (key == name or key.lower() == name):
            return "" if value is None else value
    return None


def with_param(params: Params, name: str, value: str | None) -> Params:
    lname = name.lower()
    kept = tuple(p for p in params if p[0].lower() != lname)
    return (*kept, (name, value))


# -- name-addr / addr-spec (From, To, Contact, Route, Record-Route) ----------------


@dataclass(frozen=True, slots=True)
class NameAddr:
    """`[display-name] <URI> *(;param)` or `addr-spec *(;param)` (§20.10, §25.1)."""

    uri: str
    display_name: str | None = None
    params: Params = ()

    def __init__(
        self, uri: str, display_name: str | None = None, params: Params = ()
    ) -> None:  # compiled: see `ivr.sip.actions`
        object.__setattr__(self, "uri", uri)
        object.__setattr__(self, "display_name", display_name)
        object.__setattr__(self, "params", params)

    @property
    def tag(self) -> str | None:
        return lower_param(self.params, "tag")

    def param(self, name: str) -> str | None:
        return param_value(self.params, name)

    def parsed_uri(self) -> Uri:
        return parse_uri(self.uri)

    def with_tag(self, tag: str) -> NameAddr:
        return NameAddr(self.uri, self.display_name, with_param(self.params, "tag", tag))

    def without_tag(self) -> NameAddr:
        if not self.params:  # the usual To of an INVITE: nothing to drop
            return self
        kept = tuple(p for p in self.params if p[0].lower() != "tag")
        return NameAddr(self.uri, self.display_name, kept)

    def __str__(self) -> str:
        if self.uri == "*":
            return "*"
        display = f"{quote(self.display_name)} " if self.display_name else ""
        return f"{display}<{self.uri}>{format_params(self.params)}"


# Parsed values by their text. A plain dict read by compiled code, not `lru_cache`:
# a hit costs one look-up instead of a generic call that builds a key, and the
# values are immutable, so sharing is safe. Emptied when full (a flood of
# distinct values), then filled again by what repeats.
_NAME_ADDRS: Final[dict[str, NameAddr]] = {}  # To and Contact repeat between calls
_CSEQS: Final[dict[str, CSeq]] = {}  # "1 INVITE", "2 BYE": the same few values
_MAX_CACHED: Final = 4096


_TAG_PARAM: Final = ";tag="


def _spliceable(text: str) -> bool:
    """`text` can be put back as a parameter value after a cached parse of the rest:
    not empty, no LWS at either end (a parameter value is stripped), and nothing the
    parse of the rest would read: no quote, semicolon or angle bracket (§25.1). Every
    token qualifies (tags, branches: §19.3, §8.1.1.7). A few primitives, not a
    pattern match (a generic call of ~2,000 instructions)."""
    return (
        len(text) > 0
        and len(text.strip()) == len(text)
        and '"' not in text
        and ";" not in text
        and "<" not in text
        and ">" not in text
    )


def parse_name_addr(value: str) -> NameAddr:
    found = _NAME_ADDRS.get(value)
    if found is not None:
        return found
    # A From or To with a tag is new in every call (§19.3), and was parsed in full each
    # time. What precedes a last `;tag=` repeats call after call: that part is parsed
    # once and cached, the tag appended as the last parameter, as the full parse has
    # it (`_spliceable`: the tag holds nothing the parse could read differently).
    cut = value.rfind(_TAG_PARAM)
    if cut > 0:
        tag = value[cut + 5 :]
        if _spliceable(tag):
            head = _NAME_ADDRS.get(value[:cut])
            if head is None:
                head = _parse_tagless(value[:cut])
            # "*;tag=x" is no "*" (§20.10): the full parse decides, even when a bare "*"
            # (a REGISTER's Contact) was cached before
            if head is not None and head.uri != "*":
                # Concatenated, not unpacked: compiled, unpacking builds a list first.
                params = head.params + (("tag", tag),)  # noqa: RUF005
                found = NameAddr(head.uri, head.display_name, params)
                _remember(value, found)  # the call's next requests repeat it
                return found
    found = _parse_name_addr(value)
    _remember(value, found)
    return found


def _parse_tagless(head: str) -> NameAddr | None:
    """`head` parsed and cached, or None to parse the whole value instead: its error
    is the one to report, which may name the whole value (`_parse_name_addr`)."""
    try:
        found = _parse_name_addr(head)
    except SipParseError:
        return None
    _remember(head, found)
    return found


def _remember(value: str, found: NameAddr) -> None:
    if len(_NAME_ADDRS) >= _MAX_CACHED:
        _NAME_ADDRS.clear()
    _NAME_ADDRS[value] = found


def _parse_name_addr(value: str) -> NameAddr:
    text = value.strip()
    if text == "*":
        return NameAddr(uri="*")
    if not text:
        raise SipParseError("empty address")
    display: str | None = None
    if text[0] == '"':
        end = quoted_end(text, 0)
        display = unquote(text[:end])
        text = text[end:].lstrip()
        if not text.startswith("<"):
            raise SipParseError(f"expected '<' after display name in {value!r}")
    lt = text.find("<")
    if lt >= 0:
        if display is None:
            display = text[:lt].strip() or None
        gt = text.find(">", lt)
        if gt < 0:
            raise SipParseError(f"unterminated '<' in {value!r}")
        uri, rest = text[lt + 1 : gt].strip(), text[gt + 1 :]
    else:
        # addr-spec: parameters after the URI belong to the header (§20.10).
        uri, semi, after = text.partition(";")
        uri, rest = uri.strip(), (";" + after if semi else "")
    scheme, colon, _ = uri.partition(":")
    if not colon or not _is_scheme(scheme) or " " in uri:
        raise SipParseError(f"malformed address URI in {value!r}")
    return NameAddr(uri=uri, display_name=display, params=parse_header_params(rest))


_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*").fullmatch


def _is_scheme(text: str) -> bool:
    """scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) (§25.1, RFC 2396)."""
    if text == "sip" or text == "sips" or text == "tel":  # nearly every URI: no pattern
        return True
    return _SCHEME(text) is not None


# -- Via (§20.42, §18.2.1, RFC 3581) -------------------------------------------------


@dataclass(frozen=True, slots=True)
class Via:
    transport: str
    host: str
    port: int | None = None
    params: Params = ()
    protocol: str = "SIP/2.0"

    def __init__(
        self,
        transport: str,
        host: str,
        port: int | None = None,
        params: Params = (),
        protocol: str = "SIP/2.0",
    ) -> None:  # compiled: see `ivr.sip.actions`
        object.__setattr__(self, "transport", transport)
        object.__setattr__(self, "host", host)
        object.__setattr__(self, "port", port)
        object.__setattr__(self, "params", params)
        object.__setattr__(self, "protocol", protocol)

    @property
    def branch(self) -> str | None:
        return lower_param(self.params, "branch")

    @property
    def received(self) -> str | None:
        return lower_param(self.params, "received")

    @property
    def rport(self) -> str | None:
        """ "" for the bare `;rport` a client sends (RFC 3581 §3), else the port."""
        return lower_param(self.params, "rport")

    @property
    def maddr(self) -> str | None:
        return lower_param(self.params, "maddr")

    @property
    def rfc3261_branch(self) -> bool:
        branch = self.branch
        return branch is not None and branch.startswith(MAGIC_COOKIE)

    @property
    def sent_by(self) -> tuple[str, int]:
        """Host and port, with the transport's default port filled in (§18.2.2)."""
        default = 5061 if self.transport in ("TLS", "WSS") else 5060
        return self.host.lower(), self.port if self.port is not None else default

    def with_param(self, name: str, value: str | None) -> Via:
        params = with_param(self.params, name, value)
        return Via(self.transport, self.host, self.port, params, self.protocol)

    def __str__(self) -> str:
        port = "" if self.port is None else f":{self.port}"
        return f"{self.protocol}/{self.transport} {self.host}{port}{format_params(self.params)}"


_BRANCH_PARAM: Final = ";branch="
# Vias by their text with the branch value left out -> that Via (branch "") and the
# index of its branch parameter; (None, -1): not of that shape (`_via_template`).
_VIAS: Final[dict[str, tuple[Via | None, int]]] = {}


# The last entry of `_VIAS` used for a Via whose branch ends it: (its key, the Via, the
# branch's index). The next Via from the same peer starts with that key: one prefix
# test instead of two finds, a slice and a look-up.
_LAST_VIA: Final[list[tuple[str, Via, int]]] = []


def parse_via(value: str) -> Via:
    """One element of a Via header parsed (§20.42).

    The branch is new in every transaction (§8.1.1.7) while the rest of a peer's
    Via repeats: the Via is cached by its text without the branch value, which
    is put back as the parameter it was."""
    if _LAST_VIA:
        prefix, last, place = _LAST_VIA[0]
        if value.startswith(prefix):
            tail = value[len(prefix) :]  # to the end: the prefix's branch ends its Via
            if _spliceable(tail):
                params = _with_branch(last.params, place, tail)
                return Via(last.transport, last.host, last.port, params)
    at = value.find(_BRANCH_PARAM)
    if at > 0:
        start = at + 8
        end = value.find(";", start)
        if end < 0:
            end = len(value)
        branch = value[start:end]
        if _spliceable(branch):
            # The usual Via ends with its branch: the key is one slice, not two joined.
            key = value[:start] if end == len(value) else value[:start] + value[end:]
            cached = _VIAS.get(key)
            if cached is None:
                cached = _via_template(key, value, at, branch)
            via, index = cached
            if via is not None:
                if end == len(value):  # the key is all but the branch: the next one's prefix
                    if _LAST_VIA:
                        _LAST_VIA[0] = (key, via, index)
                    else:
                        _LAST_VIA.append((key, via, index))
                return Via(
                    via.transport, via.host, via.port, _with_branch(via.params, index, branch)
                )
    return _parse_via_text(value)


def _with_branch(params: Params, index: int, branch: str) -> Params:
    if index == 0 and len(params) == 1:  # the usual Via: the branch its one parameter
        return (("branch", branch),)
    return params[:index] + (("branch", branch),) + params[index + 1 :]  # noqa: RUF005 (as above)


def _via_template(key: str, value: str, at: int, branch: str) -> tuple[Via | None, int]:
    """The cache entry for `key`: its Via and the index of the branch parameter, when
    putting `branch` back there gives what parsing `value` gives; else (None, -1).

    The index is that of the parameter the `;` at `at` opens (the first `;` after
    sent-by opens the parameters, §20.42). Checking against a full parse rules out
    every other reading of that `;` (inside a quoted string, or before the
    parameters); a token put in a parameter's value is read the same whatever its
    characters. Raises what parsing `value` raises."""
    whole = _parse_via_text(value)
    entry: tuple[Via | None, int] = (None, -1)
    try:
        via: Via | None = _parse_via_text(key)
    except SipParseError:
        via = None
    if via is not None and via.protocol == "SIP/2.0":
        index = key.count(";", 0, at)
        if 0 <= index < len(via.params):
            params = _with_branch(via.params, index, branch)
            if Via(via.transport, via.host, via.port, params) == whole:
                entry = (via, index)
    if len(_VIAS) >= _MAX_CACHED:
        _VIAS.clear()
    _VIAS[key] = entry
    return entry


def _parse_via_text(value: str) -> Via:
    # The form nearly every Via takes: "SIP/2.0/UDP host:port;params", one SP after
    # the transport. Read with finds and slices; anything else (LWS around the
    # slashes, another case, a tab) takes the general path below, which gives the
    # same Via for this form.
    if value.startswith("SIP/2.0/"):
        space = value.find(" ", 8)
        transport = value[8:space]
        after = value[space + 1 : space + 2]
        if space > 8 and transport.isalpha() and after and not after.isspace():
            semi = value.find(";", space + 1)
            if semi < 0:
                host, port = parse_host_port(value[space + 1 :])
                return Via(transport.upper(), host, port, (), "SIP/2.0")
            host, port = parse_host_port(value[space + 1 : semi])
            params = _parse_params(value[semi + 1 :].rstrip())
            return Via(transport.upper(), host, port, params, "SIP/2.0")
    return _parse_via(value)


def _parse_via(value: str) -> Via:
    parts = value.split("/", 2)
    if len(parts) != 3:
        raise SipParseError(f"malformed Via {value!r}")
    name, version = parts[0].strip(), parts[1].strip()
    rest = parts[2].split(None, 1)
    if name.upper() != "SIP" or not version or len(rest) != 2:
        raise SipParseError(f"malformed Via {value!r}")
    transport, sent_by_and_params = rest[0].upper(), rest[1]
    sent_by, semi, params = sent_by_and_params.partition(";")
    host, port = parse_host_port(sent_by)
    return Via(
        transport=transport,
        host=host,
        port=port,
        params=parse_header_params(";" + params if semi else ""),
        protocol=f"{name}/{version}",
    )


# -- CSeq (§20.16) --------------------------------------------------------------------

MAX_CSEQ: Final = 2**32 - 1  # "expressible as a 32-bit unsigned integer" (§8.1.1.5)


@dataclass(frozen=True, slots=True)
class CSeq:
    number: int
    method: str

    def __init__(self, number: int, method: str) -> None:  # compiled: see `ivr.sip.actions`
        object.__setattr__(self, "number", number)
        object.__setattr__(self, "method", method)

    def __str__(self) -> str:
        return f"{self.number} {self.method}"


def parse_cseq(value: str) -> CSeq:
    found = _CSEQS.get(value)
    if found is None:
        found = _parse_cseq(value)
        if len(_CSEQS) >= _MAX_CACHED:
            _CSEQS.clear()
        _CSEQS[value] = found
    return found


def _parse_cseq(value: str) -> CSeq:
    parts = value.split()
    if len(parts) != 2 or not parts[0].isdigit() or not parts[0].isascii():
        raise SipParseError(f"malformed CSeq {value!r}")
    number = int(parts[0])
    if number > MAX_CSEQ:
        raise SipParseError(f"CSeq number out of range in {value!r}")
    return CSeq(number, parts[1])
