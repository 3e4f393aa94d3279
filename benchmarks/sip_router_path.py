"""The router path of benchmarks/sip_cps.py: sipp's calls through `ringway serve`.

The server under test is the real service process, ``python -m ringway.cli serve``
(uvicorn on uvloop, `tune_gc`, every part `ringway.app.build` wires), on
benchmarks/flows/cps_centre.yaml: one voice queue, one agent who never logs in,
the demo customers in the SQLite CRM, the SQLite event log and call records, in a
private data dir. Its IVR is benchmarks/flows/cps_queue.yaml: answer, then queue
at once. Each sipp call (benchmarks/flows/cps_uac.xml: the built-in ``uac`` with a
demo customer's number as the caller) goes

    UDP transport -> parser -> transaction -> UAS core -> dialog -> B2BUA
    (the caller leg's RTP port opened, customer lookup on the CLI, 200 with the SDP
    answer) -> IVR flow (route) -> RoutingService.create_contact (the B2BUA's lookup
    reused, contact_arrived)
    -> queued, with no hold media, until sipp's BYE
    -> contact ended (abandoned) -> CDR (cdr.jsonl, and the SQLite CDR store, whose
    rows of calls ending within 20 ms share one transaction)

Media: off. sipp sends no RTP, and the benchmark's queue says
``hold: {music: false, announcements: false}``, so the service sends its waiting
callers none either (the caller leg's RTP port is still opened, for the SDP answer).

After each probe the service's /metrics says how many contacts the router
created (``contact_queued`` events) and ended (``contact_abandoned``); a probe
passes only if both equal the calls sipp completed. At the end the CDRs written
(cdr.jsonl lines, rows in the CDR store) are counted.

``python benchmarks/sip_router_path.py --profile FILE serve ...`` runs `ringway serve`
under cProfile on CPU time (not wall time), enabled by SIGUSR1 and written by
SIGUSR2, so start-up and shutdown stay out of it.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import pstats
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
FLOWS = Path(__file__).with_name("flows")
CENTRE = FLOWS / "cps_centre.yaml"
IVR = FLOWS / "cps_queue.yaml"
SCENARIO = FLOWS / "cps_uac.xml"
CALLER = "+447700900456"  # demo customer cust-1002 (seed_demo_customers)
WAITING = "ringway_queue_contacts_waiting:cps"
ENDED_KINDS = ("contact_abandoned", "contact_ended", "contact_cancelled", "contact_overflowed")
PATH = (
    "`ringway serve`: UDP transport -> parser -> transaction layer -> UAS core -> dialog -> "
    "B2BUA (caller's RTP port, CLI customer lookup, 180 then 200) -> IVR flow (route) -> "
    "RoutingService.create_contact (that lookup reused, contact_arrived) -> queued "
    "(no hold media); "
    "BYE -> contact abandoned -> CDR (cdr.jsonl + SQLite CDR store)"
)
MEDIA = (
    "off: sipp sends no RTP, and the queue's `hold: {music: false, announcements: false}` "
    "sends the waiting callers none (rtp_packets_played_per_call 0); the caller leg's RTP "
    "port is still opened, for the SDP answer"
)
_SAMPLE = re.compile(r'^(ringway_[a-z_]+)(?:\{[a-z]+="([^"]*)"\})? ([0-9.e+-]+)$')


def _sibling(name: str) -> ModuleType:
    key = f"ringway_bench_{name}"
    if key not in sys.modules:
        spec = importlib.util.spec_from_file_location(key, Path(__file__).with_name(f"{name}.py"))
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[key] = module  # dataclasses look their module up while building
        spec.loader.exec_module(module)
    return sys.modules[key]


sipp = _sibling("sipp_load")


@dataclass
class RouterServer:
    proc: subprocess.Popen[bytes]
    sip_port: int
    http_port: int
    data_dir: Path
    output: Path

    def metrics(self) -> dict[str, float]:
        """The service's /metrics as ``name`` or ``name:label`` -> value."""
        url = f"http://127.0.0.1:{self.http_port}/metrics"
        with urllib.request.urlopen(url, timeout=10) as answer:
            text = answer.read().decode()
        out: dict[str, float] = {}
        for line in text.splitlines():
            found = _SAMPLE.match(line)
            if found:
                name, label, value = found.groups()
                out[f"{name}:{label}" if label else name] = float(value)
        return out


def free_port() -> int:
    """Free on UDP and TCP: `ringway serve` listens for SIP on both."""
    while True:
        port = sipp.free_port()
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
            try:
                tcp.bind(("127.0.0.1", port))
            except OSError:
                continue
            return int(port)


def start_server(tmp: Path, profile: Path | None = None) -> RouterServer:
    """`ringway serve` on the benchmark centre; returns once SIP and HTTP answer."""
    data = tmp / "router-data"
    config = tmp / "cps_centre.yaml"
    config.write_text(CENTRE.read_text().replace("{data_dir}", str(data)))
    sip_port, http_port = free_port(), free_port()
    serve = ["serve", "--config", str(config), "--http-port", str(http_port),
             "--sip-port", str(sip_port), "--ivr", str(IVR)]  # fmt: skip
    if profile is None:
        command = [sys.executable, "-m", "ringway.cli", *serve]
    else:
        command = [sys.executable, __file__, "--profile", str(profile), *serve]
    output = tmp / "ringway-serve.log"
    with output.open("wb") as sink:
        proc = subprocess.Popen(command, cwd=ROOT, stdout=sink, stderr=subprocess.STDOUT)
    server = RouterServer(proc, sip_port, http_port, data, output)
    try:
        sipp.wait_udp(sip_port, timeout=60)
        _wait_http(server, time.monotonic() + 30)
    except Exception:
        sipp.stop(proc)
        raise RuntimeError(f"ringway serve did not start:\n{output.read_text()[-2000:]}") from None
    return server


def _wait_http(server: RouterServer, deadline: float) -> None:
    while True:
        try:
            server.metrics()
            return
        except OSError:
            if time.monotonic() > deadline or server.proc.poll() is not None:
                raise
            time.sleep(0.2)


@dataclass
class ContactCheck:
    """Per probe: contacts the router created and ended, against sipp's completed calls."""

    server: RouterServer
    base: dict[str, float] = field(default_factory=dict)
    created: int = 0
    ended: int = 0
    waiting: int = 0  # contacts in the queue at the last look

    def before(self) -> None:
        self.base = self.server.metrics()

    def after(self, step: dict[str, Any]) -> None:
        now = self.server.metrics()

        def delta(key: str) -> int:
            return round(now.get(key, 0.0) - self.base.get(key, 0.0))

        created = delta("ringway_events_total:contact_queued")
        ended = sum(delta(f"ringway_events_total:{kind}") for kind in ENDED_KINDS)
        self.created, self.ended = self.created + created, self.ended + ended
        self.waiting = round(now.get(WAITING, 0.0))
        step.update(
            contacts_created=created,
            contacts_ended=ended,
            contacts_waiting_before=round(self.base.get(WAITING, 0.0)),
            contacts_waiting_after=self.waiting,
            lookups_matched=delta("ringway_customer_lookups_total:matched"),
            # which of the edge's overload signals fired in this probe (ivr.transport)
            overload_triggers={
                signal: delta(f"ringway_sip_overloads_total:{signal}")
                for signal in ("lag", "busy", "queue")
            },
            server_rss_mib=rss_mib(self.server.proc.pid),
        )
        # Every call sipp completed made exactly one contact, and its BYE ended it: no
        # more wait in the queue than before. More may end than were made: a call sipp
        # gave up on in an earlier, failed probe is ended by the service's own timers.
        step["contacts_match"] = (
            created == step["successful"]
            and ended >= created
            and step["contacts_waiting_after"] <= step["contacts_waiting_before"]
        )
        step["passed"] = bool(step["passed"] and step["contacts_match"])


def rss_mib(pid: int) -> float | None:
    """The process's resident memory now (what ended calls leave behind shows here)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    found = re.search(r"VmRSS:\s+(\d+) kB", status)
    return round(int(found.group(1)) / 1024, 1) if found else None


def cdrs_written(data: Path) -> dict[str, Any]:
    """Call detail records on disk: cdr.jsonl lines and CDR store rows, by outcome."""
    lines = (data / "cdr.jsonl").read_text().splitlines() if (data / "cdr.jsonl").exists() else []
    outcomes: dict[str, int] = {}
    played = 0
    for line in lines:
        record = json.loads(line)
        outcomes[record.get("outcome", "?")] = outcomes.get(record.get("outcome", "?"), 0) + 1
        played += int(record.get("media", {}).get("played_to_caller", 0))
    rows = 0
    if (data / "calls.sqlite3").exists():
        with sqlite3.connect(data / "calls.sqlite3") as conn:
            rows = int(conn.execute("SELECT count(*) FROM cdrs").fetchone()[0])
    return {
        "cdr_jsonl_lines": len(lines),
        "cdr_store_rows": rows,
        "outcomes": outcomes,
        "rtp_packets_played_per_call": round(played / len(lines), 1) if lines else None,
    }


def router_load(load: Any) -> Any:
    return replace(load, scenario=("-sf", str(SCENARIO), "-key", "cli", CALLER))


def _finish(server: RouterServer, check: ContactCheck, result: dict[str, Any]) -> dict[str, Any]:
    sipp.stop(server.proc)
    time.sleep(0.5)  # the CDR store's writer thread has closed
    steps = [*result.get("steps", []), *result.get("cost_vs_hold", [])]
    result.update(
        calls_completed_by_sipp=sum(s["successful"] for s in steps),
        calls_failed_by_sipp=sum(s["failed"] for s in steps),
        contacts_created=check.created,
        contacts_ended=check.ended,
        contacts_waiting_at_end=check.waiting,
        # nothing left behind, failed probes included; a passing probe's own check is
        # stricter (one contact per completed call: `contacts_match` in each step)
        contacts_all_ended=check.created == check.ended and check.waiting == 0,
        cdrs=cdrs_written(server.data_dir),
    )
    return result


def bench_router(
    load: Any, *, start: int, cap: int, rate: int | None = None, hold_ms: tuple[int, ...] = ()
) -> dict[str, Any]:
    """The highest passing rate through `ringway serve` (or one probe at ``rate``).

    ``hold_ms``: after the maximum, probes at a quarter of it with these call lengths, to
    show how the cost per call grows with the time a call waits in the queue.
    """
    server = start_server(load.tmp)
    check = ContactCheck(server)
    rload = router_load(load)
    result: dict[str, Any] = {"max_cps": 0}
    try:
        if rate is not None:
            check.before()
            step = sipp.probe(server.sip_port, server.proc.pid, rate, rload)
            check.after(step)
            sipp.log(f"router: {step}")
            result.update(rate=rate, steps=[step], passed=step["passed"])
        else:
            best, steps = sipp.find_max(
                server.sip_port, server.proc.pid, rload, "router", start, cap, check, min_step=10
            )
            result.update(max_cps=best, steps=steps)
            if best and hold_ms:
                quarter = max(best // 4, 10)
                result["cost_vs_hold"] = _hold_rows(server, check, rload, quarter, hold_ms)
    finally:
        result = _finish(server, check, result)
    return result


def _hold_rows(
    server: RouterServer, check: ContactCheck, load: Any, rate: int, hold_ms: tuple[int, ...]
) -> list[dict[str, Any]]:
    rows = []
    for hold in hold_ms:
        time.sleep(2)
        check.before()
        step = sipp.probe(server.sip_port, server.proc.pid, rate, replace(load, call_ms=hold))
        check.after(step)
        sipp.log(f"router hold {hold} ms: {step}")
        rows.append({"hold_ms": hold, "calls_waiting_at_once": rate * hold // 1000, **step})
    return rows


def profile_router(load: Any, rate: int, out: Path, top: int = 30) -> dict[str, Any]:
    """One probe at ``rate`` against a profiled `ringway serve`; top cumulative shares."""
    server = start_server(load.tmp, profile=out)
    check = ContactCheck(server)
    try:
        server.proc.send_signal(signal.SIGUSR1)
        time.sleep(0.5)
        check.before()
        step = sipp.probe(server.sip_port, server.proc.pid, rate, router_load(load))
        check.after(step)
        server.proc.send_signal(signal.SIGUSR2)
        deadline = time.monotonic() + 30
        while not out.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        sipp.stop(server.proc)
    return {"rate": rate, "step": step, "file": str(out), "top": profile_top(out, top)}


def profile_top(path: Path, top: int) -> list[dict[str, Any]]:
    """Functions by cumulative CPU time, as shares of all CPU time the profile saw."""
    stats = pstats.Stats(str(path))
    table: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    total = sum(row[2] for row in table.values()) or 1.0  # tottime: each second once
    ranked = sorted(table.items(), key=lambda item: item[1][3], reverse=True)
    out = []
    for (file, line, name), (_, calls, tottime, cumtime, _) in ranked[:top]:
        where = f"{Path(file).parent.name}/{Path(file).name}:{line}" if line else file
        out.append(
            {
                "function": f"{where}({name})",
                "calls": calls,
                "cum_share": round(cumtime / total, 3),
                "own_share": round(tottime / total, 3),
            }
        )
    return out


def profiled_serve(profile: Path, argv: list[str]) -> None:
    """`ringway serve` in this process; cProfile on CPU time between SIGUSR1 and SIGUSR2."""
    import cProfile

    sys.path.insert(0, str(ROOT))
    from ringway import cli

    profiler = cProfile.Profile(time.thread_time)

    def on(*_: Any) -> None:
        profiler.enable()

    def off(*_: Any) -> None:
        profiler.disable()
        profiler.dump_stats(str(profile))

    signal.signal(signal.SIGUSR1, on)
    signal.signal(signal.SIGUSR2, off)
    sys.argv = ["ringway", *argv]
    with contextlib.suppress(SystemExit):
        cli.main()


if __name__ == "__main__":
    if len(sys.argv) < 3 or sys.argv[1] != "--profile":
        raise SystemExit("usage: sip_router_path.py --profile FILE serve [ringway serve options]")
    profiled_serve(Path(sys.argv[2]), sys.argv[3:])
