"""RTP playback benchmark: concurrent 20 ms G.711 streams one asyncio process plays.

Run ``.venv/bin/python benchmarks/rtp_streams.py`` (``--uvloop`` to use uvloop,
``--seconds S`` per step): progress to stderr, ONE JSON line to stdout.

For each N in the ramp, N `MediaEndpoint`s (one UDP socket each, as per call)
each run `run_player` on a `Player` looping 1 s of music on hold (PCMU, 160-byte
payloads, 50 packets/s), starts staggered over one 20 ms frame. Every send is
timed against the player's schedule: lateness = loop time when the packet left
minus its deadline (`next_deadline()`), for every packet due in a window of
``--seconds`` after 0.5 s of warm-up. The UDP sink is another process holding a
socket it never reads (the kernel discards), so it costs no CPU. A step passes
when p99 lateness < 20 ms (one frame: a jitter buffer absorbs it) and the
process kept the ideal rate (N x 50 packets/s). Each step also reports the
process's CPU over the window (`cpu_share`, `cpu_us_per_packet`). The ramp stops after the first
failing step; ``max_streams_p99_lt_20ms`` is the largest passing N. The box's
load average is reported: other jobs on a shared machine move the figure.

Diagnostics per step (they change nothing measured): `setup_late_ms`, how late the
first packet left (the players' schedule starts 0.1 s after the step began, so
set-up slower than that starts every stream behind and its backlog goes out in a
burst); `late_by_100ms`, the packets over 20 ms late per 100 ms of the window
(lateness bunched at its start is that burst, spread out is stalls);
`gc`, the collections in the window per generation with the longest pause; and
`preempted`, the process's involuntary context switches in the window (another
process on the core took it: a stall that is not this process's CPU).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import platform
import resource
import subprocess
import sys
import time
from collections.abc import Callable

from ivr.media.audio import tone
from ivr.media.endpoint import MediaEndpoint
from ivr.media.player import Player

RAMP = (100, 250, 500, 750, 1000, 1500, 2000, 3000, 4000)
# The sink: another process holding a UDP socket it never reads, so the kernel
# accepts and discards the datagrams and the sink costs no CPU to measure against.
SINK = """
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0)); print(s.getsockname()[1], flush=True)
sys.stdin.read()
"""


async def step(streams: int, seconds: float, port: int) -> dict[str, float | int | bool | str]:
    loop = asyncio.get_running_loop()
    lateness: list[float] = []
    measure_from = measure_to = 0.0

    first_late: list[float] = []  # diagnostics: how late the first packet left
    late_at: list[float] = []  # diagnostics: deadlines of packets over 20 ms late

    def on_sent(deadline: float, now: float) -> None:
        if measure_from <= deadline < measure_to:
            lateness.append(now - deadline)
            if now - deadline >= 0.020:
                late_at.append(deadline - measure_from)
        elif not first_late:
            first_late.append(now - deadline)

    endpoints = []
    for _ in range(streams):
        transport, endpoint = await loop.create_datagram_endpoint(
            lambda: MediaEndpoint(remote=("127.0.0.1", port), on_sent=on_sent),
            local_addr=("127.0.0.1", 0),
        )
        endpoints.append((transport, endpoint))
    moh = tone(425, 1000)
    start = loop.time() + 0.1
    tasks: list[asyncio.Task[None]] = []
    for index, (_, endpoint) in enumerate(endpoints):
        player = Player(start=start + 0.02 * index / streams, ssrc=index + 1)
        player.loop(moh)
        tasks.append(asyncio.create_task(endpoint.run_player(player)))
    # 0.5 s of warm-up, then `seconds` measured: every packet due in the window
    measure_from, measure_to = start + 0.5, start + 0.5 + seconds
    await asyncio.sleep(measure_from - loop.time())
    cpu_from = time.process_time()  # this process's CPU over the measured window
    switches_from = resource.getrusage(resource.RUSAGE_SELF).ru_nivcsw
    pauses: dict[int, list[float]] = {0: [], 1: [], 2: []}
    timing = _time_collections(pauses)
    gc.callbacks.append(timing)
    await asyncio.sleep(measure_to - loop.time())
    gc.callbacks.remove(timing)
    cpu_s = time.process_time() - cpu_from
    preempted = resource.getrusage(resource.RUSAGE_SELF).ru_nivcsw - switches_from
    await asyncio.sleep(0.2)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    for transport, _ in endpoints:
        transport.close()
    lateness.sort()
    sent = len(lateness)
    ideal = round(streams * 50 * seconds)
    p99 = lateness[int(0.99 * (sent - 1))] if sent else float("inf")
    result: dict[str, float | int | bool | str] = {
        "streams": streams,
        "packets_sent": sent,
        "ideal_packets": ideal,
        "p50_ms": round(1000 * lateness[sent // 2], 3) if sent else -1.0,
        "p99_ms": round(1000 * p99, 3),
        "max_ms": round(1000 * lateness[-1], 3) if sent else -1.0,
        "achieved_pps": round(sent / seconds),
        "ideal_pps": streams * 50,
        "cpu_share": round(cpu_s / seconds, 3),  # 1.0 = one core busy
        "cpu_us_per_packet": round(1e6 * cpu_s / sent, 2) if sent else -1.0,
    }
    result["pass"] = p99 < 0.020 and sent >= 0.99 * ideal
    # diagnostics (nothing above depends on them)
    result["setup_late_ms"] = round(1000 * first_late[0], 1) if first_late else -1.0
    bins = [0] * max(1, round(seconds * 10))
    for at in late_at:
        bins[min(int(at * 10), len(bins) - 1)] += 1
    result["late_by_100ms"] = ",".join(map(str, bins))
    result["gc"] = ",".join(
        f"gen{gen}:{len(times)}x<={1000 * max(times, default=0.0):.1f}ms"
        for gen, times in pauses.items()
    )
    result["preempted"] = preempted
    return result


def _time_collections(pauses: dict[int, list[float]]) -> Callable[[str, dict[str, int]], None]:
    """A `gc.callbacks` entry that records each collection's wall time by generation."""
    began = [0.0]

    def timing(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            began[0] = time.perf_counter()
        else:
            pauses[info["generation"]].append(time.perf_counter() - began[0])

    return timing


async def run(seconds: float) -> list[dict[str, float | int | bool | str]]:
    sink = subprocess.Popen(
        [sys.executable, "-c", SINK], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert sink.stdout is not None and sink.stdin is not None
    port = int(sink.stdout.readline())
    results = []
    try:
        for streams in RAMP:
            result = await step(streams, seconds, port)
            print(json.dumps(result), file=sys.stderr, flush=True)
            results.append(result)
            if not result["pass"]:
                break
    finally:
        sink.stdin.close()
        sink.wait(timeout=10)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--uvloop", action="store_true")
    args = parser.parse_args()
    if args.uvloop:
        import uvloop

        uvloop.install()
    began = time.perf_counter()
    load_before = [round(x, 2) for x in os.getloadavg()]
    results = asyncio.run(run(args.seconds))
    steps = results
    passing = [int(r["streams"]) for r in steps if r["pass"]]
    best = max(passing, default=0)
    summary = {
        "benchmark": "rtp_streams",
        "loop": "uvloop" if args.uvloop else "asyncio",
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "seconds_per_step": args.seconds,
        "max_streams_p99_lt_20ms": best,
        "ideal_packets_per_s_at_max": best * 50,
        "goal_streams": 500,
        "goal_met": best >= 500,
        "steps": steps,
        "load_average_before": load_before,
        "wall_s": round(time.perf_counter() - began, 1),
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
