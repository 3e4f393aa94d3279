"""A router-path call's record, filed by `CallArchive.record`, pinned byte for byte:
its cdr.jsonl line, the API's copy and the CDR store's row are what the record path
wrote before it was compiled and slimmed (the expected values were taken from it)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from cdr_kit import T0, Records, contact, service_with

from ringway.cdr import _COLUMNS, CallDetails, CdrStore
from ringway.telephony_records import CallArchive
from router.model import ContactStatus

OFFSET = T0 - 1000.0  # wall clock minus loop clock


class Capture(CdrStore):
    """A CDR store that keeps the rows it is handed (nothing opened, nothing written)."""

    def __init__(self) -> None:
        super().__init__(Path("/nowhere/calls.sqlite3"))
        self.rows: list[tuple[Any, ...]] = []

    def add_row_soon(self, row: tuple[Any, ...]) -> None:
        self.rows.append(row)


def _router_path_record() -> dict[str, Any]:
    """What the B2BUA's session hands over for a caller who hung up in the queue."""
    return {
        "call_id": "17-core@127.0.0.1",
        "cli": "sip:+447700900456@127.0.0.1:5061",
        "dialed": "service",
        "agents_tried": [],
        "announcements": 1,
        "events": [
            {"at": 1000.1234567, "phase": "ivr", "event": "contact_queued", "queue": "sales"},
            {"at": 1001.9876543, "phase": "queued", "event": "call_ended", "side": "caller"},
        ],
        "answered_at": 1000.0123456,
        "queue": "sales",
        "ivr_attributes": {},
        "contact_id": "c-gone",
        "queued_at": 1000.1234567,
        "hold": {"music": True, "announcements": True},
        "hangup_side": "caller",
        "hangup_reason": "bye",
        "outcome": "abandoned_in_queue",
        "ended_at": 1001.9876543,
        "digits": "",
        "started_at": 999.9995,
    }


LINE = (
    b'{"call_id":"17-core@127.0.0.1","cli":"sip:+447700900456@127.0.0.1:5061",'
    b'"dialed":"service","agents_tried":[],"announcements":1,"events":[{"at":1000.1234567,'
    b'"phase":"ivr","event":"contact_queued","queue":"sales"},{"at":1001.9876543,'
    b'"phase":"queued","event":"call_ended","side":"caller"}],"answered_at":1800000000.012,'
    b'"queue":"sales","ivr_attributes":{},"contact_id":"c-gone","queued_at":1800000000.123,'
    b'"hold":{"music":true,"announcements":true},"hangup_side":"caller","hangup_reason":"bye",'
    b'"outcome":"abandoned_in_queue","ended_at":1800000001.988,"digits":"",'
    b'"started_at":1800000000.0,"direction":"inbound"}\n'
)
ROW = {
    "call_id": "17-core@127.0.0.1",
    "started_at": 1800000000.0,  # 1799999999.9995 (a half, as stored): round()'s answer
    "ended_at": 1800000001.988,
    "contact_id": "c-gone",
    "cli": "+447700900456",
    "dialed": "service",
    "answered_at": 1800000000.012,
    "connected_at": None,
    "queue": "sales",
    "agent_id": None,
    "customer_id": "cust-1",
    "disposition": None,
    "recording_id": None,
    "hangup_by": "caller",
    "direction": "inbound",
    "outcome": "abandoned",
    "details": None,
}


def test_a_router_path_record_is_filed_as_it_always_was(tmp_path: Path) -> None:
    service = service_with(
        [contact("c-gone", answered=False, status=ContactStatus.ABANDONED)],
        data_dir=str(tmp_path),
        region="GB",
    )
    store = Capture()
    archive = CallArchive(service, Records(cdrs=CallDetails(service, store)), cdr_keep=10)
    archive.loop_offset = OFFSET
    record = _router_path_record()

    async def scenario() -> None:
        archive.record(record)
        await archive.close()

    asyncio.run(scenario())
    assert (tmp_path / "cdr.jsonl").read_bytes() == LINE
    (kept,) = archive.cdrs
    assert kept is record  # the driver's dict, its times made epoch milliseconds
    assert [(k, type(v)) for k, v in kept.items()] == [
        (k, type(v)) for k, v in {**_router_path_record(), "direction": ""}.items()
    ]
    (row,) = store.rows
    assert dict(zip(_COLUMNS, row, strict=True)) == ROW
    assert [type(v) for v in row] == [type(ROW[c]) for c in _COLUMNS]


def test_times_of_other_number_types_are_made_epoch_as_before(tmp_path: Path) -> None:
    class Seconds(float):
        pass

    service = service_with(data_dir=str(tmp_path))
    archive = CallArchive(service, None, cdr_keep=10)
    archive.loop_offset = OFFSET
    record: dict[str, Any] = {
        "call_id": "c1",
        "started_at": 7,  # an int
        "answered_at": True,  # a bool is an int
        "queued_at": Seconds(8.25),
        "bridged_at": "not a time",
        "ended_at": None,
    }
    archive.record(record)
    assert record == {
        "call_id": "c1",
        "started_at": round(7 + OFFSET, 3),
        "answered_at": round(1 + OFFSET, 3),
        "queued_at": round(8.25 + OFFSET, 3),
        "bridged_at": "not a time",
        "ended_at": None,
        "direction": "inbound",
    }
    assert [type(record[k]) for k in ("started_at", "answered_at", "queued_at")] == [float] * 3
