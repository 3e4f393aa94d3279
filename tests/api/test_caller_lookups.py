"""The B2BUA's lookup reused for the call's contact, only when it would give the
same answer as a fresh lookup (definitive, fresh, same call and CLI)."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import pytest

from crm.demo import seed
from crm.lookup import LookupResult, LookupStatus
from crm.memory import MemoryCustomerStore
from crm.model import Customer
from ringway.caller_lookups import CallerLookups
from ringway.service import NewContact, RoutingService
from router.model import Channel

if TYPE_CHECKING:
    from conftest import ConfigFactory

GOLD_CLI = "+442079460958"


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def unknown(cli: str) -> LookupResult:
    return LookupResult(status=LookupStatus.UNKNOWN, normalized=cli)


def test_a_kept_result_is_claimed_once_for_the_same_call_and_cli() -> None:
    lookups = CallerLookups()
    result = unknown(GOLD_CLI)
    lookups.keep("call-1", GOLD_CLI, result)
    assert lookups.claim("call-1", "+15550000000") is None  # another CLI: look up
    lookups.keep("call-1", GOLD_CLI, result)
    assert lookups.claim("call-1", GOLD_CLI) is result
    assert lookups.claim("call-1", GOLD_CLI) is None and len(lookups) == 0


@pytest.mark.parametrize("status", [LookupStatus.TIMEOUT, LookupStatus.ERROR])
def test_a_failed_lookup_is_not_kept(status: LookupStatus) -> None:
    lookups = CallerLookups()
    lookups.keep("call-1", GOLD_CLI, LookupResult(status=status))
    assert lookups.claim("call-1", GOLD_CLI) is None


def test_a_stale_result_is_looked_up_again() -> None:
    clock = Clock()
    lookups = CallerLookups(max_age_s=10, clock=clock)
    lookups.keep("call-1", GOLD_CLI, unknown(GOLD_CLI))
    clock.now += 10.5  # a minute in the IVR's menus would be longer still
    assert lookups.claim("call-1", GOLD_CLI) is None


def test_capacity_drops_the_oldest_and_forget_drops_one() -> None:
    lookups = CallerLookups(capacity=2)
    for call in ("a", "b", "c"):
        lookups.keep(call, GOLD_CLI, unknown(GOLD_CLI))
    assert lookups.claim("a", GOLD_CLI) is None and len(lookups) == 2
    lookups.forget("b")
    assert lookups.claim("b", GOLD_CLI) is None and lookups.claim("c", GOLD_CLI) is not None


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="capacity"):
        CallerLookups(capacity=0)


class CountingStore(MemoryCustomerStore):
    def __init__(self) -> None:
        super().__init__()
        self.phone_queries = 0

    async def find_by_phone(self, e164: str) -> list[Customer]:
        self.phone_queries += 1
        return await super().find_by_phone(e164)


def test_the_service_uses_a_given_lookup_and_still_counts_it(make_config: ConfigFactory) -> None:
    async def main() -> None:
        store = CountingStore()
        await seed(store)
        service = RoutingService(make_config(), store)
        await service.start()
        first = await service.lookup.lookup_cli(GOLD_CLI)  # what the B2BUA does at INVITE
        assert store.phone_queries == 1 and first.customer is not None
        given = await service.create_contact(
            NewContact(channel=Channel.VOICE, origin=GOLD_CLI, lookup=first)
        )
        assert store.phone_queries == 1  # no second round trip
        fresh = await service.create_contact(NewContact(channel=Channel.VOICE, origin=GOLD_CLI))
        assert store.phone_queries == 2
        # the same contact either way: customer, tier, pop
        assert given.customer_id == fresh.customer_id == first.customer.id
        assert given.attributes["pop"] == fresh.attributes["pop"]
        matched = service.metrics.registry.get_sample_value(
            "ringway_customer_lookups_total", {"status": "matched"}
        )
        assert matched == 2  # one per contact, as before (the benchmark's lookups_matched)
        await service.stop()

    asyncio.run(main())
