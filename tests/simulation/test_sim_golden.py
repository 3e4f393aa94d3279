"""Seeded scenarios reproduce their golden results exactly (SimPy habit: runnable
examples with golden output). A change meant to alter results regenerates them:
``.venv/bin/python -m simulation.golden`` (see `simulation.golden`)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from simulation.golden import GOLDEN, golden_path, produce, render, scenario_path


def golden(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(golden_path(name).read_text(encoding="utf-8"))
    return loaded


@pytest.mark.parametrize("name", ["erlang_c_mm14", "erlang_a_mm13m", "contact_centre_day"])
def test_scenario_matches_its_golden_results(name: str) -> None:
    produced = produce(name)
    expected = golden(name)
    assert produced["queues"] == expected["queues"]
    assert produced["overall"] == expected["overall"]
    assert produced == expected  # intervals too


def test_every_golden_scenario_has_its_files() -> None:
    for name in GOLDEN:
        assert scenario_path(name).exists() and golden_path(name).exists()
        text = golden_path(name).read_text(encoding="utf-8")
        assert text == render(json.loads(text))  # written by render(), so diffs stay tidy


def test_day_golden_shows_the_features_at_work() -> None:
    day = golden("contact_centre_day")
    queues = day["queues"]
    assert set(queues) == {"sales", "billing", "support", "chat"}
    assert queues["chat"]["abandoned"] == 0  # chat customers have no patience limit
    assert all(queues[q]["abandoned"] > 0 for q in ("sales", "billing", "support"))
    assert day["unfinished"] == 0  # the drain closed every contact
    # Breaks and shift changes show in the agents logged in per interval.
    logged = [row["overall"]["agents"] for row in day["intervals"]]
    assert min(logged) < max(logged)
    # Billing talk times come from the CSV sample (mean 300.5 s) plus the 45 s timer.
    assert queues["billing"]["aht"] == pytest.approx(345.5, abs=15)
