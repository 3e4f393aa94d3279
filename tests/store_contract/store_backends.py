"""The two routing-store backends the contract runs against: in-memory and Redis.

`Backend.store` is what a router writes through; `commit` makes what was written
durable (Redis: one fenced batch through the leader's flush script); `reread`
returns the records as a fresh reader finds them (Redis: a new node's load at
takeover — `Records.load` into a new `MirrorStore` — with the event stream read
back). Every contract test runs against both (STYLE.md habit 10), the Redis one
on its own redis-server process and tenant.
"""

from __future__ import annotations

import copy
import os
from typing import Protocol

from cluster_testkit import RedisServer, redis_server
from redis.asyncio import Redis

from ringway.cluster import codec
from ringway.cluster.keys import Keys
from ringway.cluster.lease import Lease
from ringway.cluster.mirror import MirrorStore
from ringway.cluster.records import Extras, Records
from router.store.base import RoutingStore
from router.store.memory import MemoryEventLog, MemoryStore

__all__ = ["Backend", "MemoryBackend", "RedisBackend", "RedisServer", "redis_server"]

KEEP_FINISHED = 3


class Backend(Protocol):
    name: str

    @property
    def store(self) -> RoutingStore: ...

    async def commit(self) -> None: ...

    async def reread(self) -> RoutingStore: ...


class MemoryBackend:
    name = "memory"

    def __init__(self, keep_finished: int) -> None:
        self.store = MemoryStore(keep_finished=keep_finished)

    async def commit(self) -> None:
        """Nothing to do: the dictionaries are the records."""

    async def reread(self) -> RoutingStore:
        # A copy: the reader must not share objects with the writer (a restored router
        # and the original would otherwise change each other's records).
        return copy.deepcopy(self.store)


class RedisBackend:
    name = "redis"

    def __init__(self, redis: Redis, keep_finished: int) -> None:
        self.redis, self.keys = redis, Keys(f"contract-{os.urandom(4).hex()}")
        self.store = MirrorStore(first_seq=0, keep_finished=keep_finished)
        self.records = Records(redis, self.keys, keep_events=10_000, keep_finished=keep_finished)
        self.lease = Lease(redis, self.keys, "contract", 60_000)
        self.batch = 0
        self.keep_finished = keep_finished

    async def commit(self) -> None:
        if self.batch == 0:
            assert await self.lease.acquire()
        self.batch += 1
        assert await self.records.write(self.lease.token, self.batch, self.store.take(), Extras())

    async def reread(self) -> RoutingStore:
        await self.commit()
        loaded = await self.records.load()
        fresh = MirrorStore(first_seq=loaded.seq or 0, keep_finished=self.keep_finished)
        fresh.load(loaded.contacts, loaded.agents, loaded.reservations)
        log = MemoryEventLog(start=0)
        for _, fields in await self.redis.xrange(self.keys.events):
            for event in codec.events_from(fields[b"e"]):
                log.append(event)
        assert log.last_seq == (loaded.seq or 0), "the stream holds every event up to seq"
        fresh.events = fresh.log = log  # type: ignore[assignment]
        return fresh
