"""``ringway loadtest``: play a scenario against a running Ringway in real time.

    ringway loadtest SCENARIO --target URL [--duration S] [--speed X] [--smtp HOST:PORT]
        [--sip HOST:PORT [--ivr FLOWS]] (--credentials FILE | --password-env NAME)
        [--drain S] [--seed N] [--json]

Prints offered vs handled per channel and queue, routing latency p50/p99 and
protocol errors (``--json``: one JSON document on stdout, nothing else there;
progress lines go to stderr). Exit codes: 0 a clean run, 1 the run finished
with protocol errors or contacts left unfinished, 2 bad input (one line).
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from simulation.cli_erlang import fail


def loadtest_command(
    scenario: Annotated[Path, typer.Argument(help="Scenario YAML (the simulator's format)")],
    target: Annotated[str, typer.Option(help="The running Ringway, e.g. http://127.0.0.1:8080")],
    duration: Annotated[
        float | None, typer.Option(help="Wall seconds of arrivals (default: the scenario's day)")
    ] = None,
    speed: Annotated[float, typer.Option(help="Scenario seconds per wall second")] = 1.0,
    smtp: Annotated[
        str | None, typer.Option(help="The target's SMTP intake HOST:PORT (e-mail queues)")
    ] = None,
    sip: Annotated[
        str | None, typer.Option(help="The target's SIP edge HOST:PORT, UDP (voice queues)")
    ] = None,
    ivr: Annotated[
        Path | None, typer.Option(help="The IVR flow file the target runs (default: the demo's)")
    ] = None,
    credentials: Annotated[
        Path | None, typer.Option(help="YAML/JSON file mapping agent id to password")
    ] = None,
    password_env: Annotated[
        str | None, typer.Option(help="Environment variable holding every agent's password")
    ] = None,
    drain: Annotated[float, typer.Option(help="Max wall seconds to wait for the last contacts")] = (
        60.0
    ),
    seed: Annotated[int | None, typer.Option(help="Override the scenario's seed")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document")] = False,
) -> None:
    """Drive a running Ringway with SCENARIO's traffic; report load, latency, errors."""
    from simulation.loadtest.errors import LoadTestError
    from simulation.loadtest.runner import Options, run_loadtest

    options = Options(
        scenario=scenario,
        target=target,
        duration_s=duration,
        speed=speed,
        smtp=smtp,
        credentials=credentials,
        password_env=password_env,
        drain_s=drain,
        seed=seed,
        sip=sip,
        ivr=ivr,
    )
    if not drain >= 0:
        fail(f"--drain must be >= 0, got {drain}")
    try:
        document = asyncio.run(run_loadtest(options, progress=_say))
    except LoadTestError as exc:
        fail(str(exc))
    if as_json:
        sys.stdout.write(json.dumps(document) + "\n")
    else:
        typer.echo(summary_table(document))
    if not document["ok"]:
        raise typer.Exit(1)


def _say(message: str) -> None:
    typer.echo(f"loadtest: {message}", err=True)


def summary_table(document: dict[str, Any]) -> str:
    head = (
        f"{document['scenario']} against {document['target']} at speed {document['speed']:g}: "
        f"{document['agents']} agents, {document['arrival_window_s']:.1f} s of arrivals, "
        f"drained in {document['drain_s']:.1f} s"
    )
    lines = [head, "", "latency ms (created -> offer): end to end, routing alone, queue wait"]
    columns = ("offered", "handled", "abandoned", "unfinished")
    header = ("", *columns, "p50", "p99", "route p99", "wait p99")
    row_format = "{:<10}{:>9}{:>9}{:>11}{:>12}{:>9}{:>9}{:>11}{:>10}"
    lines.append(row_format.format(*header))
    for name, row in document["channels"].items():
        counts = [row[k] for k in columns]
        latency, routing, wait = row["latency_ms"], row["routing_ms"], row["queue_wait_ms"]
        figures = [latency["p50"], latency["p99"], routing["p99"], wait["p99"]]
        lines.append(row_format.format(name, *counts, *map(_ms, figures)))
    totals = [sum(r[k] for r in document["channels"].values()) for k in columns]
    overall = document["latency_ms"]
    lines.append(
        row_format.format("all", *totals, _ms(overall["p50"]), _ms(overall["p99"]), "", "")
    )
    lines += stage_lines(document)
    for queue, reason in document["skipped"].items():
        lines.append(f"skipped queue {queue}: {reason}")
    errors = document["errors"]
    lines.append(f"protocol errors: {errors['total']} {errors['by_kind'] or ''}".rstrip())
    if errors["notes"]:
        lines.append(f"notes: {errors['notes']}")
    return "\n".join(lines)


def stage_lines(document: dict[str, Any]) -> list[str]:
    """A channel's own stages (voice: INVITE -> IVR answer, queue entry -> phone rings)."""
    lines = []
    for name, row in document["channels"].items():
        for key, figures in row.items():
            if key.endswith("_ms") and key not in ("latency_ms", "routing_ms", "queue_wait_ms"):
                stage = key.removesuffix("_ms").replace("_", " ")
                lines.append(
                    f"{name} {stage} ms: p50 {_ms(figures['p50'])}, p99 {_ms(figures['p99'])} "
                    f"(n={figures['count']})"
                )
    return lines


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"
