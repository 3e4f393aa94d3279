"""`CustomerLookup` keeps the result of a cached answer while the store keeps the answer:
one result per record version, handed to every call of a repeat caller, and a new one
as soon as the record changes (the store's own write, another connection's commit)."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from dataclasses import replace
from pathlib import Path

import pytest
from crm_kit import MARGARET, opened, run

import crm.lookup
from crm.demo import HOUSEHOLD_PHONE
from crm.lookup import CustomerLookup, LookupStatus


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
    monkeypatch.setattr(crm.lookup, "_SHARED_POPS", {})  # without the other tests' pops

    async def scenario() -> None:
        store = await opened(str(tmp_path / "crm.db"))
        lookup = CustomerLookup(store, "GB")
        try:
            numbers = [f"+4420794609{n:02d}" for n in range(10)]
            for number in numbers:
                await lookup.lookup_cli(number)
                assert lookup.lookup_cli_now(number) is not None
            assert list(lookup._results) == numbers[-3:]  # the oldest went first
            kept = {id(result) for _, result in lookup._results.values()}
            assert set(crm.lookup._SHARED_POPS) == kept  # and their pops with them
            # another lookup's results push the oldest pops out: never more than the bound
            other = CustomerLookup(store, "GB")
            assert other.lookup_cli_now(numbers[0]) is not None  # the store's answer
            assert len(crm.lookup._SHARED_POPS) == 3
        finally:
            await store.close()

    run(scenario())


def test_a_kept_results_pop_is_built_once_and_each_contact_gets_its_own(tmp_path: Path) -> None:
    async def scenario() -> None:
        store = await opened(str(tmp_path / "crm.db"))
        lookup = CustomerLookup(store, "GB")
        try:
            awaited = await lookup.lookup_cli(MARGARET)
            result = lookup.lookup_cli_now(MARGARET)
            assert result is not None and result.customer is not None
            first, second = result.to_pop(), result.to_pop()
            assert first == second == result._new_pop() == awaited.to_pop()
            assert first is not second  # a key set on one contact's pop reaches no other
            first["label"] = "changed"
            assert second["label"] == "Margaret Thompson"
            assert first["candidates"] is second["candidates"]  # built once: shared
            # the set-up's record of the caller is the pop's, the customer's to_dict
            assert result.customer_dict() == result.customer.to_dict()
            assert result.customer_dict() is second["candidates"][0]
            # a result nobody keeps builds its own, every time
            assert awaited.to_pop()["candidates"] is not awaited.to_pop()["candidates"]
            assert awaited.customer_dict() is not awaited.customer_dict()
        finally:
            await store.close()

    run(scenario())


def test_a_changed_record_drops_the_old_pop(tmp_path: Path) -> None:
    async def scenario() -> None:
        store = await opened(str(tmp_path / "crm.db"))
        lookup = CustomerLookup(store, "GB")
        try:
            await lookup.lookup_cli(MARGARET)
            before = lookup.lookup_cli_now(MARGARET)
            assert before is not None and before.customer is not None
            assert id(before) in crm.lookup._SHARED_POPS
            await store.update(replace(before.customer, name="Maggie Thompson"))
            await lookup.lookup_cli(MARGARET)
            after = lookup.lookup_cli_now(MARGARET)
            assert after is not None and after is not before
            assert after.to_pop()["label"] == "Maggie Thompson"
            assert (after.customer_dict() or {})["name"] == "Maggie Thompson"
            assert id(before) not in crm.lookup._SHARED_POPS
            assert before.to_pop()["label"] == "Margaret Thompson"  # built afresh
        finally:
            await store.close()

    run(scenario())


def test_shared_and_unknown_numbers_have_no_customer_record(tmp_path: Path) -> None:
    async def scenario() -> None:
        store = await opened(str(tmp_path / "crm.db"))
        lookup = CustomerLookup(store, "GB")
        try:
            for number, status in ((HOUSEHOLD_PHONE, LookupStatus.MULTIPLE),
                                   ("+442079460999", LookupStatus.UNKNOWN)):  # fmt: skip
                await lookup.lookup_cli(number)
                result = lookup.lookup_cli_now(number)
                assert result is not None and result.status is status
                assert result.customer_dict() is None
                assert result.to_pop() == result._new_pop()
        finally:
            await store.close()

    run(scenario())
