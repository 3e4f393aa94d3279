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
import dataclasses
import json
import logging
import sqlite3
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from channels.mail.message import InboundMail
from channels.mail.threads import Case, MailEntry
from ringway.sqlitework import SQLiteWorker, StoreClosed

T = TypeVar("T")
log = logging.getLogger(__name__)
SCHEMA_VERSION = "1"

_SCHEMA = """
PRAGMA synchronous=FULL;
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS cases (
    id        TEXT PRIMARY KEY,
    subject   TEXT NOT NULL,
    customer  TEXT NOT NULL,
    handler   TEXT NULL,
    opened_at REAL NOT NULL,
    active_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS cases_active ON cases (active_at);
CREATE TABLE IF NOT EXISTS entries (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    case_id    TEXT NOT NULL,
    direction  TEXT NOT NULL,
    message_id TEXT NOT NULL,
    at         REAL NOT NULL,
    sender     TEXT NOT NULL,
    recipient  TEXT NOT NULL,
    subject    TEXT NOT NULL,
    body       TEXT NOT NULL,
    contact_id TEXT NULL,
    agent_id   TEXT NULL,
    mail       TEXT NULL
);
CREATE INDEX IF NOT EXISTS entries_case ON entries (case_id, seq);
CREATE INDEX IF NOT EXISTS entries_message ON entries (message_id);
CREATE TABLE IF NOT EXISTS contacts (
    contact_id  TEXT PRIMARY KEY,
    case_id     TEXT NOT NULL,
    received_at REAL NOT NULL,
    state       TEXT NOT NULL,
    requeues    INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS contacts_case ON contacts (case_id);
CREATE INDEX IF NOT EXISTS contacts_open ON contacts (state) WHERE state = 'open';
"""

OPEN, FINISHED = "open", "finished"


class CaseStoreError(Exception):
    """The case store could not commit: the intake must not answer 250."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class CaseStoreUnusable(ValueError):
    """The case store cannot be opened or written at start (`ringway serve`: exit 2)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredContact:
    contact_id: str
    case_id: str
    received_at: float
    requeues: int
    mail: InboundMail


@dataclass(slots=True)
class Loaded:
    """What a start reads back: cases oldest activity first, and the open contacts."""

    cases: list[tuple[Case, dict[str, InboundMail]]]
    open: list[StoredContact]


def check(path: Path) -> None:
    """Open ``path``, create the schema and write to it once; `CaseStoreUnusable` if any
    of it fails (corrupt file, read-only file or directory, a newer schema)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(path)
        try:
            conn.executescript(_SCHEMA)
            with conn:
                row = conn.execute("SELECT value FROM meta WHERE key = 'version'").fetchone()
                if row is not None and row[0] != SCHEMA_VERSION:
                    raise CaseStoreUnusable(
                        f"mail case store {path}: schema version {row[0]}, this build knows "
                        f"{SCHEMA_VERSION}"
                    )
                conn.execute(
                    "INSERT OR REPLACE INTO meta (key, value) VALUES ('version', ?)",
                    (SCHEMA_VERSION,),
                )
        finally:
            conn.close()
    except (sqlite3.Error, OSError) as exc:
        raise CaseStoreUnusable(f"mail case store {path}: {exc}") from None


class CaseStore:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._db = SQLiteWorker(path, _SCHEMA, "ringway-mail-cases")
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
            _upsert_case(conn, case, entry.at)
            _insert_entry(conn, case.id, entry, mail)
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
                _drop_if_empty(conn, str(row["case_id"]))

        await self._write(work)

    async def move_contact(self, contact_id: str, case: Case, at: float) -> None:
        """Another message of the same new thread opened ``case`` first: join it."""

        def work(conn: sqlite3.Connection) -> None:
            row = conn.execute(
                "SELECT case_id FROM contacts WHERE contact_id = ?", (contact_id,)
            ).fetchone()
            _upsert_case(conn, case, at)
            conn.execute(
                "UPDATE contacts SET case_id = ? WHERE contact_id = ?", (case.id, contact_id)
            )
            conn.execute(
                "UPDATE entries SET case_id = ? WHERE contact_id = ?", (case.id, contact_id)
            )
            if row is not None and row["case_id"] != case.id:
                _drop_if_empty(conn, str(row["case_id"]))

        await self._write(work)

    async def save_outbound(self, case: Case, entry: MailEntry) -> None:
        def work(conn: sqlite3.Connection) -> None:
            _upsert_case(conn, case, entry.at)
            _insert_entry(conn, case.id, entry, None)

        await self._write(work)

    def set_handler(self, case_id: str, agent_id: str) -> None:
        sql = "UPDATE cases SET handler = ? WHERE id = ?"
        self._later(lambda conn: conn.execute(sql, (agent_id, case_id)), "handler")

    def finish(self, contact_id: str) -> None:
        sql = "UPDATE contacts SET state = ? WHERE contact_id = ?"
        self._later(lambda conn: conn.execute(sql, (FINISHED, contact_id)), "finish")

    async def requeued(self, contact_id: str) -> None:
        sql = "UPDATE contacts SET requeues = requeues + 1 WHERE contact_id = ?"
        await self._write(lambda conn: conn.execute(sql, (contact_id,)))

    async def finished(self, *contact_ids: str) -> None:
        sql = "UPDATE contacts SET state = ? WHERE contact_id = ?"
        rows = [(FINISHED, contact_id) for contact_id in contact_ids]
        await self._write(lambda conn: conn.executemany(sql, rows))

    async def open_contacts(self) -> list[str]:
        sql = "SELECT contact_id FROM contacts WHERE state = 'open'"
        rows = await self._db.run(lambda conn: conn.execute(sql).fetchall())
        return [str(row["contact_id"]) for row in rows]

    async def prune(self, *, older_than: float, keep: int) -> int:
        """Delete cases idle since before ``older_than`` or past the newest ``keep``;
        a case with an open contact is kept whatever its age. Returns how many went."""
        return await self._write(lambda conn: _prune(conn, older_than, keep))

    # ----------------------------------------------------------------- reading

    async def load(self, max_cases: int) -> Loaded:
        """The newest ``max_cases`` cases plus every case with an open contact."""
        return await self._db.run(lambda conn: _load(conn, max_cases))

    async def case_of(
        self, message_ids: tuple[str, ...]
    ) -> tuple[Case, dict[str, InboundMail]] | None:
        """The case an earlier message names, read from disk (the cache forgot it)."""
        return await self._db.run(lambda conn: _case_of(conn, message_ids))

    async def close(self) -> None:
        if self._pending:
            await asyncio.gather(*list(self._pending), return_exceptions=True)
        await self._db.close()


def _log_failure(task: asyncio.Task[Any], what: str) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("mail case store: %s not written: %s", what, task.exception())


def _upsert_case(conn: sqlite3.Connection, case: Case, at: float) -> None:
    conn.execute(
        "INSERT INTO cases (id, subject, customer, handler, opened_at, active_at)"
        " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET"
        " handler = excluded.handler, active_at = max(active_at, excluded.active_at)",
        (case.id, case.subject, case.customer, case.handler, at, at),
    )


def _insert_entry(
    conn: sqlite3.Connection, case_id: str, entry: MailEntry, mail: InboundMail | None
) -> None:
    conn.execute(
        "INSERT INTO entries (case_id, direction, message_id, at, sender, recipient, subject,"
        " body, contact_id, agent_id, mail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            case_id,
            entry.direction,
            entry.message_id,
            entry.at,
            entry.sender,
            entry.to,
            entry.subject,
            entry.text,
            entry.contact_id,
            entry.agent_id,
            None if mail is None else json.dumps(dataclasses.asdict(mail)),
        ),
    )


def _drop_if_empty(conn: sqlite3.Connection, case_id: str) -> None:
    conn.execute(
        "DELETE FROM cases WHERE id = ? AND NOT EXISTS (SELECT 1 FROM entries WHERE case_id = ?)",
        (case_id, case_id),
    )


def _prune(conn: sqlite3.Connection, older_than: float, keep: int) -> int:
    doomed = conn.execute(
        "SELECT id FROM cases c WHERE NOT EXISTS (SELECT 1 FROM contacts k"
        " WHERE k.case_id = c.id AND k.state = 'open') AND (c.active_at < ? OR c.id NOT IN"
        " (SELECT id FROM cases ORDER BY active_at DESC LIMIT ?))",
        (older_than, keep),
    ).fetchall()
    ids = [(str(row["id"]),) for row in doomed]
    conn.executemany("DELETE FROM entries WHERE case_id = ?", ids)
    conn.executemany("DELETE FROM contacts WHERE case_id = ?", ids)
    conn.executemany("DELETE FROM cases WHERE id = ?", ids)
    return len(ids)


def _load(conn: sqlite3.Connection, max_cases: int) -> Loaded:
    rows = conn.execute(
        "SELECT * FROM (SELECT * FROM cases ORDER BY active_at DESC LIMIT ?) UNION"
        " SELECT * FROM cases WHERE id IN (SELECT case_id FROM contacts WHERE state = 'open')"
        " ORDER BY active_at",
        (max_cases,),
    ).fetchall()
    cases = [_read_case(conn, row) for row in rows]
    by_id = {case.id: mails for case, mails in cases}
    open_rows = conn.execute(
        "SELECT * FROM contacts WHERE state = 'open' ORDER BY received_at"
    ).fetchall()
    open_contacts = [
        StoredContact(
            contact_id=str(row["contact_id"]),
            case_id=str(row["case_id"]),
            received_at=float(row["received_at"]),
            requeues=int(row["requeues"]),
            mail=by_id[row["case_id"]][row["contact_id"]],
        )
        for row in open_rows
        if row["contact_id"] in by_id.get(row["case_id"], {})
    ]
    return Loaded(cases, open_contacts)


def _case_of(
    conn: sqlite3.Connection, message_ids: tuple[str, ...]
) -> tuple[Case, dict[str, InboundMail]] | None:
    for message_id in message_ids:
        row = conn.execute(
            "SELECT c.* FROM entries e JOIN cases c ON c.id = e.case_id WHERE e.message_id = ?"
            " ORDER BY e.seq DESC LIMIT 1",
            (message_id,),
        ).fetchone()
        if row is not None:
            return _read_case(conn, row)
    return None


def _read_case(conn: sqlite3.Connection, row: sqlite3.Row) -> tuple[Case, dict[str, InboundMail]]:
    case = Case(
        id=str(row["id"]),
        subject=str(row["subject"]),
        customer=str(row["customer"]),
        handler=row["handler"],
    )
    mails: dict[str, InboundMail] = {}
    for entry in conn.execute("SELECT * FROM entries WHERE case_id = ? ORDER BY seq", (case.id,)):
        case.entries.append(
            MailEntry(
                direction=str(entry["direction"]),
                message_id=str(entry["message_id"]),
                at=float(entry["at"]),
                sender=str(entry["sender"]),
                to=str(entry["recipient"]),
                subject=str(entry["subject"]),
                text=str(entry["body"]),
                contact_id=entry["contact_id"],
                agent_id=entry["agent_id"],
            )
        )
        if entry["mail"] is not None and entry["contact_id"] is not None:
            mails[str(entry["contact_id"])] = _mail(json.loads(entry["mail"]))
    return case, mails


def _mail(data: dict[str, Any]) -> InboundMail:
    return InboundMail(
        message_id=str(data["message_id"]),
        in_reply_to=tuple(data["in_reply_to"]),
        references=tuple(data["references"]),
        subject=str(data["subject"]),
        sender=str(data["sender"]),
        sender_name=str(data["sender_name"]),
        reply_to=data["reply_to"],
        recipients=tuple(data["recipients"]),
        date=data["date"],
        text=str(data["text"]),
        attachments=tuple(data["attachments"]),
        size=int(data["size"]),
    )


def open_case_store(path: Path, *, intake: bool) -> CaseStore | None:
    """The case store at ``path``, checked; None when there is no SMTP intake and no
    file from an earlier run (nothing can arrive, nothing to recover)."""
    if not intake and not path.exists():
        return None
    check(path)
    return CaseStore(path)
