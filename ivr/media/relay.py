"""Sans-I/O RTP relay for a B2BUA leg (RFC 3550 §5.1, §8.2; RFC 7667 §3.2.1.2).

A B2BUA that re-originates media presents one source per outgoing leg: a
fixed SSRC and sequence/timestamp spaces that continue across upstream
changes (re-INVITE, transfer, a prompt replaced by an agent). Within one
upstream SSRC the offsets are constant, so loss gaps and reordering pass
through unchanged; when the upstream SSRC changes the offsets are re-anchored
so the next packet follows the last one sent (sequence +1, timestamp advanced
by the wall-clock gap `now` - last), and the marker bit flags the new
talkspurt (RFC 3551 §4.1).
"""

from __future__ import annotations

from dataclasses import replace

from ivr.media.rtp import SEQ_MOD, TS_MOD, RtpPacket, seq_delta, ts_delta

CLOCK_RATE = 8000


class RelayRewriter:
    """Rewrites the packets of one direction toward one leg."""

    def __init__(self, *, ssrc: int, sequence: int = 0, timestamp: int = 0) -> None:
        self.ssrc = ssrc
        self._source: int | None = None
        self._seq_offset = 0
        self._ts_offset = 0
        self._next_seq = sequence  # what a new source's first packet gets
        self._next_ts = timestamp
        self._last_seq: int | None = None
        self._last_ts = timestamp
        self._last_now: float | None = None

    def rewrite(self, packet: RtpPacket, now: float) -> RtpPacket:
        """The packet as sent on our leg: our SSRC, continuous seq and timestamp."""
        marker = packet.marker
        if packet.ssrc != self._source:
            self._anchor(packet, now)
            marker = True
        seq = (packet.sequence + self._seq_offset) % SEQ_MOD
        ts = (packet.timestamp + self._ts_offset) % TS_MOD
        if self._last_seq is None or seq_delta(seq, self._last_seq) > 0:
            self._last_seq, self._last_ts, self._last_now = seq, ts, now
        return replace(packet, ssrc=self.ssrc, sequence=seq, timestamp=ts, marker=marker, csrcs=())

    def _anchor(self, packet: RtpPacket, now: float) -> None:
        if self._last_seq is not None and self._last_now is not None:
            self._next_seq = (self._last_seq + 1) % SEQ_MOD
            elapsed = max(round((now - self._last_now) * CLOCK_RATE), 1)
            self._next_ts = (self._last_ts + elapsed) % TS_MOD
        self._source = packet.ssrc
        self._seq_offset = seq_delta(self._next_seq, packet.sequence)
        self._ts_offset = ts_delta(self._next_ts, packet.timestamp)


class Relay:
    """Both directions between leg A and leg B; each side gets its own rewriter."""

    def __init__(self, *, ssrc_to_a: int, ssrc_to_b: int) -> None:
        self.to_a = RelayRewriter(ssrc=ssrc_to_a)
        self.to_b = RelayRewriter(ssrc=ssrc_to_b)

    def from_a(self, packet: RtpPacket, now: float) -> RtpPacket:
        return self.to_b.rewrite(packet, now)

    def from_b(self, packet: RtpPacket, now: float) -> RtpPacket:
        return self.to_a.rewrite(packet, now)
