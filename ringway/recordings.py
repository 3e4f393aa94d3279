"""Call recordings: WAV files under ``service.recordings_dir``, metadata in SQLite.

The telephony driver records a bridged call when its queue says so
(``queues[].recording``, docs/recording.md):

    session = recordings.start(contact_id=..., call_id=...)   # None: the queue does not record
    if session is not None:
        caller_endpoint.recorder = session.recorder             # ivr.media.recorder.Recorder
    ...                                                         # the call ends (BYE)
    caller_endpoint.recorder = None
    meta = await recordings.finish(session)                     # file + row written

The id is allocated at `start`, so the customer's history entry for the call
(written when the agent completes it) already names the recording: `Recordings`
is a transcript source of the `RoutingService` and adds a line such as
``Recording rec-…: /api/v1/recordings/rec-…`` to the interaction's notes.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import os
import sqlite3
import wave
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ivr.media.recorder import Recorder
from ringway.schema import RecordingDoc
from ringway.service import RoutingService
from ringway.sqlitework import SQLiteWorker

API_PATH = "/api/v1/recordings/"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS recordings (
    id          TEXT PRIMARY KEY,
    contact_id  TEXT NOT NULL,
    call_id     TEXT NOT NULL,
    queue       TEXT NULL,
    agent_id    TEXT NULL,
    customer_id TEXT NULL,
    started_at  REAL NOT NULL,
    ended_at    REAL NOT NULL,
    duration_s  REAL NOT NULL,
    channels    INTEGER NOT NULL,
    size_bytes  INTEGER NOT NULL,
    sha256      TEXT NOT NULL,
    path        TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS recordings_contact ON recordings (contact_id);
CREATE INDEX IF NOT EXISTS recordings_customer ON recordings (customer_id);
"""


@dataclass(frozen=True, kw_only=True, slots=True)
class RecordingMeta:
    id: str
    contact_id: str
    call_id: str
    queue: str | None
    agent_id: str | None
    customer_id: str | None
    started_at: float  # epoch seconds
    ended_at: float
    duration_s: float  # of the audio (frames / rate), not of the call
    channels: int  # 2: caller left, agent right; 1: mixed
    size_bytes: int
    sha256: str
    path: str  # relative to the recordings directory

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "contact_id": self.contact_id,
            "call_id": self.call_id,
            "queue": self.queue,
            "agent_id": self.agent_id,
            "customer_id": self.customer_id,
            "started_at": _iso(self.started_at),
            "ended_at": _iso(self.ended_at),
            "duration_s": self.duration_s,
            "channels": self.channels,
            "format": "stereo" if self.channels == 2 else "mono",
            "size_bytes": self.size_bytes,
            "sha256": self.sha256,
            "url": API_PATH + self.id,
        }


def _iso(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).isoformat()


def _meta(row: sqlite3.Row) -> RecordingMeta:
    return RecordingMeta(**{key: row[key] for key in row.keys()})  # noqa: SIM118


class RecordingStore:
    """Writes recordings (file first, then the row) and finds them again."""

    def __init__(self, directory: Path, database: Path) -> None:
        self.directory = directory
        self._db = SQLiteWorker(database, _SCHEMA, "ringway-recordings")

    async def save(self, meta: RecordingMeta, wav: bytes) -> RecordingMeta:
        """Write ``wav`` and its row; `meta`'s duration, size, hash and path are filled in."""
        return await self._db.run(lambda conn: self._save(conn, meta, wav))

    def _save(self, conn: sqlite3.Connection, meta: RecordingMeta, wav: bytes) -> RecordingMeta:
        day = datetime.fromtimestamp(meta.started_at, UTC)
        relative = Path(f"{day:%Y/%m/%d}") / f"{meta.id}.wav"
        channels, duration = wav_shape(wav)
        saved = RecordingMeta(
            **{
                **_fields(meta),
                "duration_s": duration,
                "channels": channels,
                "size_bytes": len(wav),
                "sha256": hashlib.sha256(wav).hexdigest(),
                "path": relative.as_posix(),
            }
        )
        row = _fields(saved)
        columns = ", ".join(row)
        marks = ", ".join(f":{key}" for key in row)
        # Row first, in the worker's transaction: a duplicate id fails here, before any
        # file is touched; a failed file write rolls the row back.
        conn.execute(f"INSERT INTO recordings ({columns}) VALUES ({marks})", row)
        target = self.directory / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_suffix(".wav.partial")
        partial.write_bytes(wav)
        os.replace(partial, target)  # a reader never sees half a file
        return saved

    async def get(self, recording_id: str) -> RecordingMeta | None:
        rows = await self._select("id = ?", recording_id)
        return rows[0] if rows else None

    async def for_contact(self, contact_id: str) -> list[RecordingMeta]:
        return await self._select("contact_id = ?", contact_id)

    async def for_customer(self, customer_id: str) -> list[RecordingMeta]:
        return await self._select("customer_id = ?", customer_id)

    async def _select(self, where: str, value: str) -> list[RecordingMeta]:
        sql = f"SELECT * FROM recordings WHERE {where} ORDER BY started_at, id"
        rows = await self._db.run(lambda conn: conn.execute(sql, (value,)).fetchall())
        return [_meta(row) for row in rows]

    async def delete(self, recording_id: str) -> RecordingMeta | None:
        """Erase a recording (file and row); None if there was none. The row goes in the
        same transaction as the unlink, so a failed unlink keeps it listed."""
        return await self._db.run(lambda conn: self._delete(conn, recording_id))

    def _delete(self, conn: sqlite3.Connection, recording_id: str) -> RecordingMeta | None:
        row = conn.execute("SELECT * FROM recordings WHERE id = ?", (recording_id,)).fetchone()
        if row is None:
            return None
        meta = _meta(row)
        conn.execute("DELETE FROM recordings WHERE id = ?", (recording_id,))
        self.file_of(meta).unlink(missing_ok=True)
        return meta

    def file_of(self, meta: RecordingMeta) -> Path:
        return self.directory / meta.path

    async def close(self) -> None:
        await self._db.close()


def _fields(meta: RecordingMeta) -> dict[str, Any]:
    return {name: getattr(meta, name) for name in RecordingMeta.__slots__}


def wav_shape(wav: bytes) -> tuple[int, float]:
    """(channels, seconds) of a WAV file's bytes."""
    with wave.open(io.BytesIO(wav), "rb") as reader:
        return reader.getnchannels(), reader.getnframes() / reader.getframerate()


@dataclass(slots=True)
class RecordingSession:
    """One call being recorded: attach `recorder` to the caller's media endpoint."""

    meta: RecordingMeta  # duration, size, hash and path are filled in by `finish`
    recorder: Recorder


class Recordings:
    """Per-queue recording for the telephony driver, linked to contacts and history."""

    def __init__(self, service: RoutingService, store: RecordingStore) -> None:
        self.service = service
        self.store = store
        self._by_contact: dict[str, list[str]] = {}  # ids started in this process
        service.add_transcript_source(self.history_note)

    def policy(self, queue: str | None) -> RecordingDoc:
        """The queue's recording settings (``enabled``, ``announcement``, ``format``)."""
        return self.service.config.recording_for(queue)

    def start(
        self,
        *,
        contact_id: str,
        call_id: str,
        started_at: float | None = None,
        policy: RecordingDoc | None = None,
    ) -> RecordingSession | None:
        """Begin recording the contact's call if its queue records (or ``policy``, a
        dialler campaign's, says so); None otherwise.

        Raises `UnknownContact` (a `RoutingError`, 404) for a contact the router
        does not know."""
        contact = self.service.router.contact(contact_id)
        policy = policy or self.policy(contact.queue)
        if not policy.enabled:
            return None
        meta = RecordingMeta(
            id=f"rec-{os.urandom(8).hex()}",
            contact_id=contact_id,
            call_id=call_id,
            queue=contact.queue,
            agent_id=contact.agent_id,
            customer_id=contact.customer_id,
            started_at=self.service.now() if started_at is None else started_at,
            ended_at=0.0,
            duration_s=0.0,
            channels=2 if policy.format == "stereo" else 1,
            size_bytes=0,
            sha256="",
            path="",
        )
        self._by_contact.setdefault(contact_id, []).append(meta.id)
        return RecordingSession(meta=meta, recorder=Recorder(stereo=policy.format == "stereo"))

    async def finish(
        self, session: RecordingSession, *, ended_at: float | None = None
    ) -> RecordingMeta:
        """Render the recorder's WAV and store it with its metadata.

        Detach the recorder from the endpoint first: the WAV is rendered on a
        worker thread (an hour of mono mixing takes seconds of CPU) and must not
        change underneath."""
        end = self.service.now() if ended_at is None else ended_at
        meta = RecordingMeta(**{**_fields(session.meta), "ended_at": end})
        if meta.customer_id is None:  # no history entry will ask for the note
            self._by_contact.pop(meta.contact_id, None)
        wav = await asyncio.to_thread(session.recorder.wav)
        return await self.store.save(meta, wav)

    def history_note(self, contact_id: str) -> str | None:
        """The line the customer's history entry for this contact carries."""
        ids = self._by_contact.pop(contact_id, [])
        return "\n".join(f"Recording {rid}: {API_PATH}{rid}" for rid in ids) or None
