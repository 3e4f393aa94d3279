"""The CDR store's group commit: calls that end together (within its window, or while a
batch is being written) share one transaction, every `add` returns only once its own row
is committed, and one bad row fails alone."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ringway.cdr import CallDetailRecord, CdrStore, Outcome
from ringway.sqlitework import StoreClosed


def cdr(index: int, started_at: float = 100.0) -> CallDetailRecord:
    return CallDetailRecord(
        call_id=f"call-{index}@trunk",
        started_at=started_at,
        ended_at=started_at + 1,
        outcome=Outcome.ABANDONED,
        queue="cps",
    )


def committed_ids(path: Path) -> list[str]:
    """What another process would read: a connection of its own."""
    with sqlite3.connect(path) as conn:
        return [row[0] for row in conn.execute("SELECT call_id FROM cdrs ORDER BY call_id")]


class CountingStore(CdrStore):
    """Counts the jobs handed to the worker thread (each is one transaction)."""

    def __init__(self, database: Path, **options: Any) -> None:
        super().__init__(database, **options)
        self.jobs = 0

    async def _run(self, work: Callable[[sqlite3.Connection], Any]) -> Any:
        self.jobs += 1
        return await super()._run(work)


def test_calls_ending_together_share_one_transaction(tmp_path: Path) -> None:
    path = tmp_path / "calls.sqlite3"

    async def scenario() -> None:
        store = CountingStore(path)
        await asyncio.gather(*(store.add(cdr(index)) for index in range(100)))
        # every add has returned: all 100 rows are readable from outside
        assert len(committed_ids(path)) == 100
        assert store.jobs == 1  # one job (its multi-row INSERTs), one commit
        await store.close()

    asyncio.run(scenario())


def test_rows_added_during_a_write_go_in_the_next_batch(tmp_path: Path) -> None:
    path = tmp_path / "calls.sqlite3"

    async def scenario() -> None:
        store = CountingStore(path, gather_s=0)  # no window: write what is there
        first = asyncio.ensure_future(store.add(cdr(0)))
        for _ in range(3):  # the writer has taken row 0 to the thread
            await asyncio.sleep(0)
        later = [asyncio.ensure_future(store.add(cdr(index))) for index in range(1, 50)]
        await asyncio.gather(first, *later)
        assert len(committed_ids(path)) == 50
        assert store.jobs == 2
        await store.close()

    asyncio.run(scenario())


def test_rows_added_within_the_window_join_the_first_batch(tmp_path: Path) -> None:
    path = tmp_path / "calls.sqlite3"

    async def scenario() -> None:
        store = CountingStore(path, gather_s=60.0, batch=10)
        first = asyncio.ensure_future(store.add(cdr(0)))
        for _ in range(3):  # the writer is waiting out its window
            await asyncio.sleep(0)
        assert store.jobs == 0 and not path.exists()
        # a full batch does not wait out the window: rows 1-9 fill it
        later = [asyncio.ensure_future(store.add(cdr(index))) for index in range(1, 10)]
        await asyncio.wait_for(asyncio.gather(first, *later), timeout=30)
        assert len(committed_ids(path)) == 10
        assert store.jobs == 1
        await store.close()

    asyncio.run(scenario())


def test_window_and_batch_are_checked(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        CdrStore(tmp_path / "a.sqlite3", gather_s=-1)
    with pytest.raises(ValueError):
        CdrStore(tmp_path / "b.sqlite3", batch=0)


def test_a_bad_row_fails_alone_and_the_others_are_committed(tmp_path: Path) -> None:
    path = tmp_path / "calls.sqlite3"

    async def scenario() -> None:
        store = CdrStore(path)
        bad = CallDetailRecord(
            call_id="bad@trunk",
            started_at=None,  # type: ignore[arg-type]  # NOT NULL in the table
            ended_at=1.0,
            outcome=Outcome.IVR,
        )
        results = await asyncio.gather(
            store.add(cdr(1)), store.add(bad), store.add(cdr(2)), return_exceptions=True
        )
        assert results[0] is None and results[2] is None
        assert isinstance(results[1], sqlite3.IntegrityError)
        assert committed_ids(path) == ["call-1@trunk", "call-2@trunk"]
        await store.close()

    asyncio.run(scenario())


def test_a_retried_record_replaces_the_first_within_one_batch(tmp_path: Path) -> None:
    async def scenario() -> None:
        store = CdrStore(tmp_path / "calls.sqlite3")
        await asyncio.gather(store.add(cdr(7, started_at=1.0)), store.add(cdr(7, started_at=2.0)))
        stored = await store.get("call-7@trunk")
        assert stored is not None and stored.started_at == 2.0  # the later write wins
        await store.close()

    asyncio.run(scenario())


def test_close_writes_what_is_still_queued(tmp_path: Path) -> None:
    path = tmp_path / "calls.sqlite3"

    async def scenario() -> None:
        store = CdrStore(path)
        adds = [asyncio.ensure_future(store.add(cdr(index))) for index in range(10)]
        await asyncio.sleep(0)  # queued, not yet written
        await store.close()
        await asyncio.gather(*adds)

    asyncio.run(scenario())
    assert len(committed_ids(path)) == 10


def test_an_add_after_close_raises(tmp_path: Path) -> None:
    async def scenario() -> None:
        store = CdrStore(tmp_path / "calls.sqlite3")
        await store.close()
        with pytest.raises(StoreClosed):
            await store.add(cdr(1))

    asyncio.run(scenario())


def test_a_disposition_set_while_the_cdr_is_queued_finds_it(tmp_path: Path) -> None:
    async def scenario() -> None:
        store = CdrStore(tmp_path / "calls.sqlite3", gather_s=60.0)
        record = CallDetailRecord(
            call_id="call-1@trunk",
            started_at=1.0,
            ended_at=2.0,
            outcome=Outcome.ANSWERED,
            contact_id="c-1",
        )
        filing = asyncio.ensure_future(store.add(record))
        await asyncio.sleep(0)  # queued, the writer waiting out its window
        assert await store.set_disposition("c-1", "resolved") == 1
        await filing
        stored = await store.get("call-1@trunk")
        assert stored is not None and stored.disposition == "resolved"
        await store.close()

    asyncio.run(asyncio.wait_for(scenario(), timeout=30))


def test_a_cancelled_writer_names_the_unwaited_rows_it_drops(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """`add_soon` rows have no caller to raise to: a writer cancelled (the loop going
    down without `close`) with such rows still queued logs how many were not filed."""

    async def scenario() -> None:
        store = CdrStore(tmp_path / "calls.sqlite3", gather_s=60.0)
        for index in range(3):
            store.add_soon(cdr(index))
        await asyncio.sleep(0)  # the writer is waiting out its window
        writer = store._writer
        assert writer is not None
        writer.cancel()
        with pytest.raises(asyncio.CancelledError):
            await writer
        await store.close()

    with caplog.at_level("WARNING", logger="ringway.cdr"):
        asyncio.run(scenario())
    assert "3 CDRs not filed" in caplog.text
    assert "call-0@trunk" in caplog.text
