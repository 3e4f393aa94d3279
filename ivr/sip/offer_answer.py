"""SDP offer/answer for one G.711 audio stream with RFC 4733 events (RFC 3264).

Rules:

* We accept the first offered `audio` stream on RTP/AVP with a port other than
  0 that carries a codec we support (PCMU 0, PCMA 8 -- RFC 3551 -- at 8000 Hz);
  among those codecs the offerer's order wins (RFC 3264 §5.1: formats are
  listed "in order of preference"). Every other stream is refused with port 0,
  in its place (§6: the answer has as many m= lines as the offer, same order).
* No acceptable stream → `NoCommonCodec`; the caller answers 488 (§6.1).
* `telephone-event` (RFC 4733 §7.1.1) is kept with the offerer's payload type
  (§6.1: "SHOULD use the same payload type number") when its clock matches the
  chosen codec; events are the intersection of the offered `fmtp` (default
  0-15) and ours (default 0-16).
* Direction (§6.1): what the offerer sends we may receive and vice versa,
  narrowed by our own direction; an offer with c=0.0.0.0 (RFC 2543 hold, §8.4)
  does not want to receive. We answer with a=ptime (our packetisation, 20 ms).
"""

from __future__ import annotations

from dataclasses import dataclass

from ivr.sip.errors import NoCommonCodec, SdpError
from ivr.sip.sdp import Line, Media, SessionDescription

_FLAGS = {  # direction -> (sends, receives)
    "sendrecv": (True, True),
    "sendonly": (True, False),
    "recvonly": (False, True),
    "inactive": (False, False),
}
_BY_FLAGS = {flags: name for name, flags in _FLAGS.items()}
_STATIC_PT = {"PCMU": 0, "PCMA": 8}
DEFAULT_EVENTS = "0-15"  # RFC 4733 §7.1.1: what an fmtp-less telephone-event means


@dataclass(frozen=True, slots=True, kw_only=True)
class LocalMedia:
    """What our side supports and where it listens."""

    address: str
    port: int
    codecs: tuple[str, ...] = ("PCMU", "PCMA")
    telephone_events: str | None = "0-16"
    dtmf_payload_type: int = 101
    ptime: int = 20
    direction: str = "sendrecv"
    session_id: int = 0
    session_version: int = 0
    username: str = "ringway"

    def __init__(
        self,
        *,
        address: str,
        port: int,
        codecs: tuple[str, ...] = ("PCMU", "PCMA"),
        telephone_events: str | None = "0-16",
        dtmf_payload_type: int = 101,
        ptime: int = 20,
        direction: str = "sendrecv",
        session_id: int = 0,
        session_version: int = 0,
        username: str = "ringway",
    ) -> None:  # compiled: see `ivr.sip.actions`
        object.__setattr__(self, "address", address)
        object.__setattr__(self, "port", port)
        object.__setattr__(self, "codecs", codecs)
        object.__setattr__(self, "telephone_events", telephone_events)
        object.__setattr__(self, "dtmf_payload_type", dtmf_payload_type)
        object.__setattr__(self, "ptime", ptime)
        object.__setattr__(self, "direction", direction)
        object.__setattr__(self, "session_id", session_id)
        object.__setattr__(self, "session_version", session_version)
        object.__setattr__(self, "username", username)


@dataclass(frozen=True, slots=True, kw_only=True)
class Negotiated:
    """The media both sides agreed on, from our side's point of view."""

    codec: str
    payload_type: int
    clock_rate: int
    dtmf_payload_type: int | None
    dtmf_events: str | None
    remote_address: str
    remote_port: int
    ptime: int
    direction: str

    def __init__(
        self,
        *,
        codec: str,
        payload_type: int,
        clock_rate: int,
        dtmf_payload_type: int | None,
        dtmf_events: str | None,
        remote_address: str,
        remote_port: int,
        ptime: int,
        direction: str,
    ) -> None:  # compiled: see `ivr.sip.actions`
        object.__setattr__(self, "codec", codec)
        object.__setattr__(self, "payload_type", payload_type)
        object.__setattr__(self, "clock_rate", clock_rate)
        object.__setattr__(self, "dtmf_payload_type", dtmf_payload_type)
        object.__setattr__(self, "dtmf_events", dtmf_events)
        object.__setattr__(self, "remote_address", remote_address)
        object.__setattr__(self, "remote_port", remote_port)
        object.__setattr__(self, "ptime", ptime)
        object.__setattr__(self, "direction", direction)


@dataclass(frozen=True, slots=True)
class Answer:
    sdp: SessionDescription
    media: Negotiated

    def __init__(
        self, sdp: SessionDescription, media: Negotiated
    ) -> None:  # compiled: see `ivr.sip.actions`
        object.__setattr__(self, "sdp", sdp)
        object.__setattr__(self, "media", media)


def answer(offer: SessionDescription, local: LocalMedia) -> Answer:
    """Answer `offer` (RFC 3264 §6) or raise `NoCommonCodec` (→ 488)."""
    for index, media in enumerate(offer.media):
        negotiated = _accept(offer, media, local)
        if negotiated is not None:
            streams = [
                _accepted_media(negotiated, local) if i == index else _refused(m)
                for i, m in enumerate(offer.media)
            ]
            timing = next((line for line in offer.lines if line[0] == "t"), ("t", "0 0"))
            return Answer(SessionDescription(_session_lines(local, timing), streams), negotiated)
    raise NoCommonCodec("no offered audio stream has PCMU or PCMA on RTP/AVP")


def make_offer(local: LocalMedia) -> SessionDescription:
    """An offer for one audio stream with our codecs and telephone-event."""
    formats = [str(_STATIC_PT[c.upper()]) for c in local.codecs]
    lines: list[Line] = [
        ("a", f"rtpmap:{pt} {c.upper()}/8000") for pt, c in zip(formats, local.codecs, strict=True)
    ]
    if local.telephone_events:
        pt = local.dtmf_payload_type
        formats.append(str(pt))
        lines += [
            ("a", f"rtpmap:{pt} telephone-event/8000"),
            ("a", f"fmtp:{pt} {local.telephone_events}"),
        ]
    lines += [("a", f"ptime:{local.ptime}"), ("a", local.direction)]
    media = Media("audio", local.port, "RTP/AVP", formats, lines)
    return SessionDescription(_session_lines(local, ("t", "0 0")), [media])


def accept_answer(offer: SessionDescription, answer_sdp: SessionDescription) -> Negotiated:
    """Read the peer's answer to our offer (RFC 3264 §7); NoCommonCodec if it refused."""
    if len(answer_sdp.media) != len(offer.media):
        raise SdpError("the answer must have one m= line per offered stream (RFC 3264 §6)")
    for ours, theirs in zip(offer.media, answer_sdp.media, strict=True):
        if ours.media != "audio" or theirs.port == 0 or not theirs.formats:
            continue
        pt = int(theirs.formats[0]) if theirs.formats[0].isdigit() else -1
        rtpmap = ours.rtpmap(pt) or theirs.rtpmap(pt)
        if rtpmap is None or rtpmap.encoding.upper() not in _STATIC_PT:
            raise SdpError(f"the answer chose payload {theirs.formats[0]}, which we did not offer")
        dtmf = _telephone_event(theirs, rtpmap.clock_rate)
        ours_dir = _FLAGS[answer_sdp.media_direction(theirs)]
        return Negotiated(
            codec=rtpmap.encoding.upper(),
            payload_type=pt,
            clock_rate=rtpmap.clock_rate,
            dtmf_payload_type=dtmf,
            dtmf_events=None if dtmf is None else theirs.fmtp(dtmf) or DEFAULT_EVENTS,
            remote_address=answer_sdp.media_connection(theirs) or "",
            remote_port=theirs.port,
            ptime=theirs.ptime or 20,
            direction=_BY_FLAGS[(ours_dir[1], ours_dir[0])],
        )
    raise NoCommonCodec("the answer refused every audio stream")


# -- the answerer's choices ----------------------------------------------------------


def _accept(offer: SessionDescription, media: Media, local: LocalMedia) -> Negotiated | None:
    if media.media != "audio" or media.proto != "RTP/AVP" or media.port == 0:
        return None
    supported = {c.upper() for c in local.codecs}
    for fmt in media.formats:
        rtpmap = media.rtpmap(int(fmt)) if fmt.isdigit() else None
        if rtpmap and rtpmap.encoding.upper() in supported and rtpmap.clock_rate == 8000:
            break
    else:
        return None
    address = offer.media_connection(media)
    if address is None:
        raise SdpError("no connection address for the audio stream (RFC 4566 §5.7)")
    dtmf, events = _dtmf(media, rtpmap.clock_rate, local)
    return Negotiated(
        codec=rtpmap.encoding.upper(),
        payload_type=rtpmap.payload_type,
        clock_rate=rtpmap.clock_rate,
        dtmf_payload_type=dtmf,
        dtmf_events=events,
        remote_address=address,
        remote_port=media.port,
        ptime=media.ptime or 20,
        direction=_answer_direction(offer, media, local),
    )


def _dtmf(media: Media, clock_rate: int, local: LocalMedia) -> tuple[int | None, str | None]:
    if not local.telephone_events:
        return None, None
    pt = _telephone_event(media, clock_rate)
    if pt is None:
        return None, None
    offered = parse_events(media.fmtp(pt) or DEFAULT_EVENTS)
    common = offered & parse_events(local.telephone_events)
    return (pt, format_events(common)) if common else (None, None)


def _telephone_event(media: Media, clock_rate: int) -> int | None:
    for fmt in media.formats:
        rtpmap = media.rtpmap(int(fmt)) if fmt.isdigit() else None
        if rtpmap is None or rtpmap.encoding.lower() != "telephone-event":
            continue
        if rtpmap.clock_rate == clock_rate:
            return rtpmap.payload_type
    return None


def _answer_direction(offer: SessionDescription, media: Media, local: LocalMedia) -> str:
    they_send, they_receive = _FLAGS[offer.media_direction(media)]
    if offer.media_connection(media) in ("0.0.0.0", "::"):
        they_receive = False  # RFC 3264 §8.4: the old way of putting a call on hold
    we_send, we_receive = _FLAGS.get(local.direction, (True, True))
    return _BY_FLAGS[(they_receive and we_send, they_send and we_receive)]


# -- writing the answer --------------------------------------------------------------


def _accepted_media(chosen: Negotiated, local: LocalMedia) -> Media:
    pt = chosen.payload_type
    formats = [str(pt)]
    lines: list[Line] = [("a", f"rtpmap:{pt} {chosen.codec}/{chosen.clock_rate}")]
    if chosen.dtmf_payload_type is not None:
        te = chosen.dtmf_payload_type
        formats.append(str(te))
        lines += [
            ("a", f"rtpmap:{te} telephone-event/{chosen.clock_rate}"),
            ("a", f"fmtp:{te} {chosen.dtmf_events}"),
        ]
    lines += [("a", f"ptime:{local.ptime}"), ("a", chosen.direction)]
    return Media("audio", local.port, "RTP/AVP", formats, lines)


def _refused(media: Media) -> Media:
    return Media(media.media, 0, media.proto, media.formats[:1] or ["0"])  # RFC 3264 §6


def _session_lines(local: LocalMedia, timing: Line) -> list[Line]:
    addrtype = "IP6" if ":" in local.address else "IP4"
    origin = (
        f"{local.username} {local.session_id} {local.session_version} IN {addrtype} {local.address}"
    )
    return [("v", "0"), ("o", origin), ("s", "-"), ("c", f"IN {addrtype} {local.address}"), timing]


def parse_events(text: str) -> set[int]:
    """`0-15,66` → {0, ..., 15, 66} (RFC 4733 §7.1.1 fmtp event list)."""
    events: set[int] = set()
    for part in text.replace(" ", "").split(","):
        low, dash, high = part.partition("-")
        if not low.isdigit() or (dash and not high.isdigit()):
            raise SdpError(f"malformed telephone-event list {text!r}")
        first, last = int(low), int(high if dash else low)
        if not first <= last <= 255:  # RFC 4733 §2.3.5: event codes are one octet
            raise SdpError(f"telephone-event range out of 0-255 in {text!r}")
        events.update(range(first, last + 1))
    return events


def format_events(events: set[int]) -> str:
    ordered, runs = sorted(events), []
    start = prev = ordered[0]
    for event in [*ordered[1:], None]:
        if event is not None and event == prev + 1:
            prev = event
            continue
        runs.append(str(start) if start == prev else f"{start}-{prev}")
        if event is not None:
            start = prev = event
    return ",".join(runs)
