"""Compiled by mypyc, a coroutine that awaited inside an ``except`` (or ``finally``) block
left the exception it was handling set on the thread, and a later bare ``raise`` (a
cancelled writer's) re-raised that stale error instead of its own (docs/native-build.md).
`EventPersister` keeps a failure and acts on it after the block: a writer that failed once
with an IntegrityError and is then cancelled must end cancelled, in either build."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import threading
from collections.abc import Iterable
from pathlib import Path

import pytest

import ringway.persist
import router._native as native
from ringway.cdr import CallDetailRecord, CdrStore, Outcome
from ringway.eventlog import SQLiteEventLog
from ringway.persist import EventPersister, PersistError
from router import events as ev


def test_the_persister_runs_compiled_in_the_test_run() -> None:
    pure = os.environ.get(native.PURE_ENV, "") not in ("", "0")
    assert native.is_compiled(ringway.persist) is not pure, ringway.persist.__file__


def events(first: int, count: int) -> list[ev.Event]:
    return [
        ev.AgentStateChanged(seq=seq, at=float(seq), agent_id="a", state="ready", previous="x")
        for seq in range(first, first + count)
    ]


class FailsOnceLog(SQLiteEventLog):
    """Its first write fails with an IntegrityError; its close waits to be let go."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.failures = 1
        self.closing = threading.Event()
        self.let_close = threading.Event()
        self.let_close.set()

    def append_many(self, batch: Iterable[ev.Event]) -> None:
        if self.failures:
            self.failures -= 1
            raise sqlite3.IntegrityError("UNIQUE constraint failed: events.seq")
        super().append_many(batch)

    def close(self) -> None:
        self.closing.set()
        self.let_close.wait(5)
        super().close()


async def until(flag: threading.Event) -> None:
    for _ in range(500):
        if flag.is_set():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("never set")


def record(call_id: str) -> CallDetailRecord:
    return CallDetailRecord(
        call_id=call_id, started_at=1.0, ended_at=2.0, outcome=Outcome.ABANDONED
    )


def test_the_background_writer_fails_once_then_ends_cancelled(tmp_path: Path) -> None:
    log = FailsOnceLog(tmp_path / "e.sqlite3")

    async def main() -> None:
        persister = EventPersister(log, interval_s=0.01)
        persister.start()
        persister.submit(events(1, 2))
        for _ in range(500):  # the first flush failed and was logged
            if persister.error is not None:
                break
            await asyncio.sleep(0.01)
        assert isinstance(persister.error, PersistError)
        assert isinstance(persister.error.__cause__, sqlite3.IntegrityError)
        task = persister._task
        assert task is not None
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert task.cancelled()
        await persister.close()  # the retry writes both

    asyncio.run(main())
    with SQLiteEventLog(tmp_path / "e.sqlite3") as check:
        assert [e.seq for e in check.read()] == [1, 2]


def test_a_close_that_failed_then_is_cancelled_ends_cancelled(tmp_path: Path) -> None:
    log = FailsOnceLog(tmp_path / "e.sqlite3")
    log.let_close.clear()

    async def main() -> None:
        persister = EventPersister(log, interval_s=10)
        persister.submit(events(1, 2))
        closing = asyncio.create_task(persister.close())
        await until(log.closing)  # its flush failed; it waits on the log's close
        closing.cancel()
        await asyncio.sleep(0)
        log.let_close.set()
        with pytest.raises(asyncio.CancelledError):
            await closing
        assert closing.cancelled()

    asyncio.run(main())


def test_a_cdr_writer_cancelled_while_a_close_fails_ends_cancelled(tmp_path: Path) -> None:
    # the interleaving that showed it: one writer waits on its failed close, another
    # (compiled, with a bare raise) is cancelled meanwhile and must not raise the first's
    log = FailsOnceLog(tmp_path / "e.sqlite3")
    log.let_close.clear()

    async def main() -> None:
        persister = EventPersister(log, interval_s=10)
        persister.submit(events(1, 2))
        store = CdrStore(tmp_path / "cdrs.sqlite3", gather_s=10)  # the writer waits its window
        store.add_soon(record("call-1"))
        await asyncio.sleep(0)
        writer = store._writer
        assert writer is not None
        closing = asyncio.create_task(persister.close())
        await until(log.closing)
        writer.cancel()
        with pytest.raises(asyncio.CancelledError):
            await writer
        log.let_close.set()
        with pytest.raises(PersistError) as failed:
            await closing
        assert isinstance(failed.value.__cause__, sqlite3.IntegrityError)
        await store.close()

    asyncio.run(main())


def test_a_close_after_a_failed_close_is_not_failed_by_it(tmp_path: Path) -> None:
    # what the whole directory showed compiled: a later test's clean close raised an
    # earlier test's "events not persisted"
    async def failed_close() -> None:
        persister = EventPersister(FailsOnceLog(tmp_path / "a.sqlite3"), interval_s=10)
        persister.submit(events(1, 2))
        with pytest.raises(PersistError, match="2 events not persisted"):
            await persister.close()

    async def clean_close(name: str) -> None:
        persister = EventPersister(SQLiteEventLog(tmp_path / name), interval_s=10)
        persister.start()
        persister.submit(events(1, 3))
        await persister.flush()
        persister.submit(events(4, 2))
        await persister.close()

    async def both() -> None:
        await failed_close()
        await clean_close("b.sqlite3")

    asyncio.run(both())
    asyncio.run(clean_close("c.sqlite3"))  # the next loop, as the next test's
    for name in ("b.sqlite3", "c.sqlite3"):
        with SQLiteEventLog(tmp_path / name) as check:
            assert [e.seq for e in check.read()] == [1, 2, 3, 4, 5]
