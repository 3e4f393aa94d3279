"""Signal helpers for the recording tests: tone synthesis, packetising, tone detection."""

from __future__ import annotations

import math
from array import array

from ivr.media.audio import tone
from ivr.media.g711 import DECODERS, ulaw_encode
from ivr.media.mixer import pcm_samples
from ivr.media.rtp import RtpPacket

FRAME = 160


def tone_packets(
    hz: float, frames: int, *, ssrc: int, ts0: int = 0, seq0: int = 0, amplitude: int = 8000
) -> list[RtpPacket]:
    """`frames` 20 ms μ-law packets of a continuous sine tone."""
    pcm = tone(hz, 20 * frames, amplitude=amplitude)
    encoded = ulaw_encode(pcm)
    return [
        RtpPacket(
            payload_type=0,
            sequence=(seq0 + i) & 0xFFFF,
            timestamp=(ts0 + i * FRAME) & 0xFFFFFFFF,
            ssrc=ssrc,
            payload=encoded[i * FRAME : (i + 1) * FRAME],
        )
        for i in range(frames)
    ]


def decode(packets: list[RtpPacket]) -> array[int]:
    """The packets' audio, concatenated in the order given."""
    out = array("h")
    for packet in packets:
        out.extend(pcm_samples(DECODERS[packet.payload_type](packet.payload)))
    return out


WINDOW = 800  # 100 ms: every test tone has a whole number of cycles in it


def amplitude_at(samples: array[int] | list[int], hz: float, rate: int = 8000) -> float:
    """Mean amplitude of the `hz` component over 100 ms windows (a sine of amplitude A
    gives ≈ A). Windowed, so phase jumps between talkspurts do not cancel out."""
    levels = windowed(samples, hz, rate)
    return sum(levels) / len(levels) if levels else 0.0


def windowed(samples: array[int] | list[int], hz: float, rate: int = 8000) -> list[float]:
    """The `hz` amplitude of each whole 100 ms window."""
    count = len(samples) // WINDOW
    return [goertzel(samples[i * WINDOW : (i + 1) * WINDOW], hz, rate) for i in range(count)]


def goertzel(samples: array[int] | list[int], hz: float, rate: int = 8000) -> float:
    """Amplitude of the `hz` component of one block (coherent over the block)."""
    n = len(samples)
    if n == 0:
        return 0.0
    coeff = 2 * math.cos(2 * math.pi * hz / rate)
    s1 = s2 = 0.0
    for x in samples:
        s1, s2 = x + coeff * s1 - s2, s1
    power = s1 * s1 + s2 * s2 - coeff * s1 * s2
    return 2 * math.sqrt(max(power, 0.0)) / n


def rms(samples: array[int] | list[int]) -> float:
    return math.sqrt(sum(x * x for x in samples) / len(samples)) if len(samples) else 0.0
