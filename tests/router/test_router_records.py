"""Events and decisions are immutable: enforced by the type checker (see router/record.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SNIPPET = """
from router.events import ContactQueued
from router.explain import Decision
event = ContactQueued(at=1.0, contact_id="c", queue="q", channel="voice")
event.queue = "elsewhere"
decision = Decision(at=1.0, trigger="t", queue="q", step=0, requirement="*", strategy="s",
                    chosen=None)
decision.chosen = "someone"
"""


def test_mypy_rejects_assignment_to_event_and_decision_fields(tmp_path: Path) -> None:
    probe = tmp_path / "probe.py"
    probe.write_text(SNIPPET)
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", str(probe)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert done.returncode == 1, done.stdout
    assert 'Property "queue" defined in "ContactQueued" is read-only' in done.stdout
    assert 'Property "chosen" defined in "Decision" is read-only' in done.stdout
