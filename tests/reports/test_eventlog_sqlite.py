"""The SQLite event log: round trips, seq discipline, time ranges, schema version."""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from pathlib import Path

import pytest

from ringway.eventlog import SCHEMA_VERSION, SchemaError, SQLiteEventLog
from router import events as ev
from router.store.base import EventLog


def one_of_each() -> list[ev.Event]:
    """Every event kind, numbered 1.., ``at`` = seq * 10."""
    samples: list[ev.Event] = [
        ev.AgentStateChanged(at=0, agent_id="a", state="ready", previous="offline"),
        ev.ContactQueued(
            at=0, contact_id="c", queue="q", channel="voice", tier="gold", via="arrival"
        ),
        ev.ContactOffered(
            at=0,
            contact_id="c",
            agent_id="a",
            queue="q",
            channel="voice",
            reservation_id="r",
            deadline=99.5,
            wait=1.25,
        ),
        ev.OfferAccepted(
            at=0,
            contact_id="c",
            agent_id="a",
            queue="q",
            channel="voice",
            reservation_id="r",
            wait=1.25,
            tier="gold",
        ),
        ev.OfferRejected(
            at=0, contact_id="c", agent_id="a", queue="q", reservation_id="r", reason="timeout"
        ),
        ev.OfferRescinded(
            at=0, contact_id="c", agent_id="a", reservation_id="r", reason="abandoned"
        ),
        ev.ContactRelaxed(at=0, contact_id="c", queue="q", step=1, requirement="sales>=1"),
        ev.ContactEnded(at=0, contact_id="c", agent_id="a", queue="q", talk=30.0, wrap_until=60.0),
        ev.ContactCompleted(
            at=0,
            contact_id="c",
            agent_id="a",
            queue="q",
            channel="voice",
            handle=45.5,
            disposition="sale",
            customer_id="cu-1",
            auto=True,
        ),
        ev.ContactAbandoned(
            at=0, contact_id="d", queue="q", channel="chat", wait=3.0, agent_id="a"
        ),
        ev.ContactCancelled(at=0, contact_id="e", queue="q", wait=2.0, reason="api"),
        ev.ContactOverflowed(
            at=0, contact_id="f", queue="q", target=None, reason="max_wait", wait=9.0
        ),
        ev.ContactTransferred(at=0, contact_id="c", agent_id="a", queue="q", target="q2"),
        ev.WrapUpExtended(at=0, contact_id="c", agent_id="a", wrap_until=90.0),
    ]
    return [_renumber(e, i) for i, e in enumerate(samples, start=1)]


def _renumber(event: ev.Event, seq: int) -> ev.Event:
    return replace(event, seq=seq, at=seq * 10.0)


def test_every_kind_round_trips_across_a_reopen(tmp_path: Path) -> None:
    events = one_of_each()
    assert {e.kind for e in events} == set(ev.EVENT_TYPES)
    with SQLiteEventLog(tmp_path / "e.sqlite3") as log:
        log.append_many(events)
        assert log.last_seq == len(events)
    with SQLiteEventLog(tmp_path / "e.sqlite3") as log:
        assert log.last_seq == len(events)
        assert log.read() == events


def test_queue_column_and_schema(tmp_path: Path) -> None:
    path = tmp_path / "e.sqlite3"
    with SQLiteEventLog(path) as log:
        log.append_many(one_of_each()[:2])
    conn = sqlite3.connect(path)
    try:
        rows = conn.execute("SELECT seq, at, kind, queue FROM events ORDER BY seq").fetchall()
        assert rows == [(1, 10.0, "agent_state_changed", None), (2, 20.0, "contact_queued", "q")]
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 1
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        plan = conn.execute(
            "EXPLAIN QUERY PLAN SELECT MIN(seq) FROM events WHERE at >= 1 AND at < 2"
        ).fetchall()
        assert "events_at" in str(plan)
    finally:
        conn.close()


def test_seq_must_follow_and_a_bad_batch_writes_nothing(tmp_path: Path) -> None:
    events = one_of_each()
    with SQLiteEventLog(tmp_path / "e.sqlite3") as log:
        log.append_many(events[:3])
        with pytest.raises(ValueError, match="event seq 6 does not follow 4"):
            log.append_many([events[3], events[5]])  # a gap (4 is written, 5 is not)
        with pytest.raises(ValueError, match="does not follow 3"):
            log.append_many(events[1:4])  # a repeat
        assert log.last_seq == 3
        assert [e.seq for e in log.read()] == [1, 2, 3]
        log.append(events[3])
        assert log.last_seq == 4


def test_read_pages_by_seq(tmp_path: Path) -> None:
    events = one_of_each()
    with SQLiteEventLog(tmp_path / "e.sqlite3") as log:
        log.append_many(events)
        assert [e.seq for e in log.read(after=3, limit=4)] == [4, 5, 6, 7]
        assert log.read(after=14) == []


def test_between_is_half_open_and_in_seq_order(tmp_path: Path) -> None:
    events = one_of_each()
    # A wall clock stepped back: seq 6 happened "before" seq 5.
    events[5] = replace(events[5], at=41.0)
    with SQLiteEventLog(tmp_path / "e.sqlite3") as log:
        log.append_many(events)
        got = list(log.between(30.0, 60.0))
        assert [(e.seq, e.at) for e in got] == [(3, 30.0), (4, 40.0), (5, 50.0), (6, 41.0)]
        assert list(log.between(1000, 2000)) == []


def test_between_can_be_abandoned_half_way(tmp_path: Path) -> None:
    with SQLiteEventLog(tmp_path / "e.sqlite3") as log:
        log.append_many(one_of_each())
        stream = log.between(0, 1000)
        assert next(stream).seq == 1
        stream.close()  # closes its cursor
        assert log.read(limit=1)[0].seq == 1


def test_closed_log_refuses_use_and_closes_twice(tmp_path: Path) -> None:
    log = SQLiteEventLog(tmp_path / "e.sqlite3")
    log.close()
    log.close()
    with pytest.raises(sqlite3.ProgrammingError, match="closed"):
        log.read()


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "e.sqlite3"
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA user_version = 99")
    conn.close()
    with pytest.raises(SchemaError, match="version 99"):
        SQLiteEventLog(path)


def test_unknown_kind_is_named(tmp_path: Path) -> None:
    path = tmp_path / "e.sqlite3"
    SQLiteEventLog(path).close()
    conn = sqlite3.connect(path)
    with conn:
        conn.execute("INSERT INTO events VALUES (1, 1.0, 'from_the_future', NULL, '{}')")
    conn.close()
    with SQLiteEventLog(path) as log, pytest.raises(SchemaError, match="from_the_future"):
        log.read()


def test_it_is_an_event_log_for_the_router(tmp_path: Path) -> None:
    with SQLiteEventLog(tmp_path / "e.sqlite3") as log:
        typed: EventLog = log
        typed.append(one_of_each()[0])
        assert typed.last_seq == 1
