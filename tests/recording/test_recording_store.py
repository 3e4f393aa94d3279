"""The stores on their own: atomic file writes, lookups, closing."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from ivr.media.audio import tone, write_wav
from ringway.cdr import CallDetailRecord, CdrStore, Outcome
from ringway.recordings import RecordingMeta, RecordingStore
from ringway.sqlitework import StoreClosed


def meta(rid: str, contact: str, customer: str | None, at: float) -> RecordingMeta:
    return RecordingMeta(
        id=rid,
        contact_id=contact,
        call_id=f"{rid}@pbx",
        queue="support",
        agent_id="alice",
        customer_id=customer,
        started_at=at,
        ended_at=at + 1,
        duration_s=0.0,
        channels=0,
        size_bytes=0,
        sha256="",
        path="",
    )


def test_recording_store_writes_whole_files_and_finds_them(tmp_path: Path) -> None:
    async def scenario() -> None:
        store = RecordingStore(tmp_path / "rec", tmp_path / "db" / "calls.sqlite3")
        wav = write_wav(tone(440, 500))
        first = await store.save(meta("rec-a", "c-1", "cust-1", 1_800_000_000.0), wav)
        second = await store.save(meta("rec-b", "c-1", None, 1_800_086_400.0), wav)
        await store.save(meta("rec-c", "c-2", "cust-1", 1_800_000_100.0), wav)
        assert (first.duration_s, first.channels, first.size_bytes) == (0.5, 1, len(wav))
        assert [m.id for m in await store.for_contact("c-1")] == ["rec-a", "rec-b"]
        assert [m.id for m in await store.for_customer("cust-1")] == ["rec-a", "rec-c"]
        assert await store.get("rec-b") == second
        assert await store.get("rec-z") is None
        assert second.path == "2027/01/16/rec-b.wav"
        assert not list((tmp_path / "rec").rglob("*.partial"))  # renamed into place
        with pytest.raises(sqlite3.IntegrityError):  # an id is never reused...
            await store.save(meta("rec-a", "c-9", None, 1_800_000_000.0), write_wav(b""))
        assert store.file_of(first).read_bytes() == wav  # ...nor its file overwritten
        await store.close()
        await store.close()  # idempotent
        with pytest.raises(StoreClosed):
            await store.get("rec-a")

    asyncio.run(scenario())


def test_cdr_store_orders_by_start_and_limits(tmp_path: Path) -> None:
    async def scenario() -> None:
        store = CdrStore(tmp_path / "calls.sqlite3")
        for index, at in enumerate((30.0, 10.0, 20.0, 40.0)):
            cdr = CallDetailRecord(
                call_id=f"call-{index}", started_at=at, ended_at=at + 5, outcome=Outcome.IVR
            )
            await store.add(cdr)
        found = await store.between(10.0, 40.0, limit=2)
        assert [c.call_id for c in found] == ["call-1", "call-2"]
        assert await store.set_disposition("nobody", "resolved") == 0
        assert (await store.get("call-3")) == CallDetailRecord(
            call_id="call-3", started_at=40.0, ended_at=45.0, outcome=Outcome.IVR
        )
        await store.close()
        with pytest.raises(StoreClosed):
            await store.between(0, 1)

    asyncio.run(scenario())
