"""The `ringway` CLI contract: names, --json purity, exit code 2 with one line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from ringway.cli import app
from ringway.config import demo_config_path

runner = CliRunner()


def test_config_check_accepts_the_demo_config() -> None:
    result = runner.invoke(app, ["config", "check", str(demo_config_path()), "--json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["ok"] is True
    assert "sales" in document["queues"] and document["users"]["sam"] == "supervisor"


def test_config_check_bad_file_exits_2_with_one_located_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("queues:\n  - name: q\n    requires: 'ghost>=2'\n")
    result = runner.invoke(app, ["config", "check", str(bad)])
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0] == (
        f"error: {bad}:3: queues[0].requires: unknown skill ghost in 'ghost>=2' (declared: none)"
    )
    assert result.stdout == ""


def test_config_check_json_error_document(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("queues: []\n")
    result = runner.invoke(app, ["config", "check", str(bad), "--json"])
    assert result.exit_code == 2
    document = json.loads(result.stdout)
    assert document == {
        "ok": False,
        "error": document["error"],
        "file": str(bad),
        "line": 1,
        "key": "queues",
    }
    assert "at least 1" in document["error"]


def test_demo_json_routes_every_contact() -> None:
    result = runner.invoke(app, ["demo", "--contacts", "25", "--seed", "3", "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)["summary"]
    assert summary["contacts"] == 25
    assert summary["completed"] == 25  # nothing lost: every contact reached an agent
    assert summary["answered"] >= summary["completed"]


def test_demo_is_reproducible_for_a_seed() -> None:
    first = runner.invoke(app, ["demo", "--contacts", "15", "--seed", "11", "--json"])
    second = runner.invoke(app, ["demo", "--contacts", "15", "--seed", "11", "--json"])
    assert first.stdout == second.stdout


def test_installed_entry_point_prints_only_json_on_stdout() -> None:
    exe = Path(sys.executable).with_name("ringway")
    done = subprocess.run(
        [str(exe), "config", "check", str(demo_config_path()), "--json"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["ok"] is True


def test_unknown_option_is_a_usage_error_exit_2() -> None:
    result = runner.invoke(app, ["demo", "--contacts", "0"])
    assert result.exit_code == 2
