"""Simulator speed: the real router in the loop vs a bare SimPy model, same run.

    .venv/bin/python benchmarks/simulation.py

Prints ONE JSON line on stdout:

* ``twin_calls_per_s`` — contacts per wall-second of the digital twin
  (`simulation.replication.run_replication`) on the Erlang C test traffic
  (T1: 100 calls / 30 min, exponential talk time 180 s, 14 agents, no wrap-up);
* ``bare_calls_per_s`` — the textbook SimPy M/M/14 model of the same traffic
  (``simpy.Resource``, one process per call), measured in the same process,
  interleaved with the twin's runs, so the ratio holds on a shared, noisy machine;
* ``ratio`` (goal ``ratio_goal`` 0.5), and ``ratio_cpu``, the same from CPU
  seconds (``time.process_time``), steadier when neighbours load the machine;
* ``compiled`` — whether the router and the simulator's pump ran from the
  mypyc build (`router._native`; ``make native``). When they did,
  ``pure_python`` holds the same twin-vs-bare figures from a child process
  with ``RINGWAY_PURE=1`` (the interpreted modules), and
  ``compiled_speedup_cpu`` the ratio of the two twins' CPU per contact;
* ``router_share`` — the share of the twin's wall time spent inside
  `router.engine.Router` commands (timed by wrapping them, which adds a little;
  only the interpreted router can be wrapped, so it is null when compiled and
  given under ``pure_python``);
* ``twin_cpu_us_per_call`` / ``bare_cpu_us_per_call`` — CPU microseconds per
  contact of each (the steadiest figure on a shared machine);
* ``large_day_wall_s`` (goal ``large_day_goal_s`` 20) — one replication of
  ``simulation/scenarios/large_day.yaml``: 500 agents, 24 h, 8 queues, 5 skill
  mixes on 4 shifts, how many contacts it routed, and its CPU µs per contact;
* ``scaling_cpu_us_per_call`` — the twin's CPU µs per contact on the same
  M/M/n traffic scaled to 14, 100 and 500 agents at the same occupancy (0.71):
  how the cost grows with the size of the floor.

Each speed is the best of ``REPEATS`` runs (the least disturbed by neighbours).
The twin is measured as it runs for ``ringway simulate``: the collector's
per-interval sums included, router decisions not recorded (it never explains).
"""

from __future__ import annotations

import functools
import json
import math
import os
import random
import subprocess
import sys
import time
from collections.abc import Callable, Generator
from pathlib import Path
from typing import Any

import simpy

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from router import engine  # noqa: E402
from router._native import PURE_ENV, is_compiled  # noqa: E402
from router.engine import Router  # noqa: E402
from simulation.loader import load_scenario, load_scenario_text  # noqa: E402
from simulation.model import Scenario  # noqa: E402
from simulation.replication import run_replication  # noqa: E402

CALLS = 60_000
REPEATS = 3
RATE, AHT, AGENTS = 100 / 1800, 180.0, 14
ROUTER_COMMANDS = (
    "contact_arrived",
    "accept",
    "end",
    "complete",
    "tick",
    "next_deadline",
    "login",
    "set_ready",
    "set_not_ready",
    "logout",
    "add_agent",
)


class Stopwatch:
    """Wall and CPU seconds of a block (CPU time is steadier on a shared machine)."""

    def __enter__(self) -> Stopwatch:
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall = time.perf_counter() - self.wall
        self.cpu = time.process_time() - self.cpu


def bare_simpy(calls: int, seed: int) -> Stopwatch:
    """The classic SimPy M/M/N model: its wall and CPU seconds for ``calls`` calls."""
    env, rng = simpy.Environment(), random.Random(seed)
    agents = simpy.Resource(env, capacity=AGENTS)
    waits: list[float] = []

    def call(talk: float) -> Generator[Any, Any, None]:
        arrived = env.now
        with agents.request() as request:
            yield request
            waits.append(env.now - arrived)
            yield env.timeout(talk)

    def source() -> Generator[Any, Any, None]:
        for _ in range(calls):
            yield env.timeout(rng.expovariate(RATE))
            env.process(call(rng.expovariate(1 / AHT)))

    env.process(source())
    with Stopwatch() as watch:
        env.run()
    return watch


def twin(calls: int, seed: int, agents: int = AGENTS) -> tuple[Stopwatch, int]:
    scenario = scaled(agents)
    rate = RATE * (agents / AGENTS)  # (exactly RATE at 14 agents)
    intervals = math.ceil(calls / (rate * scenario.interval_s))
    scenario = scenario.with_run(intervals=intervals, replications=1, antithetic=False, seed=seed)
    with Stopwatch() as watch:
        data = run_replication(scenario, scenario.staff, 0)
    return watch, data.contacts


def scaled(agents: int) -> Scenario:
    """The M/M/14 scenario with ``agents`` agents and the traffic scaled to match."""
    path = ROOT / "simulation/scenarios/erlang_c_mm14.yaml"
    if agents == AGENTS:
        return load_scenario(path)
    text = path.read_text(encoding="utf-8")
    per_hour = 3600 * RATE * agents / AGENTS
    text = text.replace("count: 14,", f"count: {agents},").replace(
        "rate: 200}", f"rate: {per_hour:.6f}}}"
    )
    return load_scenario_text(text, str(path), path.parent)


def scaling(calls: int) -> dict[str, float]:
    """CPU µs per contact at 14, 100 and 500 agents (best of two runs each)."""
    out = {}
    for agents in (AGENTS, 100, 500):
        runs = [twin(calls, seed, agents) for seed in range(2)]
        out[str(agents)] = round(min(w.cpu / n for w, n in runs) * 1e6, 2)
    return out


class RouterClock:
    """Wall time spent inside the router's commands (wrapped at class level)."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.saved: dict[str, Callable[..., Any]] = {}

    def __enter__(self) -> RouterClock:
        for name in ROUTER_COMMANDS:
            original = self.saved[name] = getattr(Router, name)
            setattr(Router, name, self._timed(original))
        return self

    def __exit__(self, *exc: object) -> None:
        for name, original in self.saved.items():
            setattr(Router, name, original)

    def _timed(self, original: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(original)
        def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self.seconds += time.perf_counter() - start

        return timed


def router_share(calls: int) -> float:
    with RouterClock() as clock:
        start = time.perf_counter()
        twin(calls, seed=99)
        wall = time.perf_counter() - start
    return clock.seconds / wall


def large_day() -> tuple[Stopwatch, int]:
    scenario = load_scenario(ROOT / "simulation/scenarios/large_day.yaml")
    with Stopwatch() as watch:
        data = run_replication(scenario, scenario.staff, 0)
    return watch, data.contacts


def twin_vs_bare() -> dict[str, Any]:
    """The twin against the bare model, interleaved, best of ``REPEATS`` each."""
    # Interleaved, so a neighbour's burst of load hits both models alike.
    bares, twins = [], []
    for seed in range(REPEATS):
        bares.append(bare_simpy(CALLS, seed))
        twins.append(twin(CALLS, seed))
        print(f"repeat {seed + 1}/{REPEATS} done", file=sys.stderr)
    bare = CALLS / min(w.wall for w in bares)
    contacts = twins[0][1]
    best = max(n / w.wall for w, n in twins)
    bare_cpu = CALLS / min(w.cpu for w in bares)
    best_cpu = max(n / w.cpu for w, n in twins)
    return {
        "calls": contacts,
        "twin_calls_per_s": round(best),
        "bare_calls_per_s": round(bare),
        "ratio": round(best / bare, 3),
        "ratio_cpu": round(best_cpu / bare_cpu, 3),
        "twin_cpu_us_per_call": round(1e6 / best_cpu, 2),
        "bare_cpu_us_per_call": round(1e6 / bare_cpu, 2),
    }


def pure_python_run() -> dict[str, Any]:
    """The same comparison with the interpreted router (``RINGWAY_PURE=1``), in a
    child process: what the compiled build buys, measured in the same run."""
    env = {**os.environ, PURE_ENV: "1"}
    child = subprocess.run(
        [sys.executable, __file__, "--pure-child"], env=env, capture_output=True, text=True
    )
    if child.returncode != 0:
        raise SystemExit(f"pure-Python run failed: {child.stderr.strip()[-300:]}")
    figures: dict[str, Any] = json.loads(child.stdout)
    return figures


def main() -> None:
    if "--pure-child" in sys.argv[1:]:
        figures = twin_vs_bare()
        figures["router_share"] = round(router_share(CALLS // 2), 3)
        figures["compiled"] = is_compiled(engine)
        sys.stdout.write(json.dumps(figures) + "\n")
        return
    compiled = is_compiled(engine)
    figures = twin_vs_bare()
    days = [large_day() for _ in range(2)]
    print("large day done", file=sys.stderr)
    growth = scaling(CALLS // 3)
    pure = pure_python_run() if compiled else None
    result = {
        "benchmark": "simulation",
        **figures,
        "ratio_goal": 0.5,
        "compiled": compiled,
        # Wrapping the router's methods only times the interpreted router: compiled
        # callers reach compiled methods directly.
        "router_share": None if compiled else round(router_share(CALLS // 2), 3),
        "large_day_wall_s": round(min(w.wall for w, _ in days), 2),
        "large_day_contacts": days[0][1],
        "large_day_cpu_us_per_call": round(min(w.cpu for w, _ in days) / days[0][1] * 1e6, 2),
        "large_day_agents": 500,
        "large_day_goal_s": 20.0,
        "scaling_cpu_us_per_call": growth,
        "python": sys.version.split()[0],
        "simpy": simpy.__version__,
    }
    if pure is not None:
        result["pure_python"] = pure
        result["compiled_speedup_cpu"] = round(
            pure["twin_cpu_us_per_call"] / figures["twin_cpu_us_per_call"], 2
        )
    sys.stdout.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
