"""Replaying the committed event stream into a node that does not lead.

Each node reads ``…:events`` from its own cursor (the last seq it delivered)
with a plain ``XREAD`` — not a consumer group: every node needs every event,
and a node that was away resumes where it stopped instead of losing what was
published meanwhile (what pub/sub would do). Stream entry ids are
``<last seq of the batch>-0``, so the cursor *is* a seq.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError

from ringway.cluster import codec
from ringway.cluster.keys import Keys, honour_cancel, stream_entries
from router.events import Event

READ_COUNT = 200  # stream entries (batches) per read
BLOCK_MS = 500  # also bounds how long a lost cancel delays a takeover (keys.honour_cancel)


class EventFollower:
    def __init__(
        self,
        redis: Redis,
        keys: Keys,
        cursor: Callable[[], int],
        deliver: Callable[[list[Event]], None],
        refresh: Callable[[list[Event]], Awaitable[None]] | None = None,
    ) -> None:
        self.redis, self.keys = redis, keys
        self._cursor, self._deliver, self._refresh = cursor, deliver, refresh

    async def run(self) -> None:
        """Deliver new batches as they are committed, until cancelled."""
        backoff = 0.05
        while True:
            try:
                found = await self.redis.xread(
                    {self.keys.events: f"{self._cursor()}-0"}, count=READ_COUNT, block=BLOCK_MS
                )
                backoff = 0.05
            except RedisError:
                await asyncio.sleep(backoff)  # Redis restarting: come back from the same cursor
                backoff = min(backoff * 2, 1.0)
                continue
            honour_cancel()
            batches = [codec.events_from(fields[b"e"]) for _, fields in stream_entries(found)]
            if self._refresh is not None and batches:
                try:  # the records these events name, before anyone sees the events
                    await self._refresh([e for batch in batches for e in batch])
                except RedisError:  # not delivered: read again from the same cursor
                    await asyncio.sleep(backoff)
                    continue
            for batch in batches:
                self._deliver(batch)

    async def catch_up(self, upto: int) -> None:
        """Deliver everything committed up to seq ``upto`` (a node about to lead)."""
        while self._cursor() < upto:
            found: Any = await self.redis.xrange(
                self.keys.events, min=f"({self._cursor()}-0", max=f"{upto}-0", count=1000
            )
            if not found:
                return  # trimmed or never written: nothing more to deliver
            for _, fields in found:
                self._deliver(codec.events_from(fields[b"e"]))
