"""benchmarks/sip_cps.py --path router, for real: `ringway serve` and a sipp caller.

A few seconds at a low rate, so the benchmark's path cannot rot: every call sipp
places must complete with none failed, and the service's own account must agree
(a contact created in the router for each call, ended by the caller's BYE, and a
call detail record written). No timing assertions: timing lives in the benchmark.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "sip_cps.py"
RATE, SECONDS = 20, 3


def test_router_path_probe_creates_and_ends_one_contact_per_call() -> None:
    assert shutil.which("sipp"), "sipp (Debian sip-tester) is a test peer: make peers"
    command = [sys.executable, str(BENCH), "--path", "router",
               "--router-rate", str(RATE), "--seconds", str(SECONDS)]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    (line,) = done.stdout.splitlines()  # one JSON document, nothing else on stdout
    router = json.loads(line)["router_path"]
    calls = RATE * SECONDS
    (step,) = router["steps"]
    assert (step["calls"], step["successful"], step["failed"]) == (calls, calls, 0)
    assert step["passed"] and step["contacts_match"]
    assert (router["contacts_created"], router["contacts_ended"]) == (calls, calls)
    assert router["contacts_all_ended"] and router["contacts_waiting_at_end"] == 0
    assert step["lookups_matched"] == calls  # the caller's number found the demo customer
    # the edge's overload signals, read from /metrics: none fired at this rate
    assert step["overload_triggers"] == {"lag": 0, "busy": 0, "queue": 0}
    assert 0 < step["server_main_thread_cpu_us_per_call"] <= step["server_cpu_us_per_call"]
    cdrs = router["cdrs"]
    assert cdrs["cdr_jsonl_lines"] == cdrs["cdr_store_rows"] == calls
    assert cdrs["outcomes"] == {"abandoned_in_queue": calls}
    assert cdrs["rtp_packets_played_per_call"] == 0  # media off: the queue plays nothing
    assert router["media"].startswith("off")
    assert router["cpu_us_per_call"] is None  # one probe, no maximum: no figure claimed
