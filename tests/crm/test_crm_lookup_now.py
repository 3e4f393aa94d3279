"""`CustomerLookup.lookup_cli_now`: the answer without waiting when no I/O is needed.

The SIP set-up answers a call at once when the caller's number is in the store's
phone cache (or is no number at all); otherwise it must await `lookup_cli`. Either
way the result is the one `lookup_cli` gives.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from crm.demo import seed
from crm.lookup import CustomerLookup, LookupStatus
from crm.memory import MemoryCustomerStore
from crm.sqlite import SQLiteCustomerStore

MARGARET = "+442079460958"  # cust-1001


def test_a_cold_number_waits_then_a_warm_one_answers_now(tmp_path: Path) -> None:
    async def scenario() -> None:
        store = await SQLiteCustomerStore.open(str(tmp_path / "crm.db"))
        await seed(store)
        lookup = CustomerLookup(store, default_region="GB")
        try:
            assert lookup.lookup_cli_now(f"sip:{MARGARET}@trunk") is None  # not read yet
            awaited = await lookup.lookup_cli(f"sip:{MARGARET}@trunk")
            now = lookup.lookup_cli_now(f"sip:{MARGARET}@trunk")
            assert now is not None and now == awaited
            assert now.status is LookupStatus.MATCHED and now.customer is not None
            assert now.customer.id == "cust-1001"
            unknown = await lookup.lookup_cli("sip:+442079460999@trunk")
            assert lookup.lookup_cli_now("sip:+442079460999@trunk") == unknown
            assert unknown.status is LookupStatus.UNKNOWN
        finally:
            await store.close()

    asyncio.run(scenario())


def test_no_number_is_invalid_at_once() -> None:
    lookup = CustomerLookup(MemoryCustomerStore(), default_region="GB")
    result = lookup.lookup_cli_now("sip:anonymous@anonymous.invalid")
    assert result is not None and result.status is LookupStatus.INVALID
    assert lookup.lookup_cli_now(None) == result


def test_a_store_without_a_cache_always_waits() -> None:
    lookup = CustomerLookup(MemoryCustomerStore(), default_region="GB")
    assert lookup.lookup_cli_now(f"sip:{MARGARET}@trunk") is None
