"""`ringway simulate`: one JSON document, the report directory, overrides, exit 2."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from ringway.cli import app
from simulation.golden import scenario_path

runner = CliRunner()
DAY = str(scenario_path("contact_centre_day"))
PER_QUEUE = ("offered", "answered", "abandoned", "service_level", "asa", "occupancy")


def test_simulate_json_is_one_document_with_per_queue_results() -> None:
    result = runner.invoke(app, ["simulate", DAY, "--json", "--replications", "2", "--seed", "5"])
    assert result.exit_code == 0, result.output
    assert result.stdout.count("\n") == 1 and result.stderr == ""
    doc = json.loads(result.stdout)
    assert (doc["replications"], doc["seed"]) == (2, 5)
    for name in ("sales", "billing", "support", "chat"):
        row = doc["queues"][name]
        assert all(isinstance(row[key], float) for key in PER_QUEUE)
        assert set(PER_QUEUE) <= set(row["ci95"])
        assert 0 <= row["service_level"] <= row["service_level_abandon_aware"] <= 1
    assert len(doc["intervals"]) == 32 and doc["intervals"][0]["start"] == "08:00"
    assert doc["overall"]["offered"] == sum(doc["queues"][q]["offered"] for q in doc["queues"])


def test_simulate_text_table() -> None:
    result = runner.invoke(app, ["simulate", DAY, "--replications", "2"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith("contact-centre-day: 2 replications")
    assert any(line.startswith("overall") for line in lines)


def test_simulate_report_writes_html_and_charts(tmp_path: Path) -> None:
    out = tmp_path / "report"
    result = runner.invoke(
        app, ["simulate", DAY, "--replications", "2", "--report", str(out), "--json"]
    )
    assert result.exit_code == 0, result.output
    json.loads(result.stdout)  # stdout is still the JSON document only
    assert result.stderr.strip() == f"report: {out / 'index.html'}"
    page = (out / "index.html").read_text(encoding="utf-8")
    for chart in ("service_level", "asa", "occupancy", "queue_length", "staffing"):
        png = out / f"{chart}.png"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert f'src="{chart}.png"' in page
    assert "contact-centre-day" in page and "<table>" in page


def test_simulate_variants_in_text_and_json(tmp_path: Path) -> None:
    text = Path(scenario_path("skills_pooling")).read_text(encoding="utf-8")
    small = text.replace("intervals: 8", "intervals: 1").replace("warmup: 1h", "warmup: 0")
    path = tmp_path / "pool.yaml"
    path.write_text(small, encoding="utf-8")
    result = runner.invoke(app, ["simulate", str(path), "--replications", "2"])
    assert result.exit_code == 0, result.output
    assert "variant dedicated:" in result.stdout and "variant full:" in result.stdout


def test_odd_replications_for_an_antithetic_scenario_is_refused() -> None:
    result = runner.invoke(
        app, ["simulate", str(scenario_path("erlang_c_mm14")), "--replications", "3"]
    )
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        f"error: --replications must be even: {scenario_path('erlang_c_mm14')} runs antithetic "
        "pairs"
    ]


def test_zero_replications_is_refused() -> None:
    result = runner.invoke(app, ["simulate", DAY, "--replications", "0"])
    assert result.exit_code == 2 and "--replications must be >= 1" in result.stderr
