"""The asyncio driver without HTTP: lifecycle, persistence, fan-out, lookup, history."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from crm.demo import seed
from crm.memory import MemoryCustomerStore
from crm.model import Customer
from ringway.app import build
from ringway.bus import Subscription
from ringway.config import ConfigError
from ringway.eventlog import SQLiteEventLog
from ringway.service import NewContact, RoutingService
from router.events import ContactQueued, Event
from router.model import Channel

if TYPE_CHECKING:
    from conftest import ConfigFactory

GOLD_CLI = "+442079460958"


async def started(config_factory: ConfigFactory, **options: object) -> RoutingService:
    store = MemoryCustomerStore()
    await seed(store)
    service = RoutingService(config_factory(**options), store)
    await service.start()
    return service


def test_stop_is_prompt_whenever_it_lands_after_a_wake_up(make_config: ConfigFactory) -> None:
    # Stop must not hang whatever the timer was doing. The hang this guards against (3.11's
    # asyncio.wait_for swallowing a cancel) was caught by the wrap-up-extend timer test.
    async def main() -> None:
        for turns in range(4):
            service = await started(make_config)
            router = service.router
            service.execute("login", lambda now, r=router: r.login("alice", now, ready=True))
            await service.create_contact(NewContact(channel=Channel.VOICE))  # rings: a deadline
            await asyncio.sleep(0.01)  # the timer now sleeps towards that deadline
            service.execute("login", lambda now, r=router: r.login("bob", now))  # wakes it
            for _ in range(turns):
                await asyncio.sleep(0)
            async with asyncio.timeout(2):
                await service.stop()
            assert service._hot.timer is None

    asyncio.run(main())


def test_events_are_persisted_and_a_restart_continues_the_sequence(
    make_config: ConfigFactory, tmp_path: Path
) -> None:
    async def main() -> tuple[list[Event], list[Event]]:
        first = await started(make_config)
        first.execute("login", lambda now: first.router.login("alice", now, ready=True))
        await first.create_contact(NewContact(channel=Channel.VOICE, origin=GOLD_CLI))
        mine = first.router.store.events.read(0, 100)
        await first.stop()
        second = await started(make_config)
        later = second.execute("login", lambda now: second.router.login("bob", now))
        await second.stop()
        return mine, later

    mine, later = asyncio.run(main())
    with SQLiteEventLog(tmp_path / "events.sqlite3") as log:
        stored = log.read(0, 100)
    assert [e.to_dict() for e in stored[: len(mine)]] == [e.to_dict() for e in mine]
    assert [e.seq for e in later] == [mine[-1].seq + 1]
    assert stored[-1].seq == later[-1].seq


def test_a_slow_subscriber_is_dropped_without_holding_up_routing(
    make_config: ConfigFactory,
) -> None:
    async def main() -> None:
        service = await started(make_config)
        slow = service.subscribe(limit=3)
        fast = service.subscribe(limit=1000)
        for index in range(5):
            await service.create_contact(
                NewContact(channel=Channel.VOICE, origin=None, id=f"c{index}")
            )
        assert len(service.router.waiting("support")) == 5  # routing went on
        assert slow.closed and "slow consumer" in (slow.reason or "")
        assert [e.seq for e in [e async for e in _drain(slow)]] == [1, 2, 3]
        got = [e async for e in _drain(fast)]
        assert [e.contact_id for e in got if isinstance(e, ContactQueued)] == [
            f"c{i}" for i in range(5)
        ]
        assert not fast.closed
        await service.stop()
        assert fast.reason == "service stopping"

    asyncio.run(main())


async def _drain(subscription: Subscription) -> AsyncIterator[Event]:
    """What the subscription holds right now (its ``async for`` would wait for more)."""
    while subscription.pending():
        yield await subscription.__anext__()


def test_subscribing_after_a_seq_replays_the_backlog_first(make_config: ConfigFactory) -> None:
    async def main() -> None:
        service = await started(make_config)
        service.execute("login", lambda now: service.router.login("alice", now, ready=True))
        seen = service.router.store.events.last_seq
        service.execute("login", lambda now: service.router.login("bob", now, ready=True))
        replay = service.subscribe(after_seq=seen)
        service.execute("not_ready", lambda now: service.router.set_not_ready("bob", "lunch", now))
        events = [await replay.__anext__() for _ in range(replay.pending())]
        assert [e.seq for e in events] == list(range(seen + 1, events[-1].seq + 1))
        assert getattr(events[-1], "reason", None) == "lunch"
        service.unsubscribe(replay)
        assert replay.closed and replay.reason == "unsubscribed"
        await service.stop()

    asyncio.run(main())


class SlowStore(MemoryCustomerStore):
    async def find_by_phone(self, e164: str) -> list[Customer]:
        await asyncio.sleep(5)
        return []


def test_a_slow_crm_does_not_hold_a_call_past_the_lookup_time_box(
    make_config: ConfigFactory,
) -> None:
    async def main() -> None:
        config = make_config()
        service = RoutingService(config, SlowStore())
        await service.start()
        loop = asyncio.get_running_loop()
        began = loop.time()
        contact = await service.create_contact(NewContact(channel=Channel.VOICE, origin=GOLD_CLI))
        assert loop.time() - began < 3  # the box is 2 s in the test config
        assert contact.attributes["pop"]["status"] == "timeout"
        assert contact.queue == "support" and contact.customer_id is None
        await service.stop()

    asyncio.run(main())


def test_history_survives_a_customer_deleted_mid_call(
    make_config: ConfigFactory, caplog: pytest.LogCaptureFixture
) -> None:
    async def main() -> None:
        service = await started(make_config)
        router = service.router
        service.execute("login", lambda now: router.login("alice", now, ready=True))
        contact = await service.create_contact(NewContact(channel=Channel.VOICE, origin=GOLD_CLI))
        service.execute("accept", lambda now: router.accept("alice", contact.id, now))
        await service.customers.delete("cust-1001")
        events = await service.complete("alice", contact.id, disposition="x", notes="")
        assert events[0].kind == "contact_completed"
        assert router.agent("alice").state.value == "ready"
        await service.stop()

    with caplog.at_level(logging.WARNING, logger="ringway.service"):
        asyncio.run(main())
    assert "no customer with id 'cust-1001'" in caplog.text


def test_sqlite_customer_store_is_created_seeded_and_closed(make_config: ConfigFactory) -> None:
    config = make_config(customer_store="sqlite:///{data_dir}/crm/customers.sqlite3")
    bundle = build(config, {})

    async def main() -> None:
        async with bundle.app.router.lifespan_context(bundle.app):
            found = await bundle.service.customers.find_by_phone(GOLD_CLI)
            assert [c.id for c in found] == ["cust-1001"]

    asyncio.run(main())
    assert (config.data_dir / "crm" / "customers.sqlite3").is_file()


def test_an_unknown_customer_store_url_is_a_config_error(make_config: ConfigFactory) -> None:
    with pytest.raises(ConfigError, match=r"service\.customer_store.*expected sqlite:///"):
        build(make_config(customer_store="postgres://crm"), {})
