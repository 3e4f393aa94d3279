"""Smoke test of benchmarks/routing.py: it runs and reports the expected fields.

No timing assertions here: timing lives only in the benchmark itself.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "routing.py"


def load_bench() -> ModuleType:
    name = "ringway_bench_routing"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def test_workload_builder_makes_a_centre_every_agent_can_work_in() -> None:
    bench = load_bench()
    workload = bench.build_workload(50, waiting=200, seed=3)
    assert len(workload.queues) == 20 and len(workload.agents) == 50
    for _, skills in workload.agents:
        assert 4 <= len(skills) <= 6
        assert all(1 <= level <= 10 for level in skills.values())
        assert any(q.requirement.matches(skills) for q in workload.queues)
    again = bench.build_workload(50, waiting=200, seed=3)
    assert again.agents == workload.agents, "seeded: the same centre every run"


def test_small_run_yields_a_json_report_with_the_expected_keys() -> None:
    bench = load_bench()
    result = bench.run((50,), waiting=200, core_iterations=40, naive_iterations=5, gc_check_at=50)
    text = json.dumps(result)
    assert "\n" not in text
    assert set(result) >= {
        "core",
        "naive",
        "core_vs_naive",
        "growth_p50",
        "goal",
        "workload",
        "gc",
        "gc_enabled_check",
    }
    assert result["gc_enabled_check"]["gc"]["enabled"] is True
    assert set(result["gc_enabled_check"]["gc"]) >= {"seconds", "longest_pause_ms"}
    core = result["core"]["50"]
    assert core["decisions"] == 2 * 40
    assert core["waiting_at_end"] == 200
    for kind in ("agent_freed", "contact_arrived"):
        assert set(core[kind]) >= {"n", "p50_us", "p99_us", "mean_us", "max_us"}
        assert core[kind]["n"] == 40
    naive = result["naive"]["50"]
    assert naive["decisions"] == 2 * 5
    assert naive["agreement_with_core"] == 1.0, "the naive scan ranks exactly like the core"
    assert set(result["core_vs_naive"]["50"]) == {
        "decisions_per_s",
        "agent_freed_p50",
        "contact_arrived_p50",
    }
