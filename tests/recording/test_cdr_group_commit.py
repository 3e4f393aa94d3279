"""The CDR store's group commit: calls that end together share one transaction,
every `add` returns only once its own row is committed, and one bad row fails alone."""

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

    def __init__(self, database: Path) -> None:
        super().__init__(database)
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
        assert store.jobs == 1  # one executemany, one commit
        await store.close()

    asyncio.run(scenario())


def test_rows_added_during_a_write_go_in_the_next_batch(tmp_path: Path) -> None:
    path = tmp_path / "calls.sqlite3"

    async def scenario() -> None:
        store = CountingStore(path)
        first = asyncio.ensure_future(store.add(cdr(0)))
        await asyncio.sleep(0)  # the writer has taken row 0 to the thread
        later = [asyncio.ensure_future(store.add(cdr(index))) for index in range(1, 50)]
        await asyncio.gather(first, *later)
        assert len(committed_ids(path)) == 50
        assert store.jobs == 2
        await store.close()

    asyncio.run(scenario())


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
