"""The dialer's rules are a pure core: no event loop, no database driver, no wall clock.

The simulator runs them in virtual time and the live driver in a worker thread;
both need `at` to be the only notion of time and the store to be injected.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import dialer

PURE_MODULES = [
    "dialer.compliance",
    "dialer.campaign",
    "dialer.leads",
    "dialer.lists",
    "dialer.store",
]
FORBIDDEN_MODULES = ["asyncio", "sqlite3", "simpy", "redis", "fastapi", "uvicorn", "typer"]
WALL_CLOCK = re.compile(
    r"\btime\.(time|time_ns|monotonic|perf_counter|sleep)\b"
    r"|\bdatetime\.(now|utcnow|today)\b|\bdate\.today\b|\bfrom\s+time\s+import\b"
)
DRIVERS = {"cli.py", "store_sqlite.py", "store_sqlite_schema.py"}  # the edges may


def _loaded_after_import(modules: list[str], forbidden: list[str]) -> list[str]:
    probe = (
        f"import sys, json\nfor m in {modules!r}: __import__(m)\n"
        f"print(json.dumps([m for m in {forbidden!r} if m in sys.modules]))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    loaded: list[str] = json.loads(done.stdout)
    return loaded


def test_pure_modules_import_no_event_loop_or_database() -> None:
    assert _loaded_after_import(PURE_MODULES, FORBIDDEN_MODULES) == []


def test_the_guard_would_notice_a_forbidden_import() -> None:
    assert "sqlite3" in _loaded_after_import(["dialer.store_sqlite"], FORBIDDEN_MODULES)


def test_pure_modules_never_read_the_clock() -> None:
    root = Path(dialer.__file__).parent
    offenders = [
        f"{path.relative_to(root)}:{number}"
        for path in sorted(root.rglob("*.py"))
        if path.name not in DRIVERS and "pacing" not in path.parts
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if WALL_CLOCK.search(line)
    ]
    assert offenders == []
    assert WALL_CLOCK.search("added_at = datetime.now(UTC)")  # the pattern can match
