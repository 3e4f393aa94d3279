"""Every entry module imports on its own: an import cycle shows only when the
cycle's module is the first one a process imports, so each gets a fresh interpreter."""

from __future__ import annotations

import subprocess
import sys

import pytest

ENTRY_MODULES = [
    "ringway.service",
    "ringway.metrics",
    "ringway.app",
    "ringway.cli",
    "agent_desktop.hub",
    "router.engine",
    "crm.lookup",
    "simulation.twin",
    "ivr.edge",
]


@pytest.mark.parametrize("module", ENTRY_MODULES)
def test_module_imports_first_in_a_fresh_interpreter(module: str) -> None:
    done = subprocess.run(
        [sys.executable, "-c", f"import {module}"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr.strip().splitlines()[-1:]
