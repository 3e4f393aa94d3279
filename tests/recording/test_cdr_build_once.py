"""A CDR is built once (no copy per contact field) and, on the router path, queued for
the store without a task or a future per call; what is stored is what it always was."""

from __future__ import annotations

import asyncio
import itertools
import logging
import sqlite3
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from cdr_kit import T0, NoStore, Records, contact, service_with

from ringway.cdr import CallDetailRecord, CallDetails, CdrStore, Outcome, _outcome, _row
from router.model import Contact, ContactStatus


def details_for(contacts: dict[str, Contact], store: CdrStore | None = None) -> CallDetails:
    return CallDetails(service_with(contacts.values()), store or NoStore())


def reference(facts: dict[str, Any], found: Any, connected_at: float | None) -> CallDetailRecord:
    """The record as it was built before: the facts, then `replace` with the contact's."""
    cdr = CallDetailRecord(**{**facts, "outcome": facts["outcome"] or _outcome(found)})
    if facts["direction"] == "outbound":
        if found is None:
            return replace(cdr, connected_at=connected_at)
        return replace(
            cdr,
            queue=found.queue,
            agent_id=found.agent_id if found.answered_at is not None else None,
            connected_at=connected_at,
            customer_id=found.customer_id,
            disposition=found.disposition,
        )
    if found is None:
        return cdr
    return replace(
        cdr,
        queue=found.queue,
        agent_id=found.agent_id if found.answered_at is not None else None,
        connected_at=found.answered_at,
        customer_id=found.customer_id,
        disposition=found.disposition,
        cli=cdr.cli or found.origin,
    )


CONTACTS = {
    "c-answered": contact("c-answered", answered=True, status=ContactStatus.WRAP_UP),
    "c-waiting": contact("c-waiting", answered=False, status=ContactStatus.QUEUED),
    "c-gone": contact("c-gone", answered=False, status=ContactStatus.ABANDONED),
}


@pytest.mark.parametrize(
    ("direction", "contact_id", "cli", "outcome", "connected_at"),
    list(
        itertools.product(
            ["inbound", "outbound", "other"],
            [None, "c-answered", "c-waiting", "c-gone", "c-evicted"],
            [None, "+12025550147"],
            [None, Outcome.FAILED],
            [None, T0 + 7],
        )
    ),
)
def test_the_record_is_the_one_replace_built(
    direction: str,
    contact_id: str | None,
    cli: str | None,
    outcome: Outcome | None,
    connected_at: float | None,
) -> None:
    facts: dict[str, Any] = {
        "call_id": "a1@pbx",
        "started_at": T0,
        "ended_at": T0 + 60,
        "answered_at": T0 + 1,
        "cli": cli,
        "dialed": "800",
        "contact_id": contact_id,
        "hangup_by": "caller",
        "recording_id": "rec-1",
        "outcome": outcome,
        "direction": direction,
        "details": {"campaign": "spring"} if direction == "outbound" else None,
    }
    built = details_for(CONTACTS)._build(
        **{k: v for k, v in facts.items() if k != "dialed"},
        to=facts["dialed"],
        connected_at=connected_at,
    )
    assert built == reference(facts, CONTACTS.get(contact_id or ""), connected_at)


def test_a_row_is_every_field_in_its_column(tmp_path: Path) -> None:
    cdr = CallDetailRecord(
        call_id="a1@pbx",
        started_at=T0,
        ended_at=T0 + 60,
        outcome=Outcome.ANSWERED,
        contact_id="c-1",
        cli="+12025550147",
        dialed="800",
        answered_at=T0 + 1,
        connected_at=T0 + 2,
        queue="sales",
        agent_id="alice",
        customer_id="cust-1",
        disposition="sold",
        recording_id="rec-1",
        hangup_by="agent",
        direction="outbound",
        details={"campaign": "spring", "ring_s": 3.5},
    )

    async def scenario() -> None:
        store = CdrStore(tmp_path / "calls.sqlite3")
        await store.add(cdr)
        assert await store.get("a1@pbx") == cdr
        with sqlite3.connect(tmp_path / "calls.sqlite3") as conn:
            conn.row_factory = sqlite3.Row
            stored = dict(conn.execute("SELECT * FROM cdrs").fetchone())
        assert stored["outcome"] == "answered" and stored["agent_id"] == "alice"
        assert stored["details"] == '{"campaign": "spring", "ring_s": 3.5}'
        assert len(_row(cdr)) == len(stored) == len(CallDetailRecord.__slots__)
        await store.close()

    asyncio.run(scenario())


def test_file_queues_the_row_without_a_task_and_it_is_committed(tmp_path: Path) -> None:
    path = tmp_path / "calls.sqlite3"

    async def scenario() -> None:
        store = CdrStore(path)
        details = details_for(CONTACTS, store)
        tasks_before = len(asyncio.all_tasks())
        records = [
            {"call_id": f"c{n}", "started_at": T0, "ended_at": T0 + n, "contact_id": "c-gone"}
            for n in range(5)
        ]
        filed = [details.file(record) for record in records]
        # one writer task for the batch, none per call
        assert len(asyncio.all_tasks()) == tasks_before + 1
        assert all(cdr is not None and cdr.outcome is Outcome.ABANDONED for cdr in filed)
        await store.close()  # writes what is queued
        with sqlite3.connect(path) as conn:
            rows = conn.execute("SELECT call_id, queue, outcome FROM cdrs ORDER BY call_id")
            assert rows.fetchall() == [(f"c{n}", "sales", "abandoned") for n in range(5)]

    asyncio.run(scenario())


def test_a_record_that_cannot_be_filed_is_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async def scenario() -> None:
        store = CdrStore(tmp_path / "calls.sqlite3")
        details = details_for({}, store)
        assert details.file({"call_id": "no-times"}) is None
        # a row the database refuses (NOT NULL started_at) is logged once it is written
        bad = CallDetailRecord(
            call_id="bad",
            started_at=None,
            ended_at=T0,
            outcome=Outcome.IVR,  # type: ignore[arg-type]
        )
        store.add_soon(bad)
        store.add_soon(replace(bad, call_id="good", started_at=T0))
        await store.close()
        with sqlite3.connect(tmp_path / "calls.sqlite3") as conn:
            assert conn.execute("SELECT call_id FROM cdrs").fetchall() == [("good",)]

    with caplog.at_level(logging.WARNING, logger="ringway.cdr"):
        asyncio.run(scenario())
    messages = [r.getMessage() for r in caplog.records]
    assert any("'no-times'" in m and "not filed" in m for m in messages)
    assert any("'bad'" in m and "not filed" in m for m in messages)
    assert not any("'good'" in m for m in messages)


def test_a_failing_cdr_store_never_stops_the_calls_teardown(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from crm.memory import MemoryCustomerStore
    from ringway.config import load_config_text
    from ringway.service import RoutingService
    from ringway.telephony_records import CallArchive

    class Exploding(NoStore):
        def add_row_soon(self, row: Any) -> None:
            raise TypeError("a bug in the CDR store")

    config = load_config_text(f'service: {{data_dir: "{tmp_path}"}}\nqueues: [{{name: q}}]')
    service = RoutingService(config, MemoryCustomerStore())
    calls = Records(cdrs=CallDetails(service, Exploding()))
    archive = CallArchive(service, calls, cdr_keep=10)

    async def scenario() -> None:
        archive.record({"call_id": "c1", "started_at": 1.0, "ended_at": 2.0})  # no raise
        await archive.close()

    with caplog.at_level(logging.ERROR, logger="ringway.telephony_records"):
        asyncio.run(scenario())
    assert [r["call_id"] for r in archive.cdrs] == ["c1"]  # the line and the API's copy
    assert (tmp_path / "cdr.jsonl").read_text().count("\n") == 1
    assert any("'c1'" in r.getMessage() for r in caplog.records)
