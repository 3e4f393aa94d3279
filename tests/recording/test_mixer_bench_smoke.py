"""Smoke test of benchmarks/mixer.py: one command, one JSON line, the promised fields.

No timing assertions: timing lives only in the benchmark itself.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "mixer.py"


def test_benchmark_prints_one_json_line_with_ratios() -> None:
    done = subprocess.run(
        [sys.executable, str(BENCH), "--seconds", "0.4", "--runs", "1"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    lines = done.stdout.strip().splitlines()
    assert len(lines) == 1
    result = json.loads(lines[0])
    assert result["benchmark"] == "mixer"
    assert set(result["cpu_ms_per_call_second"]) == {"relay", "recording", "listen", "barge"}
    for key in ("ratio_listen_vs_relay", "ratio_barge_vs_relay", "barge_calls_per_core"):
        assert result[key] > 0
    assert "barge:" in done.stderr  # progress goes to stderr
