"""Call detail records: built from the driver's facts and the contact, kept in SQLite, queried."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from ringway.cdr import CdrError, Outcome

if TYPE_CHECKING:
    from conftest import Api, Run, Serve

T0 = 1_800_000_000.0  # 2027-01-15T08:00:00Z


async def eventually_disposition(api: Api, call_id: str, expected: str) -> None:
    for _ in range(200):
        cdr = await api.calls.cdrs.store.get(call_id)
        if cdr is not None and cdr.disposition == expected:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"{call_id}: disposition never became {expected!r}")


async def answered_and_abandoned(api: Api) -> None:
    cid = await api.connected_call("support")
    await api.json("POST", f"/contacts/{cid}/end")  # the caller hung up: wrap-up
    cdrs = api.calls.cdrs
    cdr = await cdrs.call_ended(
        call_id="a1@pbx",
        started_at=T0,
        answered_at=T0 + 0.2,
        ended_at=T0 + 95.0,
        cli="+12025550147",
        to="support-line",
        contact_id=cid,
        hangup_by="caller",
        recording_id="rec-1",
    )
    assert (cdr.outcome, cdr.abandoned, cdr.queue, cdr.agent_id) == (
        Outcome.ANSWERED,
        False,
        "support",
        "alice",
    )
    assert cdr.customer_id == "cust-1005" and cdr.connected_at is not None
    assert cdr.duration_s == 95.0 and cdr.disposition is None
    body = {"disposition": "resolved", "notes": ""}
    await api.json("POST", f"/agents/alice/contacts/{cid}/complete", "alice", json=body)
    await eventually_disposition(api, "a1@pbx", "resolved")

    # nobody ready: the caller gives up while queued
    new = {"channel": "voice", "queue": "plain", "origin": "+12025550100"}
    queued = await api.json("POST", "/contacts", "admin", json=new, expect=201)
    await api.json("POST", f"/contacts/{queued['id']}/end")
    gone = await cdrs.call_ended(
        call_id="a2@pbx", started_at=T0 + 10, ended_at=T0 + 40, contact_id=queued["id"]
    )
    assert (gone.outcome, gone.abandoned, gone.agent_id, gone.queue) == (
        Outcome.ABANDONED,
        True,
        None,
        "plain",
    )
    assert gone.cli == "+12025550100"  # from the contact when the driver gives none

    ivr = await cdrs.call_ended(call_id="a3@pbx", started_at=T0 + 3600, ended_at=T0 + 3630)
    assert ivr.outcome is Outcome.IVR and ivr.contact_id is None

    with pytest.raises(CdrError, match="ended_at"):
        await cdrs.call_ended(call_id="a4@pbx", started_at=T0, ended_at=T0 - 1)

    found = await api.json("GET", "/cdrs?from=2027-01-15T08:00:00Z&to=2027-01-15T08:30:00Z")
    assert [c["call_id"] for c in found["cdrs"]] == ["a1@pbx", "a2@pbx"] and found["count"] == 2
    first = found["cdrs"][0]
    assert first["start"] == "2027-01-15T08:00:00+00:00"
    assert first["answer"] == "2027-01-15T08:00:00.200000+00:00"
    assert first["end"] == "2027-01-15T08:01:35+00:00"
    assert (first["disposition"], first["recording_id"], first["to"]) == (
        "resolved",
        "rec-1",
        "support-line",
    )
    assert found["cdrs"][1]["abandoned"] is True
    # naive times are UTC; 'to' is exclusive
    later = await api.json("GET", "/cdrs?from=2027-01-15T08:00:10&to=2027-01-15T09:00:00")
    assert [c["call_id"] for c in later["cdrs"]] == ["a2@pbx"]
    everything = await api.json("GET", "/cdrs?from=2027-01-01T00:00:00&to=2027-02-01T00:00:00")
    assert [c["call_id"] for c in everything["cdrs"]] == ["a1@pbx", "a2@pbx", "a3@pbx"]


def test_cdrs_take_queue_agent_outcome_and_disposition_from_the_contact(run_api: Run) -> None:
    run_api(answered_and_abandoned)


async def bad_queries(api: Api) -> None:
    backwards = await api.json(
        "GET", "/cdrs?from=2027-01-15T09:00:00&to=2027-01-15T08:00:00", expect=422
    )
    assert backwards["error"]["code"] == "invalid_range"
    for query in ("?to=2027-01-15T08:00:00", "?from=yesterday&to=2027-01-15T08:00:00"):
        invalid = await api.json("GET", "/cdrs" + query, expect=422)
        assert invalid["error"]["code"] == "invalid_request"
    window = "?from=2027-01-15T08:00:00&to=2027-01-15T09:00:00"
    assert (await api.json("GET", "/cdrs" + window, "alice", expect=403))["error"]
    assert (await api.json("GET", "/cdrs" + window, None, expect=401))["error"]
    assert (await api.json("GET", "/cdrs" + window, "admin"))["cdrs"] == []


def test_cdr_queries_are_checked_and_for_supervisors(run_api: Run) -> None:
    run_api(bad_queries)


def test_cdrs_persist_across_a_restart(tmp_path: Path, serve: Serve) -> None:
    async def first() -> None:
        async with serve(tmp_path) as api:
            await api.calls.cdrs.call_ended(call_id="p1", started_at=T0, ended_at=T0 + 5)
            # a retried write of the same call replaces, never duplicates
            await api.calls.cdrs.call_ended(call_id="p1", started_at=T0, ended_at=T0 + 6)

    async def second() -> None:
        async with serve(tmp_path) as api:
            found = await api.json("GET", "/cdrs?from=2027-01-15T00:00:00&to=2027-01-16T00:00:00")
            assert [(c["call_id"], c["duration_s"]) for c in found["cdrs"]] == [("p1", 6.0)]

    asyncio.run(first())
    asyncio.run(second())


async def driver_records(api: Api) -> None:
    """The B2BUA's per-call dict (as ivr/calls keeps it) filed from synchronous code."""
    cid = await api.connected_call("support")
    await api.json("POST", f"/contacts/{cid}/end")
    bridged = {
        "call_id": "d1@trunk",
        "cli": "sip:+12025550147@trunk",
        "dialed": "800",
        "answered_at": T0,
        "ended_at": T0 + 30,
        "contact_id": cid,
        "queue": "support",
        "outcome": "completed",
        "agents_tried": ["alice"],
    }
    ivr_only = {"call_id": "d2@trunk", "answered_at": T0 + 1, "ended_at": T0 + 9}
    refused = {**ivr_only, "call_id": "d3@trunk", "outcome": "rejected", "contact_id": cid}
    broken = {"call_id": "d4@trunk", "cli": "anonymous"}  # no times: logged, not filed
    tasks = [api.calls.cdrs.submit(r) for r in (bridged, ivr_only, refused, broken)]
    done = await asyncio.gather(*tasks)
    assert done[3] is None
    first, second, third = (c for c in done if c is not None)
    assert (first.outcome, first.agent_id, first.dialed, first.started_at) == (
        Outcome.ANSWERED,
        "alice",
        "800",
        T0,
    )
    assert second.outcome is Outcome.IVR and third.outcome is Outcome.FAILED
    found = await api.json("GET", "/cdrs?from=2027-01-15T00:00:00&to=2027-01-16T00:00:00")
    assert [c["call_id"] for c in found["cdrs"]] == ["d1@trunk", "d2@trunk", "d3@trunk"]


def test_call_control_records_are_filed_as_cdrs(run_api: Run) -> None:
    run_api(driver_records)
