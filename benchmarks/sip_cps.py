"""SIP edge call-rate benchmark: the highest calls/s sipp's uac sustains with 0 failed calls.

Run ``.venv/bin/python benchmarks/sip_cps.py``: progress goes to stderr, one JSON
line to stdout.

* The edge (`ivr.edge.SipEdge`, default handler: 100, 180, 200 with an SDP
  answer; BYE → 200) runs in its own process on uvloop, UDP on 127.0.0.1,
  default garbage-collector settings.
  Signalling only: media is off (no RTP is sent or received by either side).
* Load: ``sipp -sn uac -r R -l 2R -m R*STEP -d CALL_MS -buff_size 4194304``. A
  step passes when sipp exits 0 with every call successful *and* the calls went
  through at >= 90 % of R (a server that falls behind still completes every
  call through retransmissions, only slower: that is not sustaining R). R ramps up through
  RATES until a step fails; ``max_cps`` is the last rate that passed.
* Overload: one step at 2x max_cps. The edge sheds (503 + Retry-After, RFC
  3261 §21.5.4) when its loop lags or its transaction table is full; sipp's
  strict uac counts those calls as failed. Reported: successful and failed
  calls, 503s seen by sipp, and a recovery step at max_cps / 2 afterwards.
* Kamailio (Debian bookworm 5.6.3, `apt-get install kamailio`), when installed:
  the same ramp against a stateless ``sl_send_reply("200")`` responder, one
  worker, ``-x tlsf -X tlsf -m 1024``. Without it the JSON says so.

sipp and the system under test share this machine's cores (see ``cpus``).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RATES = (250, 500, 750, 1000, 1250, 1500, 2000, 3000, 4000, 6000, 8000, 10000, 12000, 15000, 20000)
KAMAILIO_CFG = """#!KAMAILIO
debug=0
log_stderror=yes
children=1
auto_aliases=no
listen=udp:127.0.0.1:{port}
loadmodule "sl.so"
request_route {{
    if (method == "ACK") {{ exit; }}
    sl_send_reply("200", "OK");
}}
"""


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


def _stat(output: str, name: str) -> int:
    for line in output.splitlines():
        if line.strip().startswith(name) and "|" in line:
            return int(line.split("|")[2].split()[0])
    return -1


def run_sipp(port: int, rate: int, seconds: float, call_ms: int, tmp: Path) -> dict[str, Any]:
    calls = int(rate * seconds)
    err = tmp / f"err_{port}_{rate}.log"
    command = [
        "timeout", str(int(seconds * 3 + 40)), "sipp", f"127.0.0.1:{port}", "-sn", "uac",
        "-i", "127.0.0.1", "-p", str(free_port()), "-r", str(rate), "-l", str(2 * rate),
        "-m", str(calls), "-d", str(call_ms), "-buff_size", "4194304", "-nostdin",
        "-timeout", f"{int(seconds * 2 + 20)}s", "-timeout_error", "-recv_timeout", "10000",
        "-trace_err", "-error_file", str(err),
    ]  # fmt: skip
    started = time.monotonic()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    errors = err.read_text(errors="replace") if err.exists() else ""
    invite = re.search(r"INVITE ---------->\s+(\d+)\s+(\d+)", done.stdout)
    ok, failed = _stat(done.stdout, "Successful call"), _stat(done.stdout, "Failed call")
    wall = time.monotonic() - started
    achieved = calls / max(wall - call_ms / 1000 - 0.5, 0.001)  # sipp start-up ~0.5 s
    return {
        "rate": rate,
        "calls": calls,
        "successful": ok,
        "failed": failed,
        "retransmissions": int(invite.group(2)) if invite else None,
        "503s": errors.count("SIP/2.0 503 "),
        "exit": done.returncode,
        "wall_s": round(wall, 2),
        "achieved_cps": round(min(achieved, rate), 1),
        "passed": done.returncode == 0 and failed == 0 and ok == calls and achieved >= 0.9 * rate,
    }


def ramp(port: int, seconds: float, call_ms: int, tmp: Path, name: str) -> tuple[int, list[Any]]:
    best, steps = 0, []
    for rate in RATES:
        step = run_sipp(port, rate, seconds, call_ms, tmp)
        steps.append(step)
        log(f"{name}: {step}")
        if not step["passed"]:
            break
        best = rate
    return best, steps


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def bench_edge(args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    port = free_port()
    stats = tmp / "edge_stats.json"
    server = [sys.executable, __file__, "--serve", str(port), "--max-tx", str(args.max_tx),
              "--stats", str(stats)]  # fmt: skip
    proc = subprocess.Popen(server, cwd=ROOT)
    result: dict[str, Any] = {"max_cps": 0}
    try:
        wait_udp(port)
        best, steps = ramp(port, args.seconds, args.call_ms, tmp, "edge")
        result.update(max_cps=best, steps=steps)
        if best:
            time.sleep(2)
            over = run_sipp(port, 2 * best, args.seconds, args.call_ms, tmp)
            log(f"edge overload: {over}")
            time.sleep(6)  # Retry-After passes; transactions drain
            after = run_sipp(port, max(best // 2, 50), args.seconds, args.call_ms, tmp)
            log(f"edge after overload: {after}")
            result["overload_2x"] = {**over, "recovery": after}
    finally:
        stop(proc)
    if stats.exists():
        result["server"] = json.loads(stats.read_text())
    return result


def bench_kamailio(args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    binary = shutil.which("kamailio", path=f"{os.environ.get('PATH', '')}:/usr/sbin")
    if binary is None:
        return {"installed": False, "note": "kamailio not installed (apt-get install -y kamailio)"}
    port = free_port()
    cfg = tmp / "kamailio.cfg"
    cfg.write_text(KAMAILIO_CFG.format(port=port))
    command = [binary, "-f", str(cfg), "-DD", "-E", "-x", "tlsf", "-X", "tlsf", "-m", "1024",
               "-M", "32", "-Y", str(tmp), "-P", str(tmp / "kamailio.pid")]  # fmt: skip
    proc = subprocess.Popen(command, stderr=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
    try:
        wait_udp(port)
        version = subprocess.run([binary, "-v"], capture_output=True, text=True, check=False)
        best, steps = ramp(port, args.seconds, args.call_ms, tmp, "kamailio")
        return {"installed": True, "version": version.stdout.split("\n")[0], "max_cps": best,
                "max_is_ramp_ceiling": best == RATES[-1], "steps": steps}  # fmt: skip
    finally:
        stop(proc)


async def serve(port: int, max_tx: int, stats: Path) -> None:
    import asyncio
    import resource

    from ivr.edge import SipEdge

    edge = SipEdge("127.0.0.1", port, {}, max_server_transactions=max_tx)
    await edge.start()
    stopped = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stopped.set)
    await stopped.wait()
    assert edge.transport is not None
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    report = {**edge.counters, "peak_loop_lag_ms": round(edge.transport.peak_lag * 1000, 1)}
    stats.write_text(json.dumps({**report, "max_rss_mib": rss}))
    await edge.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="length of each rate step")
    parser.add_argument("--call-ms", type=int, default=500, help="sipp -d: call hold time")
    parser.add_argument("--max-tx", type=int, default=500_000, help="edge transaction cap")
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--stats", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        sys.path.insert(0, str(ROOT))
        from ivr.transport import run

        run(serve(args.serve, args.max_tx, args.stats), use_uvloop=True)
        return
    if shutil.which("sipp") is None:
        raise SystemExit("sipp not installed (apt-get install sip-tester)")
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        edge = bench_edge(args, tmp)
        kamailio = bench_kamailio(args, tmp)
    result = {
        "benchmark": "sip_cps",
        "media": "off (signalling only: INVITE/100/180/200/ACK/BYE/200, no RTP)",
        "transport": "udp 127.0.0.1, edge on uvloop",
        "edge_max_server_transactions": args.max_tx,
        "sipp": f"-sn uac -r R -l 2R -m R*{args.seconds:g} -d {args.call_ms}",
        "cpus": os.cpu_count(),
        "edge_max_cps": edge["max_cps"],
        "kamailio_max_cps": kamailio.get("max_cps"),
        "edge_vs_kamailio": (
            round(edge["max_cps"] / kamailio["max_cps"], 3) if kamailio.get("max_cps") else None
        ),
        "edge": edge,
        "kamailio": kamailio,
    }
    print(json.dumps(result, separators=(",", ":")))


if __name__ == "__main__":
    main()
