"""``ringway simulate`` and ``ringway staff``: the planners' commands.

    ringway simulate SCENARIO [--json] [--report DIR] [--replications N] [--seed S] [--workers W]
    ringway staff SCENARIO [--json] [--method simulate|erlang] [--workers W]

``simulate`` runs the scenario's replications (and variants) with the real
router and prints per-queue results with 95 % confidence half-widths — or,
with ``--json``, the whole results document (`simulation.results`) and nothing
else on stdout. ``--report DIR`` also writes ``DIR/index.html`` with charts.
``staff`` prints the agents needed per interval (`simulation.staffing`). A
progress bar goes to stderr when it is a terminal. Bad input (a scenario that
does not validate, a bad option): one ``error:`` line on stderr, exit code 2.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer

from simulation.cli_erlang import erlang_app, fail

__all__ = ["erlang_app", "simulate_command", "staff_command"]


def _load(path: Path, replications: int | None = None, seed: int | None = None) -> Any:
    from ringway.config import ConfigError
    from simulation.loader import load_scenario

    try:
        scenario = load_scenario(path)
    except ConfigError as exc:
        fail(str(exc))
    if replications is not None and replications < 1:
        fail(f"--replications must be >= 1, got {replications}")
    if replications is not None and scenario.antithetic and replications % 2:
        fail(f"--replications must be even: {path} runs antithetic pairs")
    return scenario.with_run(replications=replications, seed=seed)


@contextmanager
def _progress(total: int, label: str) -> Iterator[Callable[[int], None] | None]:
    """A rich progress bar on stderr, when stderr is a terminal (never on stdout)."""
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    console = Console(stderr=True)
    if not console.is_terminal:
        yield None
        return
    columns = (
        TextColumn(label),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task(label, total=total)
        yield lambda done: bar.advance(task, done)


def simulate_command(
    scenario: Annotated[Path, typer.Argument(help="Scenario YAML")],
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document")] = False,
    report: Annotated[Path | None, typer.Option(help="Write an HTML report here")] = None,
    replications: Annotated[int | None, typer.Option(help="Override the scenario's")] = None,
    seed: Annotated[int | None, typer.Option(help="Override the scenario's")] = None,
    workers: Annotated[int, typer.Option(help="Processes for the replications")] = 1,
) -> None:
    """Simulate SCENARIO with the real router; print per-queue results."""
    from simulation.runner import run_scenario, total_steps

    plan = _load(scenario, replications, seed)
    with _progress(total_steps(plan), "simulating") as progress:
        document = run_scenario(plan, workers=max(1, workers), progress=progress)
    if report is not None:
        from simulation.report import write_report

        try:
            index = write_report(plan, document, report)
        except OSError as exc:
            fail(f"cannot write the report to {report}: {exc.strerror or exc}")
        typer.echo(f"report: {index}", err=True)
    if as_json:
        sys.stdout.write(json.dumps(document) + "\n")
        return
    from simulation.tables import results_table

    typer.echo(results_table(document))


def staff_command(
    scenario: Annotated[Path, typer.Argument(help="Scenario YAML")],
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document")] = False,
    method: Annotated[str, typer.Option(help="simulate (refine by simulation) or erlang")] = (
        "simulate"
    ),
    workers: Annotated[int, typer.Option(help="Processes for the replications")] = 1,
) -> None:
    """Agents needed per interval to meet every queue's service-level target."""
    from simulation.staffing import staffing_plan

    if method not in ("simulate", "erlang"):
        fail(f"--method must be simulate or erlang, got {method!r}")
    plan = _load(scenario)
    with _progress(plan.intervals, "staffing") as progress:
        table = staffing_plan(
            plan, simulate=method == "simulate", workers=max(1, workers), progress=progress
        )
    if as_json:
        sys.stdout.write(json.dumps(table) + "\n")
        return
    from simulation.tables import staffing_table

    typer.echo(staffing_table(table))
