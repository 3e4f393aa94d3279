"""A follower's replica reads what the leader's router reads: the same wallboard on every node.

The replica is loaded from the very records a router wrote (as Redis holds them,
through the JSON codec), then refreshed record by record from a real Redis as
events name them; its answers must equal the router's.
"""

from __future__ import annotations

import asyncio
import random
from pathlib import Path

import pytest
from cluster_testkit import redis_server
from redis.asyncio import Redis

from ringway.cluster import codec
from ringway.cluster.keys import Keys
from ringway.cluster.lease import Lease
from ringway.cluster.mirror import MirrorStore
from ringway.cluster.records import Extras, Loaded, Records
from ringway.cluster.replica import Replica
from router.agents import Agent
from router.engine import Router
from router.errors import UnknownAgent, UnknownContact
from router.model import Channel, Contact
from router.queues import Queue, RelaxationStep
from router.skills import parse

QUEUES = [
    Queue(name="sales", channel=Channel.VOICE, requirement=parse("sales>=3"),
          offer_timeout_s=10, wrap_up_s=5,
          relaxation=(RelaxationStep(after_s=30.0, requirement=parse("sales>=1")),)),
    Queue(name="support", channel=Channel.VOICE, requirement=parse("support"),
          offer_timeout_s=10, wrap_up_s=5),
]  # fmt: skip


def busy_centre(store: MirrorStore) -> Router:
    router = Router(QUEUES, rng=random.Random(3), store=store)
    skills = {"amy": {"sales": 5}, "bob": {"sales": 2, "support": 2}, "cat": {"support": 3},
              "dan": {"sales": 1}}  # fmt: skip
    for agent_id, agent_skills in skills.items():
        router.add_agent(Agent(id=agent_id, name=agent_id, skills=agent_skills), 0.0)
    for agent_id in ("amy", "bob", "cat"):
        router.login(agent_id, 0.0, ready=True)
    for i, queue in enumerate(["sales", "sales", "support", "sales", "support", "sales"]):
        contact = Contact(id=f"c{i}", channel=Channel.VOICE, queue=queue, created_at=float(i))
        router.contact_arrived(contact, float(i))
    first = in_status(router, "offered")[0]
    router.accept(first.agent_id or "", first.id, 6.5)
    return router


def in_status(router: Router, status: str) -> list[Contact]:
    return sorted(
        (c for c in router.live_contacts() if c.status.value == status), key=lambda c: c.id
    )


def through_codec(store: MirrorStore) -> Loaded:
    return Loaded(
        seq=store.events.last_seq,
        command_cursor="0-0",
        contacts=[codec.contact_from(codec.contact_json(c)) for c in store.contacts()],
        agents=[codec.agent_from(codec.agent_json(a)) for a in store.agents()],
        reservations=[
            codec.reservation_from(codec.reservation_json(r)) for r in store.reservations()
        ],
    )


def same_reads(router: Router, replica: Replica, now: float) -> None:
    for name in router.queues:
        assert replica.queue_snapshot(name, now) == router.queue_snapshot(name, now), name
    assert {a: x.to_dict(now) for a, x in replica.agents.items()} == {
        a: x.to_dict(now) for a, x in router.agents.items()
    }
    for contact in router.live_contacts():
        assert replica.contact(contact.id) == contact
    for reservation in router.reservations():
        assert replica.store.get_reservation(reservation.id) == reservation


def test_a_replica_loaded_from_the_records_reads_like_the_router() -> None:
    store = MirrorStore(first_seq=0, keep_finished=100)
    router = busy_centre(store)
    replica = Replica(QUEUES)
    replica.load(through_codec(store))
    same_reads(router, replica, now=40.0)  # past the sales relaxation: dan counts there
    assert replica.queue_snapshot("sales", 40.0)["waiting"] > 0
    with pytest.raises(UnknownAgent):
        replica.agent("nobody")
    with pytest.raises(UnknownContact):
        replica.contact("nothing")


def test_refreshing_the_records_events_name_keeps_the_replica_equal(tmp_path: Path) -> None:
    async def main(url: str) -> None:
        redis = Redis.from_url(url)
        keys = Keys("replica")
        try:
            lease = Lease(redis, keys, "n1", 10_000)
            assert await lease.acquire()
            records = Records(redis, keys, keep_events=10_000, keep_finished=100)
            store = MirrorStore(first_seq=0, keep_finished=100)
            router = busy_centre(store)
            assert await records.write(lease.token, 1, store.take(), Extras())
            replica = Replica(QUEUES)
            replica.load(await records.load())
            done = in_status(router, "connected")[0]
            offered = in_status(router, "offered")[0]
            queued = in_status(router, "queued")[0]
            steps = [
                lambda: router.end(done.id, 7.0),
                lambda: router.reject(offered.agent_id or "", offered.id, 8.0),
                lambda: router.complete(done.agent_id or "", done.id, 9.0, disposition="sale"),
                lambda: router.cancel(queued.id, 10.0, "gone"),
                lambda: router.login("dan", 11.0, ready=True),
            ]
            for batch, step in enumerate(steps, start=2):
                events = step()
                assert events
                assert await records.write(lease.token, batch, store.take(), Extras())
                await replica.refresh(redis, keys, events)
                same_reads(router, replica, now=40.0)
            assert replica.contact(done.id).status.value == "completed"  # finished, readable
            assert replica.contact(queued.id).status.value == "cancelled"
        finally:
            await redis.aclose()

    with redis_server(tmp_path / "redis") as server:
        asyncio.run(main(server.url))
