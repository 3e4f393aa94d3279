"""RFC 4733 telephone-events (DTMF) and SIP INFO DTMF bodies.

Payload (RFC 4733 §2.3):  event (8) | E (1) R (1) volume (6) | duration (16).
Receiving (§2.5.1): one event is identified by its RTP timestamp, which stays
the same in every packet of the event; the end packet is sent three times
(§2.5.1.4) and packets may be retransmitted or reordered, so a digit is
reported once per timestamp. A packet with a new timestamp while an event is
still open also ends the open one (§2.5.1.5, lost end packets).
"""

from __future__ import annotations

import struct
from collections import deque
from dataclasses import dataclass

from ivr.media.errors import DtmfParseError
from ivr.media.rtp import RtpPacket

# RFC 4733 §3.2 Table 7: DTMF named events 0-15.
EVENT_DIGITS = "0123456789*#ABCD"
_PAYLOAD = struct.Struct("!BBH")
END_REPEATS = 3  # §2.5.1.4: the final packet is sent three times


def event_code(digit: str) -> int:
    """The RFC 4733 event code of a DTMF digit ('#' → 11)."""
    index = EVENT_DIGITS.find(digit.upper()) if len(digit) == 1 else -1
    if index < 0:
        raise ValueError(f"not a DTMF digit: {digit!r}")
    return index


@dataclass(frozen=True, kw_only=True, slots=True)
class TelephoneEvent:
    event: int
    end: bool
    volume: int  # 0..63, the power level in -dBm0 (§2.3.4)
    duration: int  # in RTP timestamp units (§2.3.5)

    def serialize(self) -> bytes:
        """Four octets of RFC 4733 §2.3 (R bit sent as zero)."""
        return _PAYLOAD.pack(self.event, (0x80 if self.end else 0) | self.volume, self.duration)


def parse_telephone_event(payload: bytes) -> TelephoneEvent:
    """Parse the first event of an RFC 4733 payload (§2.3); errors are `DtmfParseError`."""
    if len(payload) < 4:
        raise DtmfParseError(f"telephone-event payload of {len(payload)} octets, need 4")
    event, flags, duration = _PAYLOAD.unpack_from(payload)
    return TelephoneEvent(
        event=event, end=bool(flags & 0x80), volume=flags & 0x3F, duration=duration
    )


@dataclass(frozen=True, kw_only=True, slots=True)
class DtmfDigit:
    digit: str
    duration: int  # RTP timestamp units for RFC 4733; milliseconds for SIP INFO
    timestamp: int | None = None  # RTP timestamp of the event (None for SIP INFO)


class DtmfReceiver:
    """Packets of one telephone-event stream in, each digit out exactly once."""

    def __init__(self, *, history: int = 32, timeout: float = 0.5) -> None:
        self._open: tuple[int, TelephoneEvent] | None = None
        self._timeout = timeout  # an open event silent this long has lost its end packets
        self._last_seen = 0.0
        self._done: deque[int] = deque(maxlen=history)  # timestamps already reported
        self.dropped = 0

    def feed(self, packet: RtpPacket, now: float = 0.0) -> list[DtmfDigit]:
        """One RTP packet carrying telephone-event; returns the digits it completes."""
        self._last_seen = now
        try:
            event = parse_telephone_event(packet.payload)
        except DtmfParseError:
            self.dropped += 1
            return []
        if event.event >= len(EVENT_DIGITS) or packet.timestamp in self._done:
            return []  # not DTMF, or a redundant/retransmitted/late packet (§2.5.1.4)
        digits: list[DtmfDigit] = []
        if self._open is not None and self._open[0] != packet.timestamp:
            digits.extend(self._finish(*self._open))  # §2.5.1.5: new event ends the old
        if event.end:
            digits.extend(self._finish(packet.timestamp, event))
        else:
            self._open = (packet.timestamp, event)
        return digits

    def next_deadline(self) -> float | None:
        """When an open event is given up on (all its end packets lost), if one is open."""
        return self._last_seen + self._timeout if self._open is not None else None

    def handle_timer(self, now: float) -> list[DtmfDigit]:
        """Report an open event once `next_deadline()` has passed."""
        deadline = self.next_deadline()
        return self.flush() if deadline is not None and now >= deadline else []

    def flush(self) -> list[DtmfDigit]:
        """End of stream (or a timeout in the driver): report an event whose end was lost."""
        return self._finish(*self._open) if self._open is not None else []

    def _finish(self, timestamp: int, event: TelephoneEvent) -> list[DtmfDigit]:
        self._done.append(timestamp)
        if self._open is not None and self._open[0] == timestamp:
            self._open = None
        digit = EVENT_DIGITS[event.event]
        return [DtmfDigit(digit=digit, duration=event.duration, timestamp=timestamp)]


def dtmf_packets(
    digit: str,
    *,
    payload_type: int,
    ssrc: int,
    sequence: int,
    timestamp: int,
    duration: int = 1280,
    interval: int = 160,
    volume: int = 10,
) -> list[tuple[int, RtpPacket]]:
    """The packets of one digit as (send offset in timestamp units, packet).

    §2.5.1.2: marker on the first packet, all packets share the event's start
    timestamp; updates every `interval` carry the duration so far (0 in the
    first, as sipp's captured events do); the final
    packet with the E bit is sent three times with identical timestamp and
    duration (§2.5.1.4), each with a new sequence number.
    """
    code = event_code(digit)
    if not 0 < duration <= 0xFFFF or not 0 <= volume <= 63 or interval <= 0:
        raise ValueError("duration 1..65535 (no §2.5.1.3 segmenting), volume 0..63")
    updates = max(-(-duration // interval), 1)  # ceil: at least the start packet
    plan = [(i * interval, False, i * interval) for i in range(updates)]
    plan += [(duration, True, duration)] * END_REPEATS
    out: list[tuple[int, RtpPacket]] = []
    for index, (shown, end, offset) in enumerate(plan):
        event = TelephoneEvent(event=code, end=end, volume=volume, duration=shown)
        packet = RtpPacket(
            payload_type=payload_type,
            sequence=(sequence + index) & 0xFFFF,
            timestamp=timestamp,
            ssrc=ssrc,
            marker=index == 0,
            payload=event.serialize(),
        )
        out.append((offset, packet))
    return out


def parse_info_body(content_type: str, body: bytes) -> DtmfDigit:
    """A SIP INFO DTMF body: `application/dtmf-relay` ("Signal=5\\r\\nDuration=160",
    duration in ms) or `application/dtmf` (just the digit)."""
    kind = content_type.split(";", 1)[0].strip().lower()
    try:
        text = body.decode("ascii").strip()
    except UnicodeDecodeError as exc:
        raise DtmfParseError("DTMF INFO body is not ASCII") from exc
    if kind == "application/dtmf":
        return DtmfDigit(digit=_info_digit(text), duration=0)
    if kind != "application/dtmf-relay":
        raise DtmfParseError(f"not a DTMF INFO content type: {content_type!r}")
    fields: dict[str, str] = {}
    for line in text.splitlines():
        name, sep, value = line.partition("=")
        if sep:
            fields[name.strip().lower()] = value.strip()
    if "signal" not in fields:
        raise DtmfParseError("dtmf-relay body without Signal=")
    duration = fields.get("duration", "0")
    if not duration.isdigit():
        raise DtmfParseError(f"bad Duration= {duration!r}")
    return DtmfDigit(digit=_info_digit(fields["signal"]), duration=int(duration))


def _info_digit(text: str) -> str:
    if text.isdigit() and 10 <= int(text) <= 15:
        return EVENT_DIGITS[int(text)]  # some phones send Signal=11 for '#'
    try:
        return EVENT_DIGITS[event_code(text)]
    except ValueError as exc:
        raise DtmfParseError(f"not a DTMF signal: {text!r}") from exc
