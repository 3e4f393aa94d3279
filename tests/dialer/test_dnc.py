"""A DNC number is never dialled: internal list at once, registries by version and age."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from dialer.campaign import default_campaign, load_campaign_text
from dialer.compliance import CheckResult, Compliance, Result
from dialer.compliance.dnc import add_internal, import_registry_file
from dialer.errors import NotAllowed
from dialer.leads import Lead, LeadStatus
from dialer.store import DialerStore

AT = datetime(2026, 1, 15, 18, 0, tzinfo=UTC)  # 13:00 in New York, 12:00 in Chicago
US = default_campaign("US")
NUMBERS = ["+12125550100", "+13125550182", "+14165550123", "+16045550123"]


def _result(reasons: tuple[CheckResult, ...], check: str) -> Result:
    return next(r.result for r in reasons if r.check == check)


def test_internal_dnc_blocks(store: DialerStore) -> None:
    gate = Compliance(store)
    assert gate.check("+12125550100", AT, US).allowed
    add_internal(store, "+12125550100", AT, "agent:alice", "asked on the call")
    verdict = gate.check("+12125550100", AT, US)
    assert not verdict.allowed
    assert _result(verdict.reasons, "dnc.internal") is Result.FAIL
    internal = next(r for r in verdict.reasons if r.check == "dnc.internal")
    assert internal.data["source"] == "agent:alice"


def test_dnc_added_while_the_campaign_runs_is_never_dialled(store: DialerStore) -> None:
    campaign = load_campaign_text('name: running\ncaller_id: "+12125550100"\n')
    gate = Compliance(store)
    leads = [Lead(id=f"l{i}", campaign="running", phone=n) for i, n in enumerate(NUMBERS)]
    for lead in leads:
        store.put_lead(lead)
    dialled: list[str] = []
    for step, lead in enumerate(leads):
        if step == 2:  # mid-campaign: the callee of the *next* lead asks not to be called
            add_internal(store, leads[2].phone, AT, "ivr")
        verdict = gate.attempt(f"a{step}", lead.phone, AT + timedelta(minutes=step), campaign, lead)
        if verdict.allowed:
            dialled.append(lead.phone)
    assert dialled == [NUMBERS[0], NUMBERS[1], NUMBERS[3]]
    assert store.number_attempts(NUMBERS[2], AT - timedelta(days=1), AT + timedelta(days=1)) == 0
    refused = store.proofs(NUMBERS[2])
    assert len(refused) == 1 and refused[0]["allowed"] is False and refused[0]["attempt_id"] is None
    blocked = store.lead("l2")
    assert blocked is not None and blocked.status is LeadStatus.BLOCKED
    # Even a stale copy of the lead handed back later is refused on its stored state.
    again = gate.check(leads[2].phone, AT + timedelta(days=3), campaign, leads[2])
    assert _result(again.reasons, "number") is Result.FAIL


def test_recording_an_attempt_on_a_refusal_raises(store: DialerStore) -> None:
    gate = Compliance(store)
    add_internal(store, "+12125550100", AT, "cli")
    verdict = gate.check("+12125550100", AT, US)
    with pytest.raises(NotAllowed, match="internal DNC"):
        gate.record_attempt(verdict, "a1")
    assert store.number_attempts("+12125550100", AT - timedelta(hours=1), AT) == 0


def test_dnc_holds_for_every_format_of_the_number(store: DialerStore) -> None:
    add_internal(store, "+12125550100", AT, "cli")
    gate = Compliance(store)
    for written in ["(212) 555-0100", "212.555.0100", "+1 212 555 0100", "1-212-555-0100"]:
        assert not gate.check(written, AT, US).allowed, written


def _registry_file(tmp_path: Path, lines: list[str]) -> Path:
    path = tmp_path / "registry.txt"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_registry_import_blocks_listed_numbers_and_reports_bad_lines(
    store: DialerStore, tmp_path: Path
) -> None:
    path = _registry_file(tmp_path, ["# FTC download", "212,5550100", "3125550182", "", "12x"])
    done = import_registry_file(
        path, registry="us-national", as_of=date(2026, 1, 10), at=AT, store=store
    )
    assert done.version.numbers == 2 and done.version.version == 1
    assert [(line, text) for line, text, _ in done.rejected] == [(5, "12x")]
    assert done.warnings == []
    gate = Compliance(store)
    verdict = gate.check("+12125550100", AT, US)
    registry = next(r for r in verdict.reasons if r.check == "dnc.registry.us-national")
    assert not verdict.allowed and registry.result is Result.FAIL
    assert registry.data["version"] == 1 and registry.data["as_of"] == "2026-01-10"
    clean = gate.check("+14165550123", AT, US)
    assert clean.allowed and _result(clean.reasons, "dnc.registry.us-national") is Result.PASS


def test_registry_older_than_31_days_warns(store: DialerStore, tmp_path: Path) -> None:
    # 16 CFR 310.4(b)(3)(iv): the safe harbour needs a copy at most 31 days old.
    path = _registry_file(tmp_path, ["3125550182"])
    done = import_registry_file(
        path, registry="us-national", as_of=date(2025, 12, 14), at=AT, store=store
    )
    assert done.warnings and "32 days old" in done.warnings[0]
    gate = Compliance(store)
    verdict = gate.check("+12125550100", AT, US)
    assert verdict.allowed
    assert _result(verdict.reasons, "dnc.registry.us-national") is Result.WARN
    at_31_days = gate.check("+12125550100", datetime(2026, 1, 14, 18, tzinfo=UTC), US)
    assert _result(at_31_days.reasons, "dnc.registry.us-national") is Result.PASS


def test_stale_registry_blocks_when_the_campaign_says_so(
    store: DialerStore, tmp_path: Path
) -> None:
    campaign = load_campaign_text(
        'name: strict\ncaller_id: "+12125550100"\nstale_registry: block\n'
    )
    gate = Compliance(store)
    assert not gate.check("+12125550100", AT, campaign).allowed  # nothing imported yet
    path = _registry_file(tmp_path, ["3125550182"])
    import_registry_file(path, registry="us-national", as_of=date(2026, 1, 1), at=AT, store=store)
    assert gate.check("+12125550100", AT, campaign).allowed


def test_a_new_registry_version_replaces_the_old(store: DialerStore, tmp_path: Path) -> None:
    first = _registry_file(tmp_path, ["2125550100"])
    import_registry_file(first, registry="us-national", as_of=date(2026, 1, 1), at=AT, store=store)
    second = tmp_path / "second.txt"
    second.write_text("3125550182\n")
    done = import_registry_file(
        second, registry="us-national", as_of=date(2026, 1, 12), at=AT, store=store
    )
    assert done.version.version == 2
    assert not store.in_registry("us-national", "+12125550100")
    assert store.in_registry("us-national", "+13125550182")


def test_uk_pack_checks_the_tps_copy(store: DialerStore, tmp_path: Path) -> None:
    uk = default_campaign("UK")
    path = _registry_file(tmp_path, ["020 7946 0958"])
    import_registry_file(
        path, registry="uk-tps", as_of=date(2026, 1, 10), at=AT, store=store, default_region="GB"
    )
    verdict = Compliance(store).check("+442079460958", AT, uk)
    assert not verdict.allowed
    assert _result(verdict.reasons, "dnc.registry.uk-tps") is Result.FAIL


def test_a_refusal_that_can_lapse_does_not_block_the_lead(store: DialerStore) -> None:
    # No registry copy under stale_registry: block, and outside the window: both lift
    # with time (a fresh import, the morning), so the lead stays ready for a retry.
    campaign = load_campaign_text('name: s\ncaller_id: "+12125550100"\nstale_registry: block\n')
    lead = Lead(id="s1", campaign="s", phone="+12125550100")
    store.put_lead(lead)
    night = datetime(2026, 1, 15, 7, 0, tzinfo=UTC)  # 02:00 in New York
    verdict = Compliance(store).attempt("x1", lead.phone, night, campaign, lead)
    assert not verdict.allowed
    assert {r.check for r in verdict.reasons if r.blocks} == {"dnc.registry.us-national", "window"}
    stored = store.lead("s1")
    assert stored is not None and stored.status is LeadStatus.READY


def test_the_stored_proof_names_the_data_each_check_used(
    store: DialerStore, tmp_path: Path
) -> None:
    path = _registry_file(tmp_path, ["3125550182"])
    import_registry_file(path, registry="us-national", as_of=date(2026, 1, 10), at=AT, store=store)
    verdict = Compliance(store).attempt("p1", "+12125550100", AT, US)
    assert verdict.allowed
    (stored,) = store.proofs("+12125550100")
    assert stored["attempt_id"] == "p1" and stored["rule_pack"] == "US"
    assert stored["at"] == "2026-01-15T18:00:00+00:00"
    checks = {c["check"]: c for c in stored["checks"]}  # type: ignore[attr-defined]
    registry = checks["dnc.registry.us-national"]["data"]
    assert registry["version"] == 1 and registry["as_of"] == "2026-01-10"
    assert registry["age_days"] == 5 and len(registry["sha256"]) == 64
    window = checks["window"]["data"]
    assert window["local_times"] == {"America/New_York": "2026-01-15T13:00:00-05:00"}
    assert checks["caps.rolling_24h"]["data"]["attempts_24h"] == 0


def test_dnc_added_by_another_process_reaches_a_running_dialer(tmp_path: Path) -> None:
    # The running dialer keeps its connection open; `ringway dialer dnc add` writes
    # through another one. The next check must see it (no cached copy of the list).
    from dialer.store_sqlite import SQLiteDialerStore

    path = tmp_path / "dialer.sqlite3"
    running = SQLiteDialerStore(path)
    try:
        gate = Compliance(running)
        assert gate.check("+12125550100", AT, US).allowed
        db = ["--db", str(path)]
        done = subprocess.run(
            [sys.executable, "-m", "ringway.cli", "dialer", "dnc", "add", "+12125550100", *db],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        assert not gate.check("+12125550100", AT + timedelta(seconds=1), US).allowed
    finally:
        running.close()


def test_a_canadian_number_is_also_checked_against_the_national_dncl(
    store: DialerStore, tmp_path: Path
) -> None:
    # CRTC Unsolicited Telecommunications Rules, Part II: Canada's National DNCL.
    gate = Compliance(store)
    toronto = "+14165550123"
    before = gate.check(toronto, AT, US)
    checks = [r.check for r in before.reasons]
    assert checks[:4] == [
        "number",
        "dnc.internal",
        "dnc.registry.us-national",
        "dnc.registry.ca-dncl",
    ]
    assert _result(before.reasons, "dnc.registry.ca-dncl") is Result.WARN  # nothing imported
    assert "dnc.registry.ca-dncl" not in [
        r.check for r in gate.check("+12125550100", AT, US).reasons
    ]
    path = _registry_file(tmp_path, ["416 555 0123"])
    import_registry_file(
        path, registry="ca-dncl", as_of=date(2026, 1, 10), at=AT, store=store, default_region="CA"
    )
    after = gate.check(toronto, AT, US)
    assert not after.allowed and _result(after.reasons, "dnc.registry.ca-dncl") is Result.FAIL
