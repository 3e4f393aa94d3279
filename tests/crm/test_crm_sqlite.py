"""What only the SQLite store has: a file that outlives it, a schema version, WAL, a thread."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Coroutine
from contextlib import closing
from pathlib import Path
from typing import Any, TypeVar

import pytest

from crm.demo import demo_customers, seed
from crm.errors import CrmError
from crm.model import Interaction
from crm.sqlite import SQLiteCustomerStore
from crm.sqlite_schema import MIGRATIONS

T = TypeVar("T")


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


def _pragma(path: Path, name: str) -> Any:
    with closing(sqlite3.connect(path)) as conn:
        return conn.execute(f"PRAGMA {name}").fetchone()[0]


def test_data_survives_close_and_reopen(tmp_path: Path) -> None:
    path = tmp_path / "crm.db"
    first = run(SQLiteCustomerStore.open(path))
    run(seed(first))
    visit = Interaction(
        id="i1",
        customer_id="cust-1001",
        at="2024-05-01T10:00:00Z",
        channel="voice",
        direction="inbound",
        contact_id="k-42",
        agent_id="alice",
        queue="premier",
        disposition="resolved",
        notes="asked about statement",
    )
    run(first.add_interaction(visit))
    run(first.close())

    second = run(SQLiteCustomerStore.open(str(path)))
    try:
        assert run(second.list()) == sorted(demo_customers(), key=lambda c: c.id)
        assert run(second.history("cust-1001")) == [visit]
        assert run(seed(second)) == 0
    finally:
        run(second.close())


def test_migrations_set_user_version_and_build_indexes(tmp_path: Path) -> None:
    path = tmp_path / "crm.db"
    run(run(SQLiteCustomerStore.open(path)).close())
    assert _pragma(path, "user_version") == len(MIGRATIONS) >= 1
    with closing(sqlite3.connect(path)) as conn:
        names = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
    assert {"customers", "customer_phones", "customer_emails", "interactions"} <= names
    assert {"customer_phones_by_e164", "customer_emails_by_address"} <= names
    assert "interactions_by_customer_at" in names


def test_reopening_a_current_database_does_not_migrate_again(tmp_path: Path) -> None:
    path = tmp_path / "crm.db"
    for _ in range(2):  # a re-run of migration 1 would fail on CREATE TABLE
        run(run(SQLiteCustomerStore.open(path)).close())
    assert _pragma(path, "user_version") == len(MIGRATIONS)


def test_file_database_uses_wal(tmp_path: Path) -> None:
    path = tmp_path / "crm.db"
    run(run(SQLiteCustomerStore.open(path)).close())
    assert _pragma(path, "journal_mode") == "wal"


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "crm.db"
    with closing(sqlite3.connect(path)) as conn:
        conn.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
    with pytest.raises(CrmError, match="newer"):
        run(SQLiteCustomerStore.open(path))
    assert _pragma(path, "user_version") == len(MIGRATIONS) + 1


def test_memory_databases_are_private_to_each_store() -> None:
    async def scenario() -> tuple[int, int]:
        a = await SQLiteCustomerStore.open(":memory:")
        b = await SQLiteCustomerStore.open(":memory:")
        try:
            await seed(a)
            return len(await a.list()), len(await b.list())
        finally:
            await a.close()
            await b.close()

    assert run(scenario()) == (len(demo_customers()), 0)


def test_database_work_runs_off_the_event_loop_thread() -> None:
    async def scenario() -> tuple[int, int]:
        store = await SQLiteCustomerStore.open(":memory:")
        try:
            worker = await store._run(lambda conn: threading.get_ident())
            return worker, threading.get_ident()
        finally:
            await store.close()

    worker, loop_thread = run(scenario())
    assert worker != loop_thread
