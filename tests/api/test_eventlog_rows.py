"""The event log's rows are written by a per-class row builder: each must give exactly
the row the generic form gives (``to_dict`` without the column fields, as
``json.dumps(..., separators=(",", ":"))``), for every event kind and value shape."""

from __future__ import annotations

import dataclasses
import enum
import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from ringway.eventlog import SQLiteEventLog, _row
from router import events as ev
from router.model import Channel


def reference_row(event: ev.Event) -> tuple[Any, ...]:
    data = event.to_dict()
    for name in ("seq", "at", "kind"):
        del data[name]
    queue = data.get("queue")
    return (
        event.seq,
        event.at,
        event.kind,
        queue if isinstance(queue, str) else None,
        json.dumps(data, separators=(",", ":")),
    )


def values_for(cls: type[ev.Event], shape: int) -> dict[str, Any]:
    """Field values of one shape: plain, unusual text (quotes, non-ASCII), Nones, int and
    float subclasses (and NaN), or values of other types than declared."""
    out: dict[str, Any] = {}
    for index, field in enumerate(dataclasses.fields(cls)):
        if field.name == "seq":
            out["seq"] = 7
        elif field.name == "at":
            out["at"] = 1_700_000_000.125
        elif field.type in ("str", "str | None"):
            if shape == 2 and field.type == "str | None":
                out[field.name] = None
            elif field.name == "channel":
                out[field.name] = Channel.VOICE  # the StrEnum member itself, as the router emits
            else:
                out[field.name] = f'é"\\{index}\u2028' if shape == 1 else f"v{index}"
        elif field.type == "float":
            out[field.name] = {1: float("inf"), 3: Seconds(float("nan"))}.get(shape, 0.1 + index)
        elif field.type == "int":
            out[field.name] = {3: Level.HIGH, 4: True}.get(shape, -index)
        elif field.type == "bool":
            out[field.name] = shape == 1
        if shape == 4 and field.type.startswith("str"):
            out[field.name] = ["x", {"y": 1.5}]  # not what the type says: still the same text
    return out


class Seconds(float):
    pass


class Level(enum.IntEnum):
    HIGH = 3


@pytest.mark.parametrize("shape", [0, 1, 2, 3, 4])
@pytest.mark.parametrize("cls", list(ev.EVENT_TYPES.values()), ids=list(ev.EVENT_TYPES))
def test_each_kind_is_written_as_the_generic_row(cls: type[ev.Event], shape: int) -> None:
    event = cls(**values_for(cls, shape))
    assert _row(event) == reference_row(event)


def test_rows_read_back_as_the_events_written(tmp_path: Path) -> None:
    events = [
        cls(**{**values_for(cls, 0), "seq": seq})
        for seq, cls in enumerate(ev.EVENT_TYPES.values(), start=1)
    ]
    with SQLiteEventLog(tmp_path / "events.sqlite3") as log:
        log.append_many(events)
        assert [e.to_dict() for e in log.read(0, 100)] == [e.to_dict() for e in events]


def queued(seq: int) -> ev.ContactQueued:
    return ev.ContactQueued(
        seq=seq, at=1_700_000_000.0 + seq / 7, contact_id=f"c-{seq}", queue="q", channel="voice"
    )


@pytest.mark.parametrize("sizes", [[1, 2, 3, 127, 128, 129, 255, 256, 300], [500, 31, 0, 64]])
def test_batches_of_any_size_are_stored_in_order(tmp_path: Path, sizes: list[int]) -> None:
    # multi-row INSERTs of 128, 64, ..., 1 rows: every remainder must go in, in order
    written: list[ev.Event] = []
    with SQLiteEventLog(tmp_path / "events.sqlite3") as log:
        for size in sizes:
            batch = [queued(len(written) + i + 1) for i in range(size)]
            log.append_many(batch)
            written += batch
        assert log.last_seq == len(written)
        stored = log.read(0, 10_000)
    assert [e.to_dict() for e in stored] == [e.to_dict() for e in written]


def test_a_batch_that_fails_part_way_stores_none_of_it(tmp_path: Path) -> None:
    with SQLiteEventLog(tmp_path / "events.sqlite3") as log:
        log.append_many([queued(1)])
        batch: list[ev.Event] = [queued(seq) for seq in range(2, 202)]
        broken = queued(201)
        object.__setattr__(broken, "at", None)  # NOT NULL: refused in the last chunk
        batch[-1] = broken
        with pytest.raises(sqlite3.IntegrityError):
            log.append_many(batch)
        assert log.last_seq == 1
        assert [e.seq for e in log.read(0, 1000)] == [1]
        log.append_many([*batch[:-1], queued(201)])  # the same seqs go in afterwards
        assert [e.seq for e in log.read(0, 1000)] == list(range(1, 202))
