"""Scale-out benchmark: assignments per second across two nodes sharing one Redis.

Run ``.venv/bin/python benchmarks/redis_assign.py``: progress goes to stderr, one
JSON line to stdout. It starts its own redis-server (free port, no persistence)
and measures, on uvloop with the GC thresholds of ``ringway serve``:

* ``evalsha_per_s``: the raw round-trip rate of this Redis for the per-call
  reservation script of the research notes (stack.md §1: longest-idle agent,
  best contact, reserve, deadline), one call at a time from this process, in
  rounds before and after the rest (the median): the ceiling of a design that
  makes every assignment one EVALSHA from one client;
* ``cluster_assignments_per_s``: two nodes, each in its own process as in
  production (one leads, one forwards through the commands stream), route
  ``CONTACTS`` contacts; they arrive through both nodes, and each agent accepts
  and completes through its own node. An assignment is an offer accepted and
  completed; every change is committed to Redis by the fenced batch script
  before anyone sees it (group commit);
* ``memory_assignments_per_s``: the same workload on one embedded node (the
  in-memory store, no Redis), in this process.

``ratio_vs_evalsha`` is the figure the goal is set on (at least 0.25); the
machine is shared and noisy, which is why both sides run in the same minute
against the same Redis (``evalsha_drift`` shows how much the reference moved).
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import redis
import uvloop
from redis.asyncio import Redis

from crm.memory import MemoryCustomerStore
from ringway.cluster import ClusterNode
from ringway.cluster.rpc import apply_call
from ringway.config import RingwayConfig, load_config_text
from ringway.runtime import tune_gc
from ringway.service import RoutingService
from router import events as ev

CONTACTS = 6000
AGENTS = 100
IN_FLIGHT = 64  # concurrent arrivals per node
EVALSHA_CALLS = 3000
EVALSHA_ROUNDS = 3  # before and after the cluster run; the median is the reference
GOAL_RATIO = 0.25

RESERVE = """
local agent = redis.call('ZRANGE', KEYS[1], 0, 0)
if #agent == 0 then return {0} end
local contact = redis.call('ZPOPMIN', KEYS[2])
if #contact == 0 then return {1} end
redis.call('ZREM', KEYS[1], agent[1])
redis.call('HSET', KEYS[3], agent[1], contact[1])
redis.call('ZADD', KEYS[4], tonumber(ARGV[1]) + tonumber(ARGV[2]), agent[1])
return {2, agent[1], contact[1]}
"""

Call = Callable[..., Awaitable[dict[str, Any]]]
Go = Callable[[], Awaitable[None]]


@dataclass
class Sync:
    """What the parent and the node processes share: a start line and the results."""

    ready: Any  # multiprocessing queues and events (their classes are not importable types)
    go: Any
    results: Any


def progress(message: str) -> None:
    print(f"[redis-assign] {message}", file=sys.stderr, flush=True)


def config(redis_url: str | None, node: str, data_dir: Path) -> RingwayConfig:
    agents = "\n".join(
        f"  - {{id: a{i:03d}, name: A{i}, skills: {{support: 5}}}}" for i in range(AGENTS)
    )
    cluster = f'  redis_url: "{redis_url}"\n  node_id: {node}\n' if redis_url else ""
    return load_config_text(
        f"""
service:
  data_dir: "{data_dir}"
  customer_store: "memory://"
{cluster}routing: {{offer_timeout_s: 60, wrap_up_s: 0}}
skills: [support]
queues:
  - {{name: support, channel: voice, requires: "support>=1"}}
agents:
{agents}
""",
        f"{node}.yaml",
    )


class RedisProcess:
    def __init__(self, directory: Path) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise SystemExit("redis-server is not installed (apt-get install redis-server)")
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.process = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(directory)],
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        client = redis.Redis(port=self.port)
        for _ in range(500):
            try:
                client.ping()
                break
            except redis.ConnectionError:
                time.sleep(0.01)
        client.close()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def stop(self) -> None:
        self.process.kill()
        self.process.wait()


async def evalsha_rate(url: str) -> float:
    client = Redis.from_url(url)
    try:
        await client.flushall()
        keys = ["agents:available", "queue:contacts", "reservations", "reservations:exp"]
        await client.zadd(keys[0], {f"agent:{i}": i for i in range(EVALSHA_CALLS)})
        await client.zadd(keys[1], {f"contact:{i}": i for i in range(EVALSHA_CALLS)})
        script = client.register_script(RESERVE)
        await script(keys=keys, args=[0, 30000])  # loads it: EVALSHA from here on
        started = time.perf_counter()
        for _ in range(EVALSHA_CALLS - 1):
            await script(keys=keys, args=[0, 30000])
        rate = (EVALSHA_CALLS - 1) / (time.perf_counter() - started)
        assert await client.hlen(keys[2]) == EVALSHA_CALLS, "every call reserved a pair"
        await client.flushall()
        return rate
    finally:
        await client.aclose()


async def drive(call: Call, service: RoutingService, k: int, nodes: int, go: Go) -> float:
    """Node ``k`` of ``nodes``: its share of agents and arrivals, until every contact is done.

    Agents ``a{i}`` with ``i % nodes == k`` log in, accept and complete through this
    node; contacts ``c{i}`` with ``i % nodes == k`` arrive through it. Every node
    sees every event, so each knows when all contacts are completed. Returns the
    wall-clock time (epoch seconds) it saw the last completion.
    """
    feed = service.subscribe(limit=10**7)
    for i in range(k, AGENTS, nodes):
        await call("login", agent_id=f"a{i:03d}", ready=True)
    await go()
    jobs: set[asyncio.Task[None]] = set()

    async def work(agent_id: str, contact_id: str) -> None:
        await call("accept", agent_id=agent_id, contact_id=contact_id)
        await call("complete", agent_id=agent_id, contact_id=contact_id)

    async def agents() -> float:
        completed = 0
        async for event in feed:
            if isinstance(event, ev.ContactOffered) and int(event.agent_id[1:]) % nodes == k:
                job = asyncio.create_task(work(event.agent_id, event.contact_id))
                jobs.add(job)
                job.add_done_callback(jobs.discard)
            elif isinstance(event, ev.ContactCompleted):
                completed += 1
                if completed == CONTACTS:
                    return time.time()
        raise RuntimeError(f"event feed closed: {feed.reason}")

    async def one(i: int, gate: asyncio.Semaphore) -> None:
        async with gate:
            await call("contact_arrived", channel="voice", queue="support", id=f"c{i:05d}")

    watcher = asyncio.create_task(agents())
    gate = asyncio.Semaphore(IN_FLIGHT)
    await asyncio.gather(*(one(i, gate) for i in range(k, CONTACTS, nodes)))
    finished = await watcher
    await asyncio.gather(*jobs)
    service.unsubscribe(feed)
    return finished


async def cluster_node(name: str, k: int, url: str, tmp: Path, sync: Any) -> dict[str, Any]:
    """One node of the cluster run, in its own process (see `node_main`)."""
    node = ClusterNode(config(url, name, tmp / name))
    service = RoutingService(node.config, MemoryCustomerStore(), host=node)
    await service.start()
    try:
        while not (node.is_leader if k == 0 else node.leader is not None):
            await asyncio.sleep(0.01)  # node 0 leads; the other starts once it does

        async def go() -> None:
            sync.ready.put(name)
            await asyncio.to_thread(sync.go.wait)

        finished = await drive(node.call, service, k, 2, go)
        commits = node.term.batches if node.term is not None else 0
        if node.term is not None:
            await node.durable()
            redis = node.records.redis
            assert await redis.hlen(node.keys.contacts) == 0, "every contact finished"
            assert await redis.hlen(node.keys.reservations) == 0, "no agent left reserved"
        return {"finished": finished, "commits": commits}
    finally:
        await service.stop()


def node_main(name: str, k: int, url: str, tmp: str, sync: Any) -> None:
    """A cluster node's process: uvloop and the GC thresholds of `ringway serve`."""
    tune_gc()
    try:
        sync.results.put((name, uvloop.run(cluster_node(name, k, url, Path(tmp), sync))))
    except BaseException as exc:  # the parent must hear of it, not wait forever
        sync.results.put((name, {"error": repr(exc)}))
        raise


async def cluster_rate(url: str, tmp: Path) -> dict[str, Any]:
    """Two node processes share the Redis; the clock starts when both are ready."""
    spawn = multiprocessing.get_context("spawn")
    sync = Sync(ready=spawn.Queue(), go=spawn.Event(), results=spawn.Queue())
    processes = []
    try:
        for k, name in enumerate(("na", "nb")):
            process = spawn.Process(target=node_main, args=(name, k, url, str(tmp), sync))
            process.start()
            processes.append(process)
            await asyncio.to_thread(sync.ready.get, True, 60)  # na leads before nb starts
        started = time.time()
        sync.go.set()
        results: dict[str, dict[str, Any]] = {}
        for _ in processes:
            name, result = await asyncio.to_thread(sync.results.get, True, 300)
            results[name] = result
        for name, result in results.items():
            if "error" in result:
                raise RuntimeError(f"node {name} failed: {result['error']}")
        elapsed = max(r["finished"] for r in results.values()) - started
        return {"rate": CONTACTS / elapsed, "commits": results["na"]["commits"]}
    finally:
        for process in processes:
            process.join(30)
            if process.is_alive():
                process.kill()
                process.join()


async def memory_rate(tmp: Path) -> float:
    service = RoutingService(config(None, "solo", tmp / "solo"), MemoryCustomerStore())
    await service.start()

    async def call(name: str, **args: Any) -> dict[str, Any]:
        return await apply_call(service, name, args)

    started: list[float] = []

    async def go() -> None:
        started.append(time.time())

    try:
        finished = await drive(call, service, 0, 1, go)
        return CONTACTS / (finished - started[0])
    finally:
        await service.stop()


async def run(tmp: Path) -> dict[str, Any]:
    server = RedisProcess(tmp)
    try:
        progress(f"redis-server on port {server.port}; raw EVALSHA round trips")
        before = [await evalsha_rate(server.url) for _ in range(EVALSHA_ROUNDS)]
        progress(f"EVALSHA {statistics.median(before):,.0f}/s; two nodes route {CONTACTS} contacts")
        cluster = await cluster_rate(server.url, tmp)
        progress(f"cluster {cluster['rate']:,.0f} assignments/s; the in-memory store alone")
        memory = await memory_rate(tmp)
        progress(f"memory {memory:,.0f} assignments/s; EVALSHA again (drift check)")
        after = [await evalsha_rate(server.url) for _ in range(EVALSHA_ROUNDS)]
    finally:
        server.stop()
    reference = statistics.median(before + after)
    ratio = cluster["rate"] / reference
    return {
        "benchmark": "redis_assign",
        "contacts": CONTACTS,
        "agents": AGENTS,
        "nodes": 2,
        "evalsha_per_s": round(reference),
        "evalsha_drift": round(statistics.median(after) / statistics.median(before), 3),
        "cluster_assignments_per_s": round(cluster["rate"]),
        "ratio_vs_evalsha": round(ratio, 3),
        "goal_ratio": GOAL_RATIO,
        "goal_met": ratio >= GOAL_RATIO,
        "commits": cluster["commits"],
        "commands_per_commit": round(3 * CONTACTS / max(1, cluster["commits"]), 1),
        "memory_assignments_per_s": round(memory),
        "cluster_vs_memory": round(cluster["rate"] / memory, 3),
        "loop": "uvloop",
        "python": platform.python_version(),
        "redis_py": redis.__version__,
    }


def main() -> None:
    tune_gc()  # as `ringway serve` does
    with tempfile.TemporaryDirectory() as tmp:
        result = uvloop.run(run(Path(tmp)))
    print(json.dumps(result, separators=(",", ":")))


if __name__ == "__main__":
    main()
