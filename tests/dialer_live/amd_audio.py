"""Synthetic line audio for the answering-machine detector's tests (8 kHz 16-bit PCM).

"Speech" is a voice-like buzz: a 120-160 Hz fundamental with falling harmonics,
a syllable-rate (4 Hz) swell and a little noise -- energy and pitch that move
like a voice's, which is all an energy/cadence detector looks at. Seeded, so
every run makes the same audio.
"""

from __future__ import annotations

import math
import random
import shutil
import subprocess
from array import array
from pathlib import Path

from ivr.media.audio import load_wav, silence, tone
from ivr.media.g711 import ENCODERS

RATE = 8000


def speech(ms: int, *, seed: int = 1, level: float = 6000.0) -> bytes:
    rng = random.Random(seed)
    f0 = rng.uniform(120, 160)
    count = RATE * ms // 1000
    out = array("h")
    phase = 0.0
    for n in range(count):
        t = n / RATE
        pitch = f0 * (1 + 0.08 * math.sin(2 * math.pi * 3 * t))  # intonation
        phase += 2 * math.pi * pitch / RATE
        voice = sum(math.sin(k * phase) / k for k in range(1, 12))
        swell = 0.6 + 0.4 * math.sin(2 * math.pi * 4 * t)  # syllables, never silent
        value = level * swell * voice / 3 + rng.gauss(0, level * 0.05)
        out.append(max(-32768, min(32767, round(value))))
    return out.tobytes()


def noise(ms: int, *, dbfs: float, seed: int = 7) -> bytes:
    """White noise at ``dbfs`` (RMS), e.g. a line's hiss."""
    rng = random.Random(seed)
    sigma = 32768 * 10 ** (dbfs / 20)
    count = RATE * ms // 1000
    return array("h", (round(rng.gauss(0, sigma)) for _ in range(count))).tobytes()


def mix(a: bytes, b: bytes) -> bytes:
    """Sample-wise sum of two PCM clips (the shorter is padded with silence)."""
    x, y = array("h", a), array("h", b)
    length = max(len(x), len(y))
    x.extend([0] * (length - len(x)))
    y.extend([0] * (length - len(y)))
    return array("h", (max(-32768, min(32767, p + q)) for p, q in zip(x, y, strict=True))).tobytes()


def greeting(*parts: tuple[str, int]) -> bytes:
    """``("quiet", 400), ("talk", 600), ("beep", 300) ...`` joined in order."""
    pcm = b""
    for seed, (kind, ms) in enumerate(parts, 1):
        if kind == "quiet":
            pcm += silence(ms)
        elif kind == "talk":
            pcm += speech(ms, seed=seed)
        elif kind == "beep":
            pcm += tone(1000, ms, amplitude=9000)
        else:
            raise ValueError(kind)
    return pcm


HUMAN_HELLO = greeting(("quiet", 400), ("talk", 600), ("quiet", 2500))
MACHINE_GREETING = greeting(
    ("quiet", 300),
    *[part for _ in range(8) for part in (("talk", 450), ("quiet", 150))],
    ("beep", 400),
)


def spoken_file(tmp: Path, name: str, text: str, *, tail_ms: int, beep: bool = False) -> Path:
    """``text`` spoken by espeak-ng (then a beep if asked, then ``tail_ms`` of silence)
    as raw 8 kHz mu-law for sipp's rtp_stream (PT 0)."""
    espeak = shutil.which("espeak-ng")
    assert espeak is not None, "espeak-ng is needed for the spoken test audio"
    wav = tmp / f"{name}.wav"
    subprocess.run([espeak, "-w", str(wav), text], check=True, capture_output=True)
    pcm = load_wav(wav.read_bytes())
    if beep:
        pcm += silence(300) + tone(1000, 500, amplitude=9000)
    path = tmp / f"{name}.ulaw"
    path.write_bytes(ENCODERS["PCMU"](pcm + silence(tail_ms)))
    return path
