"""The persister: submit never blocks, batches go out in order, nothing is dropped."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterable
from pathlib import Path

import pytest

from ringway.eventlog import SQLiteEventLog
from ringway.persist import EventPersister, PersistError
from router import events as ev


def events(first: int, count: int) -> list[ev.Event]:
    return [
        ev.AgentStateChanged(seq=seq, at=float(seq), agent_id="a", state="ready", previous="x")
        for seq in range(first, first + count)
    ]


class SpyLog(SQLiteEventLog):
    """Records each batch and the thread it was written on; can fail or stall."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.batches: list[int] = []
        self.threads: set[int] = set()
        self.failures = 0
        self.stall_s = 0.0

    def append_many(self, batch: Iterable[ev.Event]) -> None:
        self.threads.add(threading.get_ident())
        if self.stall_s:
            time.sleep(self.stall_s)
        if self.failures:
            self.failures -= 1
            raise OSError("disk full")
        batch = list(batch)
        super().append_many(batch)
        self.batches.append(len(batch))


def stored(path: Path) -> list[int]:
    with SQLiteEventLog(path) as log:
        return [e.seq for e in log.read(limit=100_000)]


def test_flush_writes_in_batches_off_the_loop_thread(tmp_path: Path) -> None:
    log = SpyLog(tmp_path / "e.sqlite3")

    async def main() -> None:
        persister = EventPersister(log, batch=500, interval_s=10)  # the timer never fires
        persister.start()
        persister.submit(events(1, 1200))
        assert persister.pending == 1200  # submit returned without writing
        await persister.flush()
        assert persister.pending == 0
        await persister.close()

    asyncio.run(main())
    assert log.batches == [500, 500, 200]
    assert threading.get_ident() not in log.threads and len(log.threads) == 1
    assert stored(tmp_path / "e.sqlite3") == list(range(1, 1201))


def test_background_task_writes_without_a_flush(tmp_path: Path) -> None:
    log = SpyLog(tmp_path / "e.sqlite3")

    async def main() -> None:
        persister = EventPersister(log, interval_s=0.01)
        persister.start()
        persister.submit(events(1, 3))
        persister.submit(events(4, 2))
        for _ in range(500):  # up to 5 s; normally one tick
            if persister.pending == 0:
                break
            await asyncio.sleep(0.01)
        assert persister.pending == 0
        assert log.last_seq == 5
        await persister.close()

    asyncio.run(main())
    assert stored(tmp_path / "e.sqlite3") == [1, 2, 3, 4, 5]


def test_the_loop_keeps_running_while_the_disk_is_slow(tmp_path: Path) -> None:
    log = SpyLog(tmp_path / "e.sqlite3")
    log.stall_s = 0.3
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    async def main() -> None:
        persister = EventPersister(log, interval_s=10)
        persister.start()
        beat = asyncio.create_task(ticker())
        persister.submit(events(1, 10))
        await persister.flush()
        beat.cancel()
        await persister.close()

    asyncio.run(main())
    assert ticks >= 5  # a blocked loop would have ticked at most once


def test_a_failed_write_keeps_the_events_and_is_retried(tmp_path: Path) -> None:
    log = SpyLog(tmp_path / "e.sqlite3")

    async def main() -> None:
        persister = EventPersister(log, batch=4, interval_s=10)
        persister.submit(events(1, 6))
        log.failures = 1
        with pytest.raises(PersistError, match="6 events not persisted: disk full"):
            await persister.flush()
        assert persister.pending == 6
        persister.submit(events(7, 1))
        await persister.flush()
        await persister.close()

    asyncio.run(main())
    assert stored(tmp_path / "e.sqlite3") == list(range(1, 8))


def test_background_retries_after_a_failure(tmp_path: Path) -> None:
    log = SpyLog(tmp_path / "e.sqlite3")

    async def main() -> None:
        persister = EventPersister(log, interval_s=0.01)
        log.failures = 2
        persister.start()
        persister.submit(events(1, 3))
        for _ in range(500):
            if persister.pending == 0:
                break
            await asyncio.sleep(0.01)
        assert persister.pending == 0 and persister.error is None
        await persister.close()

    asyncio.run(main())
    assert stored(tmp_path / "e.sqlite3") == [1, 2, 3]


def test_a_cancelled_flush_neither_loses_nor_repeats_its_batch(tmp_path: Path) -> None:
    log = SpyLog(tmp_path / "e.sqlite3")
    log.stall_s = 0.2

    async def main() -> None:
        persister = EventPersister(log, batch=2, interval_s=10)
        persister.submit(events(1, 3))
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.05):  # cancelled mid-write of [1, 2]
                await persister.flush()
        log.stall_s = 0.0
        await persister.flush()
        await persister.close()

    asyncio.run(main())
    assert stored(tmp_path / "e.sqlite3") == [1, 2, 3]
    assert log.batches == [2, 0, 1]  # the retry found [1, 2] already written


def test_close_flushes_everything_and_closes_the_log(tmp_path: Path) -> None:
    log = SpyLog(tmp_path / "e.sqlite3")

    async def main() -> None:
        persister = EventPersister(log, interval_s=10)
        persister.start()
        persister.submit(events(1, 7))
        await persister.close()
        await persister.close()  # twice is harmless
        with pytest.raises(PersistError, match="closed"):
            persister.submit(events(8, 1))

    asyncio.run(main())
    assert stored(tmp_path / "e.sqlite3") == list(range(1, 8))
    with pytest.raises(Exception, match="closed"):
        log.read()


def test_close_reports_what_could_not_be_written(tmp_path: Path) -> None:
    log = SpyLog(tmp_path / "e.sqlite3")

    async def main() -> None:
        persister = EventPersister(log, interval_s=10)
        persister.submit(events(1, 2))
        log.failures = 1
        with pytest.raises(PersistError, match="2 events not persisted"):
            await persister.close()

    asyncio.run(main())
    assert stored(tmp_path / "e.sqlite3") == []
