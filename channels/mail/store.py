"""The mail desk's cases on disk (SQLite, ``service.mail_cases``).

A server that answers ``250`` to ``DATA`` has taken responsibility for the
message (RFC 5321 §4.1.1.4, §6.1), so each accepted message is committed here
— its case, its entry and its contact — before the intake answers. Commits are
``synchronous=FULL``: in WAL mode that syncs the log on every commit, so an
acknowledged message survives a power cut as well as a restart.

Tables: ``cases`` (subject, customer, last handler, last activity),
``entries`` (every message in and out, with the parsed inbound mail a reply is
built from) and ``contacts`` (the contact each inbound message became, and
whether the router has finished with it: a restart queues the unfinished ones
again, `channels.mail.recovery`).

All work runs on one worker thread (`ringway.sqlitework.SQLiteWorker`), so the
event loop never waits on the disk and writes land in the order they were made.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, TypeVar

from channels.mail import casesql as sql
from channels.mail.casesql import FINISHED, OPEN, Loaded
from channels.mail.message import InboundMail
from channels.mail.threads import Case, MailEntry
from ringway.sqlitework import SQLiteWorker, StoreClosed

T = TypeVar("T")
log = logging.getLogger(__name__)


class CaseStoreError(Exception):
    """The case store could not commit: the intake must not answer 250."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class CaseStoreUnusable(ValueError):
    """The case store cannot be opened or written at start (`ringway serve`: exit 2)."""


def check(path: Path) -> None:
    """Open ``path``, create the schema and write to it once; `CaseStoreUnusable` if any
    of it fails (corrupt file, read-only file or directory, a newer schema)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(path)
        try:
            conn.executescript(sql.SCHEMA)
            with conn:
                row = conn.execute("SELECT value FROM meta WHERE key = 'version'").fetchone()
                if row is not None and row[0] != sql.SCHEMA_VERSION:
                    raise CaseStoreUnusable(
                        f"mail case store {path}: schema version {row[0]}, this build knows "
                        f"{sql.SCHEMA_VERSION}"
                    )
                conn.execute(
                    "INSERT OR REPLACE INTO meta (key, value) VALUES ('version', ?)",
                    (sql.SCHEMA_VERSION,),
                )
        finally:
            conn.close()
    except (sqlite3.Error, OSError) as exc:
        raise CaseStoreUnusable(f"mail case store {path}: {exc}") from None


class CaseStore:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._db = SQLiteWorker(path, sql.SCHEMA, "ringway-mail-cases")
        self._pending: set[asyncio.Task[Any]] = set()

    # ----------------------------------------------------------------- writing

    async def _write(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``work`` in one transaction; `CaseStoreError` when the disk refuses."""
        try:
            return await self._submit(work)
        except (sqlite3.Error, OSError, StoreClosed) as exc:
            raise CaseStoreError(f"mail case store {self.path}: {exc}") from None

    def _submit(self, work: Callable[[sqlite3.Connection], T]) -> asyncio.Task[T]:
        # Every write is a task made now: tasks start in creation order, so the worker
        # gets writes in the order the desk made them (a handler set, then a finish).
        coro: Coroutine[Any, Any, T] = self._db.run(work)
        task = asyncio.get_running_loop().create_task(coro)
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)
        return task

    def _later(self, work: Callable[[sqlite3.Connection], object], what: str) -> None:
        """A write nobody waits for (an event seen); a failure is logged, not raised."""
        task = self._submit(work)
        task.add_done_callback(lambda t: _log_failure(t, what))

    async def save_inbound(self, case: Case, entry: MailEntry, mail: InboundMail) -> None:
        """The accepted message, its case and its contact, committed together."""

        def work(conn: sqlite3.Connection) -> None:
            sql.upsert_case(conn, case, entry.at)
            sql.insert_entry(conn, case.id, entry, mail)
            conn.execute(
                "INSERT INTO contacts (contact_id, case_id, received_at, state)"
                " VALUES (?, ?, ?, ?)",
                (entry.contact_id, case.id, entry.at, OPEN),
            )

        await self._write(work)

    async def forget_contact(self, contact_id: str) -> None:
        """The contact was never queued (the sender was told 451): drop its message."""

        def work(conn: sqlite3.Connection) -> None:
            row = conn.execute(
                "SELECT case_id FROM contacts WHERE contact_id = ?", (contact_id,)
            ).fetchone()
            conn.execute("DELETE FROM contacts WHERE contact_id = ?", (contact_id,))
            conn.execute("DELETE FROM entries WHERE contact_id = ?", (contact_id,))
            if row is not None:
                sql.drop_if_empty(conn, str(row["case_id"]))

        await self._write(work)

    async def move_contact(self, contact_id: str, case: Case, at: float) -> None:
        """Another message of the same new thread opened ``case`` first: join it."""

        def work(conn: sqlite3.Connection) -> None:
            row = conn.execute(
                "SELECT case_id FROM contacts WHERE contact_id = ?", (contact_id,)
            ).fetchone()
            sql.upsert_case(conn, case, at)
            conn.execute(
                "UPDATE contacts SET case_id = ? WHERE contact_id = ?", (case.id, contact_id)
            )
            conn.execute(
                "UPDATE entries SET case_id = ? WHERE contact_id = ?", (case.id, contact_id)
            )
            if row is not None and row["case_id"] != case.id:
                sql.drop_if_empty(conn, str(row["case_id"]))

        await self._write(work)

    async def save_outbound(self, case: Case, entry: MailEntry) -> None:
        def work(conn: sqlite3.Connection) -> None:
            sql.upsert_case(conn, case, entry.at)
            sql.insert_entry(conn, case.id, entry, None)

        await self._write(work)

    def set_handler(self, case_id: str, agent_id: str) -> None:
        statement = "UPDATE cases SET handler = ? WHERE id = ?"
        self._later(lambda conn: conn.execute(statement, (agent_id, case_id)), "handler")

    def finish(self, contact_id: str) -> None:
        statement = "UPDATE contacts SET state = ? WHERE contact_id = ?"
        self._later(lambda conn: conn.execute(statement, (FINISHED, contact_id)), "finish")

    async def requeued(self, contact_id: str) -> None:
        statement = "UPDATE contacts SET requeues = requeues + 1 WHERE contact_id = ?"
        await self._write(lambda conn: conn.execute(statement, (contact_id,)))

    async def finished(self, *contact_ids: str) -> None:
        statement = "UPDATE contacts SET state = ? WHERE contact_id = ?"
        rows = [(FINISHED, contact_id) for contact_id in contact_ids]
        await self._write(lambda conn: conn.executemany(statement, rows))

    async def open_contacts(self) -> list[str]:
        statement = "SELECT contact_id FROM contacts WHERE state = 'open'"
        rows = await self._read(lambda conn: conn.execute(statement).fetchall())
        return [str(row["contact_id"]) for row in rows]

    async def prune(self, *, older_than: float, keep: int) -> int:
        """Delete cases idle since before ``older_than`` or past the newest ``keep``;
        a case with an open contact is kept whatever its age. Returns how many went."""
        return await self._write(lambda conn: sql.prune(conn, older_than, keep))

    # ----------------------------------------------------------------- reading

    async def load(self, max_cases: int) -> Loaded:
        """The newest ``max_cases`` cases plus every case with an open contact."""
        return await self._read(lambda conn: sql.load(conn, max_cases))

    async def case_of(
        self, message_ids: tuple[str, ...]
    ) -> tuple[Case, dict[str, InboundMail]] | None:
        """The case an earlier message names, read from disk (the cache forgot it)."""
        return await self._read(lambda conn: sql.case_of(conn, message_ids))

    async def _read(self, work: Callable[[sqlite3.Connection], T]) -> T:
        try:
            return await self._db.run(work)
        except (sqlite3.Error, OSError, StoreClosed) as exc:
            raise CaseStoreError(f"mail case store {self.path}: {exc}") from None

    async def close(self) -> None:
        if self._pending:
            await asyncio.gather(*list(self._pending), return_exceptions=True)
        await self._db.close()


def _log_failure(task: asyncio.Task[Any], what: str) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("mail case store: %s not written: %s", what, task.exception())


def open_case_store(path: Path, *, intake: bool) -> CaseStore | None:
    """The case store at ``path``, checked; None when there is no SMTP intake and no
    file from an earlier run (nothing can arrive, nothing to recover)."""
    if not intake and not path.exists():
        return None
    check(path)
    return CaseStore(path)
