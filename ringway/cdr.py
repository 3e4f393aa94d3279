"""Call detail records: one row per call leg from a caller, in SQLite.

The telephony driver calls `CallDetails.call_ended` once per inbound call,
when its last leg is gone (BYE, CANCEL, a failed INVITE):

    await cdrs.call_ended(
        call_id=dialog_call_id, started_at=invite_at, answered_at=ok_sent_at,
        ended_at=now, cli="+441632960001", to="sales", contact_id=contact.id,
        hangup_by="caller", recording_id=meta.id,
    )

The rest comes from the router's contact: queue, agent, when the agent was
connected, the customer and the outcome (answered, abandoned, …). The agent's
disposition is only known after wrap-up, so the record is updated when the
router reports ``contact_completed``. Times are epoch seconds (the service
clock) and are shown in ISO-8601 UTC.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import operator
import sqlite3
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any, Final, TypeVar, cast

from mypy_extensions import mypyc_attr

from ringway.service import RoutingService
from ringway.sqlitework import NullInliningInserts, SQLiteWorker
from router import events as ev
from router.errors import RoutingError
from router.model import Contact, ContactStatus
from router.record import slot_constructor

log = logging.getLogger(__name__)
T = TypeVar("T")
# What a record that cannot be filed raises: the filing calls log it (a warning), and
# the call goes on.
_NOT_FILED: Final = (RoutingError, OSError, sqlite3.Error)

# A None parameter binds as NULL either way, but the sqlite3 module (3.11) finds that
# out the slow way for each one: None is not among the types it binds as they are, so
# it looks for an adapter, then asks its protocol type for ``__adapt__``, which raises
# (and drops) a formatted AttributeError: ~2,600 instructions per None. A router-path
# CDR row has five (connected_at, agent_id, disposition, recording_id, details), the
# event log's agent rows one. Registered, None's adapter is found in the registry's
# dict and returns None, bound as NULL as before. `dict.get` of an empty dict: a C
# callable that answers None for None. Process-wide (the registry is the module's),
# and changes what no connection stores: every None still binds as NULL.
sqlite3.register_adapter(type(None), cast("Callable[[None], None]", {}.get))


class Outcome(StrEnum):
    ANSWERED = "answered"  # an agent took the call
    ABANDONED = "abandoned"  # the caller hung up while queued or ringing an agent
    IVR = "ivr"  # ended in the IVR, never queued (hung up, callback booked, closed)
    OVERFLOWED = "overflowed"  # left its queue on maximum wait or size
    CANCELLED = "cancelled"  # withdrawn by a supervisor
    FAILED = "failed"  # the call could not be set up or routed
    # a dialled call's (direction "outbound", docs/dialer-live.md); answered, abandoned
    # (answered, nobody to take it: the safe-harbour prompt) and failed as above
    BUSY = "busy"
    NO_ANSWER = "no_answer"
    MACHINE = "machine"


_BY_STATUS = {
    ContactStatus.CONNECTED: Outcome.ANSWERED,
    ContactStatus.WRAP_UP: Outcome.ANSWERED,
    ContactStatus.COMPLETED: Outcome.ANSWERED,
    ContactStatus.ABANDONED: Outcome.ABANDONED,
    ContactStatus.OVERFLOWED: Outcome.OVERFLOWED,
    ContactStatus.CANCELLED: Outcome.CANCELLED,
}

_SCHEMA = """
CREATE TABLE IF NOT EXISTS cdrs (
    call_id      TEXT PRIMARY KEY,
    contact_id   TEXT NULL,
    cli          TEXT NULL,
    dialed       TEXT NULL,
    started_at   REAL NOT NULL,
    answered_at  REAL NULL,
    connected_at REAL NULL,
    ended_at     REAL NOT NULL,
    queue        TEXT NULL,
    agent_id     TEXT NULL,
    customer_id  TEXT NULL,
    outcome      TEXT NOT NULL,
    disposition  TEXT NULL,
    recording_id TEXT NULL,
    hangup_by    TEXT NULL,
    direction    TEXT NULL,
    details      TEXT NULL
);
CREATE INDEX IF NOT EXISTS cdrs_started ON cdrs (started_at);
CREATE INDEX IF NOT EXISTS cdrs_contact ON cdrs (contact_id);
"""
# Added after the first release: a store made before them gains them on open.
_ADDED = {"direction": "TEXT NULL", "details": "TEXT NULL"}


def _add_columns(conn: sqlite3.Connection) -> None:
    have = {row[1] for row in conn.execute("PRAGMA table_info(cdrs)")}
    for name, kind in _ADDED.items():
        if name not in have:
            conn.execute(f"ALTER TABLE cdrs ADD COLUMN {name} {kind}")


@mypyc_attr(native_class=False)  # compiled, a plain class: its code/status override the base's
class CdrError(RoutingError):
    """A CDR the driver cannot file (HTTP-shaped like every routing error)."""

    code = "invalid_cdr"
    status = 422


# A plain class, compiled: `slot_constructor` allocates it by hand and reads its slots,
# which a native class has not; the API and the tests read and compare it as a dataclass.
@mypyc_attr(native_class=False)
@dataclass(frozen=True, kw_only=True, slots=True)
class CallDetailRecord:
    call_id: str  # SIP Call-ID of the caller's dialog
    started_at: float  # INVITE received
    ended_at: float
    outcome: Outcome
    contact_id: str | None = None
    cli: str | None = None  # the caller (P-Asserted-Identity / From)
    dialed: str | None = None  # the request-URI user (DNIS)
    answered_at: float | None = None  # 200 OK sent to the caller (the IVR answered)
    connected_at: float | None = None  # bridged to an agent
    queue: str | None = None
    agent_id: str | None = None
    customer_id: str | None = None
    disposition: str | None = None
    recording_id: str | None = None
    hangup_by: str | None = None  # "caller", "agent", "system"; "customer" when dialled
    direction: str = "inbound"  # "outbound": a call the dialer placed
    details: dict[str, Any] | None = None  # a dialled call's campaign, lead, ring time, ...

    @property
    def abandoned(self) -> bool:
        return self.outcome is Outcome.ABANDONED

    @property
    def duration_s(self) -> float:
        return max(self.ended_at - self.started_at, 0.0)

    @property
    def talk_s(self) -> float:
        return 0.0 if self.connected_at is None else max(self.ended_at - self.connected_at, 0.0)

    def to_dict(self) -> dict[str, Any]:
        return {
            "call_id": self.call_id,
            "contact_id": self.contact_id,
            "cli": self.cli,
            "to": self.dialed,
            "start": _iso(self.started_at),
            "answer": _iso(self.answered_at),
            "connected": _iso(self.connected_at),
            "end": _iso(self.ended_at),
            "duration_s": round(self.duration_s, 3),
            "talk_s": round(self.talk_s, 3),
            "queue": self.queue,
            "agent_id": self.agent_id,
            "customer_id": self.customer_id,
            "outcome": self.outcome.value,
            "abandoned": self.abandoned,
            "disposition": self.disposition,
            "recording_id": self.recording_id,
            "hangup_by": self.hangup_by,
            "direction": self.direction,
            **({"dialer": self.details} if self.details is not None else {}),
        }


# The record built per call on the router path, every field positionally in declaration
# order: the dataclass's keyword constructor cost ~36,000 instructions for 17 fields,
# this one ~14,000 (`crm.model.slot_constructor`).
_make_record: Final = slot_constructor(CallDetailRecord)


def _iso(at: float | None) -> str | None:
    return None if at is None else datetime.fromtimestamp(at, UTC).isoformat()


# A row is every field, in this order: those stored as they are (call_id first), read
# by one `attrgetter` (in C: a CDR per call is filed on the router path), then the two
# that are converted. Derived from the dataclass, so a field added later is a column.
_CONVERTED = ("outcome", "details")
_AS_IS = tuple(name for name in CallDetailRecord.__slots__ if name not in _CONVERTED)
_COLUMNS = (*_AS_IS, *_CONVERTED)
_as_is: Final = operator.attrgetter(*_AS_IS)
Row = tuple[Any, ...]


def _row(cdr: CallDetailRecord) -> Row:
    details = None if cdr.details is None else json.dumps(cdr.details)
    # str() of a StrEnum is its value, without the enum's `value` property (Python code)
    return (*_as_is(cdr), str(cdr.outcome), details)


def _make_row(
    call_id: str,
    started_at: float,
    ended_at: float,
    outcome: Outcome,
    contact_id: str | None,
    cli: str | None,
    dialed: str | None,
    answered_at: float | None,
    connected_at: float | None,
    queue: str | None,
    agent_id: str | None,
    customer_id: str | None,
    disposition: str | None,
    recording_id: str | None,
    hangup_by: str | None,
    direction: str,
    details: dict[str, Any] | None,
) -> Row:
    """`_row(_make_record(...))` without the record: the router path files a row per call
    and nothing reads the record object (~14,000 instructions to build, against one
    tuple). The fields in declaration order, as `_make_record` takes them; the row in
    `_COLUMNS` order (tests/recording/test_callend_cdr_rows.py holds the two equal)."""
    return (
        call_id,
        started_at,
        ended_at,
        contact_id,
        cli,
        dialed,
        answered_at,
        connected_at,
        queue,
        agent_id,
        customer_id,
        disposition,
        recording_id,
        hangup_by,
        direction,
        str(outcome),
        None if details is None else json.dumps(details),
    )


def _record(row: sqlite3.Row) -> CallDetailRecord:
    data = {key: row[key] for key in row.keys()}  # noqa: SIM118
    data["outcome"] = Outcome(data["outcome"])
    data["direction"] = data.get("direction") or "inbound"
    data["details"] = json.loads(data["details"]) if data.get("details") else None
    return CallDetailRecord(**data)


# Every row has every column (`_row`), so one statement inserts them all.
_INSERT = (
    f"INSERT OR REPLACE INTO cdrs ({', '.join(_COLUMNS)})"
    f" VALUES ({', '.join('?' for _ in _COLUMNS)})"
)
# A batch goes in as multi-row INSERTs (`ringway.sqlitework.multirow_inserts`): one
# `sqlite3_step` (and one hand-off of the GIL) per statement instead of per row, ~5,000
# fewer instructions a row. At most 32 rows (544 parameters) a statement. The rows of
# one statement are written in order, so a later row for the same call id still
# replaces an earlier one. A row's Nones (five in a router-path row) are written as
# NULL in the statement, not bound (`NullInliningInserts`).
_INSERTS = NullInliningInserts(
    f"INSERT OR REPLACE INTO cdrs ({', '.join(_COLUMNS)}) VALUES ",
    len(_COLUMNS),
    (32, 16, 8, 4, 2),
)


def _insert(conn: sqlite3.Connection, rows: list[Row]) -> None:
    """Insert ``rows`` in order, in the caller's transaction."""
    _INSERTS.insert(conn, rows)


@mypyc_attr(allow_interpreted_subclasses=True)  # the tests count its batches in a subclass
class CdrStore:
    """The CDR table, written by group commit: `add` returns once its row is committed,
    and the rows of the calls that end within ``gather_s`` of each other (at most
    ``batch`` of them), or while a transaction is being written, share one transaction.

    A busy node pays one transaction and one hand-off to the worker thread (which
    contends with the event loop for the GIL) per batch instead of per call. Nothing
    waits on a CDR's commit but its own filing task, so the window costs no caller
    anything; a crash loses at most the rows of the window, which were as uncommitted
    before (cdr.jsonl and the API's in-memory list have them sooner)."""

    def __init__(self, database: Path, *, gather_s: float = 0.02, batch: int = 256) -> None:
        if gather_s < 0 or batch < 1:
            raise ValueError("gather_s must be >= 0 and batch >= 1")
        self._db = SQLiteWorker(database, _SCHEMA, "ringway-cdrs")
        self._gather_s = gather_s
        self._batch = batch
        self._columns_checked = False
        # each row with the future its `add` awaits (None: `add_soon`, nobody waits)
        self._queued: list[tuple[Row, asyncio.Future[None] | None]] = []
        self._writer: asyncio.Task[None] | None = None
        self._full: asyncio.Future[None] | None = None  # set: the writer stops gathering
        self._hurry = False  # a statement waits for the queued rows: write them now

    async def _run(self, work: Callable[[sqlite3.Connection], T]) -> T:
        if not self._columns_checked:
            await self._db.run(_add_columns)
            self._columns_checked = True
        return await self._db.run(work)

    async def add(self, cdr: CallDetailRecord) -> None:
        """Insert; a second record for the same call id replaces the first (a retried write).

        Returns once the row is committed; raises what writing it raised."""
        committed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queue(_row(cdr), committed)
        await committed

    def add_soon(self, cdr: CallDetailRecord) -> None:
        """`add` for a caller with nothing to do after the commit: queued for the same
        batches, without a future and a task per call; a row that cannot be written is
        logged, as `CallDetails.from_call_record` logs it. Needs a running loop."""
        self._queue(_row(cdr), None)

    def add_row_soon(self, row: Row) -> None:
        """`add_soon` of a record's row (`_make_row`) built without the record."""
        self._queue(row, None)

    def _queue(self, row: Row, committed: asyncio.Future[None] | None) -> None:
        self._queued.append((row, committed))
        if self._full is not None and len(self._queued) >= self._batch:
            _settle(self._full, None)  # a full batch need not wait out the window
        if self._writer is None:
            # starts on the next loop iteration: the rows of this one join its first batch
            self._writer = asyncio.get_running_loop().create_task(
                self._write_queued(), name="ringway-cdr-writer"
            )

    async def _write_queued(self) -> None:
        """Write the queued rows, a transaction per batch, until none are left."""
        batch: list[tuple[Row, asyncio.Future[None] | None]] = []
        try:
            while self._queued:
                if self._gather_s and not self._hurry and len(self._queued) < self._batch:
                    await self._gather()
                batch, self._queued = self._queued[: self._batch], self._queued[self._batch :]
                await self._write_batch(batch)
        except BaseException:  # cancelled (the loop is shutting down): nobody waits forever
            for _, committed in batch + self._queued:
                if committed is not None:
                    committed.cancel()
            # an `add_soon` row has nobody to tell: say it (its cdr.jsonl line is written)
            unfiled = [row for row, committed in self._queued if committed is None]
            if unfiled:
                log.warning(
                    "%d CDRs not filed, the CDR writer was cancelled (first: call %r)",
                    len(unfiled),
                    unfiled[0][0],
                )
            self._queued = []
            raise
        finally:
            self._writer = None
            self._hurry = False

    async def _gather(self) -> None:
        """Let the calls that end within the window join, or until a batch is full."""
        loop = asyncio.get_running_loop()
        self._full = full = loop.create_future()
        timer = loop.call_later(self._gather_s, _settle, full, None)
        try:
            await full
        finally:
            timer.cancel()
            self._full = None

    async def _write_batch(self, batch: list[tuple[Row, asyncio.Future[None] | None]]) -> None:
        rows = [row for row, _ in batch]
        failure: Exception | None = None
        try:
            await self._run(lambda conn: _insert(conn, rows))
        except Exception as exc:
            failure = exc
        # No await inside the except block: compiled by mypyc, a coroutine suspended there
        # leaves the handled exception set on the thread, and a later bare `raise` (the
        # cancelled writer's in `_write_queued`) re-raised this row's error, not its own.
        if failure is None:
            for _, committed in batch:
                if committed is not None:
                    _settle(committed, None)
        elif len(batch) == 1:
            _failed(*batch[0], failure)
        else:  # one bad row must not fail the others: each alone, in its own transaction
            for row, committed in batch:
                await self._write_alone(row, committed)

    async def _write_alone(self, row: Row, committed: asyncio.Future[None] | None) -> None:
        try:
            await self._run(lambda conn: conn.execute(_INSERT, row))
        except Exception as exc:
            _failed(row, committed, exc)
        else:
            if committed is not None:
                _settle(committed, None)

    async def _written(self) -> None:
        """Until the rows queued so far are committed (the window cut short)."""
        writer = self._writer
        if writer is not None:
            self._hurry = True  # no (more) waiting for the window
            if self._full is not None:
                _settle(self._full, None)
            await asyncio.wait([writer])  # it writes until its queue is empty

    async def set_disposition(self, contact_id: str, disposition: str | None) -> int:
        # after the rows queued before it: a contact completed just after its call ended
        # must find its CDR to update (one worker thread runs jobs in the order given)
        await self._written()
        sql = "UPDATE cdrs SET disposition = ? WHERE contact_id = ?"
        return await self._db.run(
            lambda conn: conn.execute(sql, (disposition, contact_id)).rowcount
        )

    async def get(self, call_id: str) -> CallDetailRecord | None:
        sql = "SELECT * FROM cdrs WHERE call_id = ?"
        row = await self._run(lambda conn: conn.execute(sql, (call_id,)).fetchone())
        return None if row is None else _record(row)

    async def between(self, start: float, end: float, limit: int = 1000) -> list[CallDetailRecord]:
        """Calls that started in [start, end), oldest first."""
        sql = (
            "SELECT * FROM cdrs WHERE started_at >= ? AND started_at < ?"
            " ORDER BY started_at, call_id LIMIT ?"
        )
        rows = await self._run(lambda conn: conn.execute(sql, (start, end, limit)).fetchall())
        return [_record(row) for row in rows]

    async def close(self) -> None:
        """Write the rows still queued, then close the file."""
        if self._writer is not None:
            await asyncio.wait([self._writer])
        await self._db.close()


def _failed(row: Row, committed: asyncio.Future[None] | None, error: Exception) -> None:
    """A row was not written: its `add` raises it; an `add_soon` row is logged."""
    if committed is not None:
        _settle(committed, error)
    elif isinstance(error, _NOT_FILED):
        log.warning("CDR for call %r not filed: %s", row[0], error)
    else:
        log.error("CDR for call %r not filed", row[0], exc_info=error)


def _settle(committed: asyncio.Future[None], error: BaseException | None) -> None:
    """Tell one `add` how its row went (unless its caller stopped waiting)."""
    if committed.done():
        return
    if error is None:
        committed.set_result(None)
    else:
        committed.set_exception(error)


class CallDetails:
    """Builds CDRs from the driver's call facts and the router's contact, and files them."""

    def __init__(self, service: RoutingService, store: CdrStore) -> None:
        self.service = service
        self.store = store
        self._watch: asyncio.Task[None] | None = None
        self._pending: set[asyncio.Task[CallDetailRecord | None]] = set()

    async def call_ended(
        self,
        *,
        call_id: str,
        started_at: float,
        ended_at: float | None = None,
        answered_at: float | None = None,
        cli: str | None = None,
        to: str | None = None,
        contact_id: str | None = None,
        hangup_by: str | None = None,
        recording_id: str | None = None,
        outcome: Outcome | None = None,
        direction: str = "inbound",
        connected_at: float | None = None,
        details: dict[str, Any] | None = None,
    ) -> CallDetailRecord:
        """File the call's record; `outcome` defaults to what the contact's status says."""
        cdr = self._build(
            call_id=call_id,
            started_at=started_at,
            ended_at=ended_at,
            answered_at=answered_at,
            cli=cli,
            to=to,
            contact_id=contact_id,
            hangup_by=hangup_by,
            recording_id=recording_id,
            outcome=outcome,
            direction=direction,
            connected_at=connected_at,
            details=details,
        )
        await self.store.add(cdr)
        return cdr

    def _build(
        self,
        *,
        call_id: str,
        started_at: float,
        ended_at: float | None,
        answered_at: float | None,
        cli: str | None,
        to: str | None,
        contact_id: str | None,
        hangup_by: str | None,
        recording_id: str | None,
        outcome: Outcome | None,
        direction: str,
        connected_at: float | None,
        details: dict[str, Any] | None,
    ) -> CallDetailRecord:
        """The call's record, built once: the driver's facts with what the router's contact
        adds (queue, agent, customer, disposition; for a call from a caller, when the agent
        was connected and, failing the driver's, the CLI). A dialled call's connection time
        is the dialer's, who bridged it. Raises `CdrError`."""
        return self._built(
            _make_record,
            call_id,
            started_at,
            ended_at,
            answered_at,
            cli,
            to,
            contact_id,
            hangup_by,
            recording_id,
            outcome,
            direction,
            connected_at,
            details,
        )

    def _built(
        self,
        make: Callable[..., T],
        call_id: str,
        started_at: float,
        ended_at: float | None,
        answered_at: float | None,
        cli: str | None,
        to: str | None,
        contact_id: str | None,
        hangup_by: str | None,
        recording_id: str | None,
        outcome: Outcome | None,
        direction: str,
        connected_at: float | None,
        details: dict[str, Any] | None,
    ) -> T:
        """`_build` with its arguments in that order, for the router path: a call of 13
        keyword arguments cost ~7,000 instructions (each name searched for among the
        parameters), positional ones ~1,000. ``make`` is given every field in declaration
        order: `_make_record` builds the record, `_make_row` the store's row alone."""
        end = self.service.now() if ended_at is None else ended_at
        if not call_id or end < started_at:
            raise CdrError(f"call {call_id!r}: needs a call id and ended_at >= started_at")
        contact = self._contact(contact_id)
        queue = agent_id = customer_id = disposition = None
        connected = connected_at if direction == "outbound" else None
        if contact is not None:
            queue = contact.queue
            customer_id = contact.customer_id
            disposition = contact.disposition
            agent_id = contact.agent_id if contact.answered_at is not None else None
            if direction != "outbound":
                connected = contact.answered_at
                cli = cli or contact.origin
        if make is _make_row:  # the router path's: a direct call, no 17 arguments parsed
            return _make_row(
                call_id,
                started_at,
                end,
                outcome or _outcome(contact),
                contact_id,
                cli,
                to,
                answered_at,
                connected,
                queue,
                agent_id,
                customer_id,
                disposition,
                recording_id,
                hangup_by,
                direction,
                details,
            )
        # every field, in declaration order (`_make_record`, `_make_row`)
        return make(
            call_id,
            started_at,
            end,
            outcome or _outcome(contact),
            contact_id,
            cli,
            to,
            answered_at,
            connected,
            queue,
            agent_id,
            customer_id,
            disposition,
            recording_id,
            hangup_by,
            direction,
            details,
        )

    def submit(self, record: Mapping[str, Any]) -> asyncio.Task[CallDetailRecord | None]:
        """File a call-control record (a dict) from synchronous code; see `from_call_record`.

        The task is kept until it is done; `close` waits for the ones in flight."""
        task = asyncio.get_running_loop().create_task(self.from_call_record(record))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)
        return task

    async def from_call_record(self, record: Mapping[str, Any]) -> CallDetailRecord | None:
        """Map the B2BUA's per-call dict (``call_id``, ``cli``, ``dialed``, ``answered_at``,
        ``ended_at``, ``contact_id``, ``outcome``, ``recording_id``, ``hangup_by``; times
        in epoch seconds) to `call_ended`. A record that cannot be filed is logged."""
        try:
            cdr = self._from_record(record)
            await self.store.add(cdr)
        except _NOT_FILED as exc:
            log.warning("CDR for call %r not filed: %s", record.get("call_id"), exc)
            return None
        return cdr

    def file(self, record: Mapping[str, Any]) -> CallDetailRecord | None:
        """`from_call_record` without waiting for the commit (`CdrStore.add_soon`): the
        router path files a CDR per call, and nothing waits on its row. The record is
        built now; one that cannot be built or written is logged as there."""
        try:
            cdr = self._from_record(record)
        except _NOT_FILED as exc:
            log.warning("CDR for call %r not filed: %s", record.get("call_id"), exc)
            return None
        self.store.add_soon(cdr)
        return cdr

    def file_call(self, record: dict[str, Any], cli: object, hangup_by: object) -> None:
        """`file` of ``record`` with its ``cli`` and ``hangup_by`` given (and no recording):
        what `ringway.telephony_records.CallArchive` files for a call, without copying
        the driver's record to change three keys, and with the store's row built
        without the `CallDetailRecord` (nothing reads it). The row is the one `file`
        queues for ``{**record, "cli": cli, "hangup_by": hangup_by, "recording_id":
        None}``; one that cannot be built or written is logged as there."""
        try:
            row = self._from_facts(record, cli, hangup_by, None, _make_row)
        except _NOT_FILED as exc:
            log.warning("CDR for call %r not filed: %s", record.get("call_id"), exc)
            return
        self.store.add_row_soon(row)

    def _from_record(self, record: Mapping[str, Any]) -> CallDetailRecord:
        facts = record if isinstance(record, dict) else dict(record)
        get = facts.get
        return self._from_facts(
            facts, get("cli"), get("hangup_by"), get("recording_id"), _make_record
        )

    def _from_facts(
        self,
        record: dict[str, Any],
        cli: object,
        hangup_by: object,
        recording_id: object,
        make: Callable[..., T],
    ) -> T:
        """The record's fields (the three given, the rest read from ``record``) to
        ``make`` (`_built`)."""
        # Each key read once, the common shapes (a float time, a non-empty str, None, no
        # dialer block) taken here and the rest by the helpers, whose result is the same
        # for those: a CDR per call is built on the router path, and each helper call
        # cost more than its work. `record.get` each time, not a bound `get`: compiled,
        # a dict's get is a C call, a bound method a Python-level one.
        value = record.get("ended_at")
        ended = value if type(value) is float else _number(value)
        value = record.get("answered_at")
        answered = value if type(value) is float else _number(value)
        # the start, else the answer, else (none, or a zero) the end: as `a or b` did
        value = record.get("started_at")
        started = value if type(value) is float else _number(value)
        if started is None:
            started = answered
        if not started:
            started = ended
        if started is None:
            raise CdrError(f"call {record.get('call_id')!r} has no times")
        dialer = record.get("dialer")
        direction = record.get("direction")
        dialed = record.get("dialed")
        contact_id = record.get("contact_id")
        bridged = record.get("bridged_at")
        return self._built(
            make,
            str(record.get("call_id") or ""),
            started,
            ended,
            answered,
            cli if type(cli) is str and cli else _text(cli),
            dialed if type(dialed) is str and dialed else _text(dialed),
            contact_id if type(contact_id) is str and contact_id else _text(contact_id),
            hangup_by if type(hangup_by) is str and hangup_by else _text(hangup_by),
            None if recording_id is None else _text(recording_id),
            _driver_outcome(record),
            direction if direction and type(direction) is str else str(direction or "inbound"),
            None if bridged is None else _number(bridged),
            None if dialer is None else _details(dialer),
        )

    def _contact(self, contact_id: str | None) -> Contact | None:
        if contact_id is None:
            return None
        try:
            return self.service.router.contact(contact_id)
        except RoutingError:  # evicted or never queued: the driver's facts stand alone
            return None

    def start(self) -> None:
        """Fill in dispositions as agents complete their wrap-up."""
        self._watch = asyncio.get_running_loop().create_task(self._watch_completions())

    async def _watch_completions(self) -> None:
        after: int | None = None
        while True:
            # after a drop, replay from the last event seen so no completion is missed
            try:
                # completions only: woken for every event, this task cost each call
                # a task step per event it then ignored
                subscription = self.service.subscribe(after_seq=after, kinds=_COMPLETIONS)
            except Exception:  # e.g. a cluster node between leaders: try again shortly
                log.exception("CDR dispositions: cannot subscribe to events")
                await asyncio.sleep(1.0)
                continue
            try:
                async for event in subscription:
                    if isinstance(event, ev.ContactCompleted) and event.channel in (
                        "voice",
                        "outbound",
                    ):
                        await self.store.set_disposition(event.contact_id, event.disposition)
            except Exception:  # a bad write must not stop later updates
                log.exception("CDR disposition update failed")
            finally:
                self.service.unsubscribe(subscription)
                after = subscription.last_seq or after
            await asyncio.sleep(0.1)  # the bus closed a slow subscription: attach again

    async def close(self) -> None:
        if self._pending:
            await asyncio.gather(*self._pending, return_exceptions=True)
        if self._watch is not None:
            self._watch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watch
        await self.store.close()


_COMPLETIONS = frozenset({ev.ContactCompleted.kind})


def _number(value: object) -> float | None:
    """A time as the record's float (an int too, never a bool); anything else None."""
    if type(value) is float:  # the common case: float() of a float is itself
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return None


def _text(value: object) -> str | None:
    if value is None or value == "":
        return None
    return value if type(value) is str else str(value)


def _details(value: object) -> dict[str, Any] | None:
    return dict(value) if isinstance(value, Mapping) else None


# What in a driver's own outcome says the call failed to be set up or routed.
_FAILED_WORDS: Final = ("fail", "reject", "error", "refused")
_OUTCOME_VALUES: Final = frozenset(outcome.value for outcome in Outcome)
# Whether a driver's outcome text says so, by the text: a few texts, a call each.
_FAILED_SAID: Final[dict[str, bool]] = {}
_FAILED_SAID_KEEP: Final = 1024
# The members read per call, kept: `Outcome.IVR` is a Python-level look-up on the enum
# class in 3.11 (~1,200 instructions), a module global one dict read.
_IVR: Final = Outcome.IVR
_ABANDONED: Final = Outcome.ABANDONED
_FAILED: Final = Outcome.FAILED
# `_BY_STATUS` by the status's value: an Enum member (a StrEnum's too) hashes in Python
# (enum.py's `__hash__`, ~800 instructions), a str by its cached hash.
_BY_STATUS_VALUE: Final = {status.value: outcome for status, outcome in _BY_STATUS.items()}


def _driver_outcome(record: dict[str, Any]) -> Outcome | None:
    """What the contact cannot say: a call that never queued, or one that failed."""
    said = record.get("outcome") or ""
    if type(said) is not str:
        said = str(said)
    if record.get("direction") == "outbound" and said in _OUTCOME_VALUES:
        return Outcome(said)  # the dialer's own outcome (busy, no_answer, ...)
    failed = _FAILED_SAID.get(said)
    if failed is None:
        failed = any(word in said for word in _FAILED_WORDS)
        if len(_FAILED_SAID) < _FAILED_SAID_KEEP:
            _FAILED_SAID[said] = failed
    if failed:
        return _FAILED
    return None if record.get("contact_id") else _IVR


def _outcome(contact: Contact | None) -> Outcome:
    if contact is None:
        return _IVR
    # a contact still queued or ringing when the caller's leg is gone was abandoned
    return _BY_STATUS_VALUE.get(contact.status._value_, _ABANDONED)
