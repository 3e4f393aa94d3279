"""Run a scenario: every replication of the base plan and of each variant.

Variants reuse the base plan's seeds, so their customers are the very same
(common random numbers): differences between plans are the plans', not luck's.
Replications are independent, so ``workers > 1`` runs them in separate
processes (spawned, so nothing of the parent's state leaks in); the results do
not depend on the number of workers.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from simulation.model import Scenario, StaffGroup
from simulation.replication import Progress, ReplicationData, run_replication
from simulation.results import header, summarise_run


def total_steps(scenario: Scenario) -> int:
    """Progress units of a whole run: simulated intervals over every replication."""
    return scenario.intervals * scenario.replications * (1 + len(scenario.variants))


def run_scenario(
    scenario: Scenario, *, workers: int = 1, progress: Progress | None = None
) -> dict[str, Any]:
    document = header(scenario)
    document.update(summarise_run(scenario, run_plan(scenario, scenario.staff, workers, progress)))
    if scenario.variants:
        document["variants"] = {
            name: summarise_run(scenario, run_plan(scenario, staff, workers, progress))
            for name, staff in scenario.variants
        }
    return document


def run_plan(
    scenario: Scenario,
    staff: tuple[StaffGroup, ...],
    workers: int = 1,
    progress: Progress | None = None,
) -> list[ReplicationData]:
    replications = range(scenario.replications)
    if workers <= 1 or scenario.replications == 1:
        return [run_replication(scenario, staff, r, progress) for r in replications]
    context = multiprocessing.get_context("spawn")
    done: Callable[[Any], None] = (
        (lambda _: progress(scenario.intervals)) if progress else (lambda _: None)
    )
    with ProcessPoolExecutor(min(workers, scenario.replications), mp_context=context) as pool:
        futures = [pool.submit(run_replication, scenario, staff, r) for r in replications]
        for future in futures:
            future.add_done_callback(done)
        return [future.result() for future in futures]
