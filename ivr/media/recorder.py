"""Call recording: both directions' decoded PCM to one WAV file.

Each direction is placed by its RTP timestamp (RFC 3550 §5.1: the sampling
instant, 8000 Hz for G.711) relative to that direction's first packet, so
lost packets become silence and reordered packets land in the right place.
Output is stereo (caller left, IVR/agent right) or a mixed mono track.
"""

from __future__ import annotations

import sys
from array import array
from typing import Literal

from ivr.media.audio import RATE, write_wav
from ivr.media.g711 import DECODERS
from ivr.media.rtp import RtpPacket, ts_delta

Direction = Literal["in", "out"]
MAX_SECONDS = 4 * 3600  # a forward timestamp jump beyond this is dropped, not allocated


class Recorder:
    """Collects 16-bit PCM per direction; `wav()` renders stereo or mixed mono."""

    def __init__(self, *, stereo: bool = True) -> None:
        self.stereo = stereo
        self._tracks: dict[Direction, array[int]] = {"in": array("h"), "out": array("h")}
        self._base: dict[Direction, int] = {}
        self.dropped = 0

    def feed_packet(self, direction: Direction, packet: RtpPacket) -> None:
        """A G.711 RTP packet of one direction (other payload types are ignored)."""
        decode = DECODERS.get(packet.payload_type)
        if decode is not None:
            self.feed(direction, decode(packet.payload), packet.timestamp)

    def feed(self, direction: Direction, pcm: bytes, timestamp: int) -> None:
        """16-bit little-endian PCM whose first sample has RTP `timestamp`."""
        base = self._base.setdefault(direction, timestamp)
        offset = ts_delta(timestamp, base)
        samples = array("h", pcm[: len(pcm) - len(pcm) % 2])
        if sys.byteorder == "big":
            samples.byteswap()
        if offset < 0 or offset + len(samples) > MAX_SECONDS * RATE:
            self.dropped += 1
            return
        track = self._tracks[direction]
        if len(track) < offset + len(samples):
            track.extend([0] * (offset + len(samples) - len(track)))
        track[offset : offset + len(samples)] = samples

    def pcm(self) -> bytes:
        """Interleaved stereo (in, out) or the clipped sum of both as mono."""
        a, b = self._tracks["in"], self._tracks["out"]
        length = max(len(a), len(b))
        a = a + array("h", [0] * (length - len(a)))
        b = b + array("h", [0] * (length - len(b)))
        if self.stereo:
            out = array("h", [0] * (2 * length))
            out[0::2], out[1::2] = a, b
        else:
            out = array("h", (max(-32768, min(32767, x + y)) for x, y in zip(a, b, strict=True)))
        if sys.byteorder == "big":
            out.byteswap()
        return out.tobytes()

    def wav(self) -> bytes:
        """The recording as a RIFF/WAVE file, 8 kHz 16-bit."""
        return write_wav(self.pcm(), channels=2 if self.stereo else 1)
