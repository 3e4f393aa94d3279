"""The CDR store writes a batch with multi-row INSERTs (a batch's size taken apart in
powers of two): every row in, in order, the same columns as one by one, and a later
row for the same call replacing an earlier one, as row-by-row INSERT OR REPLACE did."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from ringway.cdr import _INSERT, _INSERTS, CallDetailRecord, CdrStore, Outcome, _row
from ringway.sqlitework import _null_shape


def record(index: int, *, queue: str = "cps") -> CallDetailRecord:
    return CallDetailRecord(
        call_id=f"call-{index:03d}@trunk",
        started_at=100.0 + index,
        ended_at=101.5 + index,
        outcome=Outcome.ABANDONED,
        queue=queue,
        details={"n": index},
    )


def stored(path: Path) -> list[tuple[object, ...]]:
    with sqlite3.connect(path) as conn:
        return [tuple(r) for r in conn.execute("SELECT * FROM cdrs ORDER BY call_id")]


@pytest.mark.parametrize("count", [1, 2, 3, 31, 32, 33, 45, 63, 100, 256])
def test_every_row_of_a_batch_goes_in_whole(tmp_path: Path, count: int) -> None:
    multi, single = tmp_path / "multi.sqlite3", tmp_path / "single.sqlite3"

    async def scenario() -> None:
        store = CdrStore(multi, gather_s=0.05)
        await asyncio.gather(*(store.add(record(i)) for i in range(count)))
        await store.close()

    asyncio.run(scenario())
    # the reference: the same rows through the one-row statement
    reference = CdrStore(single)
    asyncio.run(reference._db.run(lambda conn: None))  # the schema
    with sqlite3.connect(single) as conn:
        conn.executemany(_INSERT, [_row(record(i)) for i in range(count)])
    asyncio.run(reference.close())
    rows = stored(multi)
    assert len(rows) == count
    assert rows == stored(single)


def test_a_later_row_for_the_same_call_replaces_the_earlier(tmp_path: Path) -> None:
    path = tmp_path / "calls.sqlite3"

    async def scenario() -> None:
        store = CdrStore(path, gather_s=0.05)
        first = [store.add(record(i)) for i in range(20)]
        again = store.add(record(7, queue="sales"))  # the same call, filed again later
        await asyncio.gather(*first, again)
        await store.close()

    asyncio.run(scenario())
    rows = {row[0]: row for row in stored(path)}
    assert len(rows) == 20
    with sqlite3.connect(path) as conn:
        (queue,) = conn.execute(
            "SELECT queue FROM cdrs WHERE call_id = ?", ("call-007@trunk",)
        ).fetchone()
    assert queue == "sales"


def test_statements_stay_under_old_sqlite_parameter_limit() -> None:
    columns = len(_row(record(0)))
    assert _INSERTS.columns == columns
    for shape in ((False,) * columns, _null_shape(_row(record(0)))):
        statements = _INSERTS.statements(shape)
        bound = shape.count(False)
        assert all(statement.count("?") == size * bound for size, statement in statements.items())
        assert max(statements) * bound <= 999
        assert 1 in statements  # any batch size can be taken apart
