"""The REST API on any node: forwarded by followers, held by the leader until committed.

A follower relays the leader's own answers (reads included), serves the same
events to its subscribers and the same figures on /metrics. With no leader a
request gets a 503 and is never applied afterwards; a leader fenced off by a
newer one answers 503 for what it could not commit, and none of it reaches Redis.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from cluster_testkit import (
    InProcessNode,
    in_process_node,
    node_config,
    redis_server,
    wait_for,
)
from redis import asyncio as aioredis

from ringway.cluster.keys import Keys
from router import events as ev


def metric(text: str, name: str) -> float:
    for line in text.splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"no {name} in the exposition")


async def leader_and_follower(a: InProcessNode, b: InProcessNode) -> tuple[InProcessNode, ...]:
    await wait_for(lambda: a.node.is_leader or b.node.is_leader, 5, "a leader")
    return (a, b) if a.node.is_leader else (b, a)


def test_a_follower_forwards_the_api_and_its_events_and_metrics_agree(tmp_path: Path) -> None:
    async def scenario(url: str) -> None:
        configs = [node_config(url, n, tmp_path / n, agents=3) for n in ("na", "nb")]
        async with in_process_node(configs[0]) as a, in_process_node(configs[1]) as b:
            leader, follower = await leader_and_follower(a, b)
            feeds = [n.bundle.service.subscribe(limit=1000) for n in (leader, follower)]
            r = await follower.api("POST", "/agents/a001/login", json={"ready": True})
            assert r.status_code == 200 and r.json()["agent"]["state"] == "ready"
            r = await follower.api("POST", "/contacts", json={"channel": "voice", "id": "c1"})
            assert r.status_code == 201, r.text
            assert r.json()["agent_id"] == "a001"
            r = await follower.api("POST", "/contacts", json={"channel": "voice", "id": "c1"})
            assert r.status_code == 409 and r.json()["error"]["code"] == "duplicate_contact"
            r = await follower.api("GET", "/agents/a001/offers")
            assert r.json()["offers"][0]["contact_id"] == "c1"
            r = await follower.api("POST", "/agents/a001/offers/c1/accept")
            assert r.status_code == 200 and r.json()["contact"]["status"] == "connected"
            r = await follower.api("POST", "/contacts", json={"channel": "voice", "id": "c2"})
            assert r.status_code == 201  # waits: the only ready agent is busy
            await wait_for(lambda: follower.node.cursor == leader.node.cursor, 5, "catch-up")
            seen = [[feed.pending() for feed in feeds]]
            kinds = [[e.kind for e in n.node.events.read(0, 100)] for n in (leader, follower)]
            assert kinds[0] == kinds[1] and "offer_accepted" in kinds[0], seen

            async def scrape(node: InProcessNode) -> str:
                return (await node.client.get("/metrics")).text

            def waiting(text: str) -> float:
                return metric(text, 'ringway_queue_contacts_waiting{queue="support"}')

            await asyncio.sleep(1.2)  # the leader writes its live gauges at most once a second
            texts = [await scrape(n) for n in (leader, follower)]
            for name in ('ringway_contacts_offered_total{queue="support"}',
                         'ringway_contacts_answered_total{queue="support"}'):  # fmt: skip
                assert metric(texts[0], name) == metric(texts[1], name) > 0
            await wait_for(lambda: follower.node.snapshot() is not None, 3, "gauges")
            assert waiting(texts[0]) == 1.0
            deadline = time.monotonic() + 3
            while waiting(await scrape(follower)) != 1.0 and time.monotonic() < deadline:
                await asyncio.sleep(0.1)
            assert waiting(await scrape(follower)) == 1.0
            r = await follower.api("GET", "/healthz")
            assert r.status_code == 200 and r.json()["last_seq"] == leader.node.cursor

    with redis_server(tmp_path / "redis") as server:
        asyncio.run(scenario(server.url))


def test_with_no_leader_a_request_gets_503_and_is_never_applied_later(tmp_path: Path) -> None:
    async def scenario(url: str) -> None:
        config = node_config(url, "nb", tmp_path / "nb", lease_ms=600, command_ttl_ms=200)
        ghost = aioredis.Redis.from_url(url)
        await ghost.set(Keys("default").lease, "ghost", px=60_000)  # a leader that is gone
        await ghost.aclose()
        async with in_process_node(config) as b:
            redis = b.node.records.redis
            assert not b.node.is_leader
            started = time.monotonic()
            r = await b.api("POST", "/contacts", json={"channel": "voice", "id": "late"})
            assert r.status_code == 503, r.text
            assert r.json()["error"]["code"] == "cluster_unavailable"
            assert "not applied" in r.json()["error"]["message"]
            assert time.monotonic() - started < 0.2 + 0.6 + 1.5
            await redis.delete(b.node.keys.lease)
            await wait_for(lambda: b.node.is_leader, 3, "b to lead")
            r = await b.api("GET", "/contacts/late")
            assert r.status_code == 404, "the refused request was not applied by the new leader"
            r = await b.api("POST", "/contacts", json={"channel": "voice", "id": "late"})
            assert r.status_code == 201

    with redis_server(tmp_path / "redis") as server:
        asyncio.run(scenario(server.url))


def test_a_leader_fenced_off_answers_503_and_writes_nothing(tmp_path: Path) -> None:
    async def scenario(url: str) -> None:
        configs = [node_config(url, n, tmp_path / n, lease_ms=6000) for n in ("na", "nb")]
        async with in_process_node(configs[0]) as a, in_process_node(configs[1]) as b:
            leader, follower = await leader_and_follower(a, b)
            keys, redis = leader.node.keys, leader.node.records.redis
            # What a takeover by the follower looks like while the leader is paused:
            await redis.set(keys.lease, follower.node.node_id, px=6000)
            await redis.incr(keys.epoch)
            r = await leader.api("POST", "/contacts", json={"channel": "voice", "id": "c9"})
            assert r.status_code == 503, r.text
            assert "fenced" in r.json()["error"]["message"]
            assert await redis.hget(keys.contacts, "c9") is None
            await wait_for(lambda: follower.node.is_leader, 5, "the follower to lead")
            assert not leader.node.is_leader
            r = await leader.api("GET", "/contacts/c9")  # now forwarded to the new leader
            assert r.status_code == 404
            r = await leader.api("POST", "/contacts", json={"channel": "voice", "id": "c9"})
            assert r.status_code == 201

            def queued() -> list[str]:
                events = follower.node.events.read(0, 100)
                return [e.contact_id for e in events if isinstance(e, ev.ContactQueued)]

            # The answer may reach the caller a moment before the leader publishes.
            await wait_for(lambda: queued() != [], 2, "the new leader to publish")
            assert queued() == ["c9"], "the fenced attempt left no trace"

    with redis_server(tmp_path / "redis") as server:
        asyncio.run(scenario(server.url))
