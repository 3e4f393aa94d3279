"""The Redis store: records round-trip, restore decides as before, writes are fenced.

The write-behind `MirrorStore` plus `Records` is the Redis implementation of the
routing store: a router that ran over it, written to Redis and read back by
another node, must make the very same decisions as the original (the same
contract `tests/router/test_router_restore.py` holds the memory store to).
"""

from __future__ import annotations

import asyncio
import copy
import random
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import pytest
from cluster_testkit import RedisServer, redis_server
from redis.asyncio import Redis

from ringway.cluster import codec
from ringway.cluster.errors import Fenced
from ringway.cluster.keys import Keys
from ringway.cluster.lease import Lease
from ringway.cluster.mirror import MirrorStore
from ringway.cluster.records import Extras, Records
from router.agents import Action, Agent, Pending
from router.capacity import capacity_from
from router.engine import Router
from router.events import Event
from router.model import Channel, Contact
from router.queues import Queue
from router.restore import restore
from router.skills import parse

QUEUES = [
    Queue(name="sales", channel=Channel.VOICE, requirement=parse("sales>=3"),
          offer_timeout_s=10, wrap_up_s=5),
    Queue(name="support", channel=Channel.VOICE, requirement=parse("support"),
          offer_timeout_s=10, wrap_up_s=5),
]  # fmt: skip
KEYS = Keys("t1")
Scenario = Callable[[Redis], Awaitable[None]]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    with redis_server(Path(tmp_path_factory.mktemp("redis"))) as running:
        yield running


@pytest.fixture
def run(server: RedisServer) -> Callable[[Scenario], None]:
    def go(scenario: Scenario) -> None:
        async def main() -> None:
            client = Redis.from_url(server.url)
            try:
                await client.flushall()
                await scenario(client)
            finally:
                await client.aclose()

        asyncio.run(main())

    return go


def busy_centre(store: MirrorStore) -> Router:
    """One contact ringing, one connected, one wrapping up, two waiting."""
    router = Router(QUEUES, rng=random.Random(7), store=store)
    for agent_id, skills in (("amy", {"sales": 5}), ("bob", {"sales": 4, "support": 2}),
                             ("cat", {"support": 3})):  # fmt: skip
        router.add_agent(Agent(id=agent_id, name=agent_id, skills=skills), 0.0)
        router.login(agent_id, 0.0, ready=True)
    for cid, queue, at in (("c1", "sales", 1.0), ("c2", "sales", 2.0), ("c3", "support", 3.0)):
        router.contact_arrived(
            Contact(id=cid, channel=Channel.VOICE, queue=queue, created_at=at), at
        )
    router.accept("bob", "c2", 2.5)
    router.accept("cat", "c3", 3.5)
    router.end("c3", 4.0)
    for cid, queue, at in (("c4", "sales", 5.0), ("c5", "support", 6.0)):
        router.contact_arrived(
            Contact(id=cid, channel=Channel.VOICE, queue=queue, created_at=at, tier="gold"), at
        )
    return router


async def write_all(redis: Redis, store: MirrorStore, lease: Lease, batch: int = 1) -> bool:
    records = Records(redis, KEYS, keep_events=10_000, keep_finished=100)
    return await records.write(lease.token, batch, store.take(), Extras())


def test_records_read_back_from_redis_restore_a_router_that_decides_like_the_original(
    run: Callable[[Scenario], None],
) -> None:
    async def scenario(redis: Redis) -> None:
        lease = Lease(redis, KEYS, "n1", 5000)
        assert await lease.acquire()
        store = MirrorStore(first_seq=0, keep_finished=100)
        original = busy_centre(store)
        assert await write_all(redis, store, lease)
        loaded = await Records(redis, KEYS, keep_events=10_000, keep_finished=100).load()
        assert loaded.seq == store.events.last_seq
        twin_store = MirrorStore(first_seq=loaded.seq or 0, keep_finished=100)
        twin_store.load(loaded.contacts, loaded.agents, loaded.reservations)
        twin, repairs = restore(QUEUES, rng=copy.deepcopy(original.rng), store=twin_store)
        assert repairs == []
        assert original.next_deadline() == twin.next_deadline() == 9.0
        script: list[Callable[[Router], list[Event]]] = [
            lambda r: r.tick(9.0),  # cat's wrap-up ends: takes c5
            lambda r: r.tick(11.0),  # amy's offer times out: RONA, c1 back in place
            lambda r: r.complete("bob", "c2", 12.0, disposition="sale"),  # bob takes gold c4
            lambda r: r.set_ready("amy", 13.0),  # amy takes c1
        ]
        for step in script:
            first, second = step(original), step(twin)
            assert [e.to_dict() for e in first] == [e.to_dict() for e in second]
        assert twin.contact("c4").agent_id == "bob" and twin.contact("c1").agent_id == "amy"

    run(scenario)


def test_every_record_field_survives_the_json_codec() -> None:
    store = MirrorStore(first_seq=0, keep_finished=100)
    router = busy_centre(store)
    for contact in store.contacts():
        assert codec.contact_from(codec.contact_json(contact)) == contact
    assert any(c.decisions for c in store.contacts())
    for reservation in store.reservations():
        assert codec.reservation_from(codec.reservation_json(reservation)) == reservation
    agent = router.agent("cat")
    agent.pending = Pending(action=Action.NOT_READY, reason="lunch")
    agent.capacity = capacity_from({"voice": 1, "chat": 3}, {"chat": 0.5}, 2.0, ["voice"])
    for each in store.agents():
        assert codec.agent_from(codec.agent_json(each)) == each
    assert router.agent("cat").wrapping == {"c3"}
    events = store.events.read(0, 1000)
    assert {e.kind for e in events} >= {"contact_offered", "offer_accepted", "contact_ended"}
    decoded = codec.events_from(codec.events_json(events))
    assert [e.to_dict() for e in decoded] == [e.to_dict() for e in events]
    assert [type(e) for e in decoded] == [type(e) for e in events]


def test_a_leader_whose_lease_was_taken_over_is_fenced_off_and_changes_nothing(
    run: Callable[[Scenario], None],
) -> None:
    async def scenario(redis: Redis) -> None:
        old, new = Lease(redis, KEYS, "old", 5000), Lease(redis, KEYS, "new", 5000)
        assert await old.acquire() and old.token == 1
        assert not await new.acquire(), "the lease is held"
        store = MirrorStore(first_seq=0, keep_finished=100)
        router = busy_centre(store)
        assert await write_all(redis, store, old)
        before = await redis.hgetall(KEYS.contacts), await redis.get(KEYS.seq)
        await redis.delete(KEYS.lease)  # as if the old leader paused past its lease
        assert await new.acquire() and new.token == 2
        router.tick(11.0)  # the paused leader wakes up and routes on ...
        with pytest.raises(Fenced):
            await write_all(redis, store, old, batch=2)  # ... but cannot write
        assert not await old.renew()
        assert (await redis.hgetall(KEYS.contacts), await redis.get(KEYS.seq)) == before

    run(scenario)


def test_a_batch_retried_after_a_lost_reply_is_written_once(
    run: Callable[[Scenario], None],
) -> None:
    async def scenario(redis: Redis) -> None:
        lease = Lease(redis, KEYS, "n1", 5000)
        assert await lease.acquire()
        store = MirrorStore(first_seq=0, keep_finished=100)
        busy_centre(store)
        records = Records(redis, KEYS, keep_events=10_000, keep_finished=100)
        changes = store.take()
        assert await records.write(lease.token, 1, changes, Extras())
        assert not await records.write(lease.token, 1, changes, Extras())  # DUP, no effect
        assert await redis.xlen(KEYS.events) == 1
        assert await redis.get(KEYS.seq) == str(changes.seq_after).encode()

    run(scenario)


def test_a_batch_that_does_not_follow_the_stored_seq_is_refused_before_any_write(
    run: Callable[[Scenario], None],
) -> None:
    async def scenario(redis: Redis) -> None:
        lease = Lease(redis, KEYS, "n1", 5000)
        assert await lease.acquire()
        await redis.set(KEYS.seq, 99)
        store = MirrorStore(first_seq=0, keep_finished=100)
        busy_centre(store)
        with pytest.raises(Exception, match="SEQ"):
            await write_all(redis, store, lease)
        assert await redis.hlen(KEYS.contacts) == 0 and await redis.xlen(KEYS.events) == 0

    run(scenario)


def test_finished_contacts_are_kept_newest_first_up_to_the_limit(
    run: Callable[[Scenario], None],
) -> None:
    async def scenario(redis: Redis) -> None:
        lease = Lease(redis, KEYS, "n1", 5000)
        assert await lease.acquire()
        store = MirrorStore(first_seq=0, keep_finished=3)
        router = Router(QUEUES[1:], rng=random.Random(1), store=store)
        records = Records(redis, KEYS, keep_events=10_000, keep_finished=3)
        for i in range(6):
            contact = Contact(id=f"c{i}", channel=Channel.VOICE, queue="support", created_at=i)
            router.contact_arrived(contact, float(i))
            router.cancel(f"c{i}", float(i))
            assert await records.write(lease.token, i + 1, store.take(), Extras())
        assert sorted(await redis.hkeys(KEYS.finished)) == [b"c3", b"c4", b"c5"]
        assert await redis.hlen(KEYS.contacts) == 0

    run(scenario)
