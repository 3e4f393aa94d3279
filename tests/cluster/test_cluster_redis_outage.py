"""Redis missing at start, and Redis restarting under load.

At start a node that cannot reach Redis refuses to run: one line, exit code 2.
Mid-run, Redis is restarted twice under steady traffic through two nodes —
once briefly (the leader keeps its lease), once for longer than a lease (the
leader steps down, and after Redis is back a node rebuilds the router from it).
Meanwhile commands get a clear 503 and are retried by the clients; afterwards
every contact the clients created is handled exactly once: none is lost, none
is applied twice.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from cluster_testkit import (
    ENV,
    ROOT,
    InProcessNode,
    RedisServer,
    config_yaml,
    free_port,
    in_process_node,
    node_config,
    wait_for,
)

from ringway.bus import Subscription
from ringway.cluster import ClusterUnavailable
from router import events as ev
from router.errors import DuplicateContact, RoutingError

LEASE_MS = 1500


def test_serve_without_redis_says_so_in_one_line_and_exits_2(tmp_path: Path) -> None:
    port = free_port()  # nothing listens there
    config = tmp_path / "node.yaml"
    config.write_text(config_yaml(f"redis://127.0.0.1:{port}/0", "lonely", tmp_path / "data"))
    result = subprocess.run(
        [sys.executable, "-m", "ringway.cli", "serve", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        env={**ENV, "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"error: cannot reach Redis at redis://127.0.0.1:{port}/0")


class Clients:
    """Contact arrivals and agents that retry what the cluster refuses with a 503."""

    def __init__(self, nodes: list[InProcessNode]) -> None:
        self.nodes = nodes
        self.refused = 0
        self.created: list[str] = []

    async def call(self, k: int, name: str, **args: object) -> None:
        while True:
            try:
                await self.nodes[k % len(self.nodes)].node.call(name, **args)
                return
            except ClusterUnavailable:
                self.refused += 1
            except RoutingError as exc:
                if exc.status != 503:
                    raise
                self.refused += 1
            await asyncio.sleep(0.05)

    async def arrivals(self, count: int, pause: float) -> None:
        for i in range(count):
            contact = f"c{i:04d}"
            try:
                await self.call(i, "contact_arrived", channel="voice", id=contact)
            except DuplicateContact:
                raise AssertionError(f"{contact}: a refused arrival had been applied") from None
            self.created.append(contact)
            await asyncio.sleep(pause)

    async def agents(self, k: int, feed: Subscription) -> None:
        jobs: set[asyncio.Task[None]] = set()
        async for event in feed:
            if isinstance(event, ev.ContactOffered) and int(event.agent_id[1:]) % 2 == k:
                job = asyncio.create_task(self.work(k, event.agent_id, event.contact_id))
                jobs.add(job)
                job.add_done_callback(jobs.discard)
        await asyncio.gather(*jobs)

    async def work(self, k: int, agent_id: str, contact_id: str) -> None:
        await self.call(k, "accept", agent_id=agent_id, contact_id=contact_id)
        await self.call(k, "complete", agent_id=agent_id, contact_id=contact_id)


async def scenario(tmp: Path, server: RedisServer) -> None:
    configs = [
        node_config(server.url, name, tmp / name, agents=10, lease_ms=LEASE_MS)
        for name in ("na", "nb")
    ]
    async with in_process_node(configs[0]) as a, in_process_node(configs[1]) as b:
        nodes = [a, b]
        await wait_for(lambda: a.node.is_leader or b.node.is_leader, 5, "a leader")
        clients = Clients(nodes)
        for i in range(10):
            await clients.call(i, "login", agent_id=f"a{i:03d}", ready=True)
        feeds = [n.bundle.service.subscribe(limit=10**6) for n in nodes]
        workers = [asyncio.create_task(clients.agents(k, f)) for k, f in enumerate(feeds)]
        traffic = asyncio.create_task(clients.arrivals(400, 0.01))
        first = a.node.lease.token if a.node.is_leader else b.node.lease.token

        await asyncio.sleep(1.0)
        server.stop()  # SIGTERM: Redis writes its AOF and exits
        await asyncio.sleep(0.3)  # shorter than a lease: the leader keeps it
        server.start()
        await asyncio.sleep(1.0)
        server.stop()
        await asyncio.sleep(LEASE_MS / 1000 + 1.0)  # longer than a lease: the leader steps down
        server.start()

        await traffic
        await wait_for(lambda: a.node.is_leader or b.node.is_leader, 10, "a leader again")
        leader = a if a.node.is_leader else b
        assert leader.node.lease.token > first, "a new term began after the long outage"
        done = lambda: all(  # noqa: E731
            n.bundle.service.stats.queue_kpis("support", time.time() + 1).handled
            >= len(clients.created)
            for n in nodes
        )
        try:
            await wait_for(done, 30, "every created contact handled", every=0.1)
        finally:
            for n, feed in zip(nodes, feeds, strict=True):
                n.bundle.service.unsubscribe(feed)
            await asyncio.gather(*workers, return_exceptions=True)
        assert clients.refused > 0, "the outages were felt (and refused with 503s)"
        for n in nodes:
            history = n.node.events.read(0, 10**6)
            assert [e.seq for e in history] == list(range(1, len(history) + 1))
            completed = Counter(e.contact_id for e in history if isinstance(e, ev.ContactCompleted))
            assert completed == Counter(clients.created), "each contact handled exactly once"
        await leader.node.durable()
        redis = leader.node.records.redis
        assert await redis.hlen(leader.node.keys.reservations) == 0
        assert await redis.hlen(leader.node.keys.contacts) == 0
        print(f"{len(clients.created)} contacts, {clients.refused} refusals retried")


def test_redis_restarts_mid_run_lose_no_contact(tmp_path: Path) -> None:
    server = RedisServer(tmp_path / "redis")
    server.start()
    try:
        asyncio.run(scenario(tmp_path, server))
    finally:
        server.stop()
