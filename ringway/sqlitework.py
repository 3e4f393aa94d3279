"""One SQLite connection worked by one thread, for the call-record stores.

The stores are used from the event loop; SQLite calls block. Each store owns a
single worker thread that alone touches its connection, so calls are
serialised without locks and the loop never waits on the disk.
"""

from __future__ import annotations

import asyncio
import itertools
import sqlite3
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")


def multirow_inserts(head: str, columns: int, sizes: Sequence[int]) -> dict[int, str]:
    """``head`` (``INSERT ... VALUES ``) with ``size`` rows of ``columns`` placeholders,
    for each size: one statement inserts many rows. pysqlite releases the GIL around each
    ``sqlite3_step``, so a statement per row (``executemany``) handed the GIL to the busy
    event loop's thread and back once per row, a futex hand-off each (docs/sip-performance.md,
    "Stop 15"). Sizes whose statement would pass the 999 parameters of SQLite builds before
    3.32 are left out; 1 is always kept, so any batch can be taken apart."""
    row = "(" + ",".join(["?"] * columns) + ")"
    return {
        size: head + ",".join([row] * size)
        for size in sorted(set(sizes) | {1}, reverse=True)
        if size == 1 or size * columns <= 999
    }


def insert_rows(
    conn: sqlite3.Connection, statements: dict[int, str], rows: Sequence[Sequence[Any]]
) -> None:
    """Insert ``rows`` in order with `multirow_inserts`' ``statements`` (largest first),
    in the caller's transaction. Rows of one statement are applied in order, so a later
    row can replace an earlier one as it would one by one."""
    start = 0
    for size, statement in statements.items():
        while len(rows) - start >= size:
            chunk = rows[start : start + size]
            conn.execute(statement, list(itertools.chain.from_iterable(chunk)))
            start += size


class StoreClosed(RuntimeError):
    """The store was closed; nothing more is read or written."""


class SQLiteWorker:
    def __init__(self, path: Path, schema: str, name: str) -> None:
        self._path = path
        self._schema = schema
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)
        self._conn: sqlite3.Connection | None = None
        self._closed = False

    async def run(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Run `work(connection)` on the worker thread (opening the file on first use)."""
        if self._closed:
            raise StoreClosed(f"{self._path} is closed")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self._call, work)

    def _call(self, work: Callable[[sqlite3.Connection], T]) -> T:
        if self._conn is None:
            self._path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self._path, check_same_thread=False)
            conn.row_factory = sqlite3.Row
            # WAL: readers (another node's API, a report) never block the writer
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            with conn:
                conn.executescript(self._schema)
            self._conn = conn
        with self._conn:
            return work(self._conn)

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._executor, self._close_conn)
        self._executor.shutdown(wait=True)

    def _close_conn(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
