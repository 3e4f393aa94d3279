"""Mixer benchmark: how many monitored calls one core can mix in real time.

Run ``.venv/bin/python benchmarks/mixer.py`` (``--seconds S`` of call audio per
measurement): progress to stderr, ONE JSON line to stdout.

CPU only (no sockets): the pure `Mixer` is fed ``S`` seconds of a caller, an
agent and a supervisor (20 ms μ-law packets, 50 per second each) and mixes
every frame, in listen mode (one mixed stream: the supervisor's) and in barge
mode (three). The cost per second of call audio gives the number of such calls
one core can mix in real time (``*_calls_per_core`` = 1 / cost). Reference in
the same run: the plain B2BUA relay of the same call (`RelayRewriter` on the
caller's and the agent's packets, what every bridged call already costs) and
call recording (`Recorder.feed_packet`, both directions). ``ratio_*`` = mixer
cost / relay cost. The machine is shared and noisy: read the ratios, and the
absolute figures as this box's.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from collections.abc import Callable

from ivr.media.audio import tone
from ivr.media.g711 import ulaw_encode
from ivr.media.mixer import Mixer, MixMode, Party
from ivr.media.recorder import Recorder
from ivr.media.relay import RelayRewriter
from ivr.media.rtp import RtpPacket

SSRCS: dict[Party, int] = {"caller": 1, "agent": 2, "supervisor": 3}
TONES: dict[Party, float] = {"caller": 440.0, "agent": 1000.0, "supervisor": 1700.0}


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def packets(hz: float, frames: int, ssrc: int) -> list[RtpPacket]:
    encoded = ulaw_encode(tone(hz, 20 * frames))
    return [
        RtpPacket(
            payload_type=0,
            sequence=i & 0xFFFF,
            timestamp=i * 160,
            ssrc=ssrc,
            payload=encoded[i * 160 : (i + 1) * 160],
        )
        for i in range(frames)
    ]


def best_of(runs: int, work: Callable[[], None]) -> float:
    """The fastest of `runs` timings (the least disturbed by other jobs)."""
    best = float("inf")
    for _ in range(runs):
        started = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - started)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    frames = int(args.seconds * 50)
    streams = {party: packets(TONES[party], frames, SSRCS[party]) for party in SSRCS}

    def mixing(mode: MixMode) -> Callable[[], None]:
        def work() -> None:
            mixer = Mixer(start=0.0, ssrcs=SSRCS, mode=mode)
            for i in range(frames):
                now = 0.005 + 0.02 * i
                mixer.handle_timer(now)
                for party, stream in streams.items():
                    mixer.feed(party, stream[i], now)
            mixer.handle_timer(0.02 * (frames + 5))

        return work

    def relay() -> None:
        to_agent, to_caller = RelayRewriter(ssrc=10), RelayRewriter(ssrc=11)
        for i in range(frames):
            now = 0.02 * i
            to_agent.rewrite(streams["caller"][i], now)
            to_caller.rewrite(streams["agent"][i], now)

    def recording() -> None:
        recorder = Recorder()
        for i in range(frames):
            recorder.feed_packet("in", streams["caller"][i])
            recorder.feed_packet("out", streams["agent"][i])

    costs: dict[str, float] = {}
    for name, work in [
        ("relay", relay),
        ("recording", recording),
        ("listen", mixing(MixMode.LISTEN)),
        ("barge", mixing(MixMode.BARGE)),
    ]:
        log(f"{name}: {args.seconds:g} s of call audio, best of {args.runs}")
        costs[name] = best_of(args.runs, work) / args.seconds  # CPU seconds per call second
        log(f"  {costs[name] * 1000:.3f} ms CPU per call-second")
    result = {
        "benchmark": "mixer",
        "call_seconds": args.seconds,
        "cpu_ms_per_call_second": {k: round(v * 1000, 4) for k, v in costs.items()},
        "listen_calls_per_core": round(1 / costs["listen"]),
        "barge_calls_per_core": round(1 / costs["barge"]),
        "relay_calls_per_core": round(1 / costs["relay"]),
        "ratio_listen_vs_relay": round(costs["listen"] / costs["relay"], 2),
        "ratio_barge_vs_relay": round(costs["barge"] / costs["relay"], 2),
        "ratio_recording_vs_relay": round(costs["recording"] / costs["relay"], 2),
        "python": platform.python_version(),
        "loadavg_1m": round(os.getloadavg()[0], 2),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
