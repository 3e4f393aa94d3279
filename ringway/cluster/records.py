"""The Redis side of the store: load every record at takeover, write fenced batches.

Together with `ringway.cluster.mirror.MirrorStore` (the `RoutingStore` the
router writes through) this is the Redis implementation of the store interface:
contacts (live, and the newest finished ones), agents, reservations and the
event sequence live in Redis; queue definitions come from the configuration
every node shares, and what waits in each queue is read off the contacts.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from redis.asyncio import Redis

from ringway.cluster import codec, scripts
from ringway.cluster.errors import Fenced
from ringway.cluster.keys import Keys
from ringway.cluster.mirror import Changes
from router.agents import Agent
from router.model import Contact, Reservation

Replies = dict[str, list[tuple[str, bytes]]]  # node -> (request id, reply)


@dataclass(slots=True)
class Loaded:
    seq: int | None  # None: a fresh Redis (no leader ever wrote)
    command_cursor: str
    contacts: list[Contact] = field(default_factory=list)
    agents: list[Agent] = field(default_factory=list)
    reservations: list[Reservation] = field(default_factory=list)


@dataclass(slots=True, kw_only=True)
class Extras:
    """What a batch carries besides records: forwarded-command bookkeeping, gauges."""

    command_cursor: str = ""
    replies: Replies = field(default_factory=dict)
    snapshot: bytes = b""

    @property
    def empty(self) -> bool:
        return not (self.command_cursor or self.replies or self.snapshot)


class Records:
    def __init__(self, redis: Redis, keys: Keys, *, keep_events: int, keep_finished: int) -> None:
        self.redis, self.keys = redis, keys
        self.keep_events, self.keep_finished = keep_events, keep_finished
        self._flush = redis.register_script(scripts.FLUSH)

    async def load(self) -> Loaded:
        """One consistent read (MULTI/EXEC) of everything a new leader needs."""
        k = self.keys
        async with self.redis.pipeline(transaction=True) as pipe:
            for key in (k.seq, k.command_cursor):
                pipe.get(key)
            for key in (k.contacts, k.finished, k.agents, k.reservations):
                pipe.hvals(key)
            seq, cursor, live, finished, agents, reservations = await pipe.execute()
        return Loaded(
            seq=None if seq is None else int(seq),
            command_cursor=cursor.decode() if cursor else "0-0",
            contacts=[codec.contact_from(raw) for raw in [*live, *finished]],
            agents=[codec.agent_from(raw) for raw in agents],
            reservations=[codec.reservation_from(raw) for raw in reservations],
        )

    async def write(self, token: int, batch: int, changes: Changes, extras: Extras) -> bool:
        """Write one batch if ``token`` is still the epoch. False: it was written already.

        Raises `Fenced` when a newer leader exists; redis errors (connection lost)
        propagate and the caller retries the very same batch.
        """
        k = self.keys
        keys = [
            k.epoch,
            k.commit,
            k.seq,
            k.contacts,
            k.finished,
            k.finished_order,
            k.agents,
            k.reservations,
            k.events,
            k.command_cursor,
            k.snapshot,
            k.commands,
            *(k.replies(node) for node in extras.replies),
        ]
        args: list[bytes | str | int] = [
            token,
            batch,
            changes.seq_before,
            changes.seq_after,
            codec.events_json(changes.events) if changes.events else b"",
            max(0, changes.seq_after - self.keep_events),
            self.keep_finished,
            extras.command_cursor,
            extras.snapshot,
            len(changes.live),
            len(changes.finished),
            len(changes.agents),
            len(changes.agents_deleted),
            len(changes.reservations),
            len(changes.reservations_deleted),
            len(extras.replies),
        ]
        for pairs in (changes.live, changes.finished, changes.agents):
            for rid, raw in pairs:
                args += (rid, raw)
        args += changes.agents_deleted
        for rid, raw in changes.reservations:
            args += (rid, raw)
        args += changes.reservations_deleted
        for answers in extras.replies.values():
            args.append(len(answers))
            for request, reply in answers:
                args += (request, reply)
        try:
            result = await self._flush(keys=keys, args=args)
        except Exception as exc:  # redis.ResponseError carries the script's error reply
            if str(exc).startswith("FENCED"):
                raise Fenced(str(exc)) from None
            raise
        return bool(result == b"OK")
