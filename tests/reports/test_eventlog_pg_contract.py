"""The event-log contract, run against SQLite and PostgreSQL alike.

Each backend comes as a `Backend`: ``open()`` gives a new log instance on the
same storage (so "reopen" means what it says), and two hooks reach under the
API to plant what only a newer Ringway would write. PostgreSQL is a real server
(`ensure_postgres`) with a fresh database per test.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Protocol

import asyncpg
import pytest
from test_eventlog_sqlite import one_of_each  # the sample of every event kind

from ringway.eventlog import SchemaError, SQLiteEventLog
from ringway.eventlog_pg import STREAM_CHUNK, EventLogError, PostgresEventLog
from ringway.persist import EventPersister
from ringway.pgsupport import ensure_postgres, temporary_database
from router import events as ev
from router.store.base import EventLog

Log = SQLiteEventLog | PostgresEventLog


class Backend(Protocol):
    def open(self) -> Log: ...
    def plant_row(self, seq: int, kind: str) -> None: ...
    def claim_schema_version(self, version: int) -> None: ...


class SQLiteBackend:
    def __init__(self, path: Path) -> None:
        self.path = path

    def open(self) -> Log:
        return SQLiteEventLog(self.path)

    def plant_row(self, seq: int, kind: str) -> None:
        with sqlite3.connect(self.path) as conn:
            conn.execute("INSERT INTO events VALUES (?, 1.0, ?, NULL, '{}')", (seq, kind))
        conn.close()

    def claim_schema_version(self, version: int) -> None:
        conn = sqlite3.connect(self.path)
        conn.execute(f"PRAGMA user_version = {version:d}")
        conn.close()


class PostgresBackend:
    def __init__(self, dsn: str) -> None:
        self.dsn = dsn

    def open(self) -> Log:
        return PostgresEventLog(self.dsn)

    def _execute(self, sql: str, *args: object) -> None:
        async def main() -> None:
            conn = await asyncpg.connect(self.dsn)
            try:
                await conn.execute(sql, *args)
            finally:
                await conn.close()

        asyncio.run(main())

    def plant_row(self, seq: int, kind: str) -> None:
        self._execute("INSERT INTO events VALUES ($1, 1.0, $2, NULL, '{}')", seq, kind)

    def claim_schema_version(self, version: int) -> None:
        self._execute("INSERT INTO schema_migrations VALUES ('eventlog', $1)", version)


@pytest.fixture(scope="module")
def pg_admin() -> str:
    return ensure_postgres()


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    if request.param == "sqlite":
        yield SQLiteBackend(tmp_path / "e.sqlite3")
        return
    admin = request.getfixturevalue("pg_admin")  # only PostgreSQL runs need the server
    with temporary_database(admin, "eventlog_contract") as dsn:
        yield PostgresBackend(dsn)


def agent_events(first: int, count: int) -> list[ev.Event]:
    return [
        ev.AgentStateChanged(seq=seq, at=float(seq), agent_id="a", state="ready", previous="x")
        for seq in range(first, first + count)
    ]


def test_an_empty_log(backend: Backend) -> None:
    with backend.open() as log:
        assert log.last_seq == 0
        assert log.read() == []
        assert list(log.between(0, 1e12)) == []


def test_every_kind_round_trips_across_a_reopen(backend: Backend) -> None:
    events = one_of_each()
    assert {e.kind for e in events} == set(ev.EVENT_TYPES)
    with backend.open() as log:
        log.append_many(events)
        assert log.last_seq == len(events)
    with backend.open() as log:
        assert log.last_seq == len(events)
        assert log.read() == events
        assert [type(e.at) for e in log.read()] == [float] * len(events)


def test_seq_must_follow_and_a_bad_batch_writes_nothing(backend: Backend) -> None:
    events = one_of_each()
    with backend.open() as log:
        log.append_many(events[:3])
        with pytest.raises(ValueError, match="event seq 6 does not follow 4"):
            log.append_many([events[3], events[5]])  # a gap (4 is written, 5 is not)
        with pytest.raises(ValueError, match="does not follow 3"):
            log.append_many(events[1:4])  # a repeat
        log.append_many([])
        assert log.last_seq == 3
        assert [e.seq for e in log.read()] == [1, 2, 3]
        log.append(events[3])
        assert log.last_seq == 4
    with backend.open() as log:
        assert [e.seq for e in log.read()] == [1, 2, 3, 4]


def test_read_pages_by_seq(backend: Backend) -> None:
    with backend.open() as log:
        log.append_many(one_of_each())
        assert [e.seq for e in log.read(after=3, limit=4)] == [4, 5, 6, 7]
        assert log.read(after=14) == []


def test_between_is_half_open_and_in_seq_order(backend: Backend) -> None:
    events = one_of_each()
    events[5] = replace(events[5], at=41.0)  # a wall clock stepped back: 6 "before" 5
    with backend.open() as log:
        log.append_many(events)
        got = list(log.between(30.0, 60.0))
        assert [(e.seq, e.at) for e in got] == [(3, 30.0), (4, 40.0), (5, 50.0), (6, 41.0)]
        assert list(log.between(1000, 2000)) == []


def test_between_streams_a_long_range_in_order(backend: Backend) -> None:
    count = STREAM_CHUNK * 2 + 7  # several chunks, and a short last one
    with backend.open() as log:
        log.append_many(agent_events(1, count))
        seqs = [e.seq for e in log.between(2.0, float(count))]
    assert seqs == list(range(2, count))


def test_between_can_be_abandoned_half_way(backend: Backend) -> None:
    with backend.open() as log:
        log.append_many(one_of_each())
        stream = log.between(0, 1000)
        assert next(stream).seq == 1
        stream.close()
        assert log.read(limit=1)[0].seq == 1
        log.append_many(agent_events(15, 1))  # nothing held open blocks a writer
        assert log.last_seq == 15


def test_a_stream_left_open_ends_with_the_log(backend: Backend) -> None:
    log = backend.open()
    log.append_many(agent_events(1, 3))
    stream = log.between(0, 10)
    assert next(stream).seq == 1
    log.close()
    stream.close()  # after the log: harmless


def test_closed_log_refuses_use_and_closes_twice(backend: Backend) -> None:
    log = backend.open()
    log.close()
    log.close()
    with pytest.raises((sqlite3.ProgrammingError, EventLogError), match="closed"):
        log.read()


def test_newer_schema_is_refused(backend: Backend) -> None:
    backend.open().close()
    backend.claim_schema_version(99)
    with pytest.raises(SchemaError, match="version 99 is newer"):
        backend.open()


def test_unknown_kind_is_named(backend: Backend) -> None:
    backend.open().close()
    backend.plant_row(1, "from_the_future")
    with backend.open() as log, pytest.raises(SchemaError, match="from_the_future"):
        log.read()


def test_it_is_an_event_log_for_the_router(backend: Backend) -> None:
    with backend.open() as log:
        typed: EventLog = log
        typed.append(one_of_each()[0])
        assert typed.last_seq == 1


def test_the_persister_writes_through_it_in_order(backend: Backend) -> None:
    log = backend.open()

    async def main() -> None:
        persister = EventPersister(log, batch=200, interval_s=10)
        persister.start()
        persister.submit(agent_events(1, 450))
        await persister.flush()
        persister.submit(agent_events(451, 50))
        await persister.close()  # flushes the rest and closes the log

    asyncio.run(main())
    with pytest.raises(Exception, match="closed"):
        log.read()
    with backend.open() as reopened:
        assert [e.seq for e in reopened.read(limit=10_000)] == list(range(1, 501))


def test_data_keeps_every_field_exactly(backend: Backend) -> None:
    tricky = ev.ContactCompleted(
        seq=1,
        at=1704103200.123456,
        contact_id="c-ü'\"\\",
        agent_id="a",
        queue="q",
        channel="voice",
        handle=0.1 + 0.2,  # a float with no short decimal form
        disposition=json.dumps({"nested": [1, None]}),
        customer_id=None,
        auto=False,
    )
    with backend.open() as log:
        log.append(tricky)
    with backend.open() as log:
        assert log.read() == [tricky]
