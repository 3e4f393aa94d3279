"""The router path's CDR row, built without the record object and without a copy of the
driver's record, is the row `CallDetails.file` queued before; a batch goes in as
multi-row INSERTs with the same result as one INSERT per row."""

from __future__ import annotations

import asyncio
import functools
import itertools
import logging
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from cdr_kit import T0, Records, contact, service_with

from ringway.cdr import (
    _COLUMNS,
    CallDetailRecord,
    CallDetails,
    CdrStore,
    Outcome,
    _make_record,
    _make_row,
    _row,
)
from ringway.service import RoutingService
from router.model import ContactStatus

CONTACTS = {
    "c-answered": contact("c-answered", answered=True, status=ContactStatus.WRAP_UP),
    "c-waiting": contact("c-waiting", answered=False, status=ContactStatus.QUEUED),
    "c-gone": contact("c-gone", answered=False, status=ContactStatus.ABANDONED),
}


@functools.cache
def _service() -> RoutingService:
    return service_with(CONTACTS.values())


class Capture(CdrStore):
    """A CDR store that keeps what it is handed (nothing opened, nothing written)."""

    def __init__(self) -> None:
        super().__init__(Path("/nowhere/calls.sqlite3"))
        self.rows: list[tuple[Any, ...]] = []

    def add_soon(self, cdr: CallDetailRecord) -> None:
        self.rows.append(_row(cdr))

    def add_row_soon(self, row: tuple[Any, ...]) -> None:
        self.rows.append(row)


def details_for(store: CdrStore) -> CallDetails:
    return CallDetails(_service(), store)


@pytest.mark.parametrize("details", [None, {"campaign": "spring", "ring_s": 3.5}])
@pytest.mark.parametrize("outcome", list(Outcome))
def test_the_row_maker_gives_the_records_row(
    outcome: Outcome, details: dict[str, Any] | None
) -> None:
    fields: tuple[Any, ...] = (
        "a1@pbx", T0, T0 + 60, outcome, "c-1", "+12025550147", "800", T0 + 1, T0 + 2,
        "sales", "alice", "cust-1", "sold", "rec-1", "agent", "outbound", details,
    )  # fmt: skip
    assert _make_row(*fields) == _row(_make_record(*fields))
    nones: tuple[Any, ...] = ("a1@pbx", T0, T0, outcome, *([None] * 11), "inbound", details)
    assert _make_row(*nones) == _row(_make_record(*nones))


RECORDS: list[dict[str, Any]] = [
    {
        "call_id": call_id,
        "started_at": started,
        "answered_at": T0 + 1,
        "ended_at": T0 + 60,
        "cli": cli,
        "dialed": "service",
        "contact_id": contact_id,
        "outcome": outcome,
        "direction": direction,
        "bridged_at": T0 + 7,
        "hangup_by": "someone",  # the driver's own keys are replaced, never read
        "recording_id": "rec-old",
        **({"dialer": {"campaign": "spring"}} if direction == "outbound" else {}),
    }
    for call_id, started, cli, contact_id, outcome, direction in itertools.product(
        ["a1@pbx", 17],
        [T0, None, 0],
        [None, "", "+12025550147", 5],
        [None, "c-answered", "c-waiting", "c-gone", "c-evicted"],
        [None, "abandoned_in_queue", "routing_failed", "busy"],
        [None, "inbound", "outbound"],
    )
]


@pytest.mark.parametrize("hangup_by", ["caller", "system"])
def test_file_call_queues_the_row_file_queued_for_the_changed_record(hangup_by: str) -> None:
    old, new = Capture(), Capture()
    for record in RECORDS:
        cli = record["cli"] or "+447700900456"
        details_for(old).file({**record, "cli": cli, "hangup_by": hangup_by, "recording_id": None})
        details_for(new).file_call(record, cli, hangup_by)
    assert len(new.rows) == len(old.rows) > 0
    assert new.rows == old.rows


def test_a_record_file_call_cannot_build_is_logged_and_not_queued(
    caplog: pytest.LogCaptureFixture,
) -> None:
    store = Capture()
    with caplog.at_level(logging.WARNING, logger="ringway.cdr"):
        details_for(store).file_call({"call_id": "no-times"}, None, "caller")
    assert store.rows == []
    assert any("'no-times'" in r.getMessage() and "not filed" in r.getMessage()
               for r in caplog.records)  # fmt: skip


def _cdr(call_id: str, started: float | None = T0, queue: str = "q") -> CallDetailRecord:
    return CallDetailRecord(
        call_id=call_id,
        started_at=started,  # type: ignore[arg-type]
        ended_at=T0 + 1,
        outcome=Outcome.ABANDONED,
        contact_id=f"c-{call_id}",
        queue=queue,
    )


@pytest.mark.parametrize("count", [1, 2, 31, 32, 33, 63, 70])
def test_a_batch_in_multi_row_inserts_stores_every_row_in_order(tmp_path: Path, count: int) -> None:
    path = tmp_path / "calls.sqlite3"

    async def scenario() -> None:
        store = CdrStore(path, gather_s=0.05)
        for n in range(count):
            store.add_soon(_cdr(f"c{n:03}"))
        store.add_soon(_cdr("c000", queue="again"))  # the same call again: it replaces
        await store.close()

    asyncio.run(scenario())
    with sqlite3.connect(path) as conn:
        rows = conn.execute("SELECT call_id, queue FROM cdrs ORDER BY call_id").fetchall()
    expected = [(f"c{n:03}", "q") for n in range(count)]
    expected[0] = ("c000", "again")
    assert rows == expected


def test_a_bad_row_in_a_multi_row_batch_fails_alone(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "calls.sqlite3"

    async def scenario() -> None:
        store = CdrStore(path, gather_s=0.05)
        for n in range(40):  # a 32-row and an 8-row statement: the bad row in the first
            store.add_soon(_cdr(f"c{n:03}", started=None if n == 5 else T0))
        await store.close()

    with caplog.at_level(logging.WARNING, logger="ringway.cdr"):
        asyncio.run(scenario())
    with sqlite3.connect(path) as conn:
        stored = [r[0] for r in conn.execute("SELECT call_id FROM cdrs ORDER BY call_id")]
    assert stored == [f"c{n:03}" for n in range(40) if n != 5]
    assert [r for r in caplog.records if "not filed" in r.getMessage()] != []
    assert all("'c005'" in r.getMessage() for r in caplog.records if "not filed" in r.getMessage())


@pytest.mark.parametrize(
    ("cli", "side", "stored_cli", "hangup_by"),
    [
        ("sip:+447700900456@127.0.0.1:5060", "caller", "+447700900456", "caller"),
        ("07700 900456", "agent", "+447700900456", "agent"),
        ("not a number", "ivr", "not a number", "system"),
        (None, "router", "+442079460958", "system"),  # the contact's origin
    ],
)
def test_the_archive_files_the_normalised_caller_and_who_hung_up(
    tmp_path: Path, cli: str | None, side: str, stored_cli: str, hangup_by: str
) -> None:
    from crm.memory import MemoryCustomerStore
    from ringway.config import load_config_text
    from ringway.telephony_records import CallArchive

    config = load_config_text(
        f'service: {{data_dir: "{tmp_path}", default_region: GB}}\nqueues: [{{name: q}}]'
    )
    store = Capture()
    calls = Records(cdrs=details_for(store))
    archive = CallArchive(RoutingService(config, MemoryCustomerStore()), calls, cdr_keep=10)
    record = {"call_id": "c1", "started_at": 1.0, "ended_at": 2.0, "cli": cli,
              "hangup_side": side, "contact_id": "c-gone"}  # fmt: skip

    async def scenario() -> None:
        archive.record(record)
        await archive.close()

    asyncio.run(scenario())
    (row,) = store.rows
    columns = dict(zip(_COLUMNS, row, strict=True))
    assert columns["cli"] == stored_cli and columns["hangup_by"] == hangup_by
    assert columns["recording_id"] is None and columns["queue"] == "sales"
    assert archive.cdrs[0]["cli"] == cli  # the record itself keeps the driver's CLI


@pytest.mark.parametrize("status", list(ContactStatus))
def test_the_outcome_by_status_value_is_the_one_by_member(status: ContactStatus) -> None:
    from ringway.cdr import _BY_STATUS, _outcome

    found = contact("c-1", answered=False, status=status)
    assert _outcome(found) is _BY_STATUS.get(status, Outcome.ABANDONED)
    assert _outcome(None) is Outcome.IVR


@pytest.mark.parametrize(
    "said", ["routing_failed", "rejected", "error", "refused", "abandoned_in_queue", "", None, 7]
)
@pytest.mark.parametrize("contact_id", [None, "c-1"])
def test_a_failure_said_is_read_the_same_the_second_time(said: Any, contact_id: Any) -> None:
    from ringway.cdr import _driver_outcome

    record = {"outcome": said, "contact_id": contact_id}
    words = ("fail", "reject", "error", "refused")
    expected = (
        Outcome.FAILED
        if any(w in str(said or "") for w in words)
        else (None if contact_id else Outcome.IVR)
    )
    assert _driver_outcome(record) is expected
    assert _driver_outcome(record) is expected  # now from the kept answer
