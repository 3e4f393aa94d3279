"""Prompt audio as 8 kHz mono 16-bit little-endian PCM: WAV loading with simple
conversion, and synthesised tones/silence so the repo ships no audio files.

Recorded or TTS prompts go in `ivr/media/prompts/<name>.wav` (generated at
build time, e.g. `espeak-ng -w position.wav "You are caller number"` then any
rate/width: `load_wav` converts). A name without a file falls back to a short
synthesised tone so announcements stay audible and testable.
"""

from __future__ import annotations

import io
import math
import wave
from array import array
from pathlib import Path

from ivr.media.errors import WavFormatError
from ivr.media.g711 import ENCODERS

RATE = 8000  # G.711 clock rate (RFC 3551 §4.5.14)
PROMPT_DIR = Path(__file__).with_name("prompts")


def silence(ms: int) -> bytes:
    """`ms` milliseconds of digital silence."""
    return bytes(2 * RATE * ms // 1000)


def tone(hz: float, ms: int, *, amplitude: int = 8000, rate: int = RATE) -> bytes:
    """A sine tone (e.g. 425 Hz ringback, MOH placeholders)."""
    count = rate * ms // 1000
    step = 2 * math.pi * hz / rate
    return array("h", (round(amplitude * math.sin(step * n)) for n in range(count))).tobytes()


def load_wav(data: bytes) -> bytes:
    """A RIFF/WAVE PCM file (any rate, 8/16-bit, mono/stereo) → 8 kHz mono 16-bit."""
    try:
        with wave.open(io.BytesIO(data), "rb") as reader:
            width, channels = reader.getsampwidth(), reader.getnchannels()
            rate, frames = reader.getframerate(), reader.readframes(reader.getnframes())
    except (wave.Error, EOFError) as exc:
        raise WavFormatError(f"not a PCM WAV file: {exc}") from exc
    if width == 1:  # 8-bit WAV is unsigned (offset 128)
        samples = array("h", ((octet - 128) << 8 for octet in frames))
    elif width == 2:
        samples = array("h", frames[: len(frames) - len(frames) % 2])
    else:
        raise WavFormatError(f"unsupported sample width {width}")
    if channels > 1:
        samples = array(
            "h",
            (
                sum(samples[i : i + channels]) // channels
                for i in range(0, len(samples) - channels + 1, channels)
            ),
        )
    if rate != RATE:  # nearest-sample resampling: adequate for speech prompts
        count = len(samples) * RATE // rate
        samples = array("h", (samples[n * rate // RATE] for n in range(count)))
    return samples.tobytes()


def write_wav(pcm: bytes, *, channels: int = 1, rate: int = RATE) -> bytes:
    """Wrap 16-bit little-endian PCM in a RIFF/WAVE header."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as writer:
        writer.setnchannels(channels)
        writer.setsampwidth(2)
        writer.setframerate(rate)
        writer.writeframes(pcm)
    return buffer.getvalue()


class PromptLibrary:
    """Prompts by name: `<dir>/<name>.wav` if present, else a synthesised tone.

    Each prompt is loaded once, and encoded once per G.711 law (`encoded`): a
    queued call's announcement is a handful of prompts, and encoding its seconds
    of PCM sample by sample for every call cost more than the rest of the call.
    """

    def __init__(self, directory: Path = PROMPT_DIR) -> None:
        self._directory = directory
        self._cache: dict[str, bytes] = {}
        self._encoded: dict[tuple[str, str], bytes] = {}

    def encoded(self, name: str, codec: str) -> bytes:
        """The prompt in G.711 law ``codec`` ("PCMU", "PCMA"): `get`'s PCM, encoded once."""
        key = (name, codec)
        octets = self._encoded.get(key)
        if octets is None:
            pcm = self.get(name)
            octets = self._encoded[key] = ENCODERS[codec](pcm[: len(pcm) - len(pcm) % 2])
        return octets

    def get(self, name: str) -> bytes:
        if name not in self._cache:
            path = self._directory / f"{name}.wav"
            if path.is_file():
                self._cache[name] = load_wav(path.read_bytes())
            else:  # a distinct short tone per name, then a gap
                hz = 400 + (sum(name.encode()) % 40) * 20
                self._cache[name] = tone(hz, 300) + silence(100)
        return self._cache[name]


def announcement(position: int, wait_minutes: int) -> list[str]:
    """Prompt names for "you are caller number N, expected wait M minutes"."""
    return [
        "position",
        *number_prompts(position),
        "expected_wait",
        *number_prompts(wait_minutes),
        "minutes",
    ]


def number_prompts(value: int) -> list[str]:
    """Digit-by-digit prompt names ("digit_1", "digit_2") of a non-negative int."""
    return [f"digit_{ch}" for ch in str(max(value, 0))]
