"""Driving sipp against a SIP server: probes at a rate, and the search for the maximum.

Shared by benchmarks/sip_cps.py (the edge, Kamailio) and benchmarks/sip_router_path.py
(`ringway serve` through the router). benchmarks/ is not a package: the scripts load
this file by path.

* A *probe* runs sipp at rate R for ``Load.seconds`` (``-r``/``-rp 1000``, ``-m``
  calls in all, ``-l`` bounded). Above ``Load.per_sipp`` calls/s the load is split
  over several sipp processes (one sipp tops out near 8,000 calls/s here), and
  to a multiple of ``Load.sipps_multiple`` (a server of N SO_REUSEPORT workers
  gets N sipps or more, whose source ports ``Load.source_ports`` picks). A probe
  passes when every sipp exits 0, no call failed, every call completed and the
  calls went through at >= 95 % of R (a server that falls behind still completes
  calls through retransmissions, only slower).
* `find_max`: double the rate from ``start`` while probes pass, then bisect between
  the last pass and the first failure down to 5 %.
* Each probe records the CPU seconds the server (with its child processes and all
  its threads) and all sipps used, as a share of wall time; 1.0 = one core busy.
"""

from __future__ import annotations

import math
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

TICK = os.sysconf("SC_CLK_TCK")
UAC = ("-sn", "uac")  # sipp's built-in caller: INVITE, ACK, -d hold, BYE


def log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_udp(port: int, timeout: float = 10.0) -> None:
    """Poll with OPTIONS until the server answers."""
    probe = (
        f"OPTIONS sip:x@127.0.0.1:{port} SIP/2.0\r\n"
        "Via: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKw;rport\r\n"
        "From: <sip:w@x>;tag=1\r\nTo: <sip:x@x>\r\nCall-ID: w\r\nCSeq: 1 OPTIONS\r\n"
        "Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
    ).encode()
    deadline = time.monotonic() + timeout
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(0.2)
        while time.monotonic() < deadline:
            sock.sendto(probe, ("127.0.0.1", port))
            try:
                if sock.recv(4096).startswith(b"SIP/2.0"):
                    return
            except OSError:
                continue
    raise RuntimeError(f"nothing answers on udp/{port}")


def tree_cpu(pid: int) -> float:
    """CPU seconds used so far by `pid` and its direct children (Kamailio's workers)."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(entry.name) == pid or int(fields[1]) == pid:
            total += (int(fields[11]) + int(fields[12])) / TICK  # utime + stime
    return total


def main_thread_cpu(pid: int) -> float:
    """CPU seconds used so far by `pid`'s main thread (the event loop's, in Ringway)."""
    try:
        fields = Path(f"/proc/{pid}/task/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICK


def _children_cpu() -> float:
    usage = os.times()
    return usage.children_user + usage.children_system


def _stat(output: str, name: str) -> int:
    for line in output.splitlines():
        if line.strip().startswith(name) and "|" in line:
            return int(line.split("|")[2].split()[0])
    return -1


@dataclass
class Load:
    seconds: float
    call_ms: int
    per_sipp: int
    tmp: Path
    scenario: tuple[str, ...] = UAC  # sipp arguments naming the scenario (and its keys)
    sipps_multiple: int = 1  # the number of sipps is a multiple of this
    # sipp source ports for N sipps (default: any free port each)
    source_ports: Callable[[int], list[int]] | None = None

    def sipps_for(self, rate: float) -> int:
        procs = max(1, math.ceil(rate / self.per_sipp))
        return math.ceil(procs / self.sipps_multiple) * self.sipps_multiple

    def ports_for(self, sipps: int) -> list[int]:
        if self.source_ports is not None:
            return self.source_ports(sipps)
        return [free_port() for _ in range(sipps)]


def _sipp_command(
    port: int, rate: float, calls: int, load: Load, err: Path, local_port: int
) -> list[str]:
    wall = load.seconds * 3 + 40
    return [
        "timeout", str(int(wall)), "sipp", f"127.0.0.1:{port}", *load.scenario,
        "-i", "127.0.0.1", "-p", str(local_port), "-r", f"{rate:.0f}", "-rp", "1000",
        "-l", str(max(int(rate * (load.call_ms / 1000 + 1)), 100)),
        "-m", str(calls), "-d", str(load.call_ms), "-buff_size", "4194304", "-nostdin",
        "-timeout", f"{int(load.seconds * 2 + 20)}s", "-timeout_error",
        "-recv_timeout", "10000", "-trace_err", "-error_file", str(err),
    ]  # fmt: skip


def probe(port: int, server_pid: int, rate: int, load: Load) -> dict[str, Any]:
    """Run `rate` calls/s for `load.seconds` from enough sipp processes; one step's result."""
    procs = load.sipps_for(rate)
    calls = int(rate * load.seconds)
    shares = [calls // procs + (1 if i < calls % procs else 0) for i in range(procs)]
    errs = [load.tmp / f"err_{port}_{rate}_{i}.log" for i in range(procs)]
    local_ports = load.ports_for(procs)
    cpu0, sipp0, started = tree_cpu(server_pid), _children_cpu(), time.monotonic()
    loop0 = main_thread_cpu(server_pid)
    running = [
        subprocess.Popen(
            _sipp_command(port, rate / procs, n, load, err, local),
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        for n, err, local in zip(shares, errs, local_ports, strict=True)
    ]
    outputs, codes = [], []
    for proc in running:
        out, _ = proc.communicate()
        outputs.append(out)
        codes.append(proc.returncode)
    wall = time.monotonic() - started
    server_cpu = tree_cpu(server_pid) - cpu0
    loop_cpu = main_thread_cpu(server_pid) - loop0
    sipp_cpu = _children_cpu() - sipp0  # every sipp was waited for: its time is counted
    ok = sum(max(_stat(o, "Successful call"), 0) for o in outputs)
    failed = sum(max(_stat(o, "Failed call"), 0) for o in outputs)
    retrans = sum(
        int(m.group(1)) for o in outputs if (m := re.search(r"INVITE ---------->\s+\d+\s+(\d+)", o))
    )
    errors = "".join(e.read_text(errors="replace") for e in errs if e.exists())
    achieved = calls / max(wall - load.call_ms / 1000 - 0.5, 0.001)  # sipp start-up ~0.5 s
    return {
        "rate": rate,
        "sipp_processes": procs,
        "calls": calls,
        "successful": ok,
        "failed": failed,
        "invite_retransmissions": retrans,
        "503s": errors.count("SIP/2.0 503 "),
        "exit_codes": sorted(set(codes)),
        "wall_s": round(wall, 2),
        "achieved_cps": round(min(achieved, rate), 1),
        "server_cpu_share": round(server_cpu / wall, 2),
        "server_cpu_us_per_call": round(server_cpu / max(ok, 1) * 1e6, 1),
        # of which the main thread's (Ringway's event loop; the rest: writer threads)
        "server_main_thread_cpu_us_per_call": round(loop_cpu / max(ok, 1) * 1e6, 1),
        "sipp_cpu_share": round(sipp_cpu / wall, 2),
        "passed": set(codes) == {0} and failed == 0 and ok == calls and achieved >= 0.95 * rate,
    }


class ProbeCheck(Protocol):
    """The server's own account of a probe's calls, beside sipp's."""

    def before(self) -> None: ...

    def after(self, step: dict[str, Any]) -> None:
        """Add to ``step``; set ``passed`` False when the server disagrees with sipp."""


def find_max(
    port: int,
    pid: int,
    load: Load,
    name: str,
    start: int,
    cap: int,
    check: ProbeCheck | None = None,
    min_step: int = 50,
) -> tuple[int, list[Any]]:
    """Highest passing rate: doubling from `start`, then bisection to within 5 %
    (or ``min_step`` calls/s, whichever is wider).

    ``check`` reads the server before each probe and after it, once sipp is done.
    """
    steps: list[dict[str, Any]] = []

    def run(rate: int) -> bool:
        if check is not None:
            check.before()
        step = probe(port, pid, rate, load)
        if check is not None:
            check.after(step)
        steps.append(step)
        log(f"{name}: {step}")
        time.sleep(2)  # let the server drain between probes
        return bool(step["passed"])

    lo, hi, rate = 0, 0, start
    while rate <= cap:
        if not run(rate):
            hi = rate
            break
        lo, rate = rate, rate * 2
    if hi == 0:
        return lo, steps  # passed at the cap: a floor, not the max
    while hi - lo > max(0.05 * lo, min_step):
        mid = (lo + hi) // 2
        if run(mid):
            lo = mid
        else:
            hi = mid
    return lo, steps


def stop(proc: subprocess.Popen[Any]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    if proc.stdout is not None:  # a server that said "ready" on a pipe
        proc.stdout.close()
