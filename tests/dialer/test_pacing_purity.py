"""The pacing core and blending stay pure: no I/O frameworks, no simulator, no wall clock."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FORBIDDEN = ["asyncio", "simpy", "redis", "fastapi", "socket", "threading", "simulation"]

PROBE = """
import json, sys
import dialer.pacing, dialer.pacing.accounting, dialer.blending
print(json.dumps([m for m in %r if m in sys.modules]))
"""


def test_importing_pacing_and_blending_loads_no_io_framework_or_simulator() -> None:
    result = subprocess.run(
        [sys.executable, "-c", PROBE % (FORBIDDEN,)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
        cwd=ROOT,
    )
    assert json.loads(result.stdout) == []


def test_the_probe_would_notice_the_simulator() -> None:
    probe = PROBE.replace("dialer.pacing, dialer.pacing.accounting", "simulation.dialer_sim")
    result = subprocess.run(
        [sys.executable, "-c", probe % (FORBIDDEN,)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
        cwd=ROOT,
    )
    assert {"simpy", "simulation"} <= set(json.loads(result.stdout))


WALL_CLOCK = re.compile(
    r"\btime\.(time|time_ns|monotonic|perf_counter|sleep)\b|\bdatetime\.(now|utcnow|today)\b"
    r"|\bfrom\s+time\s+import\b"
)


def test_pacing_and_blending_never_read_the_wall_clock() -> None:
    sources = [*sorted((ROOT / "dialer" / "pacing").glob("*.py")), ROOT / "dialer" / "blending.py"]
    assert len(sources) >= 7
    offenders = [
        f"{path.name}:{n}: {line.strip()}"
        for path in sources
        for n, line in enumerate(path.read_text().splitlines(), start=1)
        if WALL_CLOCK.search(line)
    ]
    assert offenders == []
