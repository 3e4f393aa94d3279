"""One term as leader: commit what the router changed, renew the lease, apply forwarded commands.

Group commit: commands run in memory at once and mark the term dirty; one
flusher task writes everything dirty as a single fenced batch, and whatever
arrives while a batch is in flight goes in the next one. A batch is the unit
of durability: `Term.durable` returns once the state as of the call is in
Redis, and only then are its events published on this node (so no websocket
ever shows an offer a crash could take back).

A term ends (`StepDown`) when the lease is lost or fenced, or when Redis stays
unreachable for a whole lease: by then another node may lead, and whatever
this one did not commit is dropped with it, never half-written.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

import orjson
from redis.asyncio import Redis
from redis.exceptions import RedisError, ResponseError

from ringway.cluster.errors import ClusterUnavailable, Fenced
from ringway.cluster.keys import Keys, honour_cancel, stream_entries
from ringway.cluster.lease import Lease
from ringway.cluster.mirror import Changes, MirrorStore
from ringway.cluster.records import Extras, Records, Replies
from ringway.cluster.rpc import FORWARDED, error_reply
from router.events import Event

log = logging.getLogger(__name__)

MAX_BACKOFF_S = 0.25
SNAPSHOT_EVERY_S = 1.0  # live gauges for followers' /metrics
Apply = Callable[[str, dict[str, object]], Awaitable[bytes]]


class StepDown(Exception):
    """The term is over; the message says why."""


class Term:
    def __init__(
        self,
        *,
        redis: Redis,
        keys: Keys,
        lease: Lease,
        records: Records,
        mirror: MirrorStore,
        command_cursor: str,
        apply: Apply,
        on_commit: Callable[[list[Event]], None],
        snapshot: Callable[[], bytes],
    ) -> None:
        self.redis, self.keys, self.lease, self.records = redis, keys, lease, records
        self.mirror = mirror
        self._cursor, self._cursor_sent = command_cursor, command_cursor
        self._apply, self._on_commit, self._snapshot = apply, on_commit, snapshot
        self._replies: Replies = {}
        self._batch = 0
        self._executed = 0  # bumped by every change; `durable` waits for it to be committed
        self._committed = 0
        self._waiters: list[tuple[int, asyncio.Future[None]]] = []
        self._dirty = asyncio.Event()
        self._unanswered = False  # a forwarded command changed state, its answer is not ready
        self._answered = asyncio.Event()
        self._snapshot_at = 0.0
        self._snapshot_stale = True  # changes since the gauges were last written
        self.degraded = False  # a batch is being retried: Redis is not answering
        self.ended: str | None = None

    @property
    def batches(self) -> int:
        """Batches written so far in this term (a benchmark divides commands by it)."""
        return self._batch

    # ---------------------------------------------------------------- commands

    def touched(self) -> None:
        """State changed (a command ran): commit it soon."""
        self._executed += 1
        if FORWARDED.get():
            self._unanswered = True
        self._dirty.set()

    async def durable(self) -> None:
        """Return once every change made so far is in Redis; 503 if the term ends first."""
        target = self._executed
        if self._committed >= target:
            return
        if self.ended is not None:
            raise ClusterUnavailable(f"not committed: {self.ended}")
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append((target, future))
        await future

    # -------------------------------------------------------------------- run

    async def run(self) -> None:
        """Until the term ends: raises `StepDown` (or `Fenced`) with the reason."""
        tasks = [
            asyncio.create_task(self._flusher(), name="ringway-flusher"),
            asyncio.create_task(self._renewer(), name="ringway-lease"),
            asyncio.create_task(self._consumer(), name="ringway-commands"),
        ]
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
            for task in done:
                task.result()
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    def end(self, reason: str) -> None:
        """Fail everyone waiting for a commit that will not happen."""
        self.ended = reason
        for _, future in self._waiters:
            if not future.done():
                future.set_exception(ClusterUnavailable(f"not committed: {reason}"))
        self._waiters.clear()

    async def commit_now(self) -> None:
        """Write what is dirty (the takeover's repairs) before the first command is served."""
        self._executed += 1
        await self._flush_once()

    # ---------------------------------------------------------------- flusher

    async def _flusher(self) -> None:
        while True:
            await self._dirty.wait()
            self._dirty.clear()
            # Never write a forwarded command's effects without its answer and cursor:
            # a new leader would apply it a second time.
            while self._unanswered:
                self._answered.clear()
                await self._answered.wait()
            await self._flush_once()
            honour_cancel()

    async def _flush_once(self) -> None:
        target = self._executed
        changes = self.mirror.take()
        extras = Extras(replies=self._replies)
        self._replies = {}
        if self._cursor != self._cursor_sent:
            extras.command_cursor = self._cursor_sent = self._cursor
        self._snapshot_stale |= not changes.empty
        now = time.monotonic()
        if self._snapshot_stale and now - self._snapshot_at >= SNAPSHOT_EVERY_S:
            extras.snapshot, self._snapshot_at = self._snapshot(), now
            self._snapshot_stale = False
        if not (changes.empty and extras.empty):
            self._batch += 1
            await self._write(changes, extras)
        self._committed = target
        self._on_commit(changes.events)
        waiting, self._waiters = self._waiters, []
        for wanted, future in waiting:
            if wanted > target:
                self._waiters.append((wanted, future))
            elif not future.done():
                future.set_result(None)

    async def _write(self, changes: Changes, extras: Extras) -> None:
        backoff = 0.01
        while True:
            try:
                await self.records.write(self.lease.token, self._batch, changes, extras)
                if self.degraded:
                    log.warning("Redis answers again; leader %s resumes", self.lease.node)
                self.degraded = False
                return
            except Fenced as exc:
                raise StepDown(f"fenced off by a newer leader ({exc})") from None
            except ResponseError as exc:  # refused, not lost: retrying cannot help
                raise StepDown(f"Redis refused a batch ({exc}); reloading from Redis") from None
            except RedisError as exc:
                if not self.degraded:
                    log.warning("writing to Redis failed (%s); retrying", exc)
                self.degraded = True
                if time.monotonic() >= self.lease.expires_at:
                    raise StepDown(f"Redis unreachable for a whole lease ({exc})") from None
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF_S)

    # ------------------------------------------------------------------ lease

    async def _renewer(self) -> None:
        interval = self.lease.lease_ms / 3000
        while True:
            await asyncio.sleep(interval)
            if self._snapshot_stale and time.monotonic() - self._snapshot_at >= SNAPSHOT_EVERY_S:
                self._dirty.set()  # gauges left behind by a burst: write them now
            while True:
                try:
                    if not await self.lease.renew():
                        raise StepDown("the lease was taken over")
                    honour_cancel()
                    break
                except RedisError as exc:
                    if time.monotonic() >= self.lease.expires_at:
                        raise StepDown(f"lease lapsed: Redis unreachable ({exc})") from None
                    await asyncio.sleep(min(interval, 0.05))

    # --------------------------------------------------------- forwarded commands

    async def _consumer(self) -> None:
        backoff = 0.01
        while True:
            try:
                found = await self.redis.xread(
                    {self.keys.commands: self._cursor}, count=500, block=500
                )
                backoff = 0.01
            except RedisError:
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF_S)
                continue
            honour_cancel()
            for entry_id, fields in stream_entries(found):
                await self._run_one(entry_id.decode(), fields.get(b"c", b"{}"))

    async def _run_one(self, entry_id: str, raw: bytes) -> None:
        try:
            command = orjson.loads(raw)
            node, request = str(command["node"]), str(command["id"])
        except (orjson.JSONDecodeError, KeyError, TypeError):
            log.warning("dropping malformed forwarded command %s", entry_id)
            self._cursor = entry_id
            return
        queued_ms = int(entry_id.split("-", 1)[0])
        if self.lease.redis_now_ms() > queued_ms + float(command.get("ttl", 0)):
            reply = error_reply(
                "expired", 503, "the command waited too long for a leader; not applied, retry it"
            )
        else:
            token = FORWARDED.set(True)
            try:
                reply = await self._apply(str(command.get("kind")), command.get("payload") or {})
            except Exception:  # a bug in one command must not stop the leader
                log.exception("forwarded command %s failed", entry_id)
                reply = error_reply("internal_error", 500, "internal error; see the leader's log")
            finally:
                FORWARDED.reset(token)
        self._replies.setdefault(node, []).append((request, reply))
        self._cursor = entry_id
        self._executed += 1
        self._unanswered = False
        self._answered.set()
        self._dirty.set()
