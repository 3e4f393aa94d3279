"""The persisted event log: router events as rows of a SQLite file.

One row per event: ``seq`` (the primary key, so rows are stored in seq order and
a seq range is a plain B-tree range), ``at``, ``kind``, ``queue`` (NULL for
agent events) and ``data``, the event's other fields as JSON. ``at`` is indexed
for the interval reports. The schema version lives in ``PRAGMA user_version``.

Journal mode is WAL with ``synchronous=NORMAL``: readers (the report CLI, the
API) never block the writer, and a commit survives a crash of the process; a
power cut may lose the last few commits, which is the persister's contract
anyway (it batches).

Threading: one instance is used from one thread at a time (the persister's
single worker thread). ``check_same_thread=False`` only lets that thread differ
from the one that opened the file. Other readers open their own instance.

`SQLiteEventLog` also satisfies `router.store.base.EventLog`, but writing one
transaction per event is slow: use `append_many` (through `EventPersister`).
"""

from __future__ import annotations

import dataclasses
import json
import math
import sqlite3
from collections.abc import Callable, Generator, Iterable
from json.encoder import encode_basestring_ascii
from os import PathLike
from types import TracebackType
from typing import Any

import orjson

from ringway.sqlitework import insert_rows, multirow_inserts
from router.events import EVENT_TYPES, Event, event_from_dict

SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    seq   INTEGER PRIMARY KEY,
    at    REAL    NOT NULL,
    kind  TEXT    NOT NULL,
    queue TEXT    NULL,
    data  TEXT    NOT NULL
);
CREATE INDEX IF NOT EXISTS events_at ON events (at);
"""

_COLUMNS = ("seq", "at", "kind")  # stored as columns, left out of ``data``


class SchemaError(RuntimeError):
    """The file was written by a newer Ringway (or is not an event log)."""


class SQLiteEventLog:
    def __init__(self, path: str | PathLike[str]) -> None:
        self.path = path
        self._conn: sqlite3.Connection | None = sqlite3.connect(path, check_same_thread=False)
        try:
            self._migrate(self._conn)
            row = self._conn.execute("SELECT MAX(seq) FROM events").fetchone()
        except BaseException:
            self.close()
            raise
        self._last_seq: int = row[0] or 0

    # ----------------------------------------------------------------- lifecycle

    @staticmethod
    def _migrate(conn: sqlite3.Connection) -> None:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise SchemaError(
                f"event log schema version {version} is newer than this Ringway "
                f"understands ({SCHEMA_VERSION}); upgrade Ringway"
            )
        if version < SCHEMA_VERSION:
            with conn:
                conn.executescript(_SCHEMA)
                conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def close(self) -> None:
        """Close the file. Closing twice is harmless; any other use afterwards fails."""
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()

    def __enter__(self) -> SQLiteEventLog:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def _db(self) -> sqlite3.Connection:
        if self._conn is None:
            raise sqlite3.ProgrammingError("event log is closed")
        return self._conn

    # ------------------------------------------------------------------- writing

    @property
    def last_seq(self) -> int:
        """Sequence number of the newest stored event (0 when empty)."""
        return self._last_seq

    def append(self, event: Event) -> None:
        self.append_many([event])

    def append_many(self, events: Iterable[Event]) -> None:
        """Store events in one transaction: all of them or, on any error, none.

        Each ``seq`` must follow the previous one by exactly one (like the
        memory log): a gap or a repeat means two writers or a lost batch, and is
        refused (ValueError) before anything is written.
        """
        batch = list(events)
        expected = self._last_seq
        for event in batch:
            expected += 1
            if event.seq != expected:
                raise ValueError(f"event seq {event.seq} does not follow {expected - 1}")
        if not batch:
            return
        rows = [_row(event) for event in batch]
        with self._db as conn:
            _insert(conn, rows)
        self._last_seq = expected

    # ------------------------------------------------------------------- reading

    def read(self, after: int = 0, limit: int = 1000) -> list[Event]:
        """Events with ``seq > after``, oldest first, at most ``limit`` of them."""
        cursor = self._db.execute(
            "SELECT seq, at, kind, data FROM events WHERE seq > ? ORDER BY seq LIMIT ?",
            (after, limit),
        )
        try:
            return [_event(*row) for row in cursor]
        finally:
            cursor.close()

    def between(self, start_at: float, end_at: float) -> Generator[Event, None, None]:
        """Events with ``start_at <= at < end_at``, streamed in seq order.

        ``at`` may step back now and then (a wall clock is corrected), so the
        ``at`` index only finds the seq range; the rows are then read along the
        primary key, filtered on ``at``: no sort, nothing held in memory.
        A reader that stops early should ``close()`` the generator before the log.
        """
        conn = self._db
        first, last = conn.execute(
            "SELECT MIN(seq), MAX(seq) FROM events WHERE at >= ? AND at < ?",
            (start_at, end_at),
        ).fetchone()
        if first is None:
            return
        cursor = conn.execute(
            "SELECT seq, at, kind, data FROM events"
            " WHERE seq BETWEEN ? AND ? AND at >= ? AND at < ? ORDER BY seq",
            (first, last, start_at, end_at),
        )
        try:
            for row in cursor:
                yield _event(*row)
        finally:
            # A reader that stops early may let the log close first; the cursor went with it.
            if self._conn is not None:
                cursor.close()


Row = tuple[int, float, str, str | None, str]

# Rows go in with multi-row INSERTs (`ringway.sqlitework.multirow_inserts`): at most
# 128 rows (640 parameters) a statement, a batch's size taken apart in powers of two.
_INSERTS = multirow_inserts(
    "INSERT INTO events (seq, at, kind, queue, data) VALUES ", 5, (128, 64, 32, 16, 8, 4, 2)
)


def _insert(conn: sqlite3.Connection, rows: list[Row]) -> None:
    """Insert ``rows`` in order, in the caller's transaction."""
    insert_rows(conn, _INSERTS, rows)


# json.dumps with separators builds a new JSONEncoder per call; this one is built once
# with exactly the arguments dumps would pass, so the text is the same.
_ENCODER = json.JSONEncoder(separators=(",", ":"))
_encode = _ENCODER.encode


def _json_value(value: Any) -> str:
    """``value`` as the C encoder writes it inside a container (same checks, same order):
    None, True, False, str (and subclasses: a StrEnum is its text), int (and subclasses,
    by int's repr), finite float (float's repr); anything else by the encoder itself."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, str):
        return encode_basestring_ascii(value)
    if isinstance(value, int):
        return int.__repr__(value)
    if isinstance(value, float) and -math.inf < value < math.inf:
        return float.__repr__(value)
    return _encode(value)  # Infinity, NaN, containers, or default()'s TypeError


# float's repr is the shortest text that reads back as the same float (David Gay's
# dtoa, arbitrary-precision arithmetic: ~7,000 instructions for a wait of 17 digits, one
# a router-path call). orjson writes the same shortest, closest digits (~500): between
# 1e-4 and 1e16 (where repr writes no exponent) its text is repr's, checked here on
# values that straddle both ends and on each import, since orjson's layout of a float
# has changed between versions (1e-05 against 0.00001 below the range); any difference
# and every float goes through repr as before (tests/api/test_eventlog_floats.py).
_LOW, _HIGH = 1e-4, 1e16
_PROBES = (
    1e-4, 0.00010000000000000002, 0.000123456789, 0.1, 0.30000000000000004, 1.0, 2.5,
    1234.5, 0.012345678901234568, 1_700_000_000.125, 1_765_000_000.1234567,
    123456789012345.6, 1e15, 9999999999999998.0, 9007199254740992.0,
)  # fmt: skip


def _orjson_is_repr() -> bool:
    return all(
        orjson.dumps(value).decode() == float.__repr__(value)
        for probe in _PROBES
        for value in (probe, -probe)
    )


_short_float: Callable[[float], bytes] = (
    orjson.dumps if _orjson_is_repr() else lambda value: float.__repr__(value).encode()
)

_ROW_WRITERS: dict[type[Event], Callable[[Event], Row]] = {}


def _row(event: Event) -> Row:
    """The event's row: its columns, and its other fields as JSON in declaration order."""
    writer = _ROW_WRITERS.get(type(event))
    if writer is None:
        writer = _ROW_WRITERS[type(event)] = _row_writer(type(event))
    return writer(event)


def _row_writer(cls: type[Event]) -> Callable[[Event], Row]:
    """A row builder for one event class: what `_row_from_dict` gives, written field by
    field into the JSON text (keys encoded once, here) instead of building ``to_dict``'s
    dict (with ``dataclasses.fields``) and running the encoder over it for every event.
    Generated source, like the dataclass's own methods; tests/api/test_eventlog_rows.py
    checks it against the generic form for every kind."""
    if cls.to_dict is not Event.to_dict:  # a class that shapes its own dict
        return _row_from_dict
    names = [f.name for f in dataclasses.fields(cls) if f.name not in _COLUMNS]
    if not names:
        return _row_from_dict
    namespace: dict[str, Any] = {
        "_str": encode_basestring_ascii,
        "_int": int.__repr__,
        "_float": float.__repr__,
        "_short": _short_float,
        "_finite": math.isfinite,
        "_value": _json_value,
    }
    lines = ["def write(event):"]
    parts = []
    for index, name in enumerate(names):
        separator = "{" if index == 0 else ","
        namespace[f"_key{index}"] = f"{separator}{encode_basestring_ascii(name)}:"
        lines.append(f"    v{index} = event.{name}")
        parts.append(f"_key{index}")
        # `_json_value`'s answer for the common values inline (a str or a StrEnum, None,
        # an exact int, an exact finite float: an abandon's wait), without a Python call
        # each; the rest through it. An exact float in [`_LOW`, `_HIGH`) or its negative by
        # `_short_float`, the same text as float's repr.
        v = f"v{index}"
        parts.append(
            f"(_str({v}) if isinstance({v}, str) else 'null' if {v} is None"
            f" else _int({v}) if type({v}) is int"
            f" else _short({v}).decode() if type({v}) is float"
            f" and ({_LOW} <= {v} < {_HIGH} or {-_HIGH} < {v} <= {-_LOW})"
            f" else _float({v}) if type({v}) is float and _finite({v}) else _value({v}))"
        )
    parts.append('"}"')
    if "queue" in names:
        queue = f"v{names.index('queue')}"
        lines.append(f"    queue = {queue} if isinstance({queue}, str) else None")
    else:
        lines.append("    queue = None")
    lines.append(f"    data = ''.join(({', '.join(parts)}))")
    lines.append("    return (event.seq, event.at, event.kind, queue, data)")
    exec("\n".join(lines), namespace)
    write: Callable[[Event], Row] = namespace["write"]
    return write


def _row_from_dict(event: Event) -> Row:
    data = event.to_dict()
    for name in _COLUMNS:
        del data[name]
    queue = data.get("queue")
    return (
        event.seq,
        event.at,
        event.kind,
        queue if isinstance(queue, str) else None,
        _encode(data),
    )


def _event(seq: int, at: float, kind: str, data: str) -> Event:
    if kind not in EVENT_TYPES:
        raise SchemaError(f"event {seq}: unknown kind {kind!r} (written by a newer Ringway?)")
    fields: dict[str, Any] = json.loads(data)
    fields.update(seq=seq, at=at, kind=kind)
    return event_from_dict(fields)
