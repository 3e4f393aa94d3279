"""SQLite schema and migrations for `SQLiteDialerStore` (the scheme of `crm.sqlite_schema`).

Migration *n* is ``MIGRATIONS[n - 1]``; the version lives in ``PRAGMA
user_version``. Never edit a released migration: append a new one.
"""

from __future__ import annotations

import sqlite3

from crm.sqlite_schema import _statements, schema_version, transaction
from dialer.errors import DialerError

MIGRATIONS: list[str] = [
    # 1: DNC, registries, attempts, proofs, leads.
    """
    CREATE TABLE dnc (
        number   TEXT PRIMARY KEY,  -- E.164
        added_at TEXT NOT NULL,
        source   TEXT NOT NULL,
        reason   TEXT NOT NULL DEFAULT ''
    );
    CREATE TABLE registry_versions (
        registry    TEXT PRIMARY KEY,  -- one current version per registry
        version     INTEGER NOT NULL,
        as_of       TEXT NOT NULL,     -- date the registry data was downloaded
        imported_at TEXT NOT NULL,
        source      TEXT NOT NULL,
        sha256      TEXT NOT NULL,
        numbers     INTEGER NOT NULL
    );
    CREATE TABLE registry_numbers (
        registry TEXT NOT NULL,
        number   TEXT NOT NULL,
        PRIMARY KEY (registry, number)
    ) WITHOUT ROWID;
    CREATE TABLE attempts (
        id               TEXT PRIMARY KEY,
        lead_id          TEXT,
        campaign         TEXT NOT NULL,
        number           TEXT NOT NULL,
        at               TEXT NOT NULL,
        at_us            INTEGER NOT NULL,
        guaranteed_agent INTEGER NOT NULL DEFAULT 0,
        outcome          TEXT,
        outcome_at       TEXT,
        outcome_us       INTEGER
    );
    CREATE INDEX attempts_by_number ON attempts (number, at_us);
    CREATE INDEX attempts_by_lead ON attempts (lead_id);
    CREATE TABLE proofs (
        id         INTEGER PRIMARY KEY AUTOINCREMENT,
        attempt_id TEXT,
        number     TEXT NOT NULL,
        at         TEXT NOT NULL,
        allowed    INTEGER NOT NULL,
        body       TEXT NOT NULL  -- the proof record as JSON
    );
    CREATE INDEX proofs_by_number ON proofs (number);
    CREATE TABLE leads (
        id       TEXT PRIMARY KEY,
        campaign TEXT NOT NULL,
        phone    TEXT NOT NULL,
        line     INTEGER NOT NULL DEFAULT 0,
        status   TEXT NOT NULL,
        next_us  INTEGER NOT NULL DEFAULT 0,  -- next-attempt time; 0 = as soon as allowed
        body     TEXT NOT NULL  -- the lead as JSON
    );
    CREATE INDEX leads_by_campaign ON leads (campaign, phone);
    CREATE INDEX leads_due ON leads (campaign, status, next_us);
    """,
]


def migrate(conn: sqlite3.Connection) -> int:
    target = len(MIGRATIONS)
    with transaction(conn):
        current = schema_version(conn)
        if current > target:
            raise DialerError(
                f"dialer database schema {current} is newer than this code ({target})"
            )
        for number in range(current + 1, target + 1):
            for statement in _statements(MIGRATIONS[number - 1]):
                conn.execute(statement)
        if current != target:
            conn.execute(f"PRAGMA user_version = {target:d}")
    return target


def connect(path: str) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA busy_timeout = 5000")
        migrate(conn)
    except BaseException:
        conn.close()
        raise
    return conn
