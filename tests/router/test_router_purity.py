"""The routing core stays pure: no I/O frameworks, no wall clock."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

ROUTER_DIR = Path(__file__).resolve().parents[2] / "router"

FORBIDDEN_MODULES = [
    "asyncio",
    "simpy",
    "redis",
    "fastapi",
    "starlette",
    "uvicorn",
    "socket",
    "threading",
]

_IMPORT_ALL = """
import json, pkgutil, importlib, sys
import router
names = ["router"]
for info in pkgutil.walk_packages(router.__path__, "router."):
    importlib.import_module(info.name)
    names.append(info.name)
forbidden = %r
print(json.dumps({"imported": names, "loaded": [m for m in forbidden if m in sys.modules]}))
"""


def test_importing_every_router_module_loads_no_io_or_framework_module() -> None:
    result = subprocess.run(
        [sys.executable, "-c", _IMPORT_ALL % (FORBIDDEN_MODULES,)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    report = json.loads(result.stdout)
    assert "router.engine" in report["imported"]
    assert "router.store.memory" in report["imported"]
    assert "router.policies.builtin" in report["imported"]
    assert report["loaded"] == [], f"router pulled in {report['loaded']}"


def test_the_guard_would_notice_a_forbidden_import() -> None:
    # the same probe, with a module that does import one: proves the check can fail
    probe = "import sys, json, asyncio; print(json.dumps([m for m in %r if m in sys.modules]))"
    result = subprocess.run(
        [sys.executable, "-c", probe % (FORBIDDEN_MODULES,)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert "asyncio" in json.loads(result.stdout)


WALL_CLOCK = re.compile(
    r"\btime\.(time|time_ns|monotonic|monotonic_ns|perf_counter|sleep)\b"
    r"|\bdatetime\.(now|utcnow|today)\b"
    r"|\bdate\.today\b"
    r"|\bfrom\s+time\s+import\b"
)


def test_router_source_never_reads_the_wall_clock() -> None:
    sources = sorted(ROUTER_DIR.rglob("*.py"))
    assert len(sources) >= 15, "the scan must see the whole package"
    offenders = [
        f"{path.relative_to(ROUTER_DIR)}:{number}: {line.strip()}"
        for path in sources
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if WALL_CLOCK.search(line)
    ]
    assert offenders == []


def test_wall_clock_pattern_catches_the_usual_spellings() -> None:
    for line in ("t = time.time()", "time.monotonic()", "datetime.now(tz)", "from time import x"):
        assert WALL_CLOCK.search(line), line
    assert not WALL_CLOCK.search("now: float  # the caller's time")
