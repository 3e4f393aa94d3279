"""SIP call-rate benchmark: Ringway's SIP edge and `ringway serve` beside Kamailio, same run.

Run ``.venv/bin/python benchmarks/sip_cps.py``: progress on stderr, one JSON line
on stdout. Method (docs/sip-performance.md has the long form):

* Calls: sipp's built-in ``uac`` (INVITE, 100/180/200, ACK, ``-d`` hold, BYE, 200)
  over UDP on 127.0.0.1. Media off everywhere: sipp sends no RTP, and no server
  sends any (the router path's queue is configured to play nothing while callers
  wait: see benchmarks/sip_router_path.py).
* A *probe* runs sipp at rate R for ``--seconds`` (``-r``/``-rp 1000``, ``-m``
  calls in all, ``-l`` bounded). Above ``--per-sipp`` calls/s the load is split
  over several sipp processes (one sipp tops out near 8,000 calls/s here). A
  probe passes when every sipp exits 0, no call failed, every call completed
  and the calls went through at >= 95 % of R (a server that falls behind still
  completes calls through retransmissions, only slower).
* ``max_cps`` per server: double the rate from ``--start`` while probes pass,
  then bisect between the last pass and the first failure down to 5 %.
* Servers, one at a time, each started fresh:
  - Ringway's edge (`ivr.edge.SipEdge`, default handler: rings and answers at
    once, so the INVITE gets a 200 with an SDP answer and no 100/180 (RFC 3261
    §17.2.1), 2xx retransmission until ACK, BYE → 200; full transaction and
    dialog path), one process on uvloop with `ringway.runtime.tune_gc`;
  - the router path (``--path router``, JSON ``router_path``): `ringway serve`
    itself, every call through the B2BUA, the IVR and the router into a queue,
    released by the BYE; each probe checked against the service's /metrics
    (benchmarks/sip_router_path.py has the details, including its media);
  - the Python floor (``--path floor``, JSON ``python_floor``): a bare uvloop UDP
    responder that only slices bytes into a canned 200 (benchmarks/sip_floor.py),
    one process, then ``--floor-workers`` SO_REUSEPORT processes with the sipps
    spread evenly over them: what a Python process can do at all, beside Kamailio;
  - Kamailio stateless (``sl_send_reply``) and stateful (``t_newtran`` +
    ``t_reply``: a transaction per request, retransmissions absorbed), Debian's
    package, ``-x tlsf -X tlsf -m 1024``, ``--kamailio-children`` workers.
    Installed with apt-get when missing (as root).
* Overload: the edge at 2x its max for one probe (it sheds new INVITEs with 503
  + Retry-After, RFC 3261 §21.5.4; sipp's strict uac counts those as failed),
  then a probe at max/2 right after: it must pass (the edge kept serving).
* Compiled vs interpreted: ``compiled`` in the JSON says whether the edge ran on
  the native build (docs/native-build.md; ``RINGWAY_PURE=1`` forces the pure
  modules). ``--core-ab N`` runs only the in-process core, N rounds of child
  processes alternating compiled and pure, and prints their CPU µs per call.
* Cores: sipp and the server share the machine (``cpus``). Each probe records
  the CPU seconds the server (with its child processes) and all sipps used, as
  a share of wall time; 1.0 = one core busy. The probing is benchmarks/sipp_load.py.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import importlib.util
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
_HEAD = """#!KAMAILIO
debug=0
log_stderror=yes
children={children}
auto_aliases=no
listen=udp:127.0.0.1:{port}
"""
KAMAILIO_STATELESS = (
    _HEAD
    + """loadmodule "sl.so"
request_route {{
    if (method == "ACK") {{ exit; }}
    sl_send_reply("200", "OK");
}}
"""
)
KAMAILIO_STATEFUL = (
    _HEAD
    + """loadmodule "tm.so"
loadmodule "sl.so"
request_route {{
    if (method == "ACK") {{ t_check_trans(); exit; }}
    if (!t_newtran()) {{ sl_reply_error(); exit; }}
    t_reply("200", "OK");
}}
"""
)


def _sibling(name: str) -> ModuleType:
    """benchmarks/ is not a package: load ``<name>.py`` beside this file by path."""
    key = f"ringway_bench_{name}"
    if key not in sys.modules:
        spec = importlib.util.spec_from_file_location(key, Path(__file__).with_name(f"{name}.py"))
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[key] = module  # dataclasses look their module up while building
        spec.loader.exec_module(module)
    return sys.modules[key]


sipp = _sibling("sipp_load")
router_path = _sibling("sip_router_path")
floor = _sibling("sip_floor")
Load, log, free_port, wait_udp = sipp.Load, sipp.log, sipp.free_port, sipp.wait_udp
probe, find_max, stop = sipp.probe, sipp.find_max, sipp.stop


def bench_edge(args: argparse.Namespace, load: Load) -> dict[str, Any]:
    port = free_port()
    stats = load.tmp / "edge_stats.json"
    server = [sys.executable, __file__, "--serve", str(port), "--max-tx", str(args.max_tx),
              "--stats", str(stats)]  # fmt: skip
    proc = subprocess.Popen(server, cwd=ROOT)
    result: dict[str, Any] = {"max_cps": 0}
    try:
        wait_udp(port)
        best, steps = find_max(port, proc.pid, load, "edge", args.start, args.cap)
        result.update(max_cps=best, steps=steps)
        if best:
            time.sleep(3)
            over = probe(port, proc.pid, 2 * best, load)
            log(f"edge overload 2x: {over}")
            time.sleep(6)  # Retry-After passes; transactions drain
            after = probe(port, proc.pid, max(best // 2, 50), load)
            log(f"edge after overload: {after}")
            result["overload_2x"] = {
                **over,
                "shed_with_503": over["503s"] > 0,
                "recovery_at_half_max": after,
                # Served on: most calls offered right after the overload completed.
                "kept_serving": after["successful"] >= 0.9 * after["calls"],
            }
    finally:
        stop(proc)
    if stats.exists():
        result["server"] = json.loads(stats.read_text())
    return result


FLOOR_WHAT = (
    "bare uvloop UDP responder (benchmarks/sip_floor.py): byte slicing of Via/From/To/"
    "Call-ID/CSeq into a canned 200 (+ To-tag, Contact, SDP for INVITE), ACK ignored; "
    "no parsing, transactions, dialogs or timers; media off"
)


def bench_floor(args: argparse.Namespace, load: Load, workers: int) -> dict[str, Any]:
    """The Python floor (benchmarks/sip_floor.py) probed exactly like the edge and Kamailio.

    With N > 1 workers (SO_REUSEPORT) every probe runs a multiple of N sipps, each
    bound to a source port the kernel hashes to the next worker in turn."""
    port = free_port()
    command = [sys.executable, str(Path(__file__).with_name("sip_floor.py")),
               "--port", str(port), "--workers", str(workers)]  # fmt: skip
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    if proc.stdout.readline().strip() != "ready":  # every worker has bound the port
        stop(proc)
        raise RuntimeError("benchmarks/sip_floor.py did not start")
    if workers > 1:
        load = dataclasses.replace(
            load,
            sipps_multiple=workers,
            source_ports=lambda n: floor.balanced_ports(port, workers, n),
        )
    name = f"python_floor_{workers}p"
    try:
        wait_udp(port)
        best, steps = find_max(port, proc.pid, load, name, args.start, args.cap)
    finally:
        stop(proc)
    return {"processes": workers, "max_cps": best, "max_is_cap": best >= args.cap, "steps": steps}


def kamailio_binary() -> str | None:
    search = f"{os.environ.get('PATH', '')}:/usr/sbin"
    binary = shutil.which("kamailio", path=search)
    if binary is None and os.geteuid() == 0 and shutil.which("apt-get"):
        log("installing kamailio (apt-get install -y kamailio)")
        subprocess.run(["apt-get", "install", "-y", "kamailio"], capture_output=True, check=False)
        binary = shutil.which("kamailio", path=search)
    return binary


def bench_kamailio(args: argparse.Namespace, load: Load, name: str, cfg: str) -> dict[str, Any]:
    binary = kamailio_binary()
    if binary is None:
        return {"installed": False, "note": "kamailio not installed (apt-get install -y kamailio)"}
    port = free_port()
    path = load.tmp / f"{name}.cfg"
    path.write_text(cfg.format(port=port, children=args.kamailio_children))
    command = [binary, "-f", str(path), "-DD", "-E", "-x", "tlsf", "-X", "tlsf", "-m", "1024",
               "-M", "32", "-Y", str(load.tmp), "-P", str(load.tmp / f"{name}.pid")]  # fmt: skip
    proc = subprocess.Popen(command, stderr=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
    try:
        wait_udp(port)
        version = subprocess.run([binary, "-v"], capture_output=True, text=True, check=False)
        best, steps = find_max(port, proc.pid, load, name, args.start, args.cap)
        return {
            "installed": True,
            "version": version.stdout.split("\n")[0],
            "children": args.kamailio_children,
            "max_cps": best,
            "max_is_cap": best >= args.cap,
            "steps": steps,
        }
    finally:
        stop(proc)


async def serve(port: int, max_tx: int, stats: Path, profile: Path | None = None) -> None:
    import asyncio
    import cProfile

    from ivr.edge import SipEdge
    from ringway.runtime import tune_gc

    edge = SipEdge("127.0.0.1", port, {}, max_server_transactions=max_tx)
    await edge.start()
    tune_gc()  # what `ringway serve` does once set up
    profiler = cProfile.Profile(time.thread_time) if profile else None  # CPU, not wall time
    if profiler is not None:
        profiler.enable()
    stopped = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stopped.set)
    await stopped.wait()
    if profiler is not None and profile is not None:
        profiler.disable()
        profiler.dump_stats(profile)
    assert edge.transport is not None
    # VmHWM, not ru_maxrss: Linux carries ru_maxrss over exec from the forking parent.
    status = Path("/proc/self/status").read_text() if Path("/proc/self/status").exists() else ""
    found = re.search(r"VmHWM:\s+(\d+) kB", status)
    rss = int(found.group(1)) // 1024 if found else -1
    report = {
        "compiled": _sip_compiled(),  # this process's own modules, not the parent's
        **edge.counters,
        "overload_triggers": edge.transport.overloads,
        "peak_loop_lag_ms": round(edge.transport.peak_lag * 1000, 1),
    }
    stats.write_text(json.dumps({**report, "max_rss_mib": rss}))
    await edge.stop()


_INVITE = (
    "INVITE sip:service@127.0.0.1:5060 SIP/2.0\r\n"
    "Via: SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK-{i}-0\r\n"
    "From: sipp <sip:sipp@127.0.0.1:5061>;tag={i}SIPpTag00\r\n"
    "To: service <sip:service@127.0.0.1:5060>\r\n"
    "Call-ID: {i}-1@127.0.0.1\r\nCSeq: 1 INVITE\r\nContact: sip:sipp@127.0.0.1:5061\r\n"
    "Max-Forwards: 70\r\nSubject: Performance Test\r\nContent-Type: application/sdp\r\n"
    "Content-Length: 129\r\n\r\n"
    "v=0\r\no=user1 53655765 2353687637 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\n"
    "t=0 0\r\nm=audio 6004 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"
)
_IN_DIALOG = (
    "{method} sip:service@127.0.0.1:5060 SIP/2.0\r\n"
    "Via: SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK-{i}-{n}\r\n"
    "From: sipp <sip:sipp@127.0.0.1:5061>;tag={i}SIPpTag00\r\n"
    "To: service <sip:service@127.0.0.1:5060>;tag={tag}\r\n"
    "Call-ID: {i}-1@127.0.0.1\r\nCSeq: {n} {method}\r\nContact: sip:sipp@127.0.0.1:5061\r\n"
    "Max-Forwards: 70\r\nSubject: Performance Test\r\nContent-Length: 0\r\n\r\n"
)


class _Clock(asyncio.AbstractEventLoop):
    """A loop that only tells the time: the edge reads `transport.loop.time()`."""

    def __init__(self) -> None:
        self.now = 1000.0

    def time(self) -> float:
        return self.now


def _wire(edge: Any) -> Any:
    """A real `SipTransport`, never bound, that keeps the last bytes the edge sends.

    Made here, not at import: the benchmark's parent process must not import the
    edge before it has put the repository on sys.path. A subclass, not a duck-typed
    stand-in: the compiled edge checks its transport's type."""
    from ivr.sip.actions import SendMessage
    from ivr.transport import SipTransport

    class Wire(SipTransport):
        def __init__(self) -> None:
            self.clock = _Clock()
            super().__init__(edge, edge.host, edge.port, loop=self.clock)
            self.sent = b""

        def send(self, message: SendMessage) -> None:
            self.sent = message.data

    return Wire()


_CORE_CHILD = """
import json, sys
sys.path.insert(0, "benchmarks")
import sip_cps
print(json.dumps(sip_cps._core_row(0, int(sys.argv[1])) | {"compiled": sip_cps._sip_compiled()}))
"""


def core_compiled_vs_pure(rounds: int, calls: int) -> dict[str, Any]:
    """The in-process core (no live calls) compiled and with RINGWAY_PURE=1, alternating.

    Each row is a fresh child process, so both builds see the same moments of a
    shared machine; the ratio of the medians is the figure to quote."""
    rows: dict[str, list[float]] = {"compiled": [], "pure": []}
    for _ in range(rounds):
        for name, pure in (("compiled", "0"), ("pure", "1")):
            done = subprocess.run(
                [sys.executable, "-c", _CORE_CHILD, str(calls)],
                cwd=ROOT,
                env={**os.environ, "RINGWAY_PURE": pure},
                capture_output=True,
                text=True,
                check=True,
            )
            row = json.loads(done.stdout)
            if row["compiled"] != (name == "compiled"):
                raise SystemExit(f"core-ab: the {name} child ran compiled={row['compiled']}")
            rows[name].append(row["cpu_us_per_call"])
            log(f"core-ab {name}: {row['cpu_us_per_call']} µs/call")
    medians = {name: sorted(v)[len(v) // 2] for name, v in rows.items()}
    return {
        "calls_per_row": calls,
        "cpu_us_per_call": rows,
        "median_us_per_call": medians,
        "pure_over_compiled": round(medians["pure"] / medians["compiled"], 2),
    }


def core_scaling(live_counts: tuple[int, ...], calls: int) -> list[dict[str, Any]]:
    """CPU per call of the edge's sans-I/O path (no sockets) beside N calls kept up.

    N calls are answered and ACKed but not ended (N dialogs, N INVITE
    transactions in Accepted); then `calls` full calls (INVITE, ACK, BYE) run
    at 5,000 calls/s of simulated time, timers included, GC as `tune_gc` sets
    it (without the freeze, which would hide the live state from it).
    """
    import gc

    out = []
    for live in live_counts:
        out.append(_core_row(live, calls))
        log(f"core: {out[-1]}")
        gc.collect()
    return out


def _core_row(live: int, calls: int) -> dict[str, Any]:
    import gc

    from ivr.edge import SipEdge
    from ivr.sip.actions import Peer
    from ringway.runtime import OLDER_THRESHOLDS, YOUNG_THRESHOLD

    peer = Peer("127.0.0.1", 5061, "UDP")
    edge = SipEdge("127.0.0.1", 5060, {}, max_server_transactions=None)  # measure, never shed
    edge.transport = wire = _wire(edge)
    tag_of = re.compile(rb"\r\nTo: [^\r]*;tag=([^\r;]+)")

    def call(i: int, *, end: bool) -> None:
        now = wire.clock.now = wire.clock.now + 0.0002
        edge.on_data(_INVITE.format(i=i).encode(), peer, now)
        found = tag_of.search(wire.sent)
        tag = found.group(1).decode() if found else ""
        edge.on_data(_IN_DIALOG.format(method="ACK", i=i, n=1, tag=tag).encode(), peer, now)
        if end:
            edge.on_data(_IN_DIALOG.format(method="BYE", i=i, n=2, tag=tag).encode(), peer, now)
        edge.on_timer(now)

    for i in range(live):
        call(i, end=False)
    gc.collect()
    gc.set_threshold(YOUNG_THRESHOLD, *OLDER_THRESHOLDS)
    pauses: list[float] = []
    started: list[float] = []

    def on_gc(phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            started.append(time.perf_counter())
        elif started:
            pauses.append(time.perf_counter() - started.pop())

    gc.callbacks.append(on_gc)
    cpu = time.process_time()
    for i in range(live, live + calls):
        call(i, end=True)
    cpu = time.process_time() - cpu
    gc.callbacks.remove(on_gc)
    assert edge.counters["shed"] == 0
    return {
        "live_calls": live,
        "live_dialogs": len(edge.dialogs),
        "live_transactions": len(edge.layer),
        "cpu_us_per_call": round(cpu / calls * 1e6, 1),
        "gc_pause_ms_total": round(sum(pauses) * 1000, 1),
        "gc_pause_ms_max": round(max(pauses, default=0.0) * 1000, 1),
    }


def ratio(edge: int, other: dict[str, Any]) -> float | None:
    return round(edge / other["max_cps"], 3) if other.get("max_cps") else None


def cpu_per_call(result: dict[str, Any]) -> float | None:
    """Server CPU µs per call at the max rate: the figure the neighbours disturb least."""
    best = result.get("max_cps")
    steps = [s for s in result.get("steps", []) if s["rate"] == best and s["passed"]]
    return steps[-1]["server_cpu_us_per_call"] if steps else None


def cpu_ratio(edge: float | None, other: float | None) -> float | None:
    """Calls per CPU-second of the edge as a fraction of the other server's."""
    return round(other / edge, 3) if edge and other else None


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="length of each probe")
    parser.add_argument("--call-ms", type=int, default=500, help="sipp -d: call hold time")
    parser.add_argument("--start", type=int, default=500, help="first probe rate")
    parser.add_argument("--cap", type=int, default=64_000, help="highest rate probed")
    parser.add_argument("--per-sipp", type=int, default=5000, help="calls/s per sipp process")
    parser.add_argument("--kamailio-children", type=int, default=2, help="Kamailio UDP workers")
    parser.add_argument("--max-tx", type=int, default=500_000, help="edge transaction cap")
    parser.add_argument("--skip-kamailio", action="store_true", help="measure without Kamailio")
    parser.add_argument("--core-calls", type=int, default=10_000, help="calls per core-cost row")
    parser.add_argument(
        "--path",
        choices=("all", "edge", "router", "floor"),
        default="all",
        help="edge: the SIP edge alone; router: `ringway serve` through the router; floor: "
        "the bare Python responder (benchmarks/sip_floor.py); all: all three",
    )
    parser.add_argument(
        "--floor-workers",
        default="1,2",
        help="the Python floor: process counts measured (SO_REUSEPORT beyond 1)",
    )
    parser.add_argument("--router-start", type=int, default=100, help="router path: first rate")
    parser.add_argument(
        "--router-rate", type=int, help="router path: one probe at this rate, no search"
    )
    parser.add_argument(
        "--hold-ms",
        default="500,2000,4000",
        help="router path: call lengths probed at a quarter of its max (cost vs time queued)",
    )
    parser.add_argument(
        "--profile",
        type=Path,
        help="cProfile (CPU time) to this file: with --path router, one probe at "
        "--router-rate (default 100) against a profiled `ringway serve`",
    )
    parser.add_argument(
        "--core-ab",
        type=int,
        metavar="N",
        help="only the in-process core: N rounds compiled vs RINGWAY_PURE=1, alternating",
    )
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--stats", type=Path, help=argparse.SUPPRESS)
    return parser


def main() -> None:
    args = _parser().parse_args()
    if args.serve:
        sys.path.insert(0, str(ROOT))
        from ivr.transport import run

        run(serve(args.serve, args.max_tx, args.stats, args.profile), use_uvloop=True)
        return
    if args.core_ab:
        ab = core_compiled_vs_pure(args.core_ab, args.core_calls)
        print(json.dumps({"benchmark": "sip_cps", "core_compiled_vs_pure": ab}))
        return
    if shutil.which("sipp") is None:
        raise SystemExit("sipp not installed (apt-get install sip-tester)")
    sys.path.insert(0, str(ROOT))
    load_start = [round(x, 2) for x in os.getloadavg()]
    with tempfile.TemporaryDirectory() as name:
        load = Load(args.seconds, args.call_ms, args.per_sipp, Path(name))
        if args.path == "router" and args.profile is not None:
            rate = args.router_rate or 100
            profiled = router_path.profile_router(load, rate, args.profile.resolve())
            print(json.dumps({"benchmark": "sip_cps", "router_path_profile": profiled}))
            return
        result = _measure(args, load)
    if args.path in ("all", "edge"):  # last: it grows this process
        result["edge_core_cost_vs_live_calls"] = core_scaling((0, 20_000, 100_000), args.core_calls)
    result = {
        "benchmark": "sip_cps",
        "compiled": _sip_compiled(),
        "load_average_start": load_start,
        "load_average_end": [round(x, 2) for x in os.getloadavg()],
        **result,
    }
    print(json.dumps(result, separators=(",", ":")))


def _sip_compiled() -> bool:
    """True when the edge (this process's and its `--serve` child's) runs compiled.

    The child inherits this environment (RINGWAY_PURE) and reads the same build."""
    import ivr.edge
    import ivr.sip.message
    from router._native import is_compiled

    return is_compiled(ivr.edge) and is_compiled(ivr.sip.message)


def _measure(args: argparse.Namespace, load: Any) -> dict[str, Any]:
    edge = bench_edge(args, load) if args.path in ("all", "edge") else None
    router = _bench_router(args, load) if args.path in ("all", "router") else None
    floors = []
    if args.path in ("all", "floor") and args.router_rate is None:
        floors = [bench_floor(args, load, int(n)) for n in args.floor_workers.split(",") if n]
    stateless = stateful = {"skipped": True}
    if not (args.skip_kamailio or args.router_rate is not None):
        stateless = bench_kamailio(args, load, "kamailio_stateless", KAMAILIO_STATELESS)
        stateful = bench_kamailio(args, load, "kamailio_stateful", KAMAILIO_STATEFUL)
    result: dict[str, Any] = {
        "transport": "udp 127.0.0.1; Ringway on uvloop with ringway.runtime.tune_gc",
        "sipp": f"-r R/N -rp 1000 -m R*{args.seconds:g}/N -d {args.call_ms}, "
        f"N = ceil(R/{args.per_sipp}) processes",
        "pass": "all sipps exit 0, 0 failed calls, all completed, achieved >= 95% of R",
        "cpus": os.cpu_count(),
        "kamailio_stateless_max_cps": stateless.get("max_cps"),
        "kamailio_stateful_max_cps": stateful.get("max_cps"),
        "kamailio_stateless_cpu_us_per_call": cpu_per_call(stateless),
        "kamailio_stateful_cpu_us_per_call": cpu_per_call(stateful),
    }
    if edge is not None:
        result.update(_edge_summary(edge, stateless, stateful))
    if router is not None:
        result["router_path"] = _router_summary(router, edge, stateless, stateful)
    if floors:
        result.update(_floor_summary(floors, stateless, stateful, edge, router))
    return {**result, "kamailio_stateless": stateless, "kamailio_stateful": stateful}


def _floor_summary(
    floors: list[dict[str, Any]],
    stateless: dict[str, Any],
    stateful: dict[str, Any],
    edge: dict[str, Any] | None,
    router: dict[str, Any] | None,
) -> dict[str, Any]:
    """``python_floor``: one process, with the other process counts beside it."""
    rows = []
    for found in floors:
        cpu = cpu_per_call(found)
        best = found["max_cps"]
        rows.append(
            {
                "processes": found["processes"],
                "max_cps": best,
                "cpu_us_per_call": cpu,
                "ratio_vs_kamailio_stateless": ratio(best, stateless),
                "ratio_vs_kamailio_stateful": ratio(best, stateful),
                "per_cpu_vs_kamailio_stateless": cpu_ratio(cpu, cpu_per_call(stateless)),
                "edge_vs_floor": round(edge["max_cps"] / best, 3) if edge and best else None,
                "router_path_vs_floor": round(router["max_cps"] / best, 3)
                if router and best
                else None,
                **found,
            }
        )
    first, others = rows[0], rows[1:]
    out: dict[str, Any] = {"python_floor": {"what": FLOOR_WHAT, **first}}
    for row in others:
        out["python_floor"][f"processes_{row['processes']}"] = row
    return out


def _bench_router(args: argparse.Namespace, load: Any) -> dict[str, Any]:
    holds = tuple(int(h) for h in args.hold_ms.split(",") if h.strip())
    return router_path.bench_router(
        load, start=args.router_start, cap=args.cap, rate=args.router_rate, hold_ms=holds
    )


def _edge_summary(
    edge: dict[str, Any], stateless: dict[str, Any], stateful: dict[str, Any]
) -> dict[str, Any]:
    overload = edge.get("overload_2x", {})
    edge_cpu = cpu_per_call(edge)
    return {
        "media": "off (signalling only: INVITE/200/ACK/BYE/200, no RTP; the edge's default "
        "handler answers at once, so no 100/180 precede its 200)",
        "path": "edge: UDP transport -> parser -> transaction layer -> UAS core -> dialog",
        "edge_max_cps": edge["max_cps"],
        "edge_vs_kamailio_stateless": ratio(edge["max_cps"], stateless),
        "edge_vs_kamailio_stateful": ratio(edge["max_cps"], stateful),
        "edge_cpu_us_per_call": edge_cpu,
        "edge_vs_kamailio_stateless_per_cpu": cpu_ratio(edge_cpu, cpu_per_call(stateless)),
        "edge_vs_kamailio_stateful_per_cpu": cpu_ratio(edge_cpu, cpu_per_call(stateful)),
        "overload_2x_shed_503": overload.get("shed_with_503"),
        "overload_2x_completed": overload.get("successful"),
        "after_overload_completed": overload.get("recovery_at_half_max", {}).get("successful"),
        "after_overload_failed": overload.get("recovery_at_half_max", {}).get("failed"),
        "after_overload_kept_serving": overload.get("kept_serving"),
        "edge": edge,
    }


def _router_summary(
    router: dict[str, Any],
    edge: dict[str, Any] | None,
    stateless: dict[str, Any],
    stateful: dict[str, Any],
) -> dict[str, Any]:
    best, cpu = router["max_cps"], cpu_per_call(router)
    edge_cpu = cpu_per_call(edge) if edge is not None else None
    return {
        "path": router_path.PATH,
        "media": router_path.MEDIA,
        "max_cps": best,
        "cpu_us_per_call": cpu,
        "ratio_vs_kamailio_stateless": ratio(best, stateless),
        "ratio_vs_kamailio_stateful": ratio(best, stateful),
        "ratio_vs_edge": ratio(best, edge) if edge is not None else None,
        "per_cpu_vs_kamailio_stateless": cpu_ratio(cpu, cpu_per_call(stateless)),
        "per_cpu_vs_kamailio_stateful": cpu_ratio(cpu, cpu_per_call(stateful)),
        "per_cpu_vs_edge": cpu_ratio(cpu, edge_cpu),
        **router,
    }


if __name__ == "__main__":
    main()
