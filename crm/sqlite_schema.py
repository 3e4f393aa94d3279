"""SQLite connection setup and schema migrations for `SQLiteCustomerStore`.

The schema version lives in ``PRAGMA user_version``: migration *n* (1-based) is
``MIGRATIONS[n - 1]``. Pending migrations are applied in one transaction, so a
database is never left half-migrated, and a second process opening the same
file concurrently waits for the lock and then finds nothing left to do.
Never edit a released migration: append a new one.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

from crm.errors import CrmError

MIGRATIONS: list[str] = [
    # 1: customers with their lookup indexes and interaction history.
    """
    CREATE TABLE customers (
        id              TEXT PRIMARY KEY,
        name            TEXT NOT NULL,
        phones          TEXT NOT NULL DEFAULT '[]',  -- JSON array, E.164, in record order
        emails          TEXT NOT NULL DEFAULT '[]',  -- JSON array, lower-cased
        tier            TEXT,
        account_manager TEXT,
        backup_agent    TEXT,
        language        TEXT,
        preferences     TEXT NOT NULL DEFAULT '{}',  -- JSON object of strings
        consents        TEXT NOT NULL DEFAULT '[]',  -- JSON array of consent objects
        segment         TEXT
    );
    -- The record keeps its phones/e-mails; these tables exist only to answer
    -- "who holds this number/address" through an index.
    CREATE TABLE customer_phones (
        e164        TEXT NOT NULL,
        customer_id TEXT NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
        PRIMARY KEY (customer_id, e164)
    );
    CREATE INDEX customer_phones_by_e164 ON customer_phones (e164);
    CREATE TABLE customer_emails (
        address     TEXT NOT NULL,
        customer_id TEXT NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
        PRIMARY KEY (customer_id, address)
    );
    CREATE INDEX customer_emails_by_address ON customer_emails (address);
    CREATE TABLE interactions (
        id          TEXT PRIMARY KEY,
        customer_id TEXT NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
        at          TEXT NOT NULL,     -- ISO-8601 as the caller gave it
        at_us       INTEGER NOT NULL,  -- the same instant in epoch microseconds, for ordering
        channel     TEXT NOT NULL,
        direction   TEXT NOT NULL,
        contact_id  TEXT,
        agent_id    TEXT,
        queue       TEXT,
        disposition TEXT,
        notes       TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX interactions_by_customer_at ON interactions (customer_id, at_us);
    """,
]


def schema_version(conn: sqlite3.Connection) -> int:
    version: int = conn.execute("PRAGMA user_version").fetchone()[0]
    return version


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[None]:
    """BEGIN IMMEDIATE ... COMMIT, rolled back on any error.

    IMMEDIATE takes the write lock up front, so the existence checks a write
    makes cannot be invalidated by another process before it writes.
    """
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def _statements(script: str) -> Iterator[str]:
    # executescript() would commit our transaction first, so split and execute one by one.
    pending = ""
    for line in script.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            yield pending.strip()
            pending = ""
    if pending.strip():
        raise ValueError(f"incomplete SQL statement in migration: {pending.strip()[:60]!r}")


def migrate(conn: sqlite3.Connection) -> int:
    """Bring the schema up to date; returns the resulting version."""
    target = len(MIGRATIONS)
    with transaction(conn):
        # Read inside the write lock: a concurrent opener may have migrated already.
        current = schema_version(conn)
        if current > target:
            raise CrmError(f"database schema version {current} is newer than this code ({target})")
        for number in range(current + 1, target + 1):
            for statement in _statements(MIGRATIONS[number - 1]):
                conn.execute(statement)
        if current != target:
            conn.execute(f"PRAGMA user_version = {target:d}")
    return target


def connect(path: str) -> sqlite3.Connection:
    """Open, configure and migrate a connection. Call it on the thread that will use it."""
    # isolation_level=None: no implicit transactions; `transaction` issues them explicitly.
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        # WAL lets readers (reports, a second process) proceed while we write;
        # synchronous=NORMAL is durable across application crashes in WAL mode.
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA busy_timeout = 5000")
        migrate(conn)
    except BaseException:
        conn.close()
        raise
    return conn
