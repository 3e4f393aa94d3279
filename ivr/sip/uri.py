"""SIP, SIPS and tel URIs (RFC 3261 §19.1, RFC 3966).

A `Uri` is a frozen value. `parse_uri` never touches escapes: the user part and
parameter values keep their %XX forms, so `str(parse_uri(s)) == s` for every URI
written in the canonical order (scheme, userinfo, host, port, params, headers).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Final

from ivr.sip.errors import SipParseError

SUPPORTED_SCHEMES: Final = frozenset({"sip", "sips", "tel"})

Params = tuple[tuple[str, str | None], ...]


@dataclass(frozen=True, slots=True)
class Uri:
    scheme: str
    host: str = ""
    user: str | None = None
    password: str | None = None
    port: int | None = None
    params: Params = ()
    headers: tuple[tuple[str, str], ...] = ()

    def param(self, name: str) -> str | None:
        """Value of a URI parameter, "" for a flag such as `;lr`, None if absent."""
        name = name.lower()
        for key, value in self.params:
            if key.lower() == name:
                return "" if value is None else value
        return None

    def has_param(self, name: str) -> bool:
        return self.param(name) is not None

    def without_params(self, *names: str) -> Uri:
        drop = {n.lower() for n in names}
        return replace(self, params=tuple(p for p in self.params if p[0].lower() not in drop))

    @property
    def host_port(self) -> str:
        return self.host if self.port is None else f"{self.host}:{self.port}"

    def __str__(self) -> str:
        if self.scheme == "tel":
            text = f"tel:{self.user or ''}"
        else:
            userinfo = ""
            if self.user is not None:
                userinfo = self.user
                if self.password is not None:
                    userinfo += ":" + self.password
                userinfo += "@"
            text = f"{self.scheme}:{userinfo}{self.host_port}"
        text += format_params(self.params)
        if self.headers:
            text += "?" + "&".join(f"{k}={v}" for k, v in self.headers)
        return text


def format_params(params: Params) -> str:
    return "".join(f";{k}" if v is None else f";{k}={v}" for k, v in params)


# Parsed values by their text: a plain dict read by compiled code, cheaper than
# `lru_cache`'s generic call; the values are immutable. Emptied when full.
_URIS: Final[dict[str, Uri]] = {}  # Request-URIs and Contacts repeat
_HOST_PORTS: Final[dict[str, tuple[str, int | None]]] = {}
_MAX_CACHED: Final = 4096


def parse_uri(text: str) -> Uri:
    found = _URIS.get(text)
    if found is None:
        found = _parse_uri(text)
        if len(_URIS) >= _MAX_CACHED:
            _URIS.clear()
        _URIS[text] = found
    return found


def _parse_uri(text: str) -> Uri:
    """Parse a Request-URI or a URI taken out of a name-addr (§19.1.1, §25.1).

    Raises `SipParseError` 416 for a scheme we do not serve (§8.2.2.1) and 400
    for a malformed URI.
    """
    scheme, colon, rest = text.partition(":")
    if not colon or not scheme or not rest or _has_space(text):
        raise SipParseError(f"malformed URI {text!r}")
    scheme = scheme.lower()
    if scheme not in SUPPORTED_SCHEMES:
        raise SipParseError(f"unsupported URI scheme {scheme!r}", status=416)
    if scheme == "tel":
        number, _, params = rest.partition(";")
        return Uri(scheme="tel", user=number, params=parse_uri_params(params))
    rest, _, hdrs = rest.partition("?")
    user = password = None
    at = rest.find("@")
    if at >= 0:
        userinfo, rest = rest[:at], rest[at + 1 :]
        user, has_pw, pw = userinfo.partition(":")
        password = pw if has_pw else None
        if not user:
            raise SipParseError(f"empty user part in {text!r}")
    hostport, _, params = rest.partition(";")
    host, port = parse_host_port(hostport)
    return Uri(
        scheme=scheme,
        host=host,
        user=user,
        password=password,
        port=port,
        params=parse_uri_params(params),
        headers=_parse_uri_headers(hdrs),
    )


def parse_host_port(text: str) -> tuple[str, int | None]:
    """`host[:port]` with IPv6 references in brackets (§25.1 hostport)."""
    found = _HOST_PORTS.get(text)
    if found is None:
        found = _parse_host_port(text)
        if len(_HOST_PORTS) >= _MAX_CACHED:
            _HOST_PORTS.clear()
        _HOST_PORTS[text] = found
    return found


def _parse_host_port(text: str) -> tuple[str, int | None]:
    text = text.strip()
    if text.startswith("["):
        end = text.find("]")
        if end < 0:
            raise SipParseError(f"unterminated IPv6 reference {text!r}")
        host, after = text[: end + 1], text[end + 1 :]
        if after and not after.startswith(":"):
            raise SipParseError(f"junk after IPv6 reference {text!r}")
        port_text = after[1:] if after else None
    else:
        host, colon, port_text_or_empty = text.partition(":")
        port_text = port_text_or_empty if colon else None
        host = host.rstrip()
    if not host or _has_space(host):
        raise SipParseError(f"missing or malformed host in {text!r}")
    if port_text is None:
        return host, None
    port_text = port_text.strip()
    if not port_text.isdigit() or not port_text.isascii() or int(port_text) > 65535:
        raise SipParseError(f"bad port in {text!r}")
    return host, int(port_text)


def parse_uri_params(text: str) -> Params:
    if not text:
        return ()
    out: list[tuple[str, str | None]] = []
    for piece in text.split(";"):
        name, eq, value = piece.partition("=")
        if not name:
            raise SipParseError(f"empty URI parameter in {text!r}")
        out.append((name, value if eq else None))
    return tuple(out)


def _parse_uri_headers(text: str) -> tuple[tuple[str, str], ...]:
    if not text:
        return ()
    out = []
    for piece in text.split("&"):
        name, _, value = piece.partition("=")
        out.append((name, value))
    return tuple(out)


def _has_space(text: str) -> bool:
    return " " in text or "\t" in text
