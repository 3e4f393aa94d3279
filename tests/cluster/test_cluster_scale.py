"""Three nodes share one redis-server and route 10,000 contacts concurrently.

Contacts arrive through all three nodes, and each simulated agent accepts and
completes through its own "home" node, so two commands in three travel through
the commands stream to the leader. Checked from every node's event stream and
from Redis: every contact is accepted and completed exactly once, by one agent;
no agent is ever offered a contact while it holds another; every node delivered
the very same gapless event sequence; nothing is left reserved or waiting.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from pathlib import Path

from cluster_testkit import (
    InProcessNode,
    in_process_node,
    node_config,
    redis_server,
    wait_for,
)

from ringway.bus import Subscription
from router import events as ev

CONTACTS = 10_000
AGENTS = 60
IN_FLIGHT = 48  # concurrent arrivals per node


async def run_agents(node: InProcessNode, feed: Subscription, mine: set[str]) -> None:
    """The agents homed on ``node``: take every offer they get, then complete it."""
    jobs: set[asyncio.Task[None]] = set()

    async def work(agent_id: str, contact_id: str) -> None:
        await node.node.call("accept", agent_id=agent_id, contact_id=contact_id)
        await node.node.call("complete", agent_id=agent_id, contact_id=contact_id)

    async for event in feed:
        if isinstance(event, ev.ContactOffered) and event.agent_id in mine:
            job = asyncio.create_task(work(event.agent_id, event.contact_id))
            jobs.add(job)
            job.add_done_callback(jobs.discard)
    await asyncio.gather(*jobs)


async def arrive(node: InProcessNode, ids: list[str], accepted: list[str]) -> None:
    gate = asyncio.Semaphore(IN_FLIGHT)

    async def one(contact_id: str) -> None:
        async with gate:
            await node.node.call("contact_arrived", channel="voice", queue="support", id=contact_id)
            accepted.append(contact_id)

    await asyncio.gather(*(one(cid) for cid in ids))


def check_no_double_assignment(events: list[ev.Event]) -> None:
    holding: dict[str, str] = {}  # agent -> contact offered or in hand
    for event in events:
        if isinstance(event, ev.ContactOffered):
            assert event.agent_id not in holding, f"{event.agent_id} offered twice: {event}"
            holding[event.agent_id] = event.contact_id
        elif isinstance(event, ev.OfferRejected | ev.OfferRescinded | ev.ContactCompleted):
            assert holding.pop(event.agent_id) == event.contact_id


async def scenario(tmp: Path, redis_url: str) -> None:
    configs = [
        node_config(redis_url, name, tmp / name, agents=AGENTS, lease_ms=3000)
        for name in ("na", "nb", "nc")
    ]
    async with (
        in_process_node(configs[0]) as a,
        in_process_node(configs[1]) as b,
        in_process_node(configs[2]) as c,
    ):
        nodes = [a, b, c]
        await wait_for(lambda: sum(n.node.is_leader for n in nodes) == 1, 10, "one leader")
        feeds = [n.bundle.service.subscribe(limit=10**7) for n in nodes]
        homes: list[set[str]] = [set(), set(), set()]
        for i in range(AGENTS):
            agent_id = f"a{i:03d}"
            homes[i % 3].add(agent_id)
            await nodes[i % 3].node.call("login", agent_id=agent_id, ready=True)
        workers = [
            asyncio.create_task(run_agents(n, f, h))
            for n, f, h in zip(nodes, feeds, homes, strict=True)
        ]
        ids = [f"c{i:05d}" for i in range(CONTACTS)]
        accepted: list[str] = []
        started = time.monotonic()
        await asyncio.gather(*(arrive(n, ids[k::3], accepted) for k, n in enumerate(nodes)))
        assert sorted(accepted) == ids
        done = lambda: all(  # noqa: E731
            n.bundle.service.stats.queue_kpis("support", time.time() + 1).handled >= CONTACTS
            for n in nodes
        )
        await wait_for(done, 120, "every contact completed on every node", every=0.2)
        elapsed = time.monotonic() - started
        for n, feed in zip(nodes, feeds, strict=True):
            n.bundle.service.unsubscribe(feed)
        await asyncio.gather(*workers)
        streams = [list(n.node.events.read(0, 10**7)) for n in nodes]
        seqs = [[e.seq for e in s] for s in streams]
        assert seqs[0] == list(range(1, len(seqs[0]) + 1)), "gapless, in order"
        assert seqs[0] == seqs[1] == seqs[2], "every node delivered the same events"
        assert [e.to_dict() for e in streams[0]] == [e.to_dict() for e in streams[2]]
        events = streams[0]
        accepts = Counter(e.contact_id for e in events if isinstance(e, ev.OfferAccepted))
        completes = Counter(e.contact_id for e in events if isinstance(e, ev.ContactCompleted))
        assert set(accepts) == set(completes) == set(ids)
        assert set(accepts.values()) == set(completes.values()) == {1}
        by = {e.contact_id: e.agent_id for e in events if isinstance(e, ev.OfferAccepted)}
        assert all(
            by[e.contact_id] == e.agent_id for e in events if isinstance(e, ev.ContactCompleted)
        )
        check_no_double_assignment(events)
        leader = next(n for n in nodes if n.node.is_leader)
        await leader.node.durable()
        keys = leader.node.keys
        client = leader.node.records.redis
        assert await client.hlen(keys.contacts) == 0, "nothing left waiting"
        assert await client.hlen(keys.reservations) == 0, "no agent left reserved"
        assert await client.xlen(keys.commands) < 1000, "applied commands are trimmed"
        assert await client.get(keys.seq) == str(len(events)).encode()
        print(f"{CONTACTS} contacts through 3 nodes in {elapsed:.1f} s")


def test_three_nodes_route_10000_contacts_with_no_double_assignment_and_none_lost(
    tmp_path: Path,
) -> None:
    with redis_server(tmp_path / "redis") as server:
        asyncio.run(scenario(tmp_path, server.url))
