"""``ringway dialer``: check a number, import a lead list, maintain the DNC list.

    ringway dialer check NUMBER --at ISO8601 [--campaign NAME|FILE] [--db PATH] [--json]
    ringway dialer import CSV --campaign NAME|FILE [--db PATH] [--json]
    ringway dialer dnc add NUMBER [--reason TEXT] [--db PATH] [--json]
    ringway dialer dnc import FILE [--registry us-national|uk-tps|ca-dncl] [--as-of DATE] [--db ...]

Other tools script against ``check --json``: it prints exactly
``{"allowed": true|false, "reasons": [{"check", "result", "detail", "data"}, ...]}``
with every check's result. Without ``--campaign`` it applies the US rule pack
(08:00-21:00 callee-local, state rules). ``--campaign`` takes a YAML file or a
name looked up as ``<campaigns-dir>/NAME.yaml``. The state (DNC list,
registries, attempts, leads) is the SQLite file ``--db`` (default
``$RINGWAY_DIALER_DB`` or ``var/dialer.sqlite3``); ``check`` only reads it, and
works without the default one (a named one must exist). Bad input: one
``error:`` line on stderr, exit code 2.
"""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer

from dialer.campaign import Campaign, default_campaign, load_campaign
from dialer.compliance.consent import ConsentSource, CustomerConsents
from dialer.compliance.dnc import REGISTRIES, add_internal, import_registry_file
from dialer.compliance.engine import Compliance
from dialer.compliance.numbers import to_e164
from dialer.errors import DialerError
from dialer.lists import import_leads
from dialer.store import DialerStore, MemoryDialerStore
from dialer.store_sqlite import SQLiteDialerStore

dialer_app = typer.Typer(
    help="Outbound dialer: compliance checks, lists, DNC.", no_args_is_help=True
)
dnc_app = typer.Typer(help="The do-not-call list and national registries.", no_args_is_help=True)
dialer_app.add_typer(dnc_app, name="dnc")

DbOption = Annotated[
    Path | None, typer.Option("--db", help="Dialer state (SQLite); default var/dialer.sqlite3")
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON document")]


def fail(message: str) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(2)


def emit(document: Any) -> None:
    sys.stdout.write(json.dumps(document, default=str) + "\n")


def _db_path(db: Path | None) -> Path:
    return db or Path(os.environ.get("RINGWAY_DIALER_DB", "var/dialer.sqlite3"))


@contextmanager
def _store(db: Path | None, *, create: bool) -> Iterator[DialerStore]:
    path = _db_path(db)
    named = db is not None or "RINGWAY_DIALER_DB" in os.environ
    if not create and not path.exists():
        if named:  # a mistyped path must not silently check against an empty DNC list
            fail(f"no dialer database at {path}")
        yield MemoryDialerStore()  # nothing recorded yet: an empty state, and no file created
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        store = SQLiteDialerStore(path)
    except (OSError, DialerError, sqlite3.Error) as exc:  # not a database, locked, newer
        fail(f"cannot open {path}: {exc}")
    try:
        yield store
    finally:
        store.close()


def _campaign(spec: str | None, campaigns_dir: Path) -> Campaign:
    if spec is None:
        return default_campaign("US")
    candidates = [Path(spec), campaigns_dir / f"{spec}.yaml", campaigns_dir / f"{spec}.yml"]
    found = next((p for p in candidates if p.is_file()), None)
    if found is None:
        fail(f"unknown campaign {spec!r}: no such file, nor {campaigns_dir}/{spec}.yaml")
    try:
        return load_campaign(found)
    except DialerError as exc:
        fail(str(exc))


def _instant(text: str) -> datetime:
    try:
        at = datetime.fromisoformat(text.strip())
    except ValueError:
        fail(f"--at {text!r} is not an ISO-8601 time (e.g. 2026-01-15T19:30:00-05:00)")
    if at.tzinfo is None:
        fail(f"--at {text!r} has no UTC offset: give Z or ±HH:MM")
    return at


def _consents(crm: Path | None, number: str) -> ConsentSource | None:
    if crm is None:
        return None
    if not crm.is_file():
        fail(f"--crm {crm}: no such customer database")
    from crm.sqlite import SQLiteCustomerStore

    async def load() -> CustomerConsents:
        store = await SQLiteCustomerStore.open(crm)
        try:
            return await CustomerConsents.load(store, [number])
        finally:
            await store.close()

    return asyncio.run(load())


@dialer_app.command("check")
def check_command(
    number: Annotated[str, typer.Argument(help="The number to call (E.164 or national)")],
    at: Annotated[str, typer.Option("--at", help="Instant of the call, ISO-8601 with offset")],
    campaign: Annotated[
        str | None, typer.Option("--campaign", help="Campaign NAME or FILE")
    ] = None,
    campaigns_dir: Annotated[Path, typer.Option("--campaigns-dir")] = Path("campaigns"),
    crm: Annotated[
        Path | None, typer.Option("--crm", help="Customer SQLite database, for consent")
    ] = None,
    guaranteed_agent: Annotated[bool, typer.Option("--guaranteed-agent")] = False,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """May NUMBER be dialled at --at? Every check's result; exit 0 either way."""
    when = _instant(at)
    chosen = _campaign(campaign, campaigns_dir)
    try:
        dial = to_e164(number, chosen.default_region)
    except DialerError as exc:
        fail(str(exc))
    with _store(db, create=False) as store:
        gate = Compliance(store, _consents(crm, dial))
        verdict = gate.check(dial, when, chosen, guaranteed_agent=guaranteed_agent)
    if as_json:
        emit(verdict.to_json())
        return
    typer.echo(f"{dial} at {when.isoformat()}: {'allowed' if verdict.allowed else 'NOT allowed'}")
    for reason in verdict.reasons:
        typer.echo(f"  {reason.result.value:<4} {reason.check}: {reason.detail}")


@dialer_app.command("import")
def import_command(
    csv_file: Annotated[Path, typer.Argument(help="Lead list (CSV with a 'phone' column)")],
    campaign: Annotated[str, typer.Option("--campaign", help="Campaign NAME or FILE")],
    campaigns_dir: Annotated[Path, typer.Option("--campaigns-dir")] = Path("campaigns"),
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Import CSV into the campaign; report every rejected row with its line and reason."""
    chosen = _campaign(campaign, campaigns_dir)
    try:
        text = csv_file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        fail(f"cannot read {csv_file}: {exc}")
    with _store(db, create=True) as store:
        try:
            report = import_leads(text, source=str(csv_file), campaign=chosen, store=store)
        except DialerError as exc:
            fail(str(exc))
    if as_json:
        emit(report.to_dict())
        return
    typer.echo(
        f"{csv_file}: {report.rows} rows, {len(report.accepted)} imported, "
        f"{len(report.rejected)} rejected"
    )
    for rejected in report.rejected:
        typer.echo(f"  {csv_file}:{rejected.line}: {rejected.reason}")


@dnc_app.command("add")
def dnc_add_command(
    number: Annotated[str, typer.Argument(help="Number to block")],
    reason: Annotated[str, typer.Option("--reason")] = "",
    source: Annotated[str, typer.Option("--source", help="Who asked: cli, agent:ID, ivr")] = "cli",
    region: Annotated[str, typer.Option("--region", help="Default region")] = "US",
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Block NUMBER on the internal DNC list, effective for the next attempt of every campaign."""
    try:
        dial = to_e164(number, region)
    except DialerError as exc:
        fail(str(exc))
    with _store(db, create=True) as store:
        entry = add_internal(store, dial, datetime.now(UTC), source, reason)
    document = {
        "number": entry.number,
        "added_at": entry.added_at.isoformat(),
        "source": entry.source,
    }
    if as_json:
        emit(document)
    else:
        typer.echo(f"{entry.number} on the DNC list since {entry.added_at.isoformat()}")


@dnc_app.command("import")
def dnc_import_command(
    file: Annotated[Path, typer.Argument(help="Registry file: one number per line")],
    registry: Annotated[
        str, typer.Option("--registry", help="us-national | uk-tps | ca-dncl")
    ] = "us-national",
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Download date (default: file date)")
    ] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Replace a national registry copy with FILE; warn when its data are older than 31 days."""
    if registry not in REGISTRIES:
        fail(f"--registry {registry!r}: expected one of {', '.join(REGISTRIES)}")
    if not file.is_file():
        fail(f"cannot read {file}: no such file")
    try:
        dated = date.fromisoformat(as_of) if as_of else _file_date(file)
    except ValueError:
        fail(f"--as-of {as_of!r} is not a date (YYYY-MM-DD)")
    region = REGISTRIES[registry]
    with _store(db, create=True) as store:
        done = import_registry_file(
            file,
            registry=registry,
            as_of=dated,
            at=datetime.now(UTC),
            store=store,
            default_region=region,
        )
    for warning in done.warnings:
        typer.echo(f"warning: {warning}", err=True)
    version = done.version
    document = {
        "registry": version.registry,
        "version": version.version,
        "as_of": version.as_of.isoformat(),
        "numbers": version.numbers,
        "sha256": version.sha256,
        "rejected": [{"line": n, "text": t, "reason": r} for n, t, r in done.rejected],
        "warnings": done.warnings,
    }
    if as_json:
        emit(document)
        return
    typer.echo(f"{file}: {version.registry} version {version.version}, {version.numbers} numbers")
    for line, _text, problem in done.rejected:
        typer.echo(f"  {file}:{line}: {problem}")


def _file_date(path: Path) -> date:
    return datetime.fromtimestamp(path.stat().st_mtime, UTC).date()
