"""`Customer.to_dict` gives each call a fresh consents list, empty or not (the shortcut
for a customer with none must not hand out one shared list)."""

from __future__ import annotations

from crm.model import Consent, Customer


def test_no_consents_is_a_fresh_empty_list_each_time() -> None:
    customer = Customer(id="c-1", name="Ada")
    first, second = customer.to_dict(), customer.to_dict()
    assert first["consents"] == [] and second["consents"] == []
    first["consents"].append({"purpose": "sms"})
    assert second["consents"] == [] and customer.to_dict()["consents"] == []


def test_consents_are_each_consent_to_dict_in_order() -> None:
    consents = (
        Consent(purpose="sms", granted=True, at="2024-01-01T00:00:00+00:00", source="ivr"),
        Consent(purpose="sms", granted=False, at="2024-02-01T00:00:00+00:00"),
    )
    data = Customer(id="c-2", name="Bo", consents=consents).to_dict()
    assert data["consents"] == [c.to_dict() for c in consents]
    assert Customer.from_dict(data).consents == consents
