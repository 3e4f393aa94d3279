"""The demo data set covers the cases routing demos rely on, and seeding is idempotent."""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import replace

from crm.demo import HOUSEHOLD_PHONE, demo_customers, seed
from crm.memory import MemoryCustomerStore
from crm.model import Customer, Tier
from crm.validate import validate_customer


def test_demo_customers_are_valid_and_canonical() -> None:
    customers = demo_customers()
    assert 6 <= len(customers) <= 10
    assert len({c.id for c in customers}) == len(customers)
    for customer in customers:
        assert validate_customer(customer) == customer


def test_demo_covers_tiers_regions_and_agents() -> None:
    customers = demo_customers()
    assert {c.tier for c in customers} == set(Tier)
    phones = [p for c in customers for p in c.phones]
    assert any(p.startswith("+44") for p in phones)
    assert any(p.startswith("+1") for p in phones)
    managers = {c.account_manager for c in customers} - {None}
    assert managers == {"alice", "bob"}


def test_demo_has_one_shared_household_number() -> None:
    counts = Counter(p for c in demo_customers() for p in c.phones)
    assert counts[HOUSEHOLD_PHONE] == 2
    assert [p for p, n in counts.items() if n > 1] == [HOUSEHOLD_PHONE]


def test_demo_has_a_withdrawn_marketing_consent() -> None:
    withdrawn = [c for c in demo_customers() if c.consent_for("marketing_calls") is False]
    assert [c.name for c in withdrawn] == ["Emily Carter"]
    assert withdrawn[0].consent_for("service_calls") is True
    assert withdrawn[0].consent_for("sms") is None


def test_seed_is_idempotent_and_keeps_existing_records() -> None:
    async def scenario() -> tuple[int, int, str]:
        store = MemoryCustomerStore()
        first = await seed(store)
        renamed = replace(demo_customers()[0], name="Renamed")
        await store.update(renamed)
        second = await seed(store)
        kept = await store.get(renamed.id)
        assert kept is not None
        return first, second, kept.name

    assert asyncio.run(scenario()) == (len(demo_customers()), 0, "Renamed")


def test_demo_customers_returns_fresh_objects() -> None:
    first = demo_customers()
    first[0].preferences["preferred_channel"] = "fax"
    assert demo_customers()[0].preferences["preferred_channel"] == "voice"


class RacingStore(MemoryCustomerStore):
    """Another seeder creates each customer between our get() and our create()."""

    async def get(self, customer_id: str) -> Customer | None:
        return None


def test_seed_tolerates_a_concurrent_seeder() -> None:
    async def scenario() -> tuple[int, int]:
        store = RacingStore()
        return await seed(store), await seed(store)

    assert asyncio.run(scenario()) == (len(demo_customers()), 0)
