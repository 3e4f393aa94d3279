"""`CustomerLookup` keeps the result of a cached answer while the store keeps the answer:
one result per record version, handed to every call of a repeat caller, and a new one
as soon as the record changes (the store's own write, another connection's commit)."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Coroutine
from contextlib import closing
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

import pytest

import crm.lookup
from crm.demo import seed
from crm.lookup import CustomerLookup, LookupStatus
from crm.sqlite import SQLiteCustomerStore

T = TypeVar("T")
MARGARET = "+442079460958"  # cust-1001


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


async def opened(path: str) -> SQLiteCustomerStore:
    store = await SQLiteCustomerStore.open(path)
    await seed(store)
    return store


def test_a_repeat_callers_result_is_built_once(tmp_path: Path) -> None:
    async def scenario() -> None:
        store = await opened(str(tmp_path / "crm.db"))
        lookup = CustomerLookup(store, "GB")
        try:
            awaited = await lookup.lookup_cli(MARGARET)  # read by the worker, then cached
            first = lookup.lookup_cli_now(MARGARET)
            again = lookup.lookup_cli_now(f"sip:{MARGARET}@trunk")
            assert first is not None and first == awaited
            assert again is first  # the kept result: nothing copied or built again
            assert first.status is LookupStatus.MATCHED
        finally:
            await store.close()

    run(scenario())


@pytest.mark.parametrize("where", ["file", "memory"])
def test_the_stores_own_write_gives_a_new_result(tmp_path: Path, where: str) -> None:
    async def scenario() -> None:
        store = await opened(str(tmp_path / "crm.db") if where == "file" else ":memory:")
        lookup = CustomerLookup(store, "GB")
        try:
            await lookup.lookup_cli(MARGARET)
            before = lookup.lookup_cli_now(MARGARET)
            assert before is not None and before.customer is not None
            assert lookup.lookup_cli_now(MARGARET) is before
            await store.update(replace(before.customer, name="Maggie Thompson"))
            after = await lookup.lookup_cli(MARGARET)  # the cache was dropped: read again
            assert after.label == "Maggie Thompson"
            now = lookup.lookup_cli_now(MARGARET)
            assert now is not None and now.label == "Maggie Thompson"
        finally:
            await store.close()

    run(scenario())


def test_another_connections_commit_gives_a_new_result(tmp_path: Path) -> None:
    path = tmp_path / "crm.db"

    async def scenario() -> None:
        store = await opened(str(path))
        lookup = CustomerLookup(store, "GB")
        try:
            assert (await lookup.lookup_cli(MARGARET)).label == "Margaret Thompson"
            assert lookup.lookup_cli_now(MARGARET) is not None
            with closing(sqlite3.connect(path)) as other, other:
                other.execute("UPDATE customers SET name = 'Peggy' WHERE id = 'cust-1001'")
            assert lookup.lookup_cli_now(MARGARET) is None  # dropped: the worker reads it
            assert (await lookup.lookup_cli(MARGARET)).label == "Peggy"
            now = lookup.lookup_cli_now(MARGARET)
            assert now is not None and now.label == "Peggy"
        finally:
            await store.close()

    run(scenario())


def test_a_result_never_reaches_the_stores_cache(tmp_path: Path) -> None:
    async def scenario() -> None:
        store = await opened(str(tmp_path / "crm.db"))
        lookup = CustomerLookup(store, "GB")
        try:
            await lookup.lookup_cli(MARGARET)
            result = lookup.lookup_cli_now(MARGARET)
            assert result is not None and result.customer is not None
            (kept,) = store.cached_phone_answer(MARGARET) or ()
            assert result.customer == kept and result.customer is not kept
            assert result.customer.preferences is not kept.preferences
            result.customer.preferences["preferred_channel"] = "carrier pigeon"
            (found,) = await store.find_by_phone(MARGARET)
            assert found.preferences["preferred_channel"] == "voice"
        finally:
            await store.close()

    run(scenario())


def test_the_kept_results_are_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(crm.lookup, "_RESULTS_KEPT", 3)

    async def scenario() -> None:
        store = await opened(str(tmp_path / "crm.db"))
        lookup = CustomerLookup(store, "GB")
        try:
            numbers = [f"+4420794609{n:02d}" for n in range(10)]
            for number in numbers:
                await lookup.lookup_cli(number)
                assert lookup.lookup_cli_now(number) is not None
            assert list(lookup._results) == numbers[-3:]  # the oldest went first
        finally:
            await store.close()

    run(scenario())
