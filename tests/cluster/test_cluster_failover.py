"""A leader killed with SIGKILL mid-reservations loses nothing.

The leader is a real ``ringway serve`` subprocess; the follower is an
in-process node whose API forwards to it. With offers ringing (reservations in
Redis) the leader is SIGKILLed. The follower takes the lease once it lapses,
rebuilds the router from Redis, and the offers that expired meanwhile become
RONAs: their contacts go back to their place and are offered again at once to
agents who became ready during the outage (their commands waited in the
commands stream for the new leader). Every contact then ends in exactly one
agent's hands, once, and no agent stays reserved.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import httpx
from cluster_testkit import (
    ADMIN_TOKEN,
    InProcessNode,
    ServeProcess,
    config_yaml,
    free_port,
    in_process_node,
    node_config,
    redis_server,
    wait_for,
)

from ringway.bus import Subscription
from router import events as ev

LEASE_MS = 1500
OFFER_TIMEOUT_S = 1.0


async def scenario(tmp: Path, redis_url: str, leader: ServeProcess) -> None:
    config = node_config(
        redis_url, "nb", tmp / "nb", agents=12, lease_ms=LEASE_MS, offer_timeout_s=OFFER_TIMEOUT_S
    )
    async with in_process_node(config) as b:
        feed = b.bundle.service.subscribe(limit=100_000)
        await asyncio.sleep(0.2)
        assert not b.node.is_leader and b.node.leader == "na"
        for i in range(8):  # through B's REST API, forwarded to the subprocess leader
            r = await b.api("POST", f"/agents/a{i:03d}/login", json={"ready": True})
            assert r.status_code == 200, r.text
        for i in range(20):
            r = await b.api("POST", "/contacts", json={"channel": "voice", "id": f"c{i:02d}"})
            assert r.status_code == 201, r.text
        offered = {c: a for c, a in await offers(b)}
        assert len(offered) == 8
        ringing = sorted(offered)
        for contact in ringing[:3]:  # accepted through the follower ...
            r = await b.api("POST", f"/agents/{offered[contact]}/offers/{contact}/accept")
            assert r.status_code == 200, r.text
        headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        async with httpx.AsyncClient(base_url=leader.base_url, headers=headers) as direct:
            contact = ringing[3]  # ... and one straight on the leader
            r = await direct.post(f"/api/v1/agents/{offered[contact]}/offers/{contact}/accept")
            assert r.status_code == 200, r.text
        redis = b.node.records.redis
        assert await redis.hlen(b.node.keys.reservations) == 4, "four offers still ringing"

        leader.kill()  # SIGKILL: no clean-up, the lease simply stops being renewed
        killed = time.monotonic()
        late = [asyncio.create_task(ready_later(b, f"a{i:03d}")) for i in range(8, 12)]
        await wait_for(lambda: b.node.is_leader, LEASE_MS / 1000 + 2, "the follower to lead")
        took_over = time.monotonic() - killed
        assert took_over < LEASE_MS / 1000 + 1.0
        await asyncio.gather(*late)

        stuck = ringing[4:]  # offered by the dead leader, never answered
        seen: list[ev.Event] = []
        await collect_until(feed, seen, lambda: reoffered(seen, stuck), timeout=5)
        reoffer_s = time.monotonic() - killed
        assert reoffer_s < LEASE_MS / 1000 + OFFER_TIMEOUT_S + 1.0
        ronas = [e for e in seen if isinstance(e, ev.OfferRejected)]
        assert sorted(e.contact_id for e in ronas) == stuck
        assert {e.reason for e in ronas} == {"timeout"}

        # Everyone back to work through the new leader until every contact is done.
        for i in range(8):
            await b.node.call("ready", agent_id=f"a{i:03d}")
        await work_until_done(b, feed, seen, [f"c{i:02d}" for i in range(20)])
        await b.node.durable()
        assert await redis.hlen(b.node.keys.reservations) == 0
        assert await redis.hlen(b.node.keys.contacts) == 0
        states = {a.state.value for a in b.bundle.service.router.agents.values()}
        assert states <= {"ready", "offline"}, states
        seqs = [e.seq for e in b.node.events.read(0, 100_000)]
        assert seqs == list(range(1, len(seqs) + 1)), "B delivered a gapless stream"
        print(f"takeover {took_over:.2f} s, re-offered {reoffer_s:.2f} s after SIGKILL")


async def offers(b: InProcessNode) -> list[tuple[str, str]]:
    r = await b.api("GET", "/contacts")
    return [(c["id"], c["agent_id"]) for c in r.json()["contacts"] if c["status"] == "offered"]


async def ready_later(b: InProcessNode, agent_id: str) -> None:
    """Issued while no node leads: waits in the commands stream for the new leader."""
    r = await b.api("POST", f"/agents/{agent_id}/login", json={"ready": True})
    assert r.status_code == 200, r.text


def reoffered(seen: list[ev.Event], contacts: list[str]) -> bool:
    rona = {e.contact_id for e in seen if isinstance(e, ev.OfferRejected)}
    again = {
        e.contact_id for e in seen if isinstance(e, ev.ContactOffered) and e.contact_id in rona
    }
    return again >= set(contacts)


async def collect_until(
    feed: Subscription, seen: list[ev.Event], done: Callable[[], bool], timeout: float
) -> None:
    async def pump() -> None:
        async for event in feed:
            seen.append(event)
            if done():
                return

    await asyncio.wait_for(pump(), timeout)


async def work_until_done(
    b: InProcessNode, feed: Subscription, seen: list[ev.Event], ids: list[str]
) -> None:
    """Agents accept every offer and complete every connected contact."""
    router = b.bundle.service.router
    for contact in router.live_contacts():
        if contact.status.value == "offered":
            await b.node.call("accept", agent_id=contact.agent_id, contact_id=contact.id)
    for contact in router.live_contacts():
        if contact.status.value == "connected":
            await b.node.call("complete", agent_id=contact.agent_id, contact_id=contact.id)

    async def pump() -> None:
        async for event in feed:
            seen.append(event)
            if isinstance(event, ev.ContactOffered):
                await b.node.call("accept", agent_id=event.agent_id, contact_id=event.contact_id)
                await b.node.call("complete", agent_id=event.agent_id, contact_id=event.contact_id)
            if len({e.contact_id for e in seen if isinstance(e, ev.ContactCompleted)}) == len(ids):
                return

    await asyncio.wait_for(pump(), 20)
    history = b.node.events.read(0, 100_000)
    completed = Counter(e.contact_id for e in history if isinstance(e, ev.ContactCompleted))
    accepted = Counter(e.contact_id for e in history if isinstance(e, ev.OfferAccepted))
    assert completed == accepted == Counter(ids), "every contact handled exactly once"


def test_sigkilled_leader_loses_no_contact_and_leaves_no_agent_reserved(tmp_path: Path) -> None:
    with redis_server(tmp_path / "redis") as server:
        port = free_port()
        config = tmp_path / "na.yaml"
        config.write_text(
            config_yaml(
                server.url,
                "na",
                tmp_path / "na",
                agents=12,
                lease_ms=LEASE_MS,
                offer_timeout_s=OFFER_TIMEOUT_S,
                http_port=port,
            )
        )
        leader = ServeProcess(config, port)
        leader.start()
        try:
            leader.wait_ready()
            asyncio.run(scenario(tmp_path, server.url, leader))
        finally:
            leader.kill()
