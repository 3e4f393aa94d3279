"""PostgreSQL schema migrations: the CRM's tables, and the runner the event log shares.

A component ("crm", "eventlog") owns a list of migrations; migration *n*
(1-based) is ``migrations[n - 1]``. `migrate` records each applied version in
``schema_migrations (component, version, applied_at)`` and applies what is
pending in ONE transaction that first takes a transaction-scoped advisory lock:
two nodes starting together queue on the lock, and the second then finds
nothing left to do. A failed migration rolls back whole, its ledger rows and
the lock with it. Never edit a released migration: append a new one.

The runner lives here rather than in ``ringway`` because imports point down
and crm is the lowest layer that talks to PostgreSQL; `ringway.eventlog_pg`
uses it for the event log's table.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, TypeAlias

import asyncpg

from crm.errors import CrmError

if TYPE_CHECKING:
    from asyncpg.pool import PoolConnectionProxy

    # A connection of its own or one borrowed from a pool: migrations take either.
    AnyConnection: TypeAlias = asyncpg.Connection | PoolConnectionProxy

# Arbitrary but fixed ("ringway" in ASCII): every Ringway process must use the same key.
MIGRATION_LOCK_KEY = 0x72696E67776179
COMPONENT = "crm"

_LEDGER = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    component  text        NOT NULL,
    version    integer     NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (component, version)
)
"""

MIGRATIONS: list[str] = [
    # 1: customers, with phones/e-mails as arrays under GIN indexes (``phones @> ARRAY[$1]``
    #    answers "who holds this number" without side tables), and interaction history.
    """
    CREATE TABLE customers (
        id              text  PRIMARY KEY,
        name            text  NOT NULL,
        phones          text[] NOT NULL DEFAULT '{}',  -- E.164, in record order
        emails          text[] NOT NULL DEFAULT '{}',  -- lower-cased
        tier            text,
        account_manager text,
        backup_agent    text,
        language        text,
        preferences     jsonb NOT NULL DEFAULT '{}',   -- object of strings
        consents        jsonb NOT NULL DEFAULT '[]',   -- array of consent objects
        segment         text
    );
    CREATE INDEX customers_by_phone ON customers USING gin (phones);
    CREATE INDEX customers_by_email ON customers USING gin (emails);
    CREATE TABLE interactions (
        id          text   PRIMARY KEY,
        -- Arrival order breaks ties between equal instants, as SQLite's rowid does.
        arrival     bigint GENERATED ALWAYS AS IDENTITY,
        customer_id text   NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
        at          text   NOT NULL,  -- ISO-8601 as the caller gave it
        at_us       bigint NOT NULL,  -- the same instant in epoch microseconds, for ordering
        channel     text   NOT NULL,
        direction   text   NOT NULL,
        contact_id  text,
        agent_id    text,
        queue       text,
        disposition text,
        notes       text   NOT NULL DEFAULT ''
    );
    CREATE INDEX interactions_by_customer_at ON interactions (customer_id, at_us, arrival);
    """,
]


async def schema_version(conn: AnyConnection, component: str = COMPONENT) -> int:
    """The component's applied version; 0 for a database it never touched."""
    exists = await conn.fetchval("SELECT to_regclass('schema_migrations') IS NOT NULL")
    if not exists:
        return 0
    version: int = await conn.fetchval(
        "SELECT COALESCE(MAX(version), 0) FROM schema_migrations WHERE component = $1", component
    )
    return version


async def migrate(
    conn: AnyConnection,
    component: str = COMPONENT,
    migrations: Sequence[str] = MIGRATIONS,
    *,
    too_new: Callable[[str], Exception] = CrmError,
) -> int:
    """Bring ``component`` up to date; returns the resulting version.

    Raises ``too_new(message)`` if the database is ahead of this code.
    """
    target = len(migrations)
    async with conn.transaction():
        # Lock first: even the ledger's CREATE IF NOT EXISTS races without it.
        await conn.execute("SELECT pg_advisory_xact_lock($1)", MIGRATION_LOCK_KEY)
        await conn.execute(_LEDGER)
        current = await schema_version(conn, component)
        if current > target:
            raise too_new(
                f"{component} schema version {current} is newer than this code ({target});"
                " upgrade Ringway"
            )
        for number in range(current + 1, target + 1):
            # No arguments: the simple query protocol, so one migration may hold many statements.
            await conn.execute(migrations[number - 1])
            await conn.execute(
                "INSERT INTO schema_migrations (component, version) VALUES ($1, $2)",
                component,
                number,
            )
    return target
