"""What only the PostgreSQL store has: a migration ledger, an advisory lock, a pool on one loop.

A real server (`ensure_postgres`), a fresh database per test.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import asyncpg
import pytest

from crm.demo import demo_customers, seed
from crm.errors import CrmError, StoreClosed
from crm.model import Customer, Interaction
from crm.postgres import PostgresCustomerStore
from crm.postgres_schema import MIGRATION_LOCK_KEY, MIGRATIONS, migrate, schema_version
from ringway.pgsupport import ensure_postgres, temporary_database


@pytest.fixture(scope="module")
def pg_admin() -> str:
    return ensure_postgres()


@pytest.fixture
def dsn(pg_admin: str) -> Iterator[str]:
    with temporary_database(pg_admin, "crm_pg") as url:
        yield url


async def _ledger(dsn: str) -> list[tuple[str, int]]:
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch("SELECT component, version FROM schema_migrations ORDER BY 1, 2")
        return [(r["component"], r["version"]) for r in rows]
    finally:
        await conn.close()


def test_open_migrates_and_records_the_version(dsn: str) -> None:
    async def main() -> tuple[list[tuple[str, int]], set[str]]:
        store = await PostgresCustomerStore.open(dsn)
        await store.close()
        await (await PostgresCustomerStore.open(dsn)).close()  # a re-run of 1 would fail
        conn = await asyncpg.connect(dsn)
        try:
            names = {r[0] for r in await conn.fetch("SELECT relname FROM pg_class")}
        finally:
            await conn.close()
        return await _ledger(dsn), names

    ledger, names = asyncio.run(main())
    assert ledger == [("crm", n) for n in range(1, len(MIGRATIONS) + 1)]
    assert {"customers", "interactions", "schema_migrations"} <= names
    assert {"customers_by_phone", "customers_by_email", "interactions_by_customer_at"} <= names


def test_nodes_starting_together_migrate_once(dsn: str) -> None:
    async def main() -> list[tuple[str, int]]:
        stores = await asyncio.gather(*(PostgresCustomerStore.open(dsn) for _ in range(6)))
        await asyncio.gather(*(s.close() for s in stores))
        return await _ledger(dsn)

    assert asyncio.run(main()) == [("crm", n) for n in range(1, len(MIGRATIONS) + 1)]


def test_migration_waits_for_the_advisory_lock(dsn: str) -> None:
    async def main() -> None:
        holder = await asyncpg.connect(dsn)
        try:
            async with holder.transaction():
                await holder.execute("SELECT pg_advisory_xact_lock($1)", MIGRATION_LOCK_KEY)
                opening = asyncio.create_task(PostgresCustomerStore.open(dsn))
                await asyncio.sleep(0.3)
                assert not opening.done()  # queued behind the other "node"
                assert await schema_version(holder) == 0
            store = await asyncio.wait_for(opening, 10)
            await store.close()
        finally:
            await holder.close()

    asyncio.run(main())


def test_a_failing_migration_leaves_nothing_behind(dsn: str) -> None:
    steps = ["CREATE TABLE first_step (x int)", "CREATE TABLE broken (x no_such_type)"]

    async def main() -> tuple[int, bool]:
        conn = await asyncpg.connect(dsn)
        try:
            with pytest.raises(asyncpg.UndefinedObjectError):
                await migrate(conn, "probe", steps)
            created = await conn.fetchval("SELECT to_regclass('first_step') IS NOT NULL")
            return await schema_version(conn, "probe"), created
        finally:
            await conn.close()

    assert asyncio.run(main()) == (0, False)


def test_a_newer_schema_is_refused(dsn: str) -> None:
    async def main() -> None:
        await (await PostgresCustomerStore.open(dsn)).close()
        conn = await asyncpg.connect(dsn)
        try:
            await conn.execute("INSERT INTO schema_migrations VALUES ('crm', 99)")
        finally:
            await conn.close()
        with pytest.raises(CrmError, match="crm schema version 99 is newer"):
            await PostgresCustomerStore.open(dsn)

    asyncio.run(main())


def test_data_survives_close_and_reopen(dsn: str) -> None:
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

    async def main() -> None:
        first = await PostgresCustomerStore.open(dsn)
        await seed(first)
        await first.add_interaction(visit)
        await first.close()
        second = await PostgresCustomerStore.open(dsn)
        try:
            assert await second.list() == sorted(demo_customers(), key=lambda c: c.id)
            assert await second.history("cust-1001") == [visit]
            assert await seed(second) == 0
        finally:
            await second.close()

    asyncio.run(main())


def test_ids_sort_by_code_point_like_the_other_stores(dsn: str) -> None:
    ids = ["b", "B", "a", "_x", "Z", "é", "a-1", "a1", "A"]

    async def main() -> list[str]:
        store = await PostgresCustomerStore.open(dsn)
        try:
            for cid in ids:
                await store.create(Customer(id=cid, name=cid, phones=("+447700900001",)))
            by_phone = [c.id for c in await store.find_by_phone("+447700900001")]
            assert by_phone == sorted(ids)
            return [c.id for c in await store.list()]
        finally:
            await store.close()

    # A linguistic collation would say a < A < b < B; the memory store says A < B < Z < _ < a.
    assert asyncio.run(main()) == sorted(ids)


def test_first_calls_may_race_and_share_one_pool(dsn: str) -> None:
    async def main() -> None:
        store = PostgresCustomerStore(dsn, max_size=3)  # lazily opened, as the app does
        try:
            found = await asyncio.gather(*(store.get(f"c{n}") for n in range(20)))
            assert found == [None] * 20
            pool = store._pool
            assert pool is not None and pool.get_max_size() == 3
        finally:
            await store.close()

    asyncio.run(main())


def test_a_second_event_loop_is_told_the_store_is_bound(dsn: str) -> None:
    store = PostgresCustomerStore(dsn)
    with asyncio.Runner() as first:
        assert first.run(store.get("nobody")) is None
        with pytest.raises(RuntimeError, match="bound to the event loop that opened it"):
            asyncio.run(store.get("nobody"))
        with pytest.raises(RuntimeError, match="bound"):
            asyncio.run(store.close())
        first.run(store.close())  # on its own loop it closes as usual
    with pytest.raises(StoreClosed):
        asyncio.run(store.get("nobody"))


def test_close_lets_calls_in_flight_finish(dsn: str) -> None:
    async def main() -> None:
        store = await PostgresCustomerStore.open(dsn)
        await store.create(Customer(id="c1", name="One"))
        reading = asyncio.create_task(store.list())
        await asyncio.sleep(0)  # the read has its connection
        await store.close()
        assert [c.id for c in await reading] == ["c1"]
        with pytest.raises(StoreClosed):
            await store.find_by_phone("anonymous")  # even a lookup that needs no query

    asyncio.run(main())


def test_an_unusable_database_fails_open_and_leaks_nothing(pg_admin: str) -> None:
    from ringway.pgsupport import with_database

    missing = with_database(pg_admin, "ringway_no_such_database")
    with pytest.raises(asyncpg.InvalidCatalogNameError):
        asyncio.run(PostgresCustomerStore.open(missing))
