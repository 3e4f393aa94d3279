"""The router path in one process: the CPU (or instructions) a call costs the service.

    .venv/bin/python benchmarks/router_core.py                    # CPU µs per call
    .venv/bin/python benchmarks/router_core.py --callgrind        # + instructions per call
    .venv/bin/python benchmarks/router_core.py --calls 4000 --wave 100

The same service as benchmarks/sip_router_path.py (`ringway.app.build` on
benchmarks/flows/cps_centre.yaml with the IVR benchmarks/flows/cps_queue.yaml: one
voice queue, no agent logged in, the SQLite CRM with the demo customers, the SQLite
event log and CDR store, media off), started with its lifespan and `tune_gc` as
`ringway serve` starts it, but driven from inside its own process: each call's
INVITE, ACK and BYE go straight into the edge (`SipEdge.on_data`, what the UDP
transport calls for a datagram), and its responses go out over a real UDP socket to
this harness, which reads them for the To-tag. Calls go in waves of ``--wave``: the
INVITEs, then, once every 200 is in and every call waits in the queue, each call's
ACK and BYE (sipp's `uac` with a short ``-d``). A run ends when every call's CDR
line is in cdr.jsonl.

Why beside the live figure: on these shared 2-core machines the live probe's CPU per
call spreads by ±25 % from run to run. This one has no sipp and no kernel receive
path; with ``--callgrind`` it counts instructions (valgrind; repeatable to within the
SQLite threads' batching), the A/B instrument for changes to the path. What it counts
on top of the service: this harness's reading of the responses (``harness_us_per_call``,
subtracted from ``cpu_us_per_call``) and, under callgrind, the same harness work
(not subtracted; the same in A and B).

One JSON line: CPU µs per call (whole process, and per thread name), calls per CPU
second, and with ``--callgrind`` instructions per call.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
FLOWS = Path(__file__).with_name("flows")
CENTRE = FLOWS / "cps_centre.yaml"
IVR = FLOWS / "cps_queue.yaml"
CALLER = "+447700900456"  # demo customer cust-1002, as in the live probe

_INVITE = (
    "INVITE sip:service@127.0.0.1:{sip} SIP/2.0\r\n"
    "Via: SIP/2.0/UDP 127.0.0.1:{uac};branch=z9hG4bK-{i}-0\r\n"
    "From: sipp <sip:{cli}@127.0.0.1:{uac}>;tag={i}SIPpTag00\r\n"
    "To: service <sip:service@127.0.0.1:{sip}>\r\n"
    "Call-ID: {i}-core@127.0.0.1\r\nCSeq: 1 INVITE\r\nContact: sip:sipp@127.0.0.1:{uac}\r\n"
    "Max-Forwards: 70\r\nSubject: Performance Test\r\nContent-Type: application/sdp\r\n"
    "Content-Length: 129\r\n\r\n"
    "v=0\r\no=user1 53655765 2353687637 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\n"
    "t=0 0\r\nm=audio 6004 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"
)
_IN_DIALOG = (
    "{method} sip:service@127.0.0.1:{sip} SIP/2.0\r\n"
    "Via: SIP/2.0/UDP 127.0.0.1:{uac};branch=z9hG4bK-{i}-{n}\r\n"
    "From: sipp <sip:{cli}@127.0.0.1:{uac}>;tag={i}SIPpTag00\r\n"
    "To: service <sip:service@127.0.0.1:{sip}>;tag={tag}\r\n"
    "Call-ID: {i}-core@127.0.0.1\r\nCSeq: {n} {method}\r\nContact: sip:sipp@127.0.0.1:{uac}\r\n"
    "Max-Forwards: 70\r\nSubject: Performance Test\r\nContent-Length: 0\r\n\r\n"
)
_KEPT_FROM = 10_000_000  # call numbers of the --waiting calls
_STATUS = re.compile(rb"^SIP/2\.0 (\d{3}) ")
_CALL_ID = re.compile(rb"\r\nCall-ID: (\d+)-core@")
_CSEQ = re.compile(rb"\r\nCSeq: \d+ ([A-Z]+)")
_TO_TAG = re.compile(rb"\r\nTo: [^\r]*;tag=([^\r;]+)")


def free_port() -> int:
    """Free on UDP and TCP: the edge listens on both."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            udp.bind(("127.0.0.1", 0))
            port = int(udp.getsockname()[1])
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
                try:
                    tcp.bind(("127.0.0.1", port))
                except OSError:
                    continue
                return port


class Uac:
    """sipp's `uac` (-d 0) as the edge sees it: requests in, responses read off a socket."""

    def __init__(self, edge: Any, sip_port: int, queued: Callable[[], int]) -> None:
        from ivr.sip.actions import Peer

        self.edge = edge
        self.queued = queued  # contacts waiting in the queue now
        self.loop = asyncio.get_running_loop()
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.setblocking(False)
        self.port = int(self.sock.getsockname()[1])
        self.peer = Peer("127.0.0.1", self.port, "UDP")
        self.fields = {"sip": sip_port, "uac": self.port, "cli": CALLER}
        self.tags: dict[int, bytes] = {}
        self.invites: dict[int, bytes] = {}  # built ahead (`prepare`)
        self.ends: dict[int, tuple[tuple[bytes, ...], ...]] = {}
        self.kept = 0  # calls left waiting in the queue throughout (--waiting)
        self.waiting: set[int] = set()  # calls whose awaited final response is not in
        self.awaited = b"INVITE"
        self.done: asyncio.Future[None] | None = None
        self.statuses: Counter[str] = Counter()
        self.harness_cpu = 0.0  # this class's own reading, not the service's
        self.loop.add_reader(self.sock.fileno(), self._read)

    def close(self) -> None:
        self.loop.remove_reader(self.sock.fileno())
        self.sock.close()

    def _read(self) -> None:
        started = time.thread_time()
        while True:
            try:
                data = self.sock.recv(65536)
            except BlockingIOError:
                break
            try:
                self._response(data)
            except RuntimeError as exc:  # the wave fails at once, not by its timeout
                if self.done is not None and not self.done.done():
                    self.done.set_exception(exc)
                return
        if not self.waiting and self.done is not None and not self.done.done():
            self.done.set_result(None)
        self.harness_cpu += time.thread_time() - started

    def _response(self, data: bytes) -> None:
        status, call, cseq = _STATUS.match(data), _CALL_ID.search(data), _CSEQ.search(data)
        if status is None or call is None or cseq is None:
            raise RuntimeError(f"unexpected datagram: {data[:200]!r}")
        code, method = status.group(1).decode(), cseq.group(1)
        self.statuses[f"{method.decode()} {code}"] += 1
        if code.startswith("1") or method != self.awaited:
            return
        if code != "200":
            raise RuntimeError(f"call {call.group(1).decode()}: {method.decode()} got {code}")
        i = int(call.group(1))
        if method == b"INVITE":
            tag = _TO_TAG.search(data)
            self.tags[i] = tag.group(1) if tag else b""
        self.waiting.discard(i)

    def prepare(self, calls: range) -> None:
        """Every datagram of ``calls`` built now, before measuring: the service's cost is
        the figure, not this harness's formatting (each call's ACK and BYE lack only the
        To-tag, spliced in once the 200 gives it)."""
        for i in calls:
            self.invites[i] = _INVITE.format(i=i, **self.fields).encode()
            self.ends[i] = tuple(
                tuple(
                    part.encode()
                    for part in _IN_DIALOG.format(
                        method=method, i=i, n=n, tag="\0", **self.fields
                    ).split("\0")
                )
                for n, method in ((1, "ACK"), (2, "BYE"))
            )

    def _invite(self, i: int) -> bytes:
        invite = self.invites.pop(i, None)
        return _INVITE.format(i=i, **self.fields).encode() if invite is None else invite

    def _ack_and_bye(self, i: int, tag: bytes) -> tuple[bytes, bytes]:
        parts = self.ends.pop(i, None)
        if parts is None:
            self.prepare(range(i, i + 1))
            parts = self.ends.pop(i)
        (ack_head, ack_tail), (bye_head, bye_tail) = parts
        return ack_head + tag + ack_tail, bye_head + tag + bye_tail

    async def wave(self, first: int, count: int) -> None:
        """``count`` calls: all INVITEs, then each call's ACK and BYE once all are answered."""
        calls = range(first, first + count)
        await self._send_all(b"INVITE", [self._invite(i) for i in calls], calls)
        await self._until_queued(self.kept + count)
        ends: list[bytes] = []
        for i in calls:
            ends.extend(self._ack_and_bye(i, self.tags.pop(i)))
        await self._send_all(b"BYE", ends, calls)

    async def keep_waiting(self, first: int, count: int) -> None:
        """``count`` calls answered, ACKed and left waiting in the queue (sipp's ``-d``)."""
        calls = range(first, first + count)
        await self._send_all(b"INVITE", [self._invite(i) for i in calls], calls)
        for i in calls:
            ack, _ = self._ack_and_bye(i, self.tags.pop(i))
            self.edge.on_data(ack, self.peer, self.loop.time())
        self.kept += count
        await self._until_queued(self.kept)

    async def _until_queued(self, count: int) -> None:
        """Every answered call of the wave routed to the queue before its BYE, as sipp's
        ``-d`` pause gives it time to be: a BYE sent in the same loop turn as the last 200
        would end some calls in the IVR, before the router (their CDR says so)."""
        deadline = time.monotonic() + 120
        while True:
            started = time.thread_time()
            queued = self.queued()
            self.harness_cpu += time.thread_time() - started
            if queued >= count:
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"{queued} of {count} answered calls queued after 120 s")
            # not sleep(0): each poll sorts the queue (`Router.waiting`), and a busy poll
            # would count that against the service
            await asyncio.sleep(0.0005)

    async def _send_all(self, awaited: bytes, datagrams: list[bytes], calls: range) -> None:
        self.awaited, self.waiting = awaited, set(calls)
        self.done = self.loop.create_future()
        for data in datagrams:
            self.edge.on_data(data, self.peer, self.loop.time())
        await asyncio.wait_for(self.done, 120)


def _thread_cpu() -> dict[str, float]:
    """CPU seconds so far of each of this process's threads, summed by thread name."""
    tick = os.sysconf("SC_CLK_TCK")
    names = {thread.native_id: thread.name for thread in threading.enumerate()}
    out: dict[str, float] = {}
    for task in Path("/proc/self/task").iterdir():
        try:
            fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        name = re.sub(r"_\d+$", "", names.get(int(task.name), "other"))
        out[name] = out.get(name, 0.0) + (int(fields[11]) + int(fields[12])) / tick
    return out


def _outcomes(data_dir: Path) -> dict[str, int]:
    """cdr.jsonl by outcome, and how many name no contact (a call the router never saw)."""
    out: Counter[str] = Counter()
    path = data_dir / "cdr.jsonl"
    for line in path.read_text().splitlines() if path.exists() else []:
        record = json.loads(line)
        out[str(record.get("outcome"))] += 1
        out["without_contact"] += not record.get("contact_id")
    return dict(out)


def _cdr_lines(data_dir: Path) -> int:
    path = data_dir / "cdr.jsonl"
    if not path.exists():
        return 0
    with path.open("rb") as lines:
        return sum(1 for _ in lines)


async def _until_cdrs(data_dir: Path, count: int) -> None:
    deadline = time.monotonic() + 60
    while _cdr_lines(data_dir) < count:
        if time.monotonic() > deadline:
            raise RuntimeError(f"only {_cdr_lines(data_dir)} of {count} CDRs after 60 s")
        await asyncio.sleep(0.01)


def _callgrind(*, on: bool) -> None:
    """Callgrind's instrumentation on or off in this process (when run under valgrind)."""
    if os.environ.get("RINGWAY_CALLGRIND"):
        subprocess.run(
            ["callgrind_control", "-i", "on" if on else "off", str(os.getpid())],
            check=True,
            capture_output=True,
        )


async def measure(
    calls: int, warmup: int, wave: int, tmp: Path, profile: Path | None = None, waiting: int = 0
) -> dict[str, Any]:
    from ivr.sip.transaction_states import TimerConfig
    from ringway.app import build
    from ringway.config import load_config
    from ringway.runtime import tune_gc
    from ringway.telephony import TelephonySettings

    data = tmp / "router-data"
    config_file = tmp / "cps_centre.yaml"
    config_file.write_text(CENTRE.read_text().replace("{data_dir}", str(data)))
    sip_port = free_port()
    settings = TelephonySettings(host="127.0.0.1", port=sip_port, flows=IVR)
    bundle = build(load_config(config_file), {}, sip=settings)
    app = bundle.app
    async with app.router.lifespan_context(app):
        assert bundle.telephony is not None
        tune_gc()
        # The waves keep the loop busy back to back, which the edge's overload control
        # rightly reads as overload (and valgrind or cProfile make it lag): this measures
        # what an admitted call costs, so admission is left out (sip_cps.py measures it).
        transport = bundle.telephony.edge.transport
        assert transport is not None
        transport.max_lag, transport.max_busy = 1e9, 1e9
        # Live, sipp's ACK comes well inside T1 and no 200 is sent twice. Under valgrind
        # (~50x slower) a wave can outlast T1 = 0.5 s, and the retransmitted 200s would
        # count against the call: T1 x10 keeps every timer armed, none due.
        slow = TimerConfig(t1=5.0, t2=40.0, t4=50.0)
        edge = bundle.telephony.edge
        edge.layer.timers = edge.answers.timers = slow
        router = bundle.service.router
        uac = Uac(bundle.telephony.edge, sip_port, lambda: len(router.waiting("cps")))
        try:
            for first in range(0, waiting, 100):
                await uac.keep_waiting(_KEPT_FROM + first, min(100, waiting - first))
            for first in range(0, warmup, wave):
                await uac.wave(first, min(wave, warmup - first))
            await _until_cdrs(data, warmup)
            uac.prepare(range(warmup, warmup + calls))
            harness0, threads0 = uac.harness_cpu, _thread_cpu()
            tracked0 = len(gc.get_objects())
            pauses = GcPauses()
            _callgrind(on=True)
            profiler = cProfile.Profile(time.thread_time) if profile is not None else None
            if profiler is not None:
                profiler.enable()
            cpu0, wall0 = time.process_time(), time.perf_counter()
            for first in range(warmup, warmup + calls, wave):
                await uac.wave(first, min(wave, warmup + calls - first))
            await _until_cdrs(data, warmup + calls)
            cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
            if profiler is not None:
                profiler.disable()
                profiler.dump_stats(profile)  # type: ignore[arg-type]
            _callgrind(on=False)
            pauses.stop()
            tracked = len(gc.get_objects()) - tracked0
            threads = _thread_cpu()
            harness = uac.harness_cpu - harness0
        finally:
            uac.close()
        live = len(bundle.telephony.b2bua.drivers)
    per_thread = {
        name: round((threads[name] - threads0.get(name, 0.0)) / calls * 1e6, 1)
        for name in sorted(threads)
        if threads[name] - threads0.get(name, 0.0) > 0
    }
    service_cpu = cpu - harness
    return {
        "benchmark": "router_core",
        "calls": calls,
        "warmup_calls": warmup,
        "wave": wave,
        "waiting_throughout": waiting,
        "cpu_us_per_call": round(service_cpu / calls * 1e6, 1),
        "harness_us_per_call": round(harness / calls * 1e6, 1),
        "calls_per_cpu_second": round(calls / service_cpu) if service_cpu > 0 else None,
        "thread_cpu_us_per_call": per_thread,  # 10 ms ticks: rough per thread
        "wall_s": round(wall, 2),
        "responses": dict(uac.statuses),
        "cdr_lines": _cdr_lines(data),
        # every call was queued, then abandoned by its BYE: anything else is a lost contact
        "cdr_outcomes": _outcomes(data),
        "calls_live_at_end": live,
        # the cyclic collector's share: its passes, and the GC-tracked objects the calls
        # left behind (transactions kept for retransmissions, the router's history)
        "gc": pauses.summary(calls),
        "gc_tracked_left_per_call": round(tracked / calls, 1),
    }


class GcPauses:
    """The collector's passes while measuring: CPU time of the thread that ran each one."""

    def __init__(self) -> None:
        self.started = 0.0
        self.count = [0, 0, 0]
        self.seconds = [0.0, 0.0, 0.0]
        self.longest = 0.0
        gc.callbacks.append(self._on_gc)

    def _on_gc(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self.started = time.thread_time()
            return
        pause = time.thread_time() - self.started
        generation = info["generation"]
        self.count[generation] += 1
        self.seconds[generation] += pause
        self.longest = max(self.longest, pause)

    def stop(self) -> None:
        gc.callbacks.remove(self._on_gc)

    def summary(self, calls: int) -> dict[str, Any]:
        return {
            "collections_by_generation": self.count,
            "ms_by_generation": [round(s * 1e3, 1) for s in self.seconds],
            "us_per_call": round(sum(self.seconds) / calls * 1e6, 1),
            "longest_ms": round(self.longest * 1e3, 1),
        }


def _run_child(args: argparse.Namespace) -> dict[str, Any]:
    import uvloop  # `ringway serve` runs on uvloop (uvicorn's default when installed)

    tmp = Path(tempfile.mkdtemp(prefix="ringway-router-core-"))
    try:
        running = measure(args.calls, args.warmup, args.wave, tmp, args.cprofile, args.waiting)
        result: dict[str, Any] = uvloop.run(running)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    result["compiled"] = _compiled()
    return result


def _compiled() -> bool:
    import ivr.edge

    return not str(getattr(ivr.edge, "__file__", "")).endswith(".py")


def _run_callgrind(args: argparse.Namespace) -> dict[str, Any]:
    """This script again under callgrind, counting only the measured calls."""
    if shutil.which("valgrind") is None or shutil.which("callgrind_control") is None:
        raise SystemExit("router_core: --callgrind needs valgrind (Debian: valgrind)")
    out_dir = Path(tempfile.mkdtemp(prefix="ringway-callgrind-"))
    out = out_dir / "callgrind.out.%p"
    command = [
        "valgrind", "--tool=callgrind", "--fair-sched=yes", "--instr-atstart=no",
        f"--callgrind-out-file={out}",
        sys.executable, __file__, "--calls", str(args.calls), "--warmup", str(args.warmup),
        "--wave", str(args.wave), "--waiting", str(args.waiting),
    ]  # fmt: skip
    env = os.environ | {"RINGWAY_CALLGRIND": "1", "PYTHONMALLOC": "malloc"}
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"router_core: callgrind run failed: {done.stderr.strip()[-500:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    total = 0
    for dump in out_dir.glob("callgrind.out.*"):
        # "summary:" comes first and stays 0 when instrumentation starts late; "totals:"
        # is the sum of the costs recorded
        for line in dump.read_text().splitlines():
            if line.startswith("totals:"):
                total += int(line.split()[1])
    shutil.rmtree(out_dir, ignore_errors=True)
    result["instructions_per_call"] = round(total / args.calls)
    result["callgrind"] = "valgrind --tool=callgrind, counting the measured calls only"
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--calls", type=int, default=3000, help="measured calls")
    parser.add_argument("--warmup", type=int, default=500, help="calls before measuring")
    parser.add_argument("--wave", type=int, default=50, help="calls in flight per wave")
    parser.add_argument(
        "--waiting", type=int, default=0, help="calls left waiting in the queue throughout"
    )
    parser.add_argument("--callgrind", action="store_true", help="count instructions too")
    parser.add_argument(
        "--cprofile", type=Path, help="cProfile (event-loop thread, CPU time) to this file"
    )
    args = parser.parse_args()
    if min(args.calls, args.wave) < 1 or args.warmup < 0:
        parser.exit(2, "router_core: --calls and --wave must be >= 1, --warmup >= 0\n")
    result = _run_callgrind(args) if args.callgrind else _run_child(args)
    print(json.dumps(result))


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
