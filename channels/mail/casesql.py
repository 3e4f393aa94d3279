"""The SQL of the mail case store (`channels.mail.store`): schema, rows in and out."""

from __future__ import annotations

import dataclasses
import json
import sqlite3
from dataclasses import dataclass
from typing import Any

from channels.mail.message import InboundMail
from channels.mail.threads import Case, MailEntry

SCHEMA_VERSION = "1"

SCHEMA = """
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


def upsert_case(conn: sqlite3.Connection, case: Case, at: float) -> None:
    conn.execute(
        "INSERT INTO cases (id, subject, customer, handler, opened_at, active_at)"
        " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET"
        " handler = excluded.handler, active_at = max(active_at, excluded.active_at)",
        (case.id, case.subject, case.customer, case.handler, at, at),
    )


def insert_entry(
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


def drop_if_empty(conn: sqlite3.Connection, case_id: str) -> None:
    conn.execute(
        "DELETE FROM cases WHERE id = ? AND NOT EXISTS (SELECT 1 FROM entries WHERE case_id = ?)",
        (case_id, case_id),
    )


def prune(conn: sqlite3.Connection, older_than: float, keep: int) -> int:
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


def load(conn: sqlite3.Connection, max_cases: int) -> Loaded:
    rows = conn.execute(
        "SELECT * FROM (SELECT * FROM cases ORDER BY active_at DESC LIMIT ?) UNION"
        " SELECT * FROM cases WHERE id IN (SELECT case_id FROM contacts WHERE state = 'open')"
        " ORDER BY active_at",
        (max_cases,),
    ).fetchall()
    cases = [read_case(conn, row) for row in rows]
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


def case_of(
    conn: sqlite3.Connection, message_ids: tuple[str, ...]
) -> tuple[Case, dict[str, InboundMail]] | None:
    for message_id in message_ids:
        row = conn.execute(
            "SELECT c.* FROM entries e JOIN cases c ON c.id = e.case_id WHERE e.message_id = ?"
            " ORDER BY e.seq DESC LIMIT 1",
            (message_id,),
        ).fetchone()
        if row is not None:
            return read_case(conn, row)
    return None


def read_case(conn: sqlite3.Connection, row: sqlite3.Row) -> tuple[Case, dict[str, InboundMail]]:
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
            mails[str(entry["contact_id"])] = mail(json.loads(entry["mail"]))
    return case, mails


def mail(data: dict[str, Any]) -> InboundMail:
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
