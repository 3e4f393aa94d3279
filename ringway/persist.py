"""Writing events to the SQLite log without ever blocking the event loop.

The router runs on the asyncio loop and emits events in bursts; a disk write
can take milliseconds (or seconds, on a busy disk). So `EventPersister.submit`
only appends to an in-memory buffer, and a background task hands batches to a
single worker thread, which alone touches the SQLite connection. Nothing is
dropped: the buffer grows while the disk is slow or failing, and a failed batch
stays at the front of the buffer to be retried (with backoff).

Bookkeeping is by position, not by batch: the worker records how many events
(counted since start) are durable, and the loop only discards that many from
the front of the buffer. So a flush cancelled while its batch is being written
neither loses the batch nor writes it twice.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections import deque
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Protocol

from mypy_extensions import mypyc_attr

from router.events import Event

log = logging.getLogger(__name__)

MAX_BACKOFF_S = 5.0  # retry a failing disk at least this often


@mypyc_attr(native_class=False)  # compiled, an exception: a plain subclass of RuntimeError
class PersistError(RuntimeError):
    """Events could not be written (the cause is chained)."""


class BatchLog(Protocol):
    """What the persister needs of a log: `SQLiteEventLog`, `PostgresEventLog`."""

    def append_many(self, events: Iterable[Event]) -> None: ...

    def close(self) -> None: ...


class EventPersister:
    """Batches events from the loop to a `BatchLog` on one worker thread.

    Use from one event loop: `start` (in the loop), `submit` as events come,
    `await flush()` when they must be on disk, `await close()` at shutdown.
    """

    def __init__(self, log: BatchLog, *, batch: int = 500, interval_s: float = 0.05) -> None:
        if batch < 1 or interval_s <= 0:
            raise ValueError("batch must be >= 1 and interval_s > 0")
        self._log = log
        self._batch = batch
        self._interval = interval_s
        self._buffer: deque[Event] = deque()
        self._discarded = 0  # events ever removed from the front of the buffer (loop side)
        self._durable = 0  # events ever written, same numbering (set by the worker thread)
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ringway-eventlog")
        self._lock = asyncio.Lock()  # one flush at a time, so batches go out in order
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._closed = False
        self.error: Exception | None = None  # the last write failure; None once writes succeed

    @property
    def pending(self) -> int:
        """Events submitted but not yet known to be on disk."""
        return len(self._buffer)

    def start(self) -> None:
        """Start the background flusher (call from inside the running loop)."""
        if self._task is None and not self._closed:
            loop = asyncio.get_running_loop()
            self._task = loop.create_task(self._run(), name="ringway-event-persister")

    def submit(self, events: Iterable[Event]) -> None:
        """Queue events for writing; returns at once, never drops, never blocks."""
        if self._closed:
            raise PersistError("event persister is closed")
        self._buffer.extend(events)
        if len(self._buffer) >= self._batch:
            self._wake.set()  # a full batch need not wait for the timer

    async def flush(self) -> None:
        """Return once every event submitted before the call is on disk.

        Raises `PersistError` if the disk refuses; the events stay buffered.
        """
        # The lock by hand, not `async with`: nothing awaited while an exception is
        # being handled (the mypyc pitfall in docs/native-build.md).
        await self._lock.acquire()
        try:
            while self._buffer:
                try:
                    await self._write_batch()
                except Exception as exc:
                    error = PersistError(f"{len(self._buffer)} events not persisted: {exc}")
                    error.__cause__ = exc  # compiled, mypyc drops `raise ... from`
                    raise error  # noqa: B904 (the cause is set above)
        finally:
            self._lock.release()

    async def close(self) -> None:
        """Stop the flusher, write everything still buffered, close the log."""
        if self._closed:
            return
        self._closed = True
        self._wake.set()
        if self._task is not None:
            await asyncio.wait([self._task])  # it exits after its current flush
            if not self._task.cancelled() and self._task.exception() is not None:
                log.error("event persister task died", exc_info=self._task.exception())
        loop = asyncio.get_running_loop()
        failure: BaseException | None = None
        try:
            await self.flush()
        except BaseException as exc:  # cancelled too: the log is closed all the same
            failure = exc
        # Not awaited in an except or finally block: compiled by mypyc, a coroutine
        # suspended there leaves the exception it handles set on the thread, and a later
        # bare `raise` elsewhere re-raises that stale one (docs/native-build.md).
        await loop.run_in_executor(self._executor, self._log.close)
        self._executor.shutdown(wait=True)  # idle by now: joins at once
        if failure is not None:
            raise failure

    # ---------------------------------------------------------------- internals

    async def _run(self) -> None:
        delay = self._interval
        loop = asyncio.get_running_loop()
        while not self._closed:
            # woken by a full batch, `close` or the timer (no `asyncio.timeout`: its exit
            # is awaited while the timeout's error is handled, the mypyc pitfall above)
            timer = loop.call_later(delay, self._wake.set)
            try:
                await self._wake.wait()
            finally:
                timer.cancel()
            self._wake.clear()
            if self._closed:
                return  # close() does the last flush itself
            delay = await self._flush_in_background(delay)

    async def _flush_in_background(self, delay: float) -> float:
        """Flush; on failure log and return a longer delay (the events stay buffered)."""
        try:
            await self.flush()
        except PersistError as exc:
            self.error = exc
            log.error("event log write failed, retrying in %.2fs: %s", delay, exc.__cause__)
            return min(delay * 2, MAX_BACKOFF_S)
        if self.error is not None:
            log.info("event log writes recovered")
            self.error = None
        return self._interval

    async def _write_batch(self) -> None:
        self._discard_durable()
        if not self._buffer:
            return
        base = self._discarded
        batch = list(itertools.islice(self._buffer, self._batch))
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._executor, self._write, base, batch)
        self._discard_durable()

    def _write(self, base: int, batch: list[Event]) -> None:
        """Worker thread: write the part of ``batch`` not already durable."""
        already = max(0, self._durable - base)  # an interrupted earlier write got this far
        self._log.append_many(batch[already:])
        self._durable = base + len(batch)

    def _discard_durable(self) -> None:
        while self._discarded < self._durable:
            self._buffer.popleft()
            self._discarded += 1
