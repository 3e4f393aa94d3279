"""The SQLite store's phone cache: an answer from memory is the answer a read would give.

Every write of the store, and every commit by another connection (another process,
the sqlite3 shell), is seen by the next lookup; answers are copies; a cached answer
needs neither the worker thread nor the lookup's time box.
"""

from __future__ import annotations

import asyncio
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from dataclasses import fields, replace
from pathlib import Path
from typing import Any

import pytest
from crm_kit import MARGARET, opened, run

import crm.lookup
import crm.sqlite
from crm.demo import HOUSEHOLD_PHONE, seed
from crm.lookup import CustomerLookup, LookupStatus
from crm.model import Consent, Customer, Tier
from crm.sqlite import SQLiteCustomerStore, _copy


class RefusingExecutor(ThreadPoolExecutor):
    """The store's worker thread, refusing every job: a read that reaches it fails."""

    def submit(self, *args: Any, **kwargs: Any) -> Any:
        raise AssertionError("went to the worker thread")


def no_worker(store: SQLiteCustomerStore) -> ThreadPoolExecutor:
    """From here on a read that reaches the worker thread fails the test; returns the
    store's own executor, to put back before it closes."""
    own = store._executor
    store._executor = RefusingExecutor(max_workers=1)
    return own


class BrokenCache(SQLiteCustomerStore):
    """A store whose cache has a bug."""

    def cached_phone_answer(self, e164: str) -> tuple[Customer, ...] | None:
        raise RuntimeError("a bug in the cache")


def test_copy_keeps_every_field() -> None:
    # a distinct value per field: a field the copy forgot would come back as its default
    # (of the field's type: compiled, `_copy` checks what it reads)
    values: dict[str, Any] = {f.name: f"v-{f.name}" for f in fields(Customer)}
    values |= {"phones": ("+441632960001",), "emails": ("ann@example.com",)}
    values |= {"tier": Tier.GOLD, "preferences": {"k": "v"}}
    values["consents"] = (Consent(purpose="sms", granted=True, at="2024-01-01"),)
    original = Customer(**values)
    copied = _copy(original)
    assert copied == original
    assert copied.preferences is not original.preferences


@pytest.mark.parametrize("where", ["file", "memory"])
def test_a_cached_answer_is_the_same_and_needs_no_worker(tmp_path: Path, where: str) -> None:
    async def scenario() -> None:
        store = await opened(str(tmp_path / "crm.db") if where == "file" else ":memory:")
        try:
            first = await store.find_by_phone(MARGARET)
            household = await store.find_by_phone(HOUSEHOLD_PHONE)
            nobody = await store.find_by_phone("+442079460999")
            own = no_worker(store)
            assert await store.find_by_phone(MARGARET) == first
            assert await store.find_by_phone(HOUSEHOLD_PHONE) == household
            assert len(household) == 2
            assert await store.find_by_phone("+442079460999") == nobody == []
            assert store.cached_by_phone(MARGARET) == first
        finally:
            if isinstance(store._executor, RefusingExecutor):
                store._executor = own
            await store.close()

    run(scenario())


def test_answers_are_copies(tmp_path: Path) -> None:
    async def scenario() -> None:
        store = await opened(str(tmp_path / "crm.db"))
        try:
            (first,) = await store.find_by_phone(MARGARET)
            first.preferences["preferred_channel"] = "carrier pigeon"
            (again,) = await store.find_by_phone(MARGARET)
            assert again.preferences["preferred_channel"] == "voice"
            again.preferences.clear()
            (third,) = await store.find_by_phone(MARGARET)
            assert third.preferences["preferred_channel"] == "voice"
        finally:
            await store.close()

    run(scenario())


@pytest.mark.parametrize("where", ["file", "memory"])
def test_the_stores_own_writes_are_seen_by_the_next_lookup(tmp_path: Path, where: str) -> None:
    async def scenario() -> None:
        store = await opened(str(tmp_path / "crm.db") if where == "file" else ":memory:")
        try:
            (margaret,) = await store.find_by_phone(MARGARET)
            await store.update(replace(margaret, name="Maggie Thompson"))
            assert [c.name for c in await store.find_by_phone(MARGARET)] == ["Maggie Thompson"]
            assert await store.find_by_phone("+442079460999") == []
            await store.create(Customer(id="cust-new", name="New", phones=("+442079460999",)))
            assert [c.id for c in await store.find_by_phone("+442079460999")] == ["cust-new"]
            assert await store.delete("cust-new")
            assert await store.find_by_phone("+442079460999") == []
        finally:
            await store.close()

    run(scenario())


def test_another_connections_commit_is_seen_by_the_next_lookup(tmp_path: Path) -> None:
    path = tmp_path / "crm.db"

    async def scenario() -> None:
        store = await opened(str(path))
        try:
            assert [c.name for c in await store.find_by_phone(MARGARET)] == ["Margaret Thompson"]
            # another process: its own connection, its own commit
            with closing(sqlite3.connect(path)) as other, other:
                other.execute("UPDATE customers SET name = 'Peggy' WHERE id = 'cust-1001'")
            assert [c.name for c in await store.find_by_phone(MARGARET)] == ["Peggy"]
            with closing(sqlite3.connect(path)) as other, other:
                other.execute("DELETE FROM customer_phones WHERE e164 = ?", (MARGARET,))
            assert store.cached_by_phone(MARGARET) is None  # dropped: read again
            assert await store.find_by_phone(MARGARET) == []
        finally:
            await store.close()

    run(scenario())


def test_an_answer_read_across_a_write_is_not_kept() -> None:
    async def scenario() -> None:
        # :memory: has no data_version check: only the generation stops a stale answer
        store = await opened(":memory:")
        try:
            margaret = await store.get("cust-1001")
            assert margaret is not None
            # the read is queued on the worker before the write, so it reads the old name
            read = asyncio.ensure_future(store.find_by_phone(MARGARET))
            await asyncio.sleep(0)
            await store.update(replace(margaret, name="Maggie"))
            assert [c.name for c in await read] == ["Margaret Thompson"]
            assert [c.name for c in await store.find_by_phone(MARGARET)] == ["Maggie"]
        finally:
            await store.close()

    run(scenario())


def test_a_busy_or_failed_check_asks_the_worker(tmp_path: Path) -> None:
    class Broken:
        def execute(self, *args: Any) -> Any:
            raise sqlite3.OperationalError("database is locked")

        def close(self) -> None:
            pass

    async def scenario() -> None:
        store = await opened(str(tmp_path / "crm.db"))
        try:
            await store.find_by_phone(MARGARET)
            store._versions = Broken()  # type: ignore[assignment]
            # a commit elsewhere: the WAL index changed, so the check must ask SQLite
            with closing(sqlite3.connect(tmp_path / "crm.db")) as other, other:
                other.execute("UPDATE customers SET segment = 'x' WHERE id = 'cust-1008'")
            assert store.cached_by_phone(MARGARET) is None
            assert [c.id for c in await store.find_by_phone(MARGARET)] == ["cust-1001"]
        finally:
            await store.close()

    run(scenario())


def test_the_cache_is_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(crm.sqlite, "_PHONE_CACHE_SIZE", 3)

    async def scenario() -> None:
        store = await opened(str(tmp_path / "crm.db"))
        try:
            numbers = [f"+4420794609{n:02d}" for n in range(10)]
            for number in numbers:
                await store.find_by_phone(number)
            assert list(store._by_phone) == numbers[-3:]  # the oldest went first
        finally:
            await store.close()

    run(scenario())


def test_a_closed_store_still_refuses_lookups(tmp_path: Path) -> None:
    async def scenario() -> LookupStatus:
        store = await opened(str(tmp_path / "crm.db"))
        lookup = CustomerLookup(store, "GB")
        assert (await lookup.lookup_cli(MARGARET)).status is LookupStatus.MATCHED
        await store.close()
        assert store.cached_by_phone(MARGARET) is None
        return (await lookup.lookup_cli(MARGARET)).status

    assert run(scenario()) is LookupStatus.ERROR


def test_a_cached_lookup_skips_the_time_box(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def scenario() -> None:
        store = await opened(str(tmp_path / "crm.db"))
        try:
            lookup = CustomerLookup(store, "GB")
            first = await lookup.lookup_cli("020 7946 0958")  # read: time-boxed

            async def no_box(*args: Any, **kwargs: Any) -> Any:
                raise AssertionError("time-boxed a cached answer")

            monkeypatch.setattr(asyncio, "wait_for", no_box)  # crm.lookup's asyncio
            again = await lookup.lookup_cli("020 7946 0958")
            monkeypatch.undo()
            assert again == first
            assert again.status is LookupStatus.MATCHED
            assert again.to_pop() == first.to_pop()
        finally:
            await store.close()

    run(scenario())


def test_a_failing_cache_falls_back_to_the_time_boxed_lookup(tmp_path: Path) -> None:
    async def scenario() -> None:
        store = await BrokenCache.open(str(tmp_path / "crm.db"))
        await seed(store)
        try:
            result = await CustomerLookup(store, "GB").lookup_cli(MARGARET)
            assert result.status is LookupStatus.MATCHED  # answered by find_by_phone
        finally:
            await store.close()

    run(scenario())
