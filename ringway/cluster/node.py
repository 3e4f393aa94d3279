"""A node of a Ringway cluster: the role loop, and the `RoutingService`'s router host.

Every node tries to take the tenant's lease. The one that holds it leads: it
loads every record from Redis, rebuilds the router with `router.restore`
(crash debris repaired), lets the router catch up (`rebalance`, then `tick`:
offers whose deadline passed while nobody routed become RONAs and their
contacts go back to their place), commits that, and serves. The others follow
the event stream and forward commands. A node whose term ends drops its router
and follows again; one that loses Redis retries with backoff, whatever its role.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from typing import Any

import orjson
from redis.asyncio import Redis
from redis.exceptions import RedisError
from starlette.types import ASGIApp

from ringway.cluster import asgi, codec, rpc
from ringway.cluster.chatlink import ChatLink
from ringway.cluster.connect import connect
from ringway.cluster.errors import ClusterUnavailable, Fenced, NotLeader
from ringway.cluster.follower import EventFollower
from ringway.cluster.gauges import follower_snapshot, gauges_json
from ringway.cluster.keys import Keys, honour_cancel
from ringway.cluster.leader import StepDown, Term
from ringway.cluster.lease import Lease
from ringway.cluster.records import Records
from ringway.cluster.replica import Replica
from ringway.cluster.takeover import rebuild
from ringway.config import RingwayConfig
from ringway.metrics import Snapshot
from ringway.service import NewContact, RoutingService
from router.errors import RoutingError
from router.events import Event
from router.model import Contact
from router.store.memory import MemoryEventLog

log = logging.getLogger(__name__)

KEEP_DELIVERED = 200_000  # events each node keeps in memory for subscribers' backlog


class ClusterNode:
    def __init__(self, config: RingwayConfig, *, node_id: str | None = None) -> None:
        service = config.service
        if service.redis_url is None:
            raise ValueError("a cluster node needs service.redis_url")
        self.config, self.url, self.settings = config, service.redis_url, service.cluster
        self.node_id = node_id or service.node_id or f"{socket.gethostname()}-{os.getpid()}"
        self.keys = Keys(self.settings.tenant)
        self.events = MemoryEventLog(KEEP_DELIVERED)  # what this node delivered: committed
        self.cursor = 0
        self.leader: str | None = None  # last known lease holder
        self.term: Term | None = None
        self.app: ASGIApp | None = None  # runs forwarded API requests (set by ringway.app)
        self._service: RoutingService | None = None
        self._redis: Redis | None = None
        self._gauges: dict[str, Any] | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._following: asyncio.Task[None] | None = None
        self.replica = Replica(config.queues)  # what a follower's websockets read
        self.chat_link = ChatLink(self.keys, self.node_id)  # chats whose agent is elsewhere

    # ------------------------------------------------------------ router host

    @property
    def service(self) -> RoutingService:
        assert self._service is not None, "the node is not started"
        return self._service

    @property
    def redis(self) -> Redis:
        """This node's Redis connection (for edges sharing state, e.g. `cluster.phones`)."""
        assert self._redis is not None, "the node is not started"
        return self._redis

    @property
    def is_leader(self) -> bool:
        return self.term is not None

    async def start(self, service: RoutingService, first_seq: int) -> None:
        self._service, self.cursor = service, first_seq
        self.events = MemoryEventLog(KEEP_DELIVERED, start=first_seq)
        self._redis = await connect(self.url)
        r, s = self._redis, self.settings
        self.lease = Lease(r, self.keys, self.node_id, s.lease_ms)
        self.records = Records(
            r, self.keys, keep_events=s.keep_events, keep_finished=s.keep_finished
        )
        self.follower = EventFollower(
            r, self.keys, lambda: self.cursor, self._deliver, self._refresh_replica
        )
        self.forwarder = rpc.Forwarder(
            r, self.keys, self.node_id, ttl_ms=s.command_ttl_ms, lease_ms=s.lease_ms
        )
        await self.forwarder.start()
        await self.chat_link.start(r)
        self._tasks.append(asyncio.create_task(self._run(), name="ringway-cluster"))
        await self._settled(s.lease_ms / 1000 + 1.0)

    async def _settled(self, timeout_s: float) -> None:
        """Wait (bounded) until this node leads or has loaded its replica, so the first
        websocket after start-up finds the agents; a slow Redis only delays it."""
        deadline = asyncio.get_running_loop().time() + timeout_s
        while not (self.is_leader or self.replica.loaded):
            if asyncio.get_running_loop().time() > deadline:
                log.warning(
                    "node %s: no role after %.1f s; serving anyway", self.node_id, timeout_s
                )
                return
            await asyncio.sleep(0.01)

    async def stop(self) -> None:
        """Commit what is pending, hand the lease over, close the connections."""
        term = self.term
        if term is not None:
            with contextlib.suppress(RoutingError, TimeoutError):
                async with asyncio.timeout(self.settings.lease_ms / 1000):
                    await term.durable()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        await self._stop_following()
        if self._redis is not None:
            await self.chat_link.stop()
            await self.forwarder.stop()
            await self._redis.aclose()

    def before_command(self, name: str) -> None:
        term = self.term
        if term is None:
            raise self.not_leader()
        # Timers may run on (their effects wait in memory); requests get an answer now.
        if term.degraded and name != "tick":
            raise ClusterUnavailable("Redis is not answering; the command was not applied, retry")

    def after_command(self, events: list[Event]) -> None:
        if self.term is not None:
            self.term.touched()

    def not_leader(self) -> RoutingError:
        leader = self.leader if self.leader and self.leader != self.node_id else "none right now"
        return NotLeader(
            f"node {self.node_id} does not route (leader: {leader}); send the request to the "
            "cluster (any node's API forwards it) or retry"
        )

    def snapshot(self) -> Snapshot | None:
        """Live gauges for a follower's /metrics: the leader's, with this node's KPIs."""
        doc = self._gauges
        if doc is None:
            return None
        return follower_snapshot(doc, self.service.stats, self.service.now())

    # ------------------------------------------------------------- the cluster

    async def durable(self) -> None:
        """On the leader: return once all changes so far are committed. Elsewhere: at once."""
        if self.term is not None:
            await self.term.durable()

    async def call(self, name: str, **args: Any) -> dict[str, Any]:
        """Run a routing command (`rpc.CALLS`) through whichever node leads; its result.

        Raises the leader's `RoutingError` (its code and status), or 503
        (`ClusterUnavailable`) when it was not applied.
        """
        if self.term is not None:
            result = await rpc.apply_call(self.service, name, args)
            await self.durable()
            return result
        result = rpc.call_result(await self.forwarder.send("call", {"name": name, "args": args}))
        await self._after_forwarded(args)
        return result

    async def create_contact(self, new: NewContact) -> Contact:
        """`RoutingService.create_contact` on a node that does not route: via the leader."""
        result = await self.call("contact_arrived", **rpc.new_contact_args(new))
        return codec.contact_from(orjson.dumps(result["contact"]))

    @property
    def reads(self) -> Replica:
        """The records a follower's websockets read (the leader reads its router)."""
        return self.replica

    async def _after_forwarded(self, args: dict[str, Any]) -> None:
        """The command is committed: read back what it named, so the next frame shows it
        even when it changed no event (a pending not-ready, say)."""
        assert self._redis is not None
        agents = [v for k in ("agent_id", "owner") if isinstance(v := args.get(k), str)]
        contacts = [v] if isinstance(v := args.get("contact_id"), str) else []
        with contextlib.suppress(RedisError):  # the event replay refreshes them anyway
            await self.replica.fetch(self._redis, self.keys, contacts=contacts, agents=agents)

    async def _refresh_replica(self, events: list[Event]) -> None:
        assert self._redis is not None
        if not self.replica.loaded:
            await self.replica.reload(self.records.load)
        await self.replica.refresh(self._redis, self.keys, events)

    async def _apply(self, kind: str, payload: dict[str, Any]) -> bytes:
        """A forwarded command, run here because this node leads."""
        if kind == "call":
            return await rpc.run_call(self.service, payload)
        if kind == "http" and self.app is not None:
            return await asgi.run_request(self.app, payload)
        return rpc.error_reply("unknown_kind", 400, f"cannot run a {kind!r} command here")

    # -------------------------------------------------------------- role loop

    async def _run(self) -> None:
        backoff, down = 0.05, False
        while True:
            try:
                if await self.lease.acquire():
                    honour_cancel()
                    await self._lead()
                else:
                    self._follow()
                    await self._watch()
                honour_cancel()
                backoff, down = 0.05, False
            except RedisError as exc:
                if not down:
                    log.warning("node %s: Redis unavailable (%s); retrying", self.node_id, exc)
                down = True
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 1.0)
            except Exception:  # a bug must not silently end the node's part in the cluster
                log.exception("node %s: cluster loop failed; retrying", self.node_id)
                await asyncio.sleep(1.0)

    async def _watch(self) -> None:
        """One look at who leads (and their gauges), then wait until the lease may be free."""
        assert self._redis is not None
        # Context-managed: a bare pipeline left unreset broke cancelling other tasks'
        # blocking reads on the same pool (seen with redis-py 8.1).
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.get(self.keys.lease)
            pipe.pttl(self.keys.lease)
            pipe.get(self.keys.snapshot)
            holder, ttl_ms, gauges = await pipe.execute()
        self.leader = holder.decode() if holder else None
        if gauges:
            self._gauges = orjson.loads(gauges)
        # Wake right when a dead leader's lease lapses, and anyway every third of a lease.
        await asyncio.sleep(min(self.settings.lease_ms / 3000, max(ttl_ms, 1) / 1000))

    def _follow(self) -> None:
        if self._following is None or self._following.done():
            self._following = asyncio.create_task(self._follow_run(), name="ringway-follow")

    async def _follow_run(self) -> None:
        """Load the replica whole, then replay events (refreshing it) until cancelled."""
        while True:
            try:
                await self.replica.reload(self.records.load)
                break
            except RedisError:
                await asyncio.sleep(0.1)
            honour_cancel()
        await self.follower.run()

    async def _stop_following(self) -> None:
        task, self._following = self._following, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    async def _lead(self) -> None:
        await self._stop_following()
        self.replica.loaded = False  # stale from now on: reloaded when this node follows again
        reason, stopping = "the node is stopping", False
        try:
            self.term = await self._take_over()
            self.leader = self.node_id
            await self.term.run()
        except (StepDown, Fenced) as exc:
            reason = str(exc)
            log.warning("node %s: leader term %d ended: %s", self.node_id, self.lease.token, reason)
        except asyncio.CancelledError:
            stopping = True
            raise
        except BaseException as exc:
            reason = f"{type(exc).__name__}: {exc}"
            raise
        finally:
            term, self.term = self.term, None
            if term is not None:
                term.end(reason)
            await self.service.remove_router()
            if stopping:  # a clean stop: let the next leader take over at once
                with contextlib.suppress(RedisError, asyncio.CancelledError):
                    await asyncio.shield(self.lease.release())

    async def _take_over(self) -> Term:
        assert self._redis is not None
        loaded = await self.records.load()
        seq = self.cursor if loaded.seq is None else loaded.seq
        await self.follower.catch_up(seq)  # deliver the previous leader's last batches first
        if self.cursor != seq:
            log.warning("node %s: events up to %d are not in the stream", self.node_id, seq)
            self.cursor, self.events = seq, MemoryEventLog(KEEP_DELIVERED, start=seq)
        history = self.events.read(0, KEEP_DELIVERED)
        now = self.service.now()
        router, mirror = rebuild(self.config, loaded, seq=seq, now=now, history=history)
        term = Term(
            redis=self._redis,
            keys=self.keys,
            lease=self.lease,
            records=self.records,
            mirror=mirror,
            command_cursor=loaded.command_cursor,
            apply=self._apply,
            on_commit=lambda events: self._deliver(events, history=True),
            snapshot=lambda: gauges_json(router, self.service.now()),
        )
        await term.commit_now()  # the repairs and RONAs, before any command is served
        self.service.install_router(router)
        log.warning(
            "node %s leads tenant %s (epoch %d): %d live contacts, %d agents, seq %d",
            self.node_id,
            self.settings.tenant,
            self.lease.token,
            len(router.live_contacts()),
            len(router.agents),
            seq,
        )
        return term

    def _deliver(self, events: list[Event], *, history: bool = False) -> None:
        """Hand committed events to this node's bus, stats and event log, once each, in order."""
        fresh = [e for e in events if e.seq > self.cursor]
        if not fresh:
            return
        if fresh[0].seq != self.cursor + 1:
            log.error(
                "node %s: events %d..%d were trimmed from the stream before it read them",
                self.node_id,
                self.cursor + 1,
                fresh[0].seq - 1,
            )
            self.events = MemoryEventLog(KEEP_DELIVERED, start=fresh[0].seq - 1)
        for event in fresh:
            self.events.append(event)
        self.cursor = fresh[-1].seq
        self.service.publish_committed(fresh, history=history)
