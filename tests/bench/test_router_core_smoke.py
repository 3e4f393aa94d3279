"""benchmarks/router_core.py, the in-process router path, run small so it cannot rot.

The harness drives the real service (`ringway.app.build`, the benchmark centre, the
SQLite CRM, event log and CDR store) with synthetic calls; this checks that every
call it places is answered, released and filed, and that it leaves no call behind.
No timing assertions: timing lives in the benchmark.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "router_core.py"


def test_every_call_answered_released_and_filed() -> None:
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--calls", "60", "--warmup", "20", "--wave", "20"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["benchmark"] == "router_core"
    assert result["responses"]["INVITE 200"] == 80
    assert result["responses"]["BYE 200"] == 80
    assert result["cdr_lines"] == 80
    # each call queued (a contact), then abandoned by its BYE: none lost before the router
    assert result["cdr_outcomes"] == {"abandoned_in_queue": 80, "without_contact": 0}
    assert result["calls_live_at_end"] == 0
    assert result["cpu_us_per_call"] > 0
    assert set(result["thread_cpu_us_per_call"]) >= {"MainThread"}
    gc_passes = result["gc"]
    assert len(gc_passes["collections_by_generation"]) == 3 and gc_passes["us_per_call"] >= 0
    assert result["gc_tracked_left_per_call"] is not None


def test_bad_arguments_exit_2_with_one_line() -> None:
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--calls", "0"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0
    assert "--calls" in done.stderr
