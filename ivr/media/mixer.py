"""Sans-I/O mixing for supervisor monitoring of a bridged call (listen, whisper, barge).

Three parties: the caller, the agent and the supervisor. The mode says who
hears whom (`HEARS`); each receiver gets the clipped sum of the parties it
hears, never its own voice (N-1 mixing):

    listen   supervisor ← caller + agent; caller and agent do not hear the supervisor
    whisper  agent ← caller + supervisor (coaching); the caller still hears only the agent
    barge    everyone ← the other two

Only the streams that differ from the plain bridge are produced here (`MIXED`):
in listen mode the caller↔agent audio keeps flowing through the relay untouched.

Timing: output frame k (20 ms, 160 samples at 8000 Hz, RFC 3551 §4.5.14) is due
at ``start + k * 20 ms``. Each input is placed by its RTP timestamp (RFC 3550
§5.1: the sampling instant), anchored when its first packet arrives at the
frame due ``delay_frames`` later — a small jitter buffer. Loss leaves a gap
that mixes as silence; a packet arriving after its frame was mixed is counted
in ``late`` and dropped; a new SSRC, a jump beyond ``MAX_AHEAD_FRAMES`` or a run
of late packets (the sender's clock drifting behind ours) re-anchors the input.
"""

from __future__ import annotations

import math
import sys
from array import array
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from operator import add
from typing import Literal

from ivr.media.g711 import DECODERS, ENCODERS, PAYLOAD_TYPES
from ivr.media.player import FRAME_SAMPLES, FRAME_SECONDS
from ivr.media.rtp import RtpPacket, ts_delta

Party = Literal["caller", "agent", "supervisor"]
PARTIES: tuple[Party, ...] = ("caller", "agent", "supervisor")
MAX_AHEAD_FRAMES = 50  # 1 s: a packet further ahead means the stream jumped
LATE_RUN_REANCHOR = 3  # this many late packets in a row: re-anchor (clock drift)
_CODEC_BY_PT = {pt: codec for codec, pt in PAYLOAD_TYPES.items()}


class MixMode(StrEnum):
    LISTEN = "listen"
    WHISPER = "whisper"
    BARGE = "barge"


HEARS: dict[MixMode, dict[Party, frozenset[Party]]] = {
    MixMode.LISTEN: {
        "caller": frozenset({"agent"}),
        "agent": frozenset({"caller"}),
        "supervisor": frozenset({"caller", "agent"}),
    },
    MixMode.WHISPER: {
        "caller": frozenset({"agent"}),
        "agent": frozenset({"caller", "supervisor"}),
        "supervisor": frozenset({"caller", "agent"}),
    },
    MixMode.BARGE: {
        "caller": frozenset({"agent", "supervisor"}),
        "agent": frozenset({"caller", "supervisor"}),
        "supervisor": frozenset({"caller", "agent"}),
    },
}
# Receivers whose stream is mixed; the others keep the caller↔agent relay.
MIXED: dict[MixMode, frozenset[Party]] = {
    MixMode.LISTEN: frozenset({"supervisor"}),
    MixMode.WHISPER: frozenset({"agent", "supervisor"}),
    MixMode.BARGE: frozenset(PARTIES),
}


def mix(frames: Iterable[array[int] | None]) -> array[int] | None:
    """The clipped sample-wise sum of the present frames; None if none is present.

    The sum runs in C (`map(add)`); the clipping pass only when a sum overflows."""
    present = [f for f in frames if f is not None]
    if not present:
        return None
    if len(present) == 1:
        return present[0]
    sums = list(map(add, present[0], present[1]))
    for more in present[2:]:
        sums = list(map(add, sums, more))
    if max(sums) > 32767 or min(sums) < -32768:
        sums = [32767 if s > 32767 else -32768 if s < -32768 else s for s in sums]
    return array("h", sums)


def pcm_samples(pcm: bytes) -> array[int]:
    """16-bit little-endian PCM as native samples."""
    samples = array("h", pcm[: len(pcm) - len(pcm) % 2])
    if sys.byteorder == "big":
        samples.byteswap()
    return samples


def samples_pcm(samples: array[int]) -> bytes:
    """Native samples as 16-bit little-endian PCM."""
    if sys.byteorder == "big":
        samples = array("h", samples)
        samples.byteswap()
    return samples.tobytes()


class _Track:
    """One input's jitter buffer: 20 ms frames keyed by output frame index."""

    def __init__(self) -> None:
        self.frames: dict[int, array[int]] = {}
        self.ssrc: int | None = None
        self.anchor_ts = 0
        self.anchor_sample = 0  # output sample position of `anchor_ts`
        self.late_run = 0
        self.payload_type: int | None = None

    def anchor(self, packet: RtpPacket, frame: int) -> None:
        self.ssrc, self.anchor_ts = packet.ssrc, packet.timestamp
        self.anchor_sample = frame * FRAME_SAMPLES
        self.late_run = 0

    def position(self, timestamp: int) -> int:
        return self.anchor_sample + ts_delta(timestamp, self.anchor_ts)

    def write(self, position: int, samples: array[int], first_frame: int) -> None:
        """Copy samples in from `position`, skipping frames before `first_frame`."""
        offset = 0
        while offset < len(samples):
            frame, within = divmod(position + offset, FRAME_SAMPLES)
            count = min(FRAME_SAMPLES - within, len(samples) - offset)
            if frame >= first_frame:
                slot = self.frames.get(frame)
                if slot is None:
                    slot = self.frames[frame] = array("h", bytes(2 * FRAME_SAMPLES))
                slot[within : within + count] = samples[offset : offset + count]
            offset += count

    def take(self, frame: int) -> array[int] | None:
        for stale in [k for k in self.frames if k < frame]:
            del self.frames[stale]
        return self.frames.pop(frame, None)


@dataclass(slots=True)
class _Output:
    ssrc: int
    sequence: int = 0
    timestamp: int = 0
    marker: bool = True


class Mixer:
    """Inputs from up to three parties in, the mixed streams of `MIXED[mode]` out."""

    def __init__(
        self,
        *,
        start: float,
        ssrcs: Mapping[Party, int],
        mode: MixMode = MixMode.LISTEN,
        delay_frames: int = 2,
        codecs: Mapping[Party, str] | None = None,
    ) -> None:
        if delay_frames < 0:
            raise ValueError("delay_frames must be >= 0")
        self.mode = mode
        self._start = start
        self._delay = delay_frames
        self._codecs = dict(codecs or {})
        self._next = 0  # index of the next frame to mix
        self._tracks: dict[Party, _Track] = {party: _Track() for party in PARTIES}
        self._outputs = {party: _Output(ssrc=ssrcs[party]) for party in PARTIES}
        self.late = 0  # packets that arrived after their frame was mixed
        self.ignored = 0  # packets that are not G.711 audio (e.g. RFC 4733 events)

    # -- input ------------------------------------------------------------
    def feed(self, party: Party, packet: RtpPacket, now: float) -> None:
        """One RTP packet received from `party` at `now`."""
        decode = DECODERS.get(packet.payload_type)
        if decode is None:
            self.ignored += 1
            return
        track = self._tracks[party]
        track.payload_type = packet.payload_type
        if track.ssrc != packet.ssrc:
            track.anchor(packet, self._arrival_frame(now))
        position = track.position(packet.timestamp)
        if position // FRAME_SAMPLES > self._next + MAX_AHEAD_FRAMES:
            track.anchor(packet, self._arrival_frame(now))  # the stream jumped forward
            position = track.position(packet.timestamp)
        samples = pcm_samples(decode(packet.payload))
        if position + len(samples) <= self._next * FRAME_SAMPLES:
            self.late += 1
            track.late_run += 1
            if track.late_run >= LATE_RUN_REANCHOR:  # our clock runs ahead of theirs
                track.anchor(packet, self._arrival_frame(now))
                track.write(track.position(packet.timestamp), samples, self._next)
            return
        track.late_run = 0
        track.write(position, samples, self._next)

    def _arrival_frame(self, now: float) -> int:
        # the first frame not yet due at `now`, plus the jitter-buffer delay
        due = max(self._next, math.floor((now - self._start) / FRAME_SECONDS + 1e-9) + 1)
        return due + self._delay

    # -- output -----------------------------------------------------------
    def next_deadline(self) -> float:
        return self._start + self._next * FRAME_SECONDS

    def handle_timer(self, now: float) -> list[tuple[Party, RtpPacket]]:
        """Mix every frame due by `now`: (receiver, packet) for each mixed receiver."""
        out: list[tuple[Party, RtpPacket]] = []
        while self.next_deadline() <= now + 1e-9:
            out.extend(self._mix_frame(self._next))
            self._next += 1
        return out

    def _mix_frame(self, frame: int) -> list[tuple[Party, RtpPacket]]:
        inputs = {party: self._tracks[party].take(frame) for party in PARTIES}
        hears = HEARS[self.mode]
        packets: list[tuple[Party, RtpPacket]] = []
        for receiver in PARTIES:
            if receiver not in MIXED[self.mode]:
                continue
            mixed = mix(inputs[p] for p in sorted(hears[receiver]))
            packets.append((receiver, self._packet(receiver, mixed)))
        return packets

    def _packet(self, receiver: Party, samples: array[int] | None) -> RtpPacket:
        codec = self._codec(receiver)
        pcm = samples_pcm(samples) if samples is not None else bytes(2 * FRAME_SAMPLES)
        state = self._outputs[receiver]
        packet = RtpPacket(
            payload_type=PAYLOAD_TYPES[codec],
            sequence=state.sequence,
            timestamp=state.timestamp,
            ssrc=state.ssrc,
            marker=state.marker,
            payload=ENCODERS[codec](pcm),
        )
        state.sequence = (state.sequence + 1) & 0xFFFF
        state.timestamp = (state.timestamp + FRAME_SAMPLES) & 0xFFFFFFFF
        state.marker = False
        return packet

    def _codec(self, receiver: Party) -> str:
        """The configured codec, else the one the receiver sends (symmetric), else PCMU."""
        if receiver in self._codecs:
            return self._codecs[receiver]
        return _CODEC_BY_PT.get(self._tracks[receiver].payload_type or 0, "PCMU")

    def set_mode(self, mode: MixMode) -> None:
        """Switch mode at the next frame; a receiver newly mixed starts a talkspurt."""
        for receiver in MIXED[mode] - MIXED[self.mode]:
            self._outputs[receiver].marker = True  # RFC 3551 §4.1
        self.mode = mode
