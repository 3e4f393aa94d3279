"""STYLE habit 2/15: the flow engine is pure — no asyncio, no clock, injected randomness."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

FLOWS = Path(__file__).resolve().parents[2] / "ivr" / "flows"


def test_the_flow_package_imports_no_asyncio() -> None:
    code = "import sys, ivr.flows; print('asyncio' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"


def test_the_flow_engine_never_reads_the_wall_clock() -> None:
    modules = sorted(FLOWS.glob("*.py"))
    assert {m.stem for m in modules} >= {"run", "entry", "nodes", "loader", "actions"}
    for module in modules:
        source = module.read_text()
        assert "import time" not in source and "datetime" not in source, module.name
        assert "random.random()" not in source and "Random()" not in source, module.name
