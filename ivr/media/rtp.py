"""RTP fixed header parse/serialise (RFC 3550 §5.1), byte-for-byte round trip.

    0                   1                   2                   3
    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
   |V=2|P|X|  CC   |M|     PT      |       sequence number         |
   |                           timestamp                           |
   |           synchronization source (SSRC) identifier            |
   |            contributing source (CSRC) identifiers  (CC x 32)  |
   | profile-defined ext id (16) |  ext length in 32-bit words (16) |  (if X, §5.3.1)

Padding (§5.1 P bit): the last octet counts the padding octets including
itself; the padding is kept verbatim so that serialise(parse(b)) == b.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

from ivr.media.errors import RtpParseError

RTP_VERSION = 2
_HEADER = struct.Struct("!BBHII")
_EXT = struct.Struct("!HH")
SEQ_MOD = 1 << 16
TS_MOD = 1 << 32


@dataclass(frozen=True, kw_only=True, slots=True)
class RtpPacket:
    payload_type: int
    sequence: int
    timestamp: int
    ssrc: int
    payload: bytes = b""
    marker: bool = False
    csrcs: tuple[int, ...] = ()
    extension_profile: int | None = None  # None: no X bit (RFC 3550 §5.3.1)
    extension: bytes = b""  # header extension body, a multiple of 4 octets
    padding: bytes = field(default=b"")  # whole padding incl. the count octet (§5.1)

    def serialize(self) -> bytes:
        """Serialise to wire bytes (RFC 3550 §5.1)."""
        if len(self.csrcs) > 15:
            raise ValueError("at most 15 CSRCs (RFC 3550 §5.1 CC is 4 bits)")
        if len(self.extension) % 4:
            raise ValueError("header extension must be a multiple of 32 bits (§5.3.1)")
        if not (self.csrcs or self.padding or self.extension_profile is not None):
            second = (0x80 if self.marker else 0) | (self.payload_type & 0x7F)
            header = _HEADER.pack(0x80, second, self.sequence, self.timestamp, self.ssrc)
            return header + self.payload  # the common case: 12-octet header (playback hot path)
        first = (RTP_VERSION << 6) | (0x20 if self.padding else 0)
        first |= (0x10 if self.extension_profile is not None else 0) | len(self.csrcs)
        second = (0x80 if self.marker else 0) | (self.payload_type & 0x7F)
        parts = [_HEADER.pack(first, second, self.sequence, self.timestamp, self.ssrc)]
        parts.extend(struct.pack("!I", csrc) for csrc in self.csrcs)
        if self.extension_profile is not None:
            parts.append(_EXT.pack(self.extension_profile, len(self.extension) // 4))
            parts.append(self.extension)
        parts.append(self.payload)
        parts.append(self.padding)
        return b"".join(parts)


def parse_rtp(data: bytes) -> RtpPacket:
    """Parse one RTP datagram; anything malformed raises `RtpParseError` only."""
    if len(data) < _HEADER.size:
        raise RtpParseError(f"RTP packet too short: {len(data)} octets")
    first, second, sequence, timestamp, ssrc = _HEADER.unpack_from(data)
    if first >> 6 != RTP_VERSION:
        raise RtpParseError(f"RTP version {first >> 6}, expected 2")
    offset = _HEADER.size
    count = first & 0x0F
    if len(data) < offset + 4 * count:
        raise RtpParseError("RTP packet truncated in CSRC list")
    csrcs = struct.unpack_from(f"!{count}I", data, offset)
    offset += 4 * count
    profile: int | None = None
    extension = b""
    if first & 0x10:
        if len(data) < offset + 4:
            raise RtpParseError("RTP packet truncated in header extension")
        profile, words = _EXT.unpack_from(data, offset)
        offset += 4
        extension = data[offset : offset + 4 * words]
        if len(extension) != 4 * words:
            raise RtpParseError("RTP header extension longer than packet")
        offset += 4 * words
    end = len(data)
    padding = b""
    if first & 0x20:
        pad = data[-1] if end > offset else 0
        if pad == 0 or pad > end - offset:
            raise RtpParseError(f"bad RTP padding count {pad}")
        end -= pad
        padding = data[end:]
    return RtpPacket(
        payload_type=second & 0x7F,
        marker=bool(second & 0x80),
        sequence=sequence,
        timestamp=timestamp,
        ssrc=ssrc,
        csrcs=tuple(csrcs),
        extension_profile=profile,
        extension=extension,
        payload=data[offset:end],
        padding=padding,
    )


def is_rtcp(data: bytes) -> bool:
    """RFC 5761 §4: packet types 192-223 on a muxed port are RTCP, not RTP."""
    return len(data) >= 2 and 192 <= data[1] <= 223


def seq_delta(newer: int, older: int) -> int:
    """Signed distance between two 16-bit sequence numbers (RFC 3550 A.1 wrap)."""
    return (newer - older + SEQ_MOD // 2) % SEQ_MOD - SEQ_MOD // 2


def ts_delta(newer: int, older: int) -> int:
    """Signed distance between two 32-bit RTP timestamps, modulo 2**32."""
    return (newer - older + TS_MOD // 2) % TS_MOD - TS_MOD // 2
