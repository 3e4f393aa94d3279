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

from mypy_extensions import mypyc_attr

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


Shape = tuple[bool, ...]  # per column: whether the row's value there is None

# Null shapes kept per table, each with its statements; past this (rows of ever new
# shapes, which the call records do not have) they are built again as met.
_SHAPES_KEPT = 64


class NullInliningInserts:
    """`multirow_inserts` and `insert_rows` with a row's None values written into the
    statement as NULL rather than bound as parameters: the sqlite3 module binds a None
    through its adapter registry (`ringway.cdr` registers None's adapter; without it
    the look-up fails slowly), ~1,100 instructions a None, and a router-path CDR row
    has five. What is stored is the same: a NULL either way. Consecutive rows with
    their Nones in the same columns share statements, so rows stay in order (a later
    row still replaces an earlier one under INSERT OR REPLACE)."""

    def __init__(self, head: str, columns: int, sizes: Sequence[int]) -> None:
        self.head = head
        self.columns = columns
        self.sizes = tuple(sizes)
        self._by_mask: dict[int, dict[int, str]] = {}

    def statements(self, shape: Shape) -> dict[int, str]:
        """The statements for rows of ``shape``, by rows a statement, largest first
        (sizes past 999 parameters left out, as `multirow_inserts` does)."""
        return self._statements(_mask_of(shape))

    def _statements(self, mask: int) -> dict[int, str]:
        """`statements` of the shape whose None columns are ``mask``'s bits."""
        known = self._by_mask.get(mask)
        if known is not None:
            return known
        if len(self._by_mask) >= _SHAPES_KEPT:
            self._by_mask.clear()
        nulls = [mask >> column & 1 == 1 for column in range(self.columns)]
        values = "(" + ",".join("NULL" if null else "?" for null in nulls) + ")"
        bound = max(nulls.count(False), 1)
        made = self._by_mask[mask] = {
            size: self.head + ",".join([values] * size)
            for size in sorted(set(self.sizes) | {1}, reverse=True)
            if size == 1 or size * bound <= 999
        }
        return made

    def insert(self, conn: sqlite3.Connection, rows: Sequence[Sequence[Any]]) -> None:
        """Insert ``rows`` in order, in the caller's transaction."""
        start, count = 0, len(rows)
        while start < count:
            mask = _null_mask(rows[start])
            end = start + 1
            while end < count and _null_mask(rows[end]) == mask:
                end += 1
            _insert_bound(conn, self._statements(mask), rows[start:end])
            start = end


def _null_shape(row: Sequence[Any]) -> Shape:
    return tuple([value is None for value in row])


def _null_mask(row: Sequence[Any]) -> int:
    """`_null_shape` as the bits of an int (bit i: column i is None): compiled, a loop
    over machine integers where the shape was a list and a tuple of bools per row
    (~3,600 instructions a CDR row)."""
    mask = 0
    bit = 1
    for value in row:
        if value is None:
            mask |= bit
        bit <<= 1
    return mask


def _mask_of(shape: Shape) -> int:
    return sum(1 << column for column, null in enumerate(shape) if null)


def _insert_bound(
    conn: sqlite3.Connection, statements: dict[int, str], rows: Sequence[Sequence[Any]]
) -> None:
    """`insert_rows` for rows of one null shape: only their other values are bound."""
    start = 0
    for size, statement in statements.items():
        while len(rows) - start >= size:
            chunk = rows[start : start + size]
            conn.execute(statement, [value for row in chunk for value in row if value is not None])
            start += size


@mypyc_attr(native_class=False)  # compiled, an exception: a plain subclass of RuntimeError
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
