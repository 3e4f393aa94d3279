"""Session descriptions (RFC 4566): parse, inspect, serialise byte for byte.

A description is its lines, in order: the session part, then one `Media` per
`m=` line with the lines under it. Nothing is reordered or normalised, so
`parse_sdp(data).serialise() == data` (line ends are kept: CRLF as RFC 4566 §5
says, or bare LF, which it asks parsers to accept). Typed views -- origin,
connection, rtpmap, fmtp, ptime, direction -- are read from the lines on demand.

Offer/answer for audio lives in `ivr.sip.offer_answer`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ivr.sip.errors import SdpError

Line = tuple[str, str]  # ("a", "rtpmap:0 PCMU/8000")

DIRECTIONS = ("sendrecv", "sendonly", "recvonly", "inactive")  # RFC 4566 §6
# RFC 3551 §6: static payload types we know by number alone.
STATIC_PAYLOADS = {0: ("PCMU", 8000, 1), 8: ("PCMA", 8000, 1), 9: ("G722", 8000, 1)}


@dataclass(frozen=True, slots=True)
class Origin:
    username: str
    session_id: str
    session_version: str
    nettype: str
    addrtype: str
    address: str

    def __str__(self) -> str:
        return (
            f"{self.username} {self.session_id} {self.session_version} "
            f"{self.nettype} {self.addrtype} {self.address}"
        )


@dataclass(frozen=True, slots=True)
class RtpMap:
    payload_type: int
    encoding: str
    clock_rate: int
    channels: int = 1

    def __init__(
        self, payload_type: int, encoding: str, clock_rate: int, channels: int = 1
    ) -> None:  # compiled: see `ivr.sip.actions`
        object.__setattr__(self, "payload_type", payload_type)
        object.__setattr__(self, "encoding", encoding)
        object.__setattr__(self, "clock_rate", clock_rate)
        object.__setattr__(self, "channels", channels)


def _attribute(lines: list[Line], name: str) -> str | None:
    """Value of the first `a=name:value` (or "" for a flag `a=name`)."""
    for kind, value in lines:
        if kind == "a":
            key, colon, rest = value.partition(":")
            if key == name:
                return rest if colon else ""
    return None


def _connection(lines: list[Line]) -> str | None:
    """The address of the first `c=` line (RFC 4566 §5.7), TTL/count stripped."""
    for kind, value in lines:
        if kind == "c":
            parts = value.split()
            if len(parts) != 3 or parts[0] != "IN":
                raise SdpError(f"malformed connection line c={value}")
            return parts[2].split("/")[0]
    return None


def _direction(lines: list[Line]) -> str | None:
    for kind, value in lines:
        if kind == "a" and value in DIRECTIONS:
            return value
    return None


@dataclass(slots=True)
class Media:
    """One `m=` section: media, port, proto, formats and the lines below it."""

    media: str
    port: int
    proto: str
    formats: list[str]
    lines: list[Line] = field(default_factory=list)
    port_count: int | None = None

    @property
    def m_line(self) -> str:
        port = str(self.port) if self.port_count is None else f"{self.port}/{self.port_count}"
        return " ".join([self.media, port, self.proto, *self.formats])

    def attribute(self, name: str) -> str | None:
        return _attribute(self.lines, name)

    def attributes(self, name: str) -> list[str]:
        out = []
        for kind, value in self.lines:
            if kind == "a":
                key, _, rest = value.partition(":")
                if key == name:
                    out.append(rest)
        return out

    def rtpmap(self, payload_type: int) -> RtpMap | None:
        """The payload's `a=rtpmap` (RFC 4566 §6), or the RFC 3551 static default."""
        for value in self.attributes("rtpmap"):
            pt, _, encoding = value.partition(" ")
            if pt.strip() == str(payload_type):
                return _parse_rtpmap(payload_type, encoding)
        static = STATIC_PAYLOADS.get(payload_type)
        return None if static is None else RtpMap(payload_type, *static)

    def fmtp(self, payload_type: int) -> str | None:
        for value in self.attributes("fmtp"):
            pt, _, params = value.partition(" ")
            if pt == str(payload_type):
                return params.strip()
        return None

    @property
    def ptime(self) -> int | None:
        value = self.attribute("ptime")
        return int(value) if value and value.isdigit() else None


def _parse_rtpmap(payload_type: int, text: str) -> RtpMap:
    parts = text.strip().split("/")
    if len(parts) < 2 or not parts[1].isdigit():
        raise SdpError(f"malformed rtpmap for payload {payload_type}: {text!r}")
    channels = int(parts[2]) if len(parts) > 2 and parts[2].isdigit() else 1
    return RtpMap(payload_type, parts[0], int(parts[1]), channels)


@dataclass(slots=True)
class SessionDescription:
    lines: list[Line]
    media: list[Media]
    eol: str = "\r\n"

    def __init__(
        self, lines: list[Line], media: list[Media], eol: str = "\r\n"
    ) -> None:  # compiled: see `ivr.sip.actions`
        self.lines = lines
        self.media = media
        self.eol = eol

    @property
    def origin(self) -> Origin:
        for kind, value in self.lines:
            if kind == "o":
                parts = value.split()
                if len(parts) != 6:
                    raise SdpError(f"malformed origin line o={value}")
                return Origin(*parts)
        raise SdpError("no origin line")

    @property
    def connection(self) -> str | None:
        return _connection(self.lines)

    def media_connection(self, media: Media) -> str | None:
        """The media's own c= address, else the session's (RFC 4566 §5.7)."""
        return _connection(media.lines) or self.connection

    def media_direction(self, media: Media) -> str:
        return _direction(media.lines) or _direction(self.lines) or "sendrecv"

    def serialise(self) -> bytes:
        return (self.eol.join(self._text_lines()) + self.eol).encode()

    def serialise_around_port(self, index: int) -> tuple[bytes, bytes]:
        """The wire form cut where the port of `media[index]` goes: `serialise()` is
        `before + str(port).encode() + after` for that stream's port, whatever it is."""
        media = self.media[index]
        if media.port_count is not None:  # "port/count": not a single port to rewrite
            raise ValueError("the stream has a port count")
        before = "".join(line + self.eol for line in self._text_lines(index))
        cut = (before + f"m={media.media} ").encode()
        whole = self.serialise()
        port = str(media.port).encode()
        if not whole.startswith(cut + port + b" "):  # never: `_text_lines` writes both
            raise ValueError("the m= line is not where it was written")
        return cut, whole[len(cut) + len(port) :]

    def _text_lines(self, until: int | None = None) -> list[str]:
        """The lines of the description, or those above the m= line of `media[until]`."""
        out = [f"{k}={v}" for k, v in self.lines]
        for i, m in enumerate(self.media):
            if i == until:
                break
            out.append(f"m={m.m_line}")
            out.extend(f"{k}={v}" for k, v in m.lines)
        return out

    def __bytes__(self) -> bytes:
        return self.serialise()


def parse_sdp(data: bytes) -> SessionDescription:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise SdpError("session description is not UTF-8") from None
    eol = "\r\n" if "\r\n" in text else "\n"
    raw_lines = text.split(eol)
    if raw_lines and raw_lines[-1] == "":
        raw_lines.pop()
    if not raw_lines or raw_lines[0] != "v=0":
        raise SdpError("a session description starts with v=0 (RFC 4566 §5.1)")
    session: list[Line] = []
    media: list[Media] = []
    for raw in raw_lines:
        kind, value = _split_line(raw)
        if kind == "m":
            media.append(_parse_m_line(value))
        elif media:
            media[-1].lines.append((kind, value))
        else:
            session.append((kind, value))
    description = SessionDescription(session, media, eol)
    description.origin  # noqa: B018 -- o= is mandatory (RFC 4566 §5.2); fail now
    return description


def _split_line(raw: str) -> Line:
    if len(raw) < 2 or raw[1] != "=" or not ("a" <= raw[0] <= "z"):
        raise SdpError(f"malformed SDP line {raw[:40]!r}")
    return raw[0], raw[2:]


def _parse_m_line(value: str) -> Media:
    parts = value.split(" ")
    if len(parts) < 4:
        raise SdpError(f"malformed media line m={value}")
    port_text, _, count = parts[1].partition("/")
    if not port_text.isdigit() or int(port_text) > 65535 or (count and not count.isdigit()):
        raise SdpError(f"bad media port in m={value}")
    return Media(
        media=parts[0],
        port=int(port_text),
        proto=parts[2],
        formats=parts[3:],
        port_count=int(count) if count else None,
    )
