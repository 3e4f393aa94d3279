"""``ringway report``: reports from the persisted event log.

``ringway report intervals --from 2024-01-31T08:00 --to 2024-01-31T18:00`` prints
per-queue interval statistics (fields: see `ringway.reports`) as a table, as CSV
(``--csv``) or as one JSON document (``--json``)::

    {"from": "...Z", "to": "...Z", "interval_s": 900.0, "rows": [{...}, ...]}

``--events`` is the SQLite file (default ``var/events.sqlite3``) or a
``postgresql://`` URL. Bad input (a time that does not parse, ``--from`` not
before ``--to``, a missing or unreachable event log, an unloadable config)
prints one ``error:`` line on stderr and exits 2.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

from ringway.pgsupport import is_postgres_url
from ringway.reports import (
    IntervalRow,
    interval_report,
    iso_utc,
    parse_interval,
    parse_time,
    rows_to_csv,
    rows_to_json,
)
from router.queues import Queue

if TYPE_CHECKING:
    from ringway.eventlog import SQLiteEventLog
    from ringway.eventlog_pg import PostgresEventLog

# Contacts queued before --to may be answered and completed after it; read this
# far past --to for their outcomes (a day covers e-mail SLAs). Reading stops
# sooner once every contact of the report is closed, so this is rarely reached.
LOOKAHEAD_S = 2 * 86400.0

report_app = typer.Typer(help="Reports from the persisted event log.", no_args_is_help=True)


@report_app.callback()
def _reports() -> None:
    """Reports from the persisted event log."""
    # A callback keeps `intervals` a sub-command even while it is the only one.


def _fail(message: str) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(2)


def _load_queues(path: Path) -> Mapping[str, Queue]:
    from ringway.config import load_config  # heavy, and optional for this command

    try:
        config = load_config(path)
    except (OSError, ValueError) as exc:  # ConfigError is a ValueError naming file:line
        _fail(f"cannot load config {path}: {exc}")
    return {queue.name: queue for queue in config.queues}


@report_app.command("intervals")
def intervals(
    from_: Annotated[
        str, typer.Option("--from", help="Start: ISO-8601 (no zone = UTC) or epoch seconds.")
    ],
    to: Annotated[str, typer.Option("--to", help="End (exclusive), same formats.")],
    interval: Annotated[str, typer.Option(help="Interval length: 15m, 30m, 1h, 900s.")] = "15m",
    # A str, not a Path: Path() would fold the "//" of a postgresql:// URL.
    events: Annotated[
        str, typer.Option(help="The event log: a SQLite file or a postgresql:// URL.")
    ] = "var/events.sqlite3",
    config: Annotated[
        Path | None, typer.Option(help="Service YAML: per-queue SLA thresholds (else 20 s).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON document.")] = False,
    as_csv: Annotated[bool, typer.Option("--csv", help="CSV with a header line.")] = False,
) -> None:
    """Per-queue interval statistics, contacts counted in the interval they were queued."""
    if as_json and as_csv:
        _fail("--json and --csv are exclusive")
    try:
        start, end, interval_s = parse_time(from_), parse_time(to), parse_interval(interval)
    except ValueError as exc:
        _fail(str(exc))
    if start >= end:
        _fail(f"--from ({iso_utc(start)}) must be before --to ({iso_utc(end)})")
    if not is_postgres_url(events) and not Path(events).is_file():
        _fail(f"event log {events} not found")
    queues = _load_queues(config) if config is not None else None
    rows = _read_report(events, start, end, interval_s, queues)
    if as_json:
        document = {"from": iso_utc(start), "to": iso_utc(end), "interval_s": interval_s}
        typer.echo(json.dumps({**document, "rows": rows_to_json(rows)}))
    elif as_csv:
        typer.echo(rows_to_csv(rows), nl=False)
    else:
        _print_table(rows)


def _open_log(location: str) -> SQLiteEventLog | PostgresEventLog:
    from ringway.eventlog import SQLiteEventLog

    if not is_postgres_url(location):
        return SQLiteEventLog(location)
    from ringway.eventlog_pg import EventLogError, PostgresEventLog  # only when asked for

    try:
        return PostgresEventLog(location)
    except EventLogError as exc:
        _fail(str(exc))


def _read_report(
    location: str, start: float, end: float, interval_s: float, queues: Mapping[str, Queue] | None
) -> list[IntervalRow]:
    with (
        _open_log(location) as log,
        contextlib.closing(log.between(start, end + LOOKAHEAD_S)) as events,
    ):
        # closing(): the report stops reading early; end the stream before the log.
        return interval_report(events, start=start, end=end, interval_s=interval_s, queues=queues)


def _print_table(rows: list[IntervalRow]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="Interval report: contacts counted in the interval they were queued")
    table.add_column("interval (UTC)")
    table.add_column("queue")
    for header in ("offered", "answered", "abandoned", "in SL", "SL", "SL abn-aware"):
        table.add_column(header, justify="right")
    for header in ("ASA", "AHT", "avg abandon"):
        table.add_column(header, justify="right")
    for row in rows:
        table.add_row(
            iso_utc(row.interval_start).replace("T", " ").removesuffix("Z"),
            row.queue,
            *(str(n) for n in (row.offered, row.answered, row.abandoned)),
            str(row.answered_within_threshold),
            _pct(row.service_level),
            _pct(row.service_level_abandon_aware),
            *(_secs(v) for v in (row.asa, row.aht, row.avg_abandon_wait)),
        )
    console = Console()
    if not console.is_terminal:  # piped or redirected: no 80-column squeeze
        console = Console(width=160)
    console.print(table)


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def _secs(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}s"
