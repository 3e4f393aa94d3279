"""The persisted event log in PostgreSQL, with the same synchronous API as `SQLiteEventLog`.

Table ``events``: ``seq bigint`` primary key, ``at double precision`` (indexed
for the interval reports), ``kind``, ``queue`` (NULL for agent events) and
``data jsonb``, the event's other fields. Migrations go through the shared
runner (`crm.postgres_schema.migrate`, component ``eventlog``).

Why synchronous, over an async driver: everything that uses a log is
synchronous by design. `EventPersister` writes from one worker thread and its
cancel-safety rests on a write that runs to completion there whatever happens
to the awaiting flush; the report CLI streams ``between()`` into a plain
generator pipeline. So this class is a thin facade: it owns a private event
loop on a daemon thread, where its asyncpg pool lives, and each method runs one
coroutine there and waits. It is usable from any thread (the pool serialises
nothing it need not), and a drop-in for `SQLiteEventLog` everywhere.

Continuity is strict, as in SQLite: each ``seq`` follows the last by exactly
one. Appends also take an advisory lock and re-read ``MAX(seq)``, so a second
writer (two nodes given the same log) is named instead of silently interleaved,
and a batch whose commit was acknowledged too late (a dropped connection after
COMMIT) is recognised on retry and not refused as a repeat forever.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Coroutine, Generator, Iterable, Sequence
from types import TracebackType
from typing import Any, TypeVar

import asyncpg
from asyncpg.pool import PoolConnectionProxy

from crm.postgres_schema import migrate
from ringway.eventlog import SchemaError
from ringway.pgsupport import redact
from router.events import EVENT_TYPES, Event, event_from_dict

T = TypeVar("T")

COMPONENT = "eventlog"
MIGRATIONS: list[str] = [
    """
    CREATE TABLE events (
        seq   bigint           PRIMARY KEY,
        at    double precision NOT NULL,
        kind  text             NOT NULL,
        queue text             NULL,
        data  jsonb            NOT NULL
    );
    CREATE INDEX events_at ON events (at);
    """,
]
SCHEMA_VERSION = len(MIGRATIONS)
# Serialises appends across connections and processes (arbitrary, fixed: "rwevents").
APPEND_LOCK_KEY = 0x72776576656E7473
STREAM_CHUNK = 500  # rows a between() stream fetches per round trip

_COLUMNS = ("seq", "at", "kind")  # stored as columns, left out of ``data``
_INSERT = "INSERT INTO events (seq, at, kind, queue, data) VALUES ($1, $2, $3, $4, $5)"

Row = tuple[int, float, str, str | None, str]


class EventLogError(RuntimeError):
    """The log cannot be used: closed, or the server unreachable (the cause is chained)."""


class _LoopThread:
    """An event loop running on its own daemon thread; `call` runs a coroutine there."""

    def __init__(self, name: str) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name=name, daemon=True)
        self._thread.start()

    def call(self, coro: Coroutine[Any, Any, T]) -> T:
        if threading.current_thread() is self._thread:
            coro.close()
            raise RuntimeError("a blocking event-log call from the log's own loop would deadlock")
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result()

    def stop(self) -> None:
        self.call(self.loop.shutdown_default_executor())  # asyncpg resolves names there
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join()
        self.loop.close()


class PostgresEventLog:
    def __init__(self, dsn: str, *, command_timeout_s: float = 60.0) -> None:
        self.dsn = dsn
        self._portal: _LoopThread | None = _LoopThread("ringway-eventlog-pg")
        self._streams: set[_Stream] = set()
        try:
            self._pool, self._last_seq = self._portal.call(self._open(command_timeout_s))
        except BaseException as exc:
            self._portal.stop()
            self._portal = None
            if isinstance(exc, OSError | asyncpg.PostgresError | asyncpg.InterfaceError):
                raise EventLogError(f"cannot open event log {redact(dsn)}: {exc}") from exc
            raise

    async def _open(self, command_timeout_s: float) -> tuple[asyncpg.Pool, int]:
        pool: asyncpg.Pool = await asyncpg.create_pool(
            self.dsn, min_size=1, max_size=4, command_timeout=command_timeout_s
        )
        try:
            async with pool.acquire() as conn:
                await migrate(conn, COMPONENT, MIGRATIONS, too_new=_too_new)
                last: int = await conn.fetchval("SELECT COALESCE(MAX(seq), 0) FROM events")
        except BaseException:
            pool.terminate()
            raise
        return pool, last

    # ----------------------------------------------------------------- lifecycle

    def close(self) -> None:
        """Close the pool and its loop. Twice is harmless; any other use afterwards fails."""
        portal, self._portal = self._portal, None
        if portal is None:
            return
        try:
            for stream in list(self._streams):  # readers that never finished their stream
                portal.call(stream.close())
            portal.call(self._pool.close())
        finally:
            portal.stop()

    def __enter__(self) -> PostgresEventLog:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _call(self, coro: Coroutine[Any, Any, T]) -> T:
        portal = self._portal
        if portal is None:
            coro.close()  # never awaited: close it, or Python warns "never awaited"
            raise EventLogError("event log is closed")
        return portal.call(coro)

    # ------------------------------------------------------------------- writing

    @property
    def last_seq(self) -> int:
        """Sequence number of the newest stored event (0 when empty)."""
        return self._last_seq

    def append(self, event: Event) -> None:
        self.append_many([event])

    def append_many(self, events: Iterable[Event]) -> None:
        """Store events in one transaction: all of them or, on any error, none.

        Each ``seq`` must follow the previous one by exactly one; a gap or a
        repeat is refused (ValueError) before anything is written.
        """
        batch = list(events)
        expected = self._last_seq
        for event in batch:
            expected += 1
            if event.seq != expected:
                raise ValueError(f"event seq {event.seq} does not follow {expected - 1}")
        if not batch:
            return
        rows = [_row(event) for event in batch]  # a value jsonb refuses fails here, not mid-write
        self._call(self._append(rows))
        self._last_seq = expected

    async def _append(self, rows: list[Row]) -> None:
        async with self._pool.acquire() as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock($1)", APPEND_LOCK_KEY)
            stored: int = await conn.fetchval("SELECT COALESCE(MAX(seq), 0) FROM events")
            already = await self._already_written(conn, stored, rows)
            if already < len(rows):
                await conn.executemany(_INSERT, rows[already:])

    async def _already_written(
        self, conn: PoolConnectionProxy, stored: int, rows: list[Row]
    ) -> int:
        """How many of ``rows`` the table holds already: 0, unless a commit's ack was lost.

        Anything else past our last seq is another writer's, and is refused.
        """
        if stored == self._last_seq:
            return 0
        first, last = rows[0][0], rows[-1][0]
        if first <= stored <= last:
            found = await conn.fetch(
                "SELECT seq, at, kind, queue, data FROM events"
                " WHERE seq BETWEEN $1 AND $2 ORDER BY seq",
                first,
                stored,
            )
            if len(found) == stored - first + 1 and all(
                _same(row, tuple(rec)) for row, rec in zip(rows, found, strict=False)
            ):
                return len(found)
        raise ValueError(
            f"event log holds seq {stored}, this writer expected {self._last_seq}:"
            " is another node writing to the same log?"
        )

    # ------------------------------------------------------------------- reading

    def read(self, after: int = 0, limit: int = 1000) -> list[Event]:
        """Events with ``seq > after``, oldest first, at most ``limit`` of them."""
        rows = self._call(self._fetch_after(after, limit))
        return [_event(*row) for row in rows]

    async def _fetch_after(self, after: int, limit: int) -> list[asyncpg.Record]:
        rows: list[asyncpg.Record] = await self._pool.fetch(
            "SELECT seq, at, kind, data FROM events WHERE seq > $1 ORDER BY seq LIMIT $2",
            after,
            limit,
        )
        return rows

    def between(self, start_at: float, end_at: float) -> Generator[Event, None, None]:
        """Events with ``start_at <= at < end_at``, streamed in seq order.

        As in SQLite, the ``at`` index only finds the seq range (``at`` may step
        back when a wall clock is corrected); rows are then read along the primary
        key through a server-side cursor, ``STREAM_CHUNK`` at a time, in one
        read-only snapshot. A reader that stops early should ``close()`` the
        generator; `close` of the log ends any stream still open.
        """
        stream = _Stream(self._pool, start_at, end_at)
        self._streams.add(stream)
        try:
            self._call(stream.open())
            while True:
                rows = self._call(stream.fetch(STREAM_CHUNK))
                for row in rows:
                    yield _event(*row)
                if len(rows) < STREAM_CHUNK:
                    return
        finally:
            self._streams.discard(stream)
            if self._portal is not None:
                self._portal.call(stream.close())


class _Stream:
    """One between() read: a pooled connection, a read-only transaction, a cursor."""

    def __init__(self, pool: asyncpg.Pool, start_at: float, end_at: float) -> None:
        self._pool, self._range = pool, (start_at, end_at)
        self._conn: PoolConnectionProxy | None = None
        self._tx: asyncpg.transaction.Transaction | None = None
        self._cursor: asyncpg.cursor.Cursor | None = None

    async def open(self) -> None:
        self._conn = await self._pool.acquire()
        self._tx = self._conn.transaction(isolation="repeatable_read", readonly=True)
        await self._tx.start()
        bounds = await self._conn.fetchrow(
            "SELECT MIN(seq), MAX(seq) FROM events WHERE at >= $1 AND at < $2", *self._range
        )
        first, last = bounds if bounds is not None else (None, None)
        if first is None:
            return
        self._cursor = await self._conn.cursor(
            "SELECT seq, at, kind, data FROM events"
            " WHERE seq BETWEEN $1 AND $2 AND at >= $3 AND at < $4 ORDER BY seq",
            first,
            last,
            *self._range,
        )

    async def fetch(self, count: int) -> list[asyncpg.Record]:
        if self._cursor is None:
            return []
        rows: list[asyncpg.Record] = await self._cursor.fetch(count)
        return rows

    async def close(self) -> None:
        conn, tx, self._conn, self._tx, self._cursor = self._conn, self._tx, None, None, None
        if conn is None:
            return
        try:
            if tx is not None and not conn.is_closed():
                await tx.rollback()  # read-only: nothing to keep
        finally:
            await self._pool.release(conn)


def _too_new(message: str) -> Exception:
    return SchemaError(message)


def _row(event: Event) -> Row:
    data = event.to_dict()
    for name in _COLUMNS:
        del data[name]
    queue = data.get("queue")
    try:
        # jsonb has no NaN/Infinity: refuse here, with the event named, not at COMMIT.
        text = json.dumps(data, separators=(",", ":"), allow_nan=False)
    except ValueError as exc:
        raise ValueError(f"event {event.seq} ({event.kind}) cannot be stored: {exc}") from None
    return (event.seq, event.at, event.kind, queue if isinstance(queue, str) else None, text)


def _same(row: Row, stored: Sequence[Any]) -> bool:
    """Is the stored row this one? (jsonb re-renders ``data``: compare it parsed.)"""
    seq, at, kind, queue, data = row
    return (seq, at, kind, queue) == tuple(stored[:4]) and json.loads(data) == json.loads(stored[4])


def _event(seq: int, at: float, kind: str, data: str) -> Event:
    if kind not in EVENT_TYPES:
        raise SchemaError(f"event {seq}: unknown kind {kind!r} (written by a newer Ringway?)")
    fields: dict[str, Any] = json.loads(data)
    fields.update(seq=seq, at=at, kind=kind)
    return event_from_dict(fields)
