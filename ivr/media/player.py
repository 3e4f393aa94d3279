"""Sans-I/O paced G.711 playback (RFC 3550 §5.1, RFC 3551 §4.5.14).

Frames of 20 ms = 160 samples = 160 octets (anchors-performance §A.3): each
packet advances the timestamp by 160 and the sequence by 1; the first packet
of the stream carries the marker bit (RFC 3551 §4.1, start of a talkspurt).
The player owns no clock: `next_deadline()` says when the next packet is due
and `handle_timer(now)` returns the packets due by `now`.

Sequencing: a queue of prompts, then an optional loop (music on hold);
`announce()` interrupts the loop at the next frame boundary and the loop
resumes where it left off afterwards.

Each input comes as 16-bit PCM (`play`, `announce`, `loop`) or already in the
player's G.711 law (`play_encoded`, ...). G.711 is one octet per sample with no
state, so encoding prompts once and joining the octets gives the very frames
encoding their joined PCM would: a caller's prompts can come from a cache
(`ivr.media.audio.PromptLibrary.encoded`) instead of being encoded per call.
"""

from __future__ import annotations

import struct
from collections import deque
from collections.abc import Sequence
from functools import lru_cache

from ivr.media.g711 import ENCODERS, PAYLOAD_TYPES, SILENCE
from ivr.media.rtp import RTP_VERSION, RtpPacket

_HEADER = struct.Struct("!BBHII")  # RFC 3550 §5.1 fixed header: no CSRC, extension, padding
_FIRST_OCTET = RTP_VERSION << 6

FRAME_SAMPLES = 160  # 20 ms at 8000 Hz
FRAME_SECONDS = 0.020


class Player:
    """One outgoing RTP stream of G.711 frames, paced from `start`."""

    def __init__(
        self,
        *,
        start: float,
        ssrc: int,
        codec: str = "PCMU",
        sequence: int = 0,
        timestamp: int = 0,
        payload_type: int | None = None,
    ) -> None:
        self.codec = codec
        self._silence = bytes([SILENCE[codec]]) * FRAME_SAMPLES
        self.payload_type = PAYLOAD_TYPES[codec] if payload_type is None else payload_type
        self.ssrc = ssrc
        self._start = start
        self._frames_sent = 0
        self._sequence = sequence
        self._timestamp = timestamp
        self._queue: deque[bytes] = deque()  # encoded frames still to send
        self._loop: Sequence[bytes] = ()
        self._loop_index = 0
        self._marker = True

    # -- sequencing -------------------------------------------------------
    def play(self, pcm: bytes, *, now: float | None = None) -> None:
        """Append a prompt (8 kHz mono 16-bit PCM) after what is queued.

        `now`: when the player was idle, start pacing at `now` (not in the past)."""
        self.play_encoded(self.encode(pcm), now=now)

    def announce(self, pcm: bytes, *, now: float | None = None) -> None:
        """Insert a prompt before anything queued (e.g. position in queue)."""
        self.announce_encoded(self.encode(pcm), now=now)

    def loop(self, pcm: bytes | None, *, now: float | None = None) -> None:
        """Music on hold: repeat `pcm` whenever the queue is empty; None stops it."""
        self.loop_encoded(self.encode(pcm) if pcm else None, now=now)

    def encode(self, pcm: bytes) -> bytes:
        """16-bit PCM in this player's law (an odd trailing octet is dropped)."""
        return encode_pcm(self.codec, pcm)

    def play_encoded(self, octets: bytes, *, now: float | None = None) -> None:
        """`play` for a prompt already in the player's law (`codec`)."""
        self._wake(now)
        self._queue.extend(self._frames(octets))

    def announce_encoded(self, octets: bytes, *, now: float | None = None) -> None:
        """`announce` for a prompt already in the player's law."""
        self._wake(now)
        self._queue.extendleft(reversed(self._frames(octets)))

    def loop_encoded(self, octets: bytes | None, *, now: float | None = None) -> None:
        """`loop` for music already in the player's law; None stops it."""
        self._wake(now)
        self._loop = self._frames(octets) if octets else ()
        self._loop_index = 0

    def _wake(self, now: float | None) -> None:
        if now is not None and not self.busy and self._frames_sent:
            # a new talkspurt after idling: re-anchor pacing, mark it (RFC 3551 §4.1);
            # the timestamp jumps by the idle time as it follows the sampling clock
            gap = now - (self._start + self._frames_sent * FRAME_SECONDS)
            self._timestamp = (self._timestamp + max(round(gap * 8000), 0)) & 0xFFFFFFFF
            self._start = now - self._frames_sent * FRAME_SECONDS
            self._marker = True

    def stop(self) -> None:
        self._queue.clear()
        self._loop = ()

    @property
    def busy(self) -> bool:
        return bool(self._queue or self._loop)

    # -- pacing -----------------------------------------------------------
    def next_deadline(self) -> float | None:
        """When the next frame is due, or None when there is nothing to play."""
        return self._start + self._frames_sent * FRAME_SECONDS if self.busy else None

    def handle_timer(self, now: float) -> list[RtpPacket]:
        """All packets due by `now` (a late driver catches up, never skips)."""
        packets: list[RtpPacket] = []
        deadline = self.next_deadline()
        while deadline is not None and deadline <= now + 1e-9:
            packets.append(self._packet(self._next_frame()))
            deadline = self.next_deadline()
        return packets

    def due_datagrams(self, now: float) -> list[bytes]:
        """`handle_timer` as wire bytes, the same octets `RtpPacket.serialize()` gives,
        without an `RtpPacket` per frame: the playback hot path (50 packets/s per
        stream) when nothing needs the packet objects (no recorder on the leg)."""
        datagrams: list[bytes] = []
        limit = now + 1e-9
        while (self._queue or self._loop) and (
            self._start + self._frames_sent * FRAME_SECONDS <= limit
        ):
            payload = self._next_frame()
            second = (0x80 if self._marker else 0) | (self.payload_type & 0x7F)
            header = _HEADER.pack(_FIRST_OCTET, second, self._sequence, self._timestamp, self.ssrc)
            datagrams.append(header + payload)
            self._advance()
        return datagrams

    def _next_frame(self) -> bytes:
        if self._queue:
            return self._queue.popleft()
        frame = self._loop[self._loop_index]
        self._loop_index = (self._loop_index + 1) % len(self._loop)
        return frame

    def _packet(self, payload: bytes) -> RtpPacket:
        packet = RtpPacket(
            payload_type=self.payload_type,
            marker=self._marker,
            sequence=self._sequence,
            timestamp=self._timestamp,
            ssrc=self.ssrc,
            payload=payload,
        )
        self._advance()
        return packet

    def _advance(self) -> None:
        """One frame sent: RFC 3550 §5.1 sequence +1, timestamp + 160 samples."""
        self._frames_sent += 1
        self._marker = False
        self._sequence = (self._sequence + 1) & 0xFFFF
        self._timestamp = (self._timestamp + FRAME_SAMPLES) & 0xFFFFFFFF

    def _frames(self, encoded: bytes) -> tuple[bytes, ...]:
        return split_frames(encoded, self._silence)


@lru_cache(maxsize=16)
def encode_pcm(codec: str, pcm: bytes) -> bytes:
    """16-bit PCM in G.711 law `codec` (an odd trailing octet is dropped), remembered.

    Every caller put on hold or played a prompt as PCM (`play`, `loop`, `announce`)
    hands the same PCM again, and encoding it was ~0.5 ms a second of audio, per
    call: benchmarks/rtp_streams.py's set-up encodes one second per stream, and at
    500 streams that overran the 0.1 s before the first packet was due, so every
    stream started behind and its backlog went out in one burst (`handle_timer`
    catches up) into the measured window. Bytes are immutable: sharing is safe. A
    hit costs hashing the PCM once per object and comparing it."""
    return ENCODERS[codec](pcm[: len(pcm) - len(pcm) % 2])


@lru_cache(maxsize=32)
def split_frames(encoded: bytes, silence: bytes) -> tuple[bytes, ...]:
    """`encoded` in 20 ms frames, the last padded with `silence` (a frame of it).

    Remembered: every queued call loops the same hold-music octets (one object per
    law, whose hash Python keeps), which would otherwise be cut into the same 150
    frames per call. Frames are immutable bytes, so sharing them is safe."""
    frames = [encoded[i : i + FRAME_SAMPLES] for i in range(0, len(encoded), FRAME_SAMPLES)]
    if frames and len(frames[-1]) < FRAME_SAMPLES:
        frames[-1] += silence[len(frames[-1]) :]
    return tuple(frames)
