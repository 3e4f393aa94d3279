"""The router path's per-call CDR work, made cheaper, gives what it gave before: the
cdr.jsonl line from a kept C encoder is `json.dumps`'s text, the record mapping reads
the driver's dict as the generic helpers did (edge cases included), None still binds
as NULL, and a queue's recording announcement is read once."""

from __future__ import annotations

import json
import math
import sqlite3
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from cdr_kit import NoStore, Records, contact, service_with

from ringway.cdr import CallDetailRecord, CallDetails, Outcome, _outcome, _row
from ringway.recordings import Recordings
from ringway.schema import RecordingDoc
from ringway.telephony_records import _CDR_JSON, CallArchive, _cdr_line
from router.errors import RoutingError
from router.model import ContactStatus

T0 = 1_800_000_000.0


@pytest.mark.parametrize(
    "record",
    [
        {"call_id": "c1", "started_at": T0, "ended_at": T0 + 1.25, "digits": "1#"},
        {"call_id": "c\u00e9\u2603", "cli": "sip:+4420@host:5060", "media": {"rx": 0}},
        {"path": Path("/x/y.wav"), "n": [1, 2.5, None, True, False, {"k": "v"}]},
        {"nan": math.nan, "inf": math.inf, "neg": -math.inf, "tiny": 1e-7, "big": 1e17},
        {"events": [{"at": 1408.361, "event": "call_ended", "side": "caller"}], "x": ""},
        {3: "int key", 2.5: "float key", None: "none key", True: "bool key"},
        {"big_int": 2**80, "quote": 'a"b\\c\n\t', "ctl": "\x00\x1f"},
    ],
)
def test_a_cdr_line_is_the_document_json_dumps_gives(record: dict[Any, Any]) -> None:
    line = _cdr_line(record)
    assert isinstance(line, bytes) and b"\n" not in line
    expected = json.loads(json.dumps(record, default=str))
    # orjson writes NaN and the infinities as null (strict JSON); json writes NaN/Infinity
    strict = {k: (None if isinstance(v, float) and not math.isfinite(v) else v)
              for k, v in expected.items()}  # fmt: skip
    assert json.loads(line) == strict
    assert _cdr_line(record) == line  # nothing kept between lines


def test_a_record_orjson_refuses_is_written_by_json() -> None:
    record = {"big_int": 2**80, "call_id": "c1"}  # beyond orjson's 64-bit integers
    assert _cdr_line(record) == _CDR_JSON.encode(record).encode("utf-8")


def test_a_cdr_line_raises_what_the_encoder_raises() -> None:
    with pytest.raises(TypeError):
        _cdr_line({(1, 2): "tuple keys are refused"})


# -- the record mapping, against the helpers it replaced ---------------------------------


def _number_before(*values: object) -> float | None:
    for value in values:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
    return None


def _text_before(value: object) -> str | None:
    return None if value is None or value == "" else str(value)


def _outcome_before(record: Mapping[str, Any]) -> Outcome | None:
    said = str(record.get("outcome") or "")
    if record.get("direction") == "outbound" and said in Outcome.__members__.values():
        return Outcome(said)
    if any(word in said for word in ("fail", "reject", "error", "refused")):
        return Outcome.FAILED
    return None if record.get("contact_id") else Outcome.IVR


def details() -> CallDetails:
    return CallDetails(service_with(now=T0 + 99), NoStore())


def built_before(record: Mapping[str, Any]) -> CallDetailRecord:
    """`_from_record` as it was: each helper on each key."""
    ended = _number_before(record.get("ended_at"))
    started = _number_before(record.get("started_at"), record.get("answered_at")) or ended
    assert started is not None
    dialer = record.get("dialer")
    if not record.get("call_id"):
        raise RoutingError("needs a call id")
    return CallDetailRecord(
        call_id=str(record.get("call_id") or ""),
        started_at=started,
        ended_at=T0 + 99 if ended is None else ended,
        answered_at=_number_before(record.get("answered_at")),
        cli=_text_before(record.get("cli")),
        dialed=_text_before(record.get("dialed")),
        contact_id=_text_before(record.get("contact_id")),
        hangup_by=_text_before(record.get("hangup_by")),
        recording_id=_text_before(record.get("recording_id")),
        outcome=_outcome_before(record) or _outcome(None),
        direction=str(record.get("direction") or "inbound"),
        connected_at=_number_before(record.get("bridged_at"))
        if record.get("direction") == "outbound"
        else None,
        details=dict(dialer) if isinstance(dialer, Mapping) else None,
    )


RECORDS: list[dict[str, Any]] = [
    {"call_id": "plain", "started_at": T0, "answered_at": T0 + 1, "ended_at": T0 + 9},
    {"call_id": "ints", "started_at": int(T0), "ended_at": int(T0) + 3},
    {"call_id": "zero-start", "started_at": 0.0, "answered_at": 5.0, "ended_at": T0},
    {"call_id": "zero-start-int", "started_at": 0, "ended_at": 7.0},
    {"call_id": "answer-only", "answered_at": T0 + 2, "ended_at": T0 + 8},
    {"call_id": "zero-answer", "answered_at": 0.0, "ended_at": T0 + 8},
    {"call_id": "bool-times", "started_at": True, "answered_at": T0, "ended_at": T0 + 1},
    {"call_id": "text-times", "started_at": "soon", "answered_at": T0, "ended_at": T0 + 1},
    {"call_id": "no-end", "started_at": T0},
    {"call_id": 42, "started_at": T0, "ended_at": T0, "cli": 447700900456, "dialed": ""},
    {"call_id": "", "started_at": T0, "ended_at": T0, "cli": "", "hangup_by": "caller"},
    {"call_id": None, "started_at": T0, "ended_at": T0, "recording_id": "rec-1"},
    {"call_id": "f1", "started_at": T0, "ended_at": T0, "outcome": "routing_failed"},
    {"call_id": "f2", "started_at": T0, "ended_at": T0, "outcome": "rejected", "contact_id": "c"},
    {"call_id": "f3", "started_at": T0, "ended_at": T0, "outcome": "sip error 500"},
    {"call_id": "f4", "started_at": T0, "ended_at": T0, "outcome": "queue refused"},
    {"call_id": "f5", "started_at": T0, "ended_at": T0, "outcome": Outcome.FAILED},
    {"call_id": "f6", "started_at": T0, "ended_at": T0, "outcome": 0, "contact_id": ""},
    {"call_id": "ab", "started_at": T0, "ended_at": T0, "outcome": "abandoned_in_queue"},
    {
        "call_id": "out",
        "direction": "outbound",
        "started_at": T0,
        "ended_at": T0 + 30,
        "bridged_at": T0 + 12,
        "outcome": "busy",
        "dialer": {"campaign": "spring", "lead_id": "l-1"},
    },
    {"call_id": "out2", "direction": "outbound", "started_at": T0, "outcome": "no such"},
    {"call_id": "out3", "direction": "outbound", "started_at": T0, "outcome": "failed"},
    {"call_id": "dir-empty", "direction": "", "started_at": T0, "ended_at": T0},
    {"call_id": "dir-none", "direction": None, "started_at": T0, "ended_at": T0},
    {"call_id": "dir-int", "direction": 7, "started_at": T0, "ended_at": T0},
    {"call_id": "dialer-list", "started_at": T0, "ended_at": T0, "dialer": [("a", 1)]},
    {"call_id": "dialer-empty", "started_at": T0, "ended_at": T0, "dialer": {}},
]


@pytest.mark.parametrize("record", RECORDS, ids=lambda r: str(r.get("call_id")))
def test_a_record_maps_as_the_generic_helpers_mapped_it(record: dict[str, Any]) -> None:
    try:
        before = built_before(record)
    except RoutingError as exc:  # no call id: refused, as before
        with pytest.raises(type(exc), match="needs a call id"):
            details()._from_record(record)
        return
    built = details()._from_record(record)
    assert built == before
    assert [type(v) for v in _row(built)] == [type(v) for v in _row(before)]


def test_a_record_without_times_is_still_refused() -> None:
    assert details().file({"call_id": "no-times", "started_at": "x"}) is None
    with pytest.raises(RoutingError):
        details()._from_record({"call_id": "no-times", "answered_at": None})


def test_none_still_binds_as_null() -> None:
    # ringway.cdr registers an adapter for None (imported above): what is stored is NULL
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE t (a, b)")
    conn.executemany("INSERT INTO t VALUES (?, ?)", [(None, 1), (None, None)])
    conn.execute("INSERT INTO t VALUES (:a, :b)", {"a": None, "b": None})
    assert conn.execute("SELECT a IS NULL, b IS NULL FROM t").fetchall() == [
        (1, 0),
        (1, 1),
        (1, 1),
    ]
    assert sqlite3.adapters[(type(None), sqlite3.PrepareProtocol)](None) is None


# -- the recording announcement, read once per queue -------------------------------------


def test_a_queues_recording_announcement_is_read_once() -> None:
    asked: list[str | None] = []

    class Policies(Recordings):
        def __init__(self) -> None:  # nothing stored: only the policy is read
            pass

        def policy(self, queue: str | None) -> RecordingDoc:
            asked.append(queue)
            if queue == "sales":
                return RecordingDoc(enabled=True, announcement="call_recorded")
            return RecordingDoc(enabled=False, announcement="never_played")

    queues = {"c1": "sales", "c2": "sales", "c3": "support", "c4": "support"}
    service = service_with(
        contact(c, answered=False, status=ContactStatus.QUEUED, queue=q) for c, q in queues.items()
    )
    archive = CallArchive(service, Records(recordings=Policies()), 10)
    said = [archive.recording_announcement(c) for c in ("c1", "c2", "c3", "c4", "c1")]
    assert said == ["call_recorded", "call_recorded", None, None, "call_recorded"]
    assert asked == ["sales", "support"]


def test_the_positional_maker_builds_the_dataclasss_record() -> None:
    from dataclasses import FrozenInstanceError, fields

    from ringway.cdr import _make_record

    values = {f.name: f"v{i}" for i, f in enumerate(fields(CallDetailRecord))}
    values["outcome"] = Outcome.ANSWERED
    made = _make_record(*values.values())
    assert made == CallDetailRecord(**values)
    assert repr(made) == repr(CallDetailRecord(**values))
    assert {f.name: getattr(made, f.name) for f in fields(made)} == values
    with pytest.raises(FrozenInstanceError):
        made.queue = "other"  # type: ignore[misc]
