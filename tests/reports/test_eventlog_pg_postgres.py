"""What only the PostgreSQL event log has: a shared server, other writers, lost acks, threads.

Plus the two places it plugs in: ``service.event_log: postgresql://…`` (with
the PostgreSQL customer store, end to end) and ``report intervals --events``.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest
from test_reports_cli import FROM, TO, drive, invoke  # the report's reference scenario

from crm.model import Tier
from ringway.app import build
from ringway.config import load_config_text
from ringway.eventlog import SQLiteEventLog
from ringway.eventlog_pg import SCHEMA_VERSION, EventLogError, PostgresEventLog
from ringway.pgsupport import ensure_postgres, temporary_database
from ringway.service import NewContact
from router import events as ev
from router.model import Channel


@pytest.fixture(scope="module")
def pg_admin() -> str:
    return ensure_postgres()


@pytest.fixture
def dsn(pg_admin: str) -> Iterator[str]:
    with temporary_database(pg_admin, "eventlog_pg") as url:
        yield url


def agent_events(first: int, count: int, state: str = "ready") -> list[ev.Event]:
    return [
        ev.AgentStateChanged(seq=seq, at=float(seq), agent_id="a", state=state, previous="x")
        for seq in range(first, first + count)
    ]


def query(dsn: str, sql: str) -> list[tuple[object, ...]]:
    async def main() -> list[tuple[object, ...]]:
        conn = await asyncpg.connect(dsn)
        try:
            await conn.execute("SET enable_seqscan = off")  # plans as on a big table
            return [tuple(r) for r in await conn.fetch(sql)]
        finally:
            await conn.close()

    return asyncio.run(main())


def test_schema_ledger_columns_and_index(dsn: str) -> None:
    with PostgresEventLog(dsn) as log:
        log.append_many(agent_events(1, 2))
    assert query(dsn, "SELECT component, version FROM schema_migrations") == [
        ("eventlog", SCHEMA_VERSION)
    ]
    columns = query(
        dsn,
        "SELECT column_name, data_type FROM information_schema.columns"
        " WHERE table_name = 'events' ORDER BY ordinal_position",
    )
    assert columns == [
        ("seq", "bigint"),
        ("at", "double precision"),
        ("kind", "text"),
        ("queue", "text"),
        ("data", "jsonb"),
    ]
    plan = query(dsn, "EXPLAIN SELECT MIN(seq) FROM events WHERE at >= 1 AND at < 2")
    assert "events_at" in str(plan)
    data = query(dsn, "SELECT data->>'agent_id', data ? 'seq' FROM events WHERE seq = 1")
    assert data == [("a", False)]  # seq, at, kind live in columns only


def test_a_second_writer_is_named_not_interleaved(dsn: str) -> None:
    with PostgresEventLog(dsn) as node_a, PostgresEventLog(dsn) as node_b:
        node_a.append_many(agent_events(1, 3))
        with pytest.raises(ValueError, match="holds seq 3, this writer expected 0"):
            node_b.append_many(agent_events(1, 2, state="away"))  # its own seq 1, 2
        assert node_b.last_seq == 0
        assert [e.state for e in node_a.read()] == ["ready"] * 3


def test_a_batch_whose_commit_ack_was_lost_is_not_written_twice(dsn: str) -> None:
    # node_b's view (last_seq 0) is what a writer has after its COMMIT landed but the
    # acknowledgement was lost with the connection: the persister retries the batch.
    with PostgresEventLog(dsn) as node_a, PostgresEventLog(dsn) as node_b:
        node_a.append_many(agent_events(1, 3))
        node_b.append_many(agent_events(1, 5))  # 1-3 are there and identical: only 4-5 go in
        assert node_b.last_seq == 5
        assert node_b.read() == agent_events(1, 5)
        node_b.append_many(agent_events(6, 1))
    assert query(dsn, "SELECT COUNT(*) FROM events") == [(6,)]


def test_a_value_jsonb_cannot_hold_is_refused_before_writing(dsn: str) -> None:
    bad = ev.ContactAbandoned(
        seq=2, at=2.0, contact_id="c", queue="q", channel="voice", wait=float("inf")
    )
    with PostgresEventLog(dsn) as log:
        log.append_many(agent_events(1, 1))
        with pytest.raises(ValueError, match=r"event 2 \(contact_abandoned\) cannot be stored"):
            log.append_many([bad])
        assert log.last_seq == 1
        log.append_many(agent_events(2, 1))


def test_it_serves_several_threads_at_once(dsn: str) -> None:
    with PostgresEventLog(dsn) as log:
        log.append_many(agent_events(1, 300))
        seen: list[list[int]] = []
        errors: list[BaseException] = []

        def reader() -> None:
            try:
                for _ in range(5):
                    seen.append([e.seq for e in log.between(0.0, 1000.0)])
            except BaseException as exc:  # reported below, with the assertion's context
                errors.append(exc)

        threads = [threading.Thread(target=reader) for _ in range(4)]
        for thread in threads:
            thread.start()
        log.append_many(agent_events(301, 100))  # a writer alongside the readers
        for thread in threads:
            thread.join()
    assert errors == []
    assert len(seen) == 20
    assert all(s in (list(range(1, 301)), list(range(1, 401))) for s in seen)


def test_an_unreachable_server_is_one_clear_error() -> None:
    with pytest.raises(EventLogError, match=r"cannot open event log postgresql://x:\*\*\*@"):
        PostgresEventLog("postgresql://x:secret@127.0.0.1:1/nowhere")


# ------------------------------------------------------------ report CLI


def test_report_reads_postgres_like_sqlite(dsn: str, tmp_path: Path) -> None:
    events = drive()
    with SQLiteEventLog(tmp_path / "e.sqlite3") as log:
        log.append_many(events)
    with PostgresEventLog(dsn) as log:
        log.append_many(events)
    from_sqlite = invoke("--from", FROM, "--to", TO, "--events", tmp_path / "e.sqlite3", "--json")
    from_postgres = invoke("--from", FROM, "--to", TO, "--events", dsn, "--json")
    assert from_postgres == from_sqlite
    assert from_postgres[0] == 0 and json.loads(from_postgres[1])["rows"]


def test_report_on_an_unreachable_server_is_one_line_and_exit_2() -> None:
    url = "postgresql://ringway:hunter2@127.0.0.1:1/events"
    code, out, err = invoke("--from", FROM, "--to", TO, "--events", url)
    assert (code, out) == (2, "")
    assert err.startswith("error: cannot open event log postgresql://ringway:***@127.0.0.1:1")
    assert err.count("\n") == 1 and "hunter2" not in err


# ------------------------------------------------------- the service, end to end

CONFIG = """
service:
  data_dir: "{data_dir}"
  customer_store: "{dsn}"
  event_log: "{dsn}"
  seed_demo_customers: true
skills: [support]
queues:
  - {{name: support, channel: voice, requires: "support>=1"}}
agents:
  - {{id: alice, name: Alice, skills: {{support: 5}}}}
"""


def test_service_on_postgres_persists_events_and_history(dsn: str, tmp_path: Path) -> None:
    config = load_config_text(CONFIG.format(data_dir=tmp_path, dsn=dsn), "pg.yaml")

    async def serve_one_call() -> tuple[int, str]:
        bundle = build(config, {})
        async with bundle.app.router.lifespan_context(bundle.app):
            service = bundle.service
            router = service.router
            service.execute("login", lambda now: router.login("alice", now, ready=True))
            contact = await service.create_contact(
                NewContact(channel=Channel.VOICE, origin="+442079460958")
            )
            service.execute("accept", lambda now: router.accept("alice", contact.id, now))
            await service.complete("alice", contact.id, disposition="resolved", notes="ok")
            history = await service.customers.history("cust-1001")
            gold = await service.customers.get("cust-1001")  # seeded into PostgreSQL
            assert gold is not None and gold.tier is Tier.GOLD
            return router.store.events.last_seq, history[0].contact_id or ""

    last_seq, contact_id = asyncio.run(serve_one_call())
    with PostgresEventLog(dsn) as log:
        stored = log.read(limit=10_000)
    assert [e.seq for e in stored] == list(range(1, last_seq + 1))
    assert {"contact_queued", "offer_accepted", "contact_completed"} <= {e.kind for e in stored}
    assert any(getattr(e, "contact_id", None) == contact_id for e in stored)

    async def restart() -> list[int]:  # the next run numbers on from the log
        bundle = build(config, {})
        async with bundle.app.router.lifespan_context(bundle.app):
            router = bundle.service.router
            events = bundle.service.execute("login", lambda now: router.login("alice", now))
            return [e.seq for e in events]

    assert asyncio.run(restart()) == [last_seq + 1]
    with PostgresEventLog(dsn) as log:
        assert log.last_seq == last_seq + 1
