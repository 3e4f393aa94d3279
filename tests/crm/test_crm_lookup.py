"""The time-boxed caller lookup: every status, and that none of them raises or stalls."""

from __future__ import annotations

import asyncio
import builtins
import logging
import time
from collections.abc import Coroutine
from typing import Any, TypeVar

import pytest

from crm.demo import HOUSEHOLD_PHONE, seed
from crm.lookup import UNKNOWN_LABEL, CustomerLookup, LookupResult, LookupStatus
from crm.memory import MemoryCustomerStore
from crm.model import Customer, Tier
from crm.sqlite import SQLiteCustomerStore

T = TypeVar("T")


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


def seeded() -> MemoryCustomerStore:
    store = MemoryCustomerStore()
    run(seed(store))
    return store


class SlowStore(MemoryCustomerStore):
    """Stands in for a CRM that has stopped answering promptly."""

    async def find_by_phone(self, e164: str) -> builtins.list[Customer]:
        await asyncio.sleep(5)
        return await super().find_by_phone(e164)


class BrokenStore(MemoryCustomerStore):
    async def find_by_phone(self, e164: str) -> builtins.list[Customer]:
        raise RuntimeError("connection reset by CRM")

    async def find_by_email(self, addr: str) -> builtins.list[Customer]:
        raise OSError("disk on fire")


class RecordingStore(MemoryCustomerStore):
    def __init__(self) -> None:
        super().__init__()
        self.asked: list[str] = []

    async def find_by_phone(self, e164: str) -> builtins.list[Customer]:
        self.asked.append(e164)
        return await super().find_by_phone(e164)

    async def find_by_email(self, addr: str) -> builtins.list[Customer]:
        self.asked.append(addr)
        return await super().find_by_email(addr)


@pytest.mark.parametrize(
    ("raw", "region"),
    [
        ("sip:+442079460958@trunk.example;user=phone", "US"),
        ('"Margaret" <sip:+442079460958@trunk.example>', "US"),
        ("020 7946 0958", "GB"),
        ("tel:+44-20-7946-0958", "US"),
    ],
)
def test_single_match(raw: str, region: str) -> None:
    result = run(CustomerLookup(seeded(), default_region=region).lookup_cli(raw))
    assert result.status is LookupStatus.MATCHED
    assert result.normalized == "+442079460958"
    assert result.customer is not None
    assert result.customer.id == "cust-1001"
    assert result.tier is Tier.GOLD
    pop = result.to_pop()
    assert pop["status"] == "matched"
    assert pop["label"] == "Margaret Thompson"
    assert pop["customer_id"] == "cust-1001"
    assert pop["tier"] == "gold"
    assert [c["id"] for c in pop["candidates"]] == ["cust-1001"]


def test_shared_number_is_multiple_with_no_tier() -> None:
    result = run(CustomerLookup(seeded()).lookup_cli(HOUSEHOLD_PHONE))
    assert result.status is LookupStatus.MULTIPLE
    assert [c.id for c in result.candidates] == ["cust-1003", "cust-1004"]
    assert result.customer is None
    assert result.tier is None  # gold and bronze share it: no guessing
    pop = result.to_pop()
    assert pop["tier"] is None
    assert pop["customer_id"] is None
    assert pop["label"] == "2 possible customers"
    assert [c["name"] for c in pop["candidates"]] == ["Priya Shah", "Arjun Shah"]


def test_valid_number_nobody_holds_is_unknown() -> None:
    result = run(CustomerLookup(seeded()).lookup_cli("+1 202 555 0199"))
    assert result.status is LookupStatus.UNKNOWN
    assert result.normalized == "+12025550199"
    assert result.candidates == ()
    assert result.to_pop() == {
        "status": "unknown",
        "normalized": "+12025550199",
        "label": UNKNOWN_LABEL,
        "customer_id": None,
        "tier": None,
        "candidates": [],
    }


@pytest.mark.parametrize("raw", [None, "", "anonymous", "sip:anonymous@anonymous.invalid", "12"])
def test_withheld_or_invalid_cli_never_reaches_the_store(raw: str | None) -> None:
    store = RecordingStore()
    result = run(CustomerLookup(store).lookup_cli(raw))
    assert result.status is LookupStatus.INVALID
    assert result.normalized is None
    assert store.asked == []
    assert result.to_pop()["label"] == UNKNOWN_LABEL


def test_slow_store_times_out_instead_of_stalling() -> None:
    lookup = CustomerLookup(SlowStore(), timeout_s=0.05)
    started = time.monotonic()
    result = run(lookup.lookup_cli("+442079460958"))
    assert time.monotonic() - started < 1.0
    assert result.status is LookupStatus.TIMEOUT
    assert result.normalized == "+442079460958"
    assert result.candidates == ()
    assert result.to_pop()["label"] == UNKNOWN_LABEL


def test_store_exception_is_error_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    lookup = CustomerLookup(BrokenStore())
    with caplog.at_level(logging.ERROR, logger="crm.lookup"):
        phone = run(lookup.lookup_cli("+442079460958"))
        email = run(lookup.lookup_email("someone@example.com"))
    assert phone.status is LookupStatus.ERROR
    assert email.status is LookupStatus.ERROR
    assert phone.candidates == email.candidates == ()
    messages = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert len(messages) == 2
    assert caplog.records[0].exc_info is not None


def test_email_lookup() -> None:
    lookup = CustomerLookup(seeded())
    result = run(lookup.lookup_email("Priya <PRIYA.SHAH@Example.org>"))
    assert result.status is LookupStatus.MATCHED
    assert result.normalized == "priya.shah@example.org"
    assert result.customer is not None
    assert result.customer.name == "Priya Shah"
    assert run(lookup.lookup_email("stranger@example.org")).status is LookupStatus.UNKNOWN


def test_invalid_email_never_reaches_the_store() -> None:
    store = RecordingStore()
    assert run(CustomerLookup(store).lookup_email("not an address")).status is LookupStatus.INVALID
    assert store.asked == []


def test_lookup_against_sqlite_store() -> None:
    async def scenario() -> LookupResult:
        store = await SQLiteCustomerStore.open(":memory:")
        try:
            await seed(store)
            return await CustomerLookup(store).lookup_cli("+1 (202) 555-0147")
        finally:
            await store.close()

    result = run(scenario())
    assert result.status is LookupStatus.MATCHED
    assert result.customer is not None
    assert result.customer.account_manager == "bob"


@pytest.mark.parametrize("timeout_s", [0, -1.0])
def test_timeout_must_be_positive(timeout_s: float) -> None:
    with pytest.raises(ValueError, match="timeout_s"):
        CustomerLookup(MemoryCustomerStore(), timeout_s=timeout_s)
