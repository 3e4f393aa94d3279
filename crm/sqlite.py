"""`CustomerStore` on the stdlib ``sqlite3``, kept off the event loop.

All database work runs on one dedicated worker thread that owns the only
connection: sqlite3 connections must not hop threads, a single writer never
contends with itself, and ``":memory:"`` (which exists per connection) works
like a file. The coroutines only hand closures to that thread and await them,
so a slow disk stalls CRM lookups, never routing.
"""

from __future__ import annotations

import asyncio
import builtins
import json
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import fields
from pathlib import Path
from typing import Any, TypeVar

from crm.errors import CustomerNotFound, DuplicateCustomer, DuplicateInteraction, StoreClosed
from crm.model import Consent, Customer, Interaction, Tier, instant_key
from crm.phone import normalize_email, normalize_phone
from crm.sqlite_schema import connect, transaction
from crm.store import CustomerStore, check_page
from crm.validate import validate_customer, validate_interaction

T = TypeVar("T")

_CUSTOMER_COLUMNS = (
    "c.id, c.name, c.phones, c.emails, c.tier, c.account_manager, c.backup_agent,"
    " c.language, c.preferences, c.consents, c.segment"
)
_SELECT_CUSTOMERS = f"SELECT {_CUSTOMER_COLUMNS} FROM customers c"
# The interactions table names its columns after the dataclass fields.
_INTERACTION_FIELDS = tuple(f.name for f in fields(Interaction))
_INTERACTION_COLUMNS = ", ".join(_INTERACTION_FIELDS)


def _customer_from_row(row: tuple[Any, ...]) -> Customer:
    (cid, name, phones, emails, tier, manager, backup, language, prefs, consents, segment) = row
    return Customer(
        id=cid,
        name=name,
        phones=tuple(json.loads(phones)),
        emails=tuple(json.loads(emails)),
        tier=Tier(tier) if tier is not None else None,
        account_manager=manager,
        backup_agent=backup,
        language=language,
        preferences=json.loads(prefs),
        consents=tuple(Consent.from_dict(c) for c in json.loads(consents)),
        segment=segment,
    )


def _customer_params(c: Customer) -> tuple[Any, ...]:
    return (
        c.name,
        json.dumps(list(c.phones)),
        json.dumps(list(c.emails)),
        c.tier.value if c.tier is not None else None,
        c.account_manager,
        c.backup_agent,
        c.language,
        json.dumps(c.preferences),
        json.dumps([consent.to_dict() for consent in c.consents]),
        c.segment,
        c.id,
    )


def _exists(conn: sqlite3.Connection, table: str, key: str) -> bool:
    return conn.execute(f"SELECT 1 FROM {table} WHERE id = ?", (key,)).fetchone() is not None


def _write_indexes(conn: sqlite3.Connection, c: Customer) -> None:
    conn.execute("DELETE FROM customer_phones WHERE customer_id = ?", (c.id,))
    conn.execute("DELETE FROM customer_emails WHERE customer_id = ?", (c.id,))
    conn.executemany(
        "INSERT INTO customer_phones (e164, customer_id) VALUES (?, ?)",
        [(p, c.id) for p in c.phones],
    )
    conn.executemany(
        "INSERT INTO customer_emails (address, customer_id) VALUES (?, ?)",
        [(e, c.id) for e in c.emails],
    )


def _insert_customer(conn: sqlite3.Connection, c: Customer) -> None:
    with transaction(conn):
        if _exists(conn, "customers", c.id):
            raise DuplicateCustomer(c.id)
        conn.execute(
            "INSERT INTO customers (name, phones, emails, tier, account_manager, backup_agent,"
            " language, preferences, consents, segment, id) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            _customer_params(c),
        )
        _write_indexes(conn, c)


def _update_customer(conn: sqlite3.Connection, c: Customer) -> None:
    with transaction(conn):
        if not _exists(conn, "customers", c.id):
            raise CustomerNotFound(c.id)
        conn.execute(
            "UPDATE customers SET name = ?, phones = ?, emails = ?, tier = ?,"
            " account_manager = ?, backup_agent = ?, language = ?, preferences = ?,"
            " consents = ?, segment = ? WHERE id = ?",
            _customer_params(c),
        )
        _write_indexes(conn, c)


def _insert_interaction(conn: sqlite3.Connection, i: Interaction) -> None:
    with transaction(conn):
        if not _exists(conn, "customers", i.customer_id):
            raise CustomerNotFound(i.customer_id)
        if _exists(conn, "interactions", i.id):
            raise DuplicateInteraction(i.id)
        conn.execute(
            f"INSERT INTO interactions ({_INTERACTION_COLUMNS}, at_us)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            (*_interaction_values(i), instant_key(i.at)),
        )


def _interaction_values(i: Interaction) -> tuple[Any, ...]:
    return tuple(getattr(i, name) for name in _INTERACTION_FIELDS)


def _select_customers(conn: sqlite3.Connection, sql: str, *params: Any) -> list[Customer]:
    return [_customer_from_row(row) for row in conn.execute(sql, params).fetchall()]


def _select_history(conn: sqlite3.Connection, customer_id: str, limit: int) -> list[Interaction]:
    rows = conn.execute(
        f"SELECT {_INTERACTION_COLUMNS} FROM interactions WHERE customer_id = ?"
        " ORDER BY at_us DESC, rowid DESC LIMIT ?",  # rowid: arrival order breaks ties
        (customer_id, limit),
    ).fetchall()
    return [Interaction(**dict(zip(_INTERACTION_FIELDS, row, strict=True))) for row in rows]


def _delete_customer(conn: sqlite3.Connection, customer_id: str) -> bool:
    # Phones, e-mails and interactions go with it through ON DELETE CASCADE.
    with transaction(conn):
        return conn.execute("DELETE FROM customers WHERE id = ?", (customer_id,)).rowcount > 0


class SQLiteCustomerStore:
    def __init__(self, path: str | Path) -> None:
        self._path = str(path)
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="crm-sqlite")
        self._conn: sqlite3.Connection | None = None  # opened lazily, on the worker thread
        self._closed = False

    @classmethod
    async def open(cls, path: str | Path) -> SQLiteCustomerStore:
        """Create a store and open/migrate the database now, so errors surface here."""
        store = cls(path)
        try:
            await store._run(lambda conn: None)
        except BaseException:
            await store.close()
            raise
        return store

    async def _run(self, job: Callable[[sqlite3.Connection], T]) -> T:
        if self._closed:
            raise StoreClosed()
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self._on_worker, job)

    def _on_worker(self, job: Callable[[sqlite3.Connection], T]) -> T:
        if self._conn is None:
            self._conn = connect(self._path)
        return job(self._conn)

    async def get(self, customer_id: str) -> Customer | None:
        found = await self._run(
            lambda conn: _select_customers(conn, f"{_SELECT_CUSTOMERS} WHERE c.id = ?", customer_id)
        )
        return found[0] if found else None

    async def create(self, customer: Customer) -> Customer:
        record = validate_customer(customer)
        await self._run(lambda conn: _insert_customer(conn, record))
        return record

    async def update(self, customer: Customer) -> Customer:
        record = validate_customer(customer)
        await self._run(lambda conn: _update_customer(conn, record))
        return record

    async def delete(self, customer_id: str) -> bool:
        return await self._run(lambda conn: _delete_customer(conn, customer_id))

    async def list(self, offset: int = 0, limit: int = 100) -> builtins.list[Customer]:
        check_page(offset, limit)
        sql = f"{_SELECT_CUSTOMERS} ORDER BY c.id LIMIT ? OFFSET ?"
        return await self._run(lambda conn: _select_customers(conn, sql, limit, offset))

    async def find_by_phone(self, e164: str) -> builtins.list[Customer]:
        key = normalize_phone(e164, "ZZ")
        if key is None:
            return []
        sql = (
            f"{_SELECT_CUSTOMERS} JOIN customer_phones p ON p.customer_id = c.id"
            " WHERE p.e164 = ? ORDER BY c.id"
        )
        return await self._run(lambda conn: _select_customers(conn, sql, key))

    async def find_by_email(self, addr: str) -> builtins.list[Customer]:
        key = normalize_email(addr)
        if key is None:
            return []
        sql = (
            f"{_SELECT_CUSTOMERS} JOIN customer_emails e ON e.customer_id = c.id"
            " WHERE e.address = ? ORDER BY c.id"
        )
        return await self._run(lambda conn: _select_customers(conn, sql, key))

    async def add_interaction(self, interaction: Interaction) -> Interaction:
        record = validate_interaction(interaction)
        await self._run(lambda conn: _insert_interaction(conn, record))
        return record

    async def history(self, customer_id: str, limit: int = 20) -> builtins.list[Interaction]:
        check_page(0, limit)
        return await self._run(lambda conn: _select_history(conn, customer_id, limit))

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        loop = asyncio.get_running_loop()
        try:
            # Queued behind any jobs still in flight, so they finish on an open connection.
            await loop.run_in_executor(self._executor, self._close_on_worker)
        finally:
            self._executor.shutdown(wait=False)

    def _close_on_worker(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


def _conforms(store: SQLiteCustomerStore) -> CustomerStore:
    # Never called: makes mypy prove the class satisfies the protocol.
    return store
