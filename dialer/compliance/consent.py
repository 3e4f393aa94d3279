"""Per-purpose consent from the customer store.

The CRM's `crm.model.Customer` carries ``consents``: a history of answers to
"may we contact you for *purpose*?" (``marketing_calls``, ``service_calls`` …),
where the latest answer counts (`Customer.consent_for`). The dialer asks that
question for the campaign's purpose about every customer holding the number:

* any holder whose latest answer is *no* blocks the call (a withdrawal is a
  do-not-call request: 47 CFR 64.1200(d)(3); PECR reg. 21(1)(a) in the UK);
* a campaign with ``consent_required`` (autodialled or prerecorded marketing to
  a wireless number needs prior express written consent, 47 CFR
  64.1200(a)(2); likewise Fla. Stat. 501.059(8)(a), Md. Com. Law §14-4502) also
  needs at least one holder whose latest answer is *yes*.

The store is async (it may be remote); the check is pure and synchronous. So a
driver snapshots the holders of the numbers it is about to dial
(`CustomerConsents.load`) and the check reads the snapshot — the proof names
the consent records it relied on.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from dialer.compliance.proof import CheckResult, Result

if TYPE_CHECKING:  # the crm package pulls in its SQLite/asyncio backends: types only
    from crm.model import Customer
    from crm.store import CustomerStore


@dataclass(frozen=True, kw_only=True, slots=True)
class Holder:
    customer_id: str
    answer: bool | None  # latest answer for the purpose; None = never asked
    at: str | None
    source: str | None


class ConsentSource(Protocol):
    def holders(self, number: str, purpose: str) -> list[Holder] | None:
        """Customers holding ``number`` with their latest answer; ``None`` = no data source."""
        ...


class NoConsentData:
    """No customer store attached: consent cannot be shown (fails when it is required)."""

    def holders(self, number: str, purpose: str) -> list[Holder] | None:
        return None


class CustomerConsents:
    """A snapshot of the customers holding some numbers, indexed by E.164."""

    def __init__(self, customers: Iterable[Customer]) -> None:
        self._by_phone: dict[str, list[Customer]] = {}
        for customer in customers:
            for phone in customer.phones:
                self._by_phone.setdefault(phone, []).append(customer)

    @classmethod
    async def load(cls, store: CustomerStore, numbers: Iterable[str]) -> CustomerConsents:
        found: dict[str, Customer] = {}
        for number in set(numbers):
            for customer in await store.find_by_phone(number):
                found[customer.id] = customer
        return cls(found.values())

    def holders(self, number: str, purpose: str) -> list[Holder] | None:
        return [_holder(c, purpose) for c in self._by_phone.get(number, [])]


def _holder(customer: Customer, purpose: str) -> Holder:
    answer = customer.consent_for(purpose)
    latest = [c for c in customer.consents if c.purpose == purpose]
    record = next((c for c in reversed(latest) if c.granted == answer), None)
    return Holder(
        customer_id=customer.id,
        answer=answer,
        at=record.at if record else None,
        source=record.source if record else None,
    )


def check_consent(number: str, purpose: str, required: bool, source: ConsentSource) -> CheckResult:
    holders = source.holders(number, purpose)
    data: dict[str, object] = {"purpose": purpose, "required": required}
    if holders is None:
        data["store"] = None
        result = Result.FAIL if required else Result.PASS
        detail = "no customer store attached" + (": consent required" if required else "")
        return CheckResult(check="consent", result=result, detail=detail, data=data)
    data["holders"] = [
        {"customer": h.customer_id, "answer": h.answer, "at": h.at, "source": h.source}
        for h in holders
    ]
    refused = [h.customer_id for h in holders if h.answer is False]
    if refused:
        detail = f"consent for {purpose} withdrawn by {', '.join(refused)}"
        return CheckResult(
            check="consent", result=Result.FAIL, detail=detail, data=data, final=True
        )
    granted = [h.customer_id for h in holders if h.answer is True]
    if required and not granted:
        detail = f"no recorded consent for {purpose} (required by the campaign)"
        return CheckResult(check="consent", result=Result.FAIL, detail=detail, data=data)
    detail = (
        f"consent for {purpose} from {', '.join(granted)}" if granted else "no withdrawal on record"
    )
    return CheckResult(check="consent", result=Result.PASS, detail=detail, data=data)
