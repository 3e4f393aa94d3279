"""The store contract, run against the memory and the SQLite backend alike."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from dialer.errors import DialerError
from dialer.leads import Lead, LeadStatus, Outcome
from dialer.store import Attempt, DialerStore, DncEntry, RegistryVersion
from dialer.store_sqlite import SQLiteDialerStore
from dialer.store_sqlite_schema import MIGRATIONS

AT = datetime(2026, 1, 15, 15, 0, tzinfo=UTC)


def test_dnc_first_entry_wins(store: DialerStore) -> None:
    store.add_dnc(DncEntry(number="+12125550100", added_at=AT, source="ivr"))
    store.add_dnc(DncEntry(number="+12125550100", added_at=AT + timedelta(days=1), source="cli"))
    entry = store.dnc_entry("+12125550100")
    assert entry is not None and entry.source == "ivr" and entry.added_at == AT
    assert store.dnc_size() == 1 and store.dnc_entry("+12125550101") is None


def test_registry_version_round_trips(store: DialerStore) -> None:
    version = RegistryVersion(
        registry="us-national",
        version=3,
        as_of=date(2026, 1, 1),
        imported_at=AT,
        source="dnc.txt",
        sha256="ab" * 32,
        numbers=2,
    )
    store.import_registry(version, ["+12125550100", "+13125550182"])
    assert store.registry_version("us-national") == version
    assert store.registry_version("uk-tps") is None
    assert store.in_registry("us-national", "+13125550182")
    assert not store.in_registry("uk-tps", "+13125550182")


def test_attempt_windows_are_open_below_and_closed_above(store: DialerStore) -> None:
    for index, minutes in enumerate([0, 60, 120]):
        store.add_attempt(
            Attempt(
                id=f"a{index}",
                lead_id="l1",
                campaign="c",
                number="+12125550100",
                at=AT + timedelta(minutes=minutes),
            )
        )
    assert store.number_attempts("+12125550100", AT, AT + timedelta(minutes=120)) == 2
    assert store.number_attempts("+12125550100", AT - timedelta(seconds=1), AT) == 1
    assert store.lead_attempts("l1") == 3 and store.lead_attempts("l2") == 0
    with pytest.raises(ValueError, match="already recorded"):
        store.add_attempt(Attempt(id="a0", lead_id=None, campaign="c", number="+1", at=AT))


def test_outcomes_and_last_abandoned(store: DialerStore) -> None:
    for index in range(3):
        at = AT + timedelta(hours=index)
        store.add_attempt(Attempt(id=f"a{index}", lead_id=None, campaign="c", number="+1", at=at))
    assert store.last_abandoned("+1", AT + timedelta(days=1)) is None
    store.set_outcome("a0", Outcome.ABANDONED, AT + timedelta(seconds=5))
    updated = store.set_outcome("a1", Outcome.ABANDONED, AT + timedelta(hours=1, seconds=5))
    assert updated.outcome is Outcome.ABANDONED and updated.at == AT + timedelta(hours=1)
    store.set_outcome("a2", Outcome.BUSY, AT + timedelta(hours=2, seconds=5))
    assert store.last_abandoned("+1", AT + timedelta(days=1)) == AT + timedelta(hours=1, seconds=5)
    assert store.last_abandoned("+1", AT + timedelta(minutes=30)) == AT + timedelta(seconds=5)
    with pytest.raises(KeyError):
        store.set_outcome("nope", Outcome.BUSY, AT)


def test_leads_round_trip(store: DialerStore) -> None:
    lead = Lead(
        id="l1",
        campaign="c",
        phone="+12125550100",
        name="Ann",
        timezone="America/New_York",
        region="NY",
        source_line=2,
        status=LeadStatus.READY,
        attempts=2,
        outcomes=(Outcome.BUSY, Outcome.MACHINE),
        last_attempt_at=AT,
        next_attempt_at=AT + timedelta(hours=4),
    )
    store.put_lead(lead)
    store.put_lead(Lead(id="l2", campaign="other", phone="+13125550182"))
    assert store.lead("l1") == lead and store.lead("zz") is None
    assert store.leads("c") == [lead]
    assert store.campaign_numbers("c") == {"+12125550100"}


def test_proofs_are_kept_per_number(store: DialerStore) -> None:
    store.add_proof("a1", {"number": "+1212", "at": AT.isoformat(), "allowed": True})
    store.add_proof(None, {"number": "+1212", "at": AT.isoformat(), "allowed": False})
    proofs = store.proofs("+1212")
    assert [(p["attempt_id"], p["allowed"]) for p in proofs] == [("a1", True), (None, False)]


def test_sqlite_refuses_a_newer_schema(tmp_path: Path) -> None:
    path = tmp_path / "d.sqlite3"
    SQLiteDialerStore(path).close()
    import sqlite3

    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
    conn.close()
    with pytest.raises(DialerError, match="newer than this code"):
        SQLiteDialerStore(path)


def test_record_attempt_is_all_or_nothing(store: DialerStore) -> None:
    lead = Lead(id="l1", campaign="c", phone="+12125550100")
    first = Attempt(id="a1", lead_id="l1", campaign="c", number="+12125550100", at=AT)
    store.record_attempt(first, {"number": "+12125550100", "allowed": True}, lead)
    assert store.lead("l1") == lead and len(store.proofs("+12125550100")) == 1
    moved = Lead(id="l1", campaign="c", phone="+12125550100", attempts=9)
    with pytest.raises(ValueError, match="already recorded"):
        store.record_attempt(first, {"number": "+12125550100", "allowed": True}, moved)
    assert store.lead("l1") == lead and len(store.proofs("+12125550100")) == 1


def test_due_leads_are_ready_and_longest_waiting_first(store: DialerStore) -> None:
    leads = [
        Lead(id="new-2", campaign="c", phone="+1", source_line=3),
        Lead(id="new-1", campaign="c", phone="+2", source_line=2),
        Lead(id="retry-soon", campaign="c", phone="+3", next_attempt_at=AT - timedelta(hours=1)),
        Lead(id="retry-later", campaign="c", phone="+4", next_attempt_at=AT + timedelta(hours=1)),
        Lead(id="done", campaign="c", phone="+5", status=LeadStatus.DONE),
        Lead(id="blocked", campaign="c", phone="+6", status=LeadStatus.BLOCKED),
        Lead(id="elsewhere", campaign="d", phone="+7"),
    ]
    store.put_leads(leads)
    assert [x.id for x in store.due_leads("c", AT, 10)] == ["new-1", "new-2", "retry-soon"]
    assert [x.id for x in store.due_leads("c", AT, 2)] == ["new-1", "new-2"]
    later = AT + timedelta(hours=1)
    assert [x.id for x in store.due_leads("c", later, 10)][-1] == "retry-later"
