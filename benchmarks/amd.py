"""The answering-machine detector on a spoken corpus: verdicts, decision time, CPU cost.

    .venv/bin/python benchmarks/amd.py [--repeat 3]

Prints ONE JSON line on stdout. The corpus is made here with espeak-ng (5
English voices x 3 speaking rates): people answer with one of five short
phrases ("Hello?", "Yes?", ...) or a long business greeting ("Good morning,
Smith and Sons, ...", which cadence alone takes for a machine: it is in the
corpus so that the figure shows it) after 0.3-0.6 s and then wait; machines play
one of three voicemail greetings and a beep. Every clip is heard twice: clean
and over -55 dBFS line hiss. Each is fed as 20 ms PCMU payloads to
`ringway.dialer_live.amd.AmdAnalyser` with the default thresholds.

Reported: the share of people taken for people (``human_ok``; a miss is an
abandoned call for Ofcom) and of machines taken for machines (``machine_ok``),
the mean time to a verdict per class, the verdict reasons, and the analyser's
CPU time per call and per second of audio analysed (``process_time``, which
neighbours on a shared machine do not inflate). Synthetic speech is cleaner
than a phone line: these are upper bounds on accuracy, not a field measurement.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import subprocess
import sys
import tempfile
import time
from array import array
from collections import Counter
from pathlib import Path

from ivr.media.audio import load_wav, silence, tone
from ivr.media.g711 import ENCODERS
from ringway.dialer_live.amd import FRAME_S, AmdAnalyser, Verdict

VOICES = ("en-gb", "en-us", "en-gb-scotland", "en-029", "en-gb-x-rp")
RATES = (140, 175, 210)  # words per minute
HUMAN = (
    "Hello?",
    "Yes?",
    "Hello, who's this?",
    "Hi.",
    "Speaking.",
    # a business answer: as long as a voicemail greeting, the method's known blind spot
    "Good morning, Smith and Sons, John speaking, how can I help you?",
)
MACHINE = (
    "Hi, you have reached the Smith family. We can't take your call right now. "
    "Please leave a message after the tone.",
    "The person you are calling is not available. Please leave a message.",
    "Hello, this is Dave. Leave me a message and I'll call you back.",
)


def spoken(espeak: str, work: Path, text: str, voice: str, rate: int) -> bytes:
    wav = work / "clip.wav"
    command = [espeak, "-v", voice, "-s", str(rate), "-w", str(wav), text]
    subprocess.run(command, check=True, capture_output=True)
    return load_wav(wav.read_bytes())


def hiss(pcm_len: int, rng: random.Random) -> bytes:
    sigma = 32768 * 10 ** (-55 / 20)
    return array("h", (round(rng.gauss(0, sigma)) for _ in range(pcm_len // 2))).tobytes()


def add(a: bytes, b: bytes) -> bytes:
    x, y = array("h", a), array("h", b)
    return array("h", (max(-32768, min(32767, p + q)) for p, q in zip(x, y, strict=True))).tobytes()


def corpus(espeak: str, work: Path) -> list[tuple[str, bytes]]:
    """(truth, PCMU payload) clips, each clean and with hiss."""
    rng = random.Random(1)
    clips: list[tuple[str, bytes]] = []
    for voice in VOICES:
        for rate in RATES:
            for text in HUMAN:
                lead = silence(rng.randrange(300, 601, 20))
                clips.append(("human", lead + spoken(espeak, work, text, voice, rate)))
            for text in MACHINE:
                greeting = spoken(espeak, work, text, voice, rate)
                clips.append(("machine", greeting + silence(300) + tone(1000, 500)))
    out = []
    for truth, pcm in clips:
        pcm += silence(4000)
        out.append((truth, ENCODERS["PCMU"](pcm)))
        out.append((truth, ENCODERS["PCMU"](add(pcm, hiss(len(pcm), rng)))))
    return out


def analyse(payload: bytes) -> tuple[Verdict, int]:
    analyser = AmdAnalyser()
    for offset in range(0, len(payload), 160):
        verdict = analyser.feed_g711(payload[offset : offset + 160], 0)
        if verdict is not None:
            return verdict, analyser.frames
    return analyser.expire(), analyser.frames


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="passes over the corpus (CPU)")
    args = parser.parse_args()
    espeak = shutil.which("espeak-ng")
    if espeak is None:
        print("benchmarks/amd.py: espeak-ng is not installed", file=sys.stderr)
        raise SystemExit(2)
    with tempfile.TemporaryDirectory() as tmp:
        clips = corpus(espeak, Path(tmp))
    print(f"{len(clips)} clips", file=sys.stderr)
    right: Counter[str] = Counter()
    total: Counter[str] = Counter()
    decided_s: dict[str, float] = {"human": 0.0, "machine": 0.0}
    reasons: Counter[str] = Counter()
    frames = 0
    cpu = time.process_time()
    for _ in range(args.repeat):
        for truth, payload in clips:
            verdict, heard = analyse(payload)
            frames += heard
            total[truth] += 1
            right[truth] += verdict.kind == truth
            decided_s[truth] += verdict.after_s
            reasons[f"{truth}->{verdict.kind}:{verdict.reason}"] += 1
    cpu = time.process_time() - cpu
    calls = args.repeat * len(clips)
    result = {
        "benchmark": "amd",
        "clips": len(clips),
        "human_ok": round(right["human"] / total["human"], 4),
        "machine_ok": round(right["machine"] / total["machine"], 4),
        "mean_decision_s": {k: round(decided_s[k] / total[k], 3) for k in sorted(total)},
        "reasons": {k: v // args.repeat for k, v in sorted(reasons.items())},
        "cpu_ms_per_call": round(1000 * cpu / calls, 3),
        "cpu_ms_per_audio_s": round(1000 * cpu / (frames * FRAME_S), 3),
        "cpu_s": round(cpu, 3),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
