"""`DialerStore` on the stdlib ``sqlite3``: the DNC list and attempt history survive restarts.

Follows `crm.sqlite_schema`: WAL, ``synchronous=NORMAL`` (durable across an
application crash), schema version in ``PRAGMA user_version``, every write in a
``BEGIN IMMEDIATE`` transaction. Instants are stored twice: ISO text for people
and epoch microseconds for range queries (rolling 24 h, 72 h). One connection
per store object, used from one thread at a time.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from crm.sqlite_schema import transaction
from dialer.leads import Lead, LeadStatus, Outcome
from dialer.store import Attempt, DialerStore, DncEntry, RegistryVersion
from dialer.store_sqlite_schema import connect

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def micros(at: datetime) -> int:
    return (at - _EPOCH) // timedelta(microseconds=1)


def _instant(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text is not None else None


class SQLiteDialerStore:
    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self._conn: sqlite3.Connection = connect(self.path)

    # --- DNC
    def add_dnc(self, entry: DncEntry) -> None:
        with transaction(self._conn):
            self._conn.execute(
                "INSERT OR IGNORE INTO dnc (number, added_at, source, reason) VALUES (?,?,?,?)",
                (entry.number, entry.added_at.isoformat(), entry.source, entry.reason),
            )

    def dnc_entry(self, number: str) -> DncEntry | None:
        row = self._conn.execute(
            "SELECT number, added_at, source, reason FROM dnc WHERE number = ?", (number,)
        ).fetchone()
        if row is None:
            return None
        return DncEntry(
            number=row[0], added_at=datetime.fromisoformat(row[1]), source=row[2], reason=row[3]
        )

    def dnc_size(self) -> int:
        count: int = self._conn.execute("SELECT count(*) FROM dnc").fetchone()[0]
        return count

    # --- registries
    def import_registry(self, version: RegistryVersion, numbers: Iterable[str]) -> None:
        with transaction(self._conn):
            self._conn.execute(
                "DELETE FROM registry_numbers WHERE registry = ?", (version.registry,)
            )
            self._conn.executemany(
                "INSERT OR IGNORE INTO registry_numbers (registry, number) VALUES (?, ?)",
                ((version.registry, n) for n in numbers),
            )
            self._conn.execute(
                "INSERT OR REPLACE INTO registry_versions"
                " (registry, version, as_of, imported_at, source, sha256, numbers)"
                " VALUES (?,?,?,?,?,?,?)",
                (
                    version.registry,
                    version.version,
                    version.as_of.isoformat(),
                    version.imported_at.isoformat(),
                    version.source,
                    version.sha256,
                    version.numbers,
                ),
            )

    def registry_version(self, registry: str) -> RegistryVersion | None:
        row = self._conn.execute(
            "SELECT registry, version, as_of, imported_at, source, sha256, numbers"
            " FROM registry_versions WHERE registry = ?",
            (registry,),
        ).fetchone()
        if row is None:
            return None
        return RegistryVersion(
            registry=row[0],
            version=row[1],
            as_of=date.fromisoformat(row[2]),
            imported_at=datetime.fromisoformat(row[3]),
            source=row[4],
            sha256=row[5],
            numbers=row[6],
        )

    def in_registry(self, registry: str, number: str) -> bool:
        row = self._conn.execute(
            "SELECT 1 FROM registry_numbers WHERE registry = ? AND number = ?", (registry, number)
        ).fetchone()
        return row is not None

    # --- attempts
    def add_attempt(self, attempt: Attempt) -> None:
        with transaction(self._conn):
            _insert_attempt(self._conn, attempt)

    def record_attempt(self, attempt: Attempt, proof: dict[str, object], lead: Lead | None) -> None:
        with transaction(self._conn):  # all or nothing: a crash never splits them
            _insert_attempt(self._conn, attempt)
            _insert_proof(self._conn, attempt.id, proof)
            if lead is not None:
                _upsert_lead(self._conn, lead)

    def set_outcome(self, attempt_id: str, outcome: Outcome, at: datetime) -> Attempt:
        with transaction(self._conn):
            changed = self._conn.execute(
                "UPDATE attempts SET outcome = ?, outcome_at = ?, outcome_us = ? WHERE id = ?",
                (outcome.value, at.isoformat(), micros(at), attempt_id),
            ).rowcount
        if not changed:
            raise KeyError(attempt_id)
        return self._attempt(attempt_id)

    def _attempt(self, attempt_id: str) -> Attempt:
        row = self._conn.execute(
            "SELECT id, lead_id, campaign, number, at, guaranteed_agent, outcome, outcome_at"
            " FROM attempts WHERE id = ?",
            (attempt_id,),
        ).fetchone()
        return Attempt(
            id=row[0],
            lead_id=row[1],
            campaign=row[2],
            number=row[3],
            at=datetime.fromisoformat(row[4]),
            guaranteed_agent=bool(row[5]),
            outcome=Outcome(row[6]) if row[6] else None,
            outcome_at=_instant(row[7]),
        )

    def lead_attempts(self, lead_id: str) -> int:
        sql = "SELECT count(*) FROM attempts WHERE lead_id = ?"
        count: int = self._conn.execute(sql, (lead_id,)).fetchone()[0]
        return count

    def number_attempts(self, number: str, after: datetime, until: datetime) -> int:
        sql = "SELECT count(*) FROM attempts WHERE number = ? AND at_us > ? AND at_us <= ?"
        count: int = self._conn.execute(sql, (number, micros(after), micros(until))).fetchone()[0]
        return count

    def first_attempt(self, number: str, after: datetime, until: datetime) -> datetime | None:
        row = self._conn.execute(
            "SELECT at FROM attempts WHERE number = ? AND at_us > ? AND at_us <= ?"
            " ORDER BY at_us LIMIT 1",
            (number, micros(after), micros(until)),
        ).fetchone()
        return _instant(row[0]) if row else None

    def last_outcome(self, number: str, outcome: Outcome, until: datetime) -> datetime | None:
        row = self._conn.execute(
            "SELECT coalesce(outcome_at, at) FROM attempts WHERE number = ? AND outcome = ?"
            " AND at_us <= ? ORDER BY coalesce(outcome_us, at_us) DESC LIMIT 1",
            (number, outcome.value, micros(until)),
        ).fetchone()
        return _instant(row[0]) if row else None

    def last_abandoned(self, number: str, until: datetime) -> datetime | None:
        return self.last_outcome(number, Outcome.ABANDONED, until)

    # --- proofs
    def add_proof(self, attempt_id: str | None, proof: dict[str, object]) -> int:
        with transaction(self._conn):
            return _insert_proof(self._conn, attempt_id, proof)

    def proofs(self, number: str) -> list[dict[str, object]]:
        rows = self._conn.execute(
            "SELECT attempt_id, body FROM proofs WHERE number = ? ORDER BY id", (number,)
        ).fetchall()
        return [{**json.loads(body), "attempt_id": attempt_id} for attempt_id, body in rows]

    # --- leads
    def put_lead(self, lead: Lead) -> None:
        with transaction(self._conn):
            _upsert_lead(self._conn, lead)

    def put_leads(self, leads: Iterable[Lead]) -> None:
        with transaction(self._conn):
            for lead in leads:
                _upsert_lead(self._conn, lead)

    def lead(self, lead_id: str) -> Lead | None:
        row = self._conn.execute("SELECT body FROM leads WHERE id = ?", (lead_id,)).fetchone()
        return _lead_from(json.loads(row[0])) if row else None

    def leads(self, campaign: str) -> list[Lead]:
        rows = self._conn.execute(
            "SELECT body FROM leads WHERE campaign = ? ORDER BY line, id", (campaign,)
        ).fetchall()
        return [_lead_from(json.loads(body)) for (body,) in rows]

    def due_leads(self, campaign: str, at: datetime, limit: int) -> list[Lead]:
        rows = self._conn.execute(
            "SELECT body FROM leads WHERE campaign = ? AND status = ? AND next_us <= ?"
            " ORDER BY next_us, line, id LIMIT ?",
            (campaign, LeadStatus.READY.value, micros(at), limit),
        ).fetchall()
        return [_lead_from(json.loads(body)) for (body,) in rows]

    def campaign_numbers(self, campaign: str) -> set[str]:
        rows = self._conn.execute("SELECT phone FROM leads WHERE campaign = ?", (campaign,))
        return {phone for (phone,) in rows}

    def close(self) -> None:
        self._conn.close()


def _insert_attempt(conn: sqlite3.Connection, attempt: Attempt) -> None:
    if conn.execute("SELECT 1 FROM attempts WHERE id = ?", (attempt.id,)).fetchone():
        raise ValueError(f"attempt {attempt.id!r} already recorded")
    conn.execute(
        "INSERT INTO attempts (id, lead_id, campaign, number, at, at_us, guaranteed_agent)"
        " VALUES (?,?,?,?,?,?,?)",
        (
            attempt.id,
            attempt.lead_id,
            attempt.campaign,
            attempt.number,
            attempt.at.isoformat(),
            micros(attempt.at),
            int(attempt.guaranteed_agent),
        ),
    )


def _insert_proof(
    conn: sqlite3.Connection, attempt_id: str | None, proof: dict[str, object]
) -> int:
    cursor = conn.execute(
        "INSERT INTO proofs (attempt_id, number, at, allowed, body) VALUES (?,?,?,?,?)",
        (
            attempt_id,
            str(proof.get("number")),
            str(proof.get("at")),
            int(bool(proof.get("allowed"))),
            json.dumps(proof, sort_keys=True, default=str),
        ),
    )
    return int(cursor.lastrowid or 0)


def _upsert_lead(conn: sqlite3.Connection, lead: Lead) -> None:
    conn.execute(
        "INSERT OR REPLACE INTO leads (id, campaign, phone, line, status, next_us, body)"
        " VALUES (?,?,?,?,?,?,?)",
        (
            lead.id,
            lead.campaign,
            lead.phone,
            lead.source_line or 0,
            lead.status.value,
            micros(lead.next_attempt_at) if lead.next_attempt_at else 0,
            json.dumps(_lead_doc(lead)),
        ),
    )


def _lead_doc(lead: Lead) -> dict[str, Any]:
    return {
        "id": lead.id,
        "campaign": lead.campaign,
        "phone": lead.phone,
        "name": lead.name,
        "customer_id": lead.customer_id,
        "timezone": lead.timezone,
        "region": lead.region,
        "source_line": lead.source_line,
        "status": lead.status.value,
        "attempts": lead.attempts,
        "outcomes": [o.value for o in lead.outcomes],
        "last_attempt_at": lead.last_attempt_at.isoformat() if lead.last_attempt_at else None,
        "next_attempt_at": lead.next_attempt_at.isoformat() if lead.next_attempt_at else None,
    }


def _lead_from(doc: dict[str, Any]) -> Lead:
    return Lead(
        id=doc["id"],
        campaign=doc["campaign"],
        phone=doc["phone"],
        name=doc["name"],
        customer_id=doc["customer_id"],
        timezone=doc["timezone"],
        region=doc["region"],
        source_line=doc["source_line"],
        status=LeadStatus(doc["status"]),
        attempts=doc["attempts"],
        outcomes=tuple(Outcome(o) for o in doc["outcomes"]),
        last_attempt_at=_instant(doc["last_attempt_at"]),
        next_attempt_at=_instant(doc["next_attempt_at"]),
    )


def _conforms(store: SQLiteDialerStore) -> DialerStore:
    return store  # never called: mypy proves the class satisfies the protocol
