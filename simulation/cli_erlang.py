"""``ringway erlang b|c|a``: the analytic models from the command line.

    ringway erlang c --calls 100 --period 1800 --aht 180 --agents 14 --target 20 --json
    ringway erlang a ... --patience 300
    ringway erlang b --calls 100 --period 1800 --aht 180 --agents 17

``--calls`` arrive per ``--period`` seconds; ``--aht`` and ``--target`` (the
service-level threshold) and ``--patience`` (mean, exponential) are seconds.
``--json`` prints one JSON object: ``p_wait``, ``service_level``, ``asa`` (mean
wait of the answered, s), ``avg_wait_all`` (mean wait of every arrival,
abandoners included), ``occupancy``, ``load`` (Erlangs) …; Erlang A adds
``p_abandon``; Erlang B prints ``blocking``. Values are numbers; ``asa`` is
null when the queue is unstable (load >= agents without abandonment).
Bad input: one ``error:`` line on stderr, exit code 2.
"""

from __future__ import annotations

import json
import math
import sys
from typing import Annotated, Any, NoReturn

import typer

erlang_app = typer.Typer(
    help="Erlang B, C and A: blocking, waiting and abandonment from the formulas.",
    no_args_is_help=True,
)

Number = Annotated[str | None, typer.Option(metavar="NUMBER")]


def fail(message: str) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(2)


def number(name: str, text: str | None, *, positive: bool = False) -> float:
    if text is None:
        fail(f"--{name} is required")
    try:
        value = float(text)
    except ValueError:
        fail(f"--{name}: {text!r} is not a number")
    if not math.isfinite(value) or value < 0 or (positive and value == 0):
        fail(f"--{name} must be {'> 0' if positive else '>= 0'}, got {text}")
    return value


def whole(name: str, text: str | None) -> int:
    value = number(name, text, positive=True)
    if value != int(value):
        fail(f"--{name} must be a whole number, got {text}")
    return int(value)


def _traffic(calls: str | None, period: str | None, aht: str | None) -> tuple[float, float, float]:
    count = number("calls", calls)
    seconds = number("period", period, positive=True)
    return count, seconds, number("aht", aht, positive=True)


def _emit(document: dict[str, Any], lines: list[str], as_json: bool) -> None:
    if as_json:
        sys.stdout.write(json.dumps(document) + "\n")
    else:
        typer.echo("\n".join(lines))


def _lines(doc: dict[str, Any]) -> list[str]:
    asa = "unstable (load >= agents)" if doc["asa"] is None else f"{doc['asa']:.2f} s"
    out = [
        f"{doc['model'].replace('_', ' ').title()}: {doc['calls']:g} calls / {doc['period']:g} s, "
        f"AHT {doc['aht']:g} s = {doc['load']:.3f} Erlangs, {doc['agents']} agents",
        f"  P(wait)          {doc['p_wait']:.4f}",
        f"  service level    {doc['service_level']:.4f}  (answered within {doc['target']:g} s)",
        f"  ASA              {asa}  (answered contacts)",
        f"  occupancy        {doc['occupancy']:.4f}",
    ]
    if "p_abandon" in doc:
        out.append(f"  P(abandon)       {doc['p_abandon']:.5f}")
        out.append(f"  mean wait (all)  {doc['avg_wait_all']:.2f} s  (abandoners included)")
    return out


@erlang_app.command("c")
def erlang_c_cmd(
    calls: Number = None,
    period: Number = None,
    aht: Number = None,
    agents: Number = None,
    target: Number = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object")] = False,
) -> None:
    """Erlang C (M/M/N): P(wait), service level and ASA."""
    from simulation.erlang import erlang_c_metrics

    count, seconds, handle = _traffic(calls, period, aht)
    try:
        metrics = erlang_c_metrics(
            count / seconds, handle, whole("agents", agents), number("target", target)
        )
    except ValueError as exc:
        fail(str(exc))
    doc = {"calls": count, "period": seconds, **metrics.to_dict()}
    for key in ("p_abandon", "patience"):
        doc.pop(key)
    _emit(doc, _lines(doc), as_json)


@erlang_app.command("a")
def erlang_a_cmd(
    calls: Number = None,
    period: Number = None,
    aht: Number = None,
    agents: Number = None,
    target: Number = None,
    patience: Number = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object")] = False,
) -> None:
    """Erlang A (M/M/N+M, exponential patience): adds P(abandon)."""
    from simulation.erlang_a import erlang_a_metrics

    count, seconds, handle = _traffic(calls, period, aht)
    try:
        metrics = erlang_a_metrics(
            count / seconds,
            handle,
            whole("agents", agents),
            number("target", target),
            number("patience", patience, positive=True),
        )
    except ValueError as exc:
        fail(str(exc))
    doc = {"calls": count, "period": seconds, **metrics.to_dict()}
    _emit(doc, _lines(doc), as_json)


@erlang_app.command("b")
def erlang_b_cmd(
    calls: Number = None,
    period: Number = None,
    aht: Number = None,
    agents: Number = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object")] = False,
) -> None:
    """Erlang B (M/M/N/N): the share of calls blocked with N trunks or agents."""
    from simulation.erlang import erlang_b

    count, seconds, handle = _traffic(calls, period, aht)
    servers = whole("agents", agents)
    load = count / seconds * handle
    blocking = erlang_b(load, servers)
    doc = {
        "model": "erlang_b",
        "calls": count,
        "period": seconds,
        "aht": handle,
        "agents": servers,
        "load": load,
        "blocking": blocking,
        "occupancy": load * (1 - blocking) / servers,
    }
    lines = [
        f"Erlang B: {count:g} calls / {seconds:g} s, AHT {handle:g} s = {load:.3f} Erlangs, "
        f"{servers} servers",
        f"  blocking   {blocking:.5f}",
        f"  occupancy  {doc['occupancy']:.4f}  (carried load per server)",
    ]
    _emit(doc, lines, as_json)
