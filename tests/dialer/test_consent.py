"""Per-purpose consent read from the real customer store (crm, SQLite with the demo seed)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest

from crm.demo import HOUSEHOLD_PHONE, seed
from crm.model import Consent, Customer
from crm.sqlite import SQLiteCustomerStore
from dialer.campaign import Campaign, load_campaign_text
from dialer.compliance import CheckResult, Compliance, Result
from dialer.compliance.consent import CustomerConsents
from dialer.leads import Lead
from dialer.store import MemoryDialerStore

US_AT = datetime(2026, 1, 15, 18, 0, tzinfo=UTC)  # 12:00 Chicago, 13:00 Washington
UK_AT = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)  # 12:00 London

EMILY = "+13125550182"  # cust-1006: marketing_calls granted 2023, withdrawn 2024
DANIEL = "+12025550147"  # cust-1005: never asked
JAMES = "+447700900456"  # cust-1002: marketing_calls granted


def _campaign(purpose: str, required: bool, jurisdiction: str = "US") -> Campaign:
    return load_campaign_text(
        f'name: c\njurisdiction: {jurisdiction}\ncaller_id: "+12125550100"\n'
        f"purpose: {purpose}\nconsent_required: {str(required).lower()}\n"
    )


@pytest.fixture(scope="module")
def consents(tmp_path_factory: pytest.TempPathFactory) -> CustomerConsents:
    path: Path = tmp_path_factory.mktemp("crm") / "customers.sqlite3"

    async def load() -> CustomerConsents:
        store = await SQLiteCustomerStore.open(path)
        try:
            await seed(store)
            return await CustomerConsents.load(store, [EMILY, DANIEL, JAMES, HOUSEHOLD_PHONE])
        finally:
            await store.close()

    return asyncio.run(load())


def _consent_check(verdict_reasons: tuple[CheckResult, ...]) -> CheckResult:
    return next(r for r in verdict_reasons if r.check == "consent")


def test_withdrawn_marketing_consent_blocks_even_when_not_required(
    consents: CustomerConsents,
) -> None:
    gate = Compliance(MemoryDialerStore(), consents)
    verdict = gate.check(EMILY, US_AT, _campaign("marketing_calls", False))
    consent = _consent_check(verdict.reasons)
    assert not verdict.allowed and consent.result is Result.FAIL
    assert "withdrawn by cust-1006" in consent.detail
    assert consent.data["holders"] == [
        {"customer": "cust-1006", "answer": False, "at": "2024-03-20T16:45:00-05:00",
         "source": "agent:alice"}
    ]  # fmt: skip


def test_consent_is_per_purpose(consents: CustomerConsents) -> None:
    gate = Compliance(MemoryDialerStore(), consents)
    verdict = gate.check(EMILY, US_AT, _campaign("service_calls", True))
    assert verdict.allowed
    assert _consent_check(verdict.reasons).detail == "consent for service_calls from cust-1006"


def test_required_consent_needs_a_recorded_yes(consents: CustomerConsents) -> None:
    gate = Compliance(MemoryDialerStore(), consents)
    required = _campaign("marketing_calls", True)
    assert not gate.check(DANIEL, US_AT, required).allowed
    assert gate.check(DANIEL, US_AT, _campaign("marketing_calls", False)).allowed
    uk_required = _campaign("marketing_calls", True, "UK")
    # 07700 900xxx is Ofcom's drama range, which phonenumbers places in no zone:
    # the lead carries the zone explicitly, as an imported list may.
    james = Lead(id="james", campaign="c", phone=JAMES, timezone="Europe/London")
    assert gate.check(JAMES, UK_AT, uk_required, james).allowed


def test_a_number_nobody_holds_passes_only_when_consent_is_not_required(
    consents: CustomerConsents,
) -> None:
    gate = Compliance(MemoryDialerStore(), consents)
    stranger = "+12125550100"
    assert gate.check(stranger, US_AT, _campaign("marketing_calls", False)).allowed
    assert not gate.check(stranger, US_AT, _campaign("marketing_calls", True)).allowed


def test_one_household_member_withdrawing_blocks_the_shared_line() -> None:
    both = [
        Customer(id="a", name="A", phones=(HOUSEHOLD_PHONE,), consents=(
            Consent(purpose="marketing_calls", granted=True, at="2024-01-01T00:00:00Z"),)),
        Customer(id="b", name="B", phones=(HOUSEHOLD_PHONE,), consents=(
            Consent(purpose="marketing_calls", granted=False, at="2024-02-01T00:00:00Z"),)),
    ]  # fmt: skip
    gate = Compliance(MemoryDialerStore(), CustomerConsents(both))
    verdict = gate.check(HOUSEHOLD_PHONE, UK_AT, _campaign("marketing_calls", True, "UK"))
    assert not verdict.allowed
    assert _consent_check(verdict.reasons).detail == "consent for marketing_calls withdrawn by b"


def test_without_a_customer_store_required_consent_fails() -> None:
    gate = Compliance(MemoryDialerStore())
    verdict = gate.check(DANIEL, US_AT, _campaign("marketing_calls", True))
    assert _consent_check(verdict.reasons).result is Result.FAIL
