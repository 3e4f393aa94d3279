"""The phone cache's freshness check reads the WAL index's header before it asks SQLite.

`SQLiteCustomerStore._phones_current` skips ``PRAGMA data_version`` while the first 96
bytes of ``<db>-shm`` (the two copies of SQLite's wal-index header) are the bytes it saw
before its last PRAGMA: every commit rewrites them. These tests count the PRAGMAs the
loop's cursor runs, and check that any commit, this store's or another connection's,
still reaches it (and drops the cache).
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

from crm_kit import MARGARET, opened, run

import crm.sqlite
from crm.sqlite import SQLiteCustomerStore, _settled


class Counting(sqlite3.Cursor):
    """The loop's data_version cursor, counting what it runs."""

    runs = 0

    def execute(self, *args: Any, **kwargs: Any) -> Any:
        type(self).runs += 1
        return super().execute(*args, **kwargs)


def counted(store: SQLiteCustomerStore) -> None:
    assert store._reader is not None
    Counting.runs = 0
    store._versions = store._reader.cursor(factory=Counting)


def test_an_unchanged_database_is_not_asked_again(tmp_path: Path) -> None:
    async def scenario() -> None:
        store = await opened(str(tmp_path / "crm.db"))
        try:
            assert store._shm is not None  # a file database in WAL mode: mapped
            first = await store.find_by_phone(MARGARET)
            counted(store)
            assert store.cached_by_phone(MARGARET) == first
            runs = Counting.runs
            assert runs <= 1  # at most once, if the seed's commits were not yet seen
            for _ in range(5):
                assert store.cached_by_phone(MARGARET) == first
            assert Counting.runs == runs  # the header alone answered
        finally:
            await store.close()

    run(scenario())


def test_another_connections_commit_is_asked_about_and_drops_the_cache(tmp_path: Path) -> None:
    path = tmp_path / "crm.db"

    async def scenario() -> None:
        store = await opened(str(path))
        try:
            await store.find_by_phone(MARGARET)
            counted(store)
            assert store.cached_by_phone(MARGARET) is not None
            runs = Counting.runs
            with closing(sqlite3.connect(path)) as other, other:
                other.execute("UPDATE customers SET name = 'Peggy' WHERE id = 'cust-1001'")
            assert store.cached_by_phone(MARGARET) is None  # asked, and dropped
            assert Counting.runs == runs + 1
            assert [c.name for c in await store.find_by_phone(MARGARET)] == ["Peggy"]
            assert [c.name for c in store.cached_by_phone(MARGARET) or []] == ["Peggy"]
        finally:
            await store.close()

    run(scenario())


def test_a_write_of_the_store_itself_changes_the_header(tmp_path: Path) -> None:
    async def scenario() -> None:
        store = await opened(str(tmp_path / "crm.db"))
        try:
            await store.find_by_phone(MARGARET)
            store.cached_by_phone(MARGARET)
            seen = store._shm_seen
            assert _settled(seen)
            assert store._shm is not None
            await store.delete("cust-1008")
            assert store._shm[: len(seen)] != seen
        finally:
            await store.close()

    run(scenario())


def test_a_header_being_written_is_never_trusted() -> None:
    header = bytes(crm.sqlite._WAL_INDEX_VERSION) + bytes(8) + b"\x01" + bytes(35)
    assert _settled(header * 2)
    assert not _settled(header + header[:40] + b"\x01" + header[41:])  # copies differ
    assert not _settled(b"")  # not mapped
    uninitialised = header[:12] + b"\x00" + header[13:]
    assert not _settled(uninitialised * 2)
    assert not _settled(bytes(4) + header[4:] + bytes(4) + header[4:])  # another layout


def test_a_database_not_in_wal_mode_is_always_asked(tmp_path: Path) -> None:
    path = tmp_path / "plain.db"
    with closing(sqlite3.connect(path)) as conn:
        conn.execute("CREATE TABLE t (x)")
    with closing(sqlite3.connect(path)) as reader:
        assert crm.sqlite._map_wal_index(reader, str(path)) is None


def test_a_symlinked_database_maps_the_index_sqlite_writes(tmp_path: Path) -> None:
    """SQLite names the index after the database's resolved path, so a store opened by a
    symlink maps ``<real>-shm``, not a ``<link>-shm`` nothing writes."""

    async def scenario() -> None:
        real = tmp_path / "data" / "crm.db"
        real.parent.mkdir()
        link = tmp_path / "crm-link.db"
        link.symlink_to(real)
        store = await opened(str(link))
        try:
            assert store._shm is not None
            assert (real.parent / "crm.db-shm").exists()
            assert not (tmp_path / "crm-link.db-shm").exists()
            first = await store.find_by_phone(MARGARET)
            counted(store)
            for _ in range(3):
                assert store.cached_by_phone(MARGARET) == first
            assert Counting.runs <= 1
        finally:
            await store.close()

    run(scenario())
