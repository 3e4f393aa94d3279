"""Customer/Interaction values, their JSON shape, consent history and store-side validation."""

from __future__ import annotations

import dataclasses
import json

import pytest

from crm.demo import demo_customers
from crm.errors import InvalidCustomer, InvalidInteraction
from crm.model import Consent, Customer, Interaction, Tier
from crm.validate import validate_customer, validate_interaction


def _consent(granted: bool, at: str, purpose: str = "marketing_calls") -> Consent:
    return Consent(purpose=purpose, granted=granted, at=at, source="test")


@pytest.mark.parametrize("customer", demo_customers(), ids=lambda c: c.id)
def test_customer_round_trips_through_json(customer: Customer) -> None:
    data = json.loads(json.dumps(customer.to_dict()))
    assert Customer.from_dict(data) == customer


def test_to_dict_shape_is_json_native() -> None:
    customer = Customer(id="c1", name="Ann", phones=("+442079460958",), tier=Tier.GOLD)
    data = customer.to_dict()
    assert data["tier"] == "gold"
    assert data["phones"] == ["+442079460958"]
    assert data["consents"] == []
    assert data["account_manager"] is None


def test_from_dict_defaults_optional_fields() -> None:
    customer = Customer.from_dict({"id": "c1"})
    assert customer == Customer(id="c1", name="")


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"name": "no id"}, "id"),
        ({"id": "c1", "tier": "platinum"}, "tier"),
        ({"id": "c1", "phones": "+442079460958"}, "phones"),
        ({"id": "c1", "preferences": {"lang": 3}}, "preferences"),
        ({"id": "c1", "consents": [{"purpose": "sms", "at": "2024-01-01"}]}, "consents.granted"),
        ({"id": "c1", "consents": "yes"}, "consents"),
        ({"id": "c1", "segment": 7}, "segment"),
    ],
)
def test_from_dict_rejects_bad_shapes_naming_the_field(data: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidCustomer) as caught:
        Customer.from_dict(data)
    assert caught.value.field == field
    assert caught.value.status == 422


def test_consent_for_is_none_when_never_asked() -> None:
    customer = Customer(id="c1", name="Ann", consents=(_consent(True, "2024-01-01T00:00:00Z"),))
    assert customer.consent_for("sms") is None
    assert customer.consent_for("marketing_calls") is True


def test_consent_for_takes_the_latest_answer_whatever_the_record_order() -> None:
    withdrawn = _consent(False, "2024-03-01T09:00:00+00:00")
    granted = _consent(True, "2024-01-01T09:00:00+00:00")
    assert (
        Customer(id="a", name="", consents=(granted, withdrawn)).consent_for("marketing_calls")
        is False
    )
    assert (
        Customer(id="b", name="", consents=(withdrawn, granted)).consent_for("marketing_calls")
        is False
    )


def test_consent_for_compares_instants_across_utc_offsets() -> None:
    # 10:00+02:00 is 08:00Z, i.e. *before* 09:00Z although it sorts after it as text.
    early = _consent(True, "2024-01-01T10:00:00+02:00")
    late = _consent(False, "2024-01-01T09:00:00+00:00")
    assert Customer(id="a", name="", consents=(late, early)).consent_for("marketing_calls") is False


def test_customer_is_immutable() -> None:
    customer = Customer(id="c1", name="Ann")
    with pytest.raises(dataclasses.FrozenInstanceError):
        customer.name = "Bob"  # type: ignore[misc]


def test_interaction_to_dict() -> None:
    interaction = Interaction(
        id="i1",
        customer_id="c1",
        at="2024-05-01T10:00:00+00:00",
        channel="voice",
        direction="inbound",
        agent_id="alice",
        queue="support",
        disposition="resolved",
    )
    assert interaction.to_dict() == {
        "id": "i1",
        "customer_id": "c1",
        "at": "2024-05-01T10:00:00+00:00",
        "channel": "voice",
        "direction": "inbound",
        "contact_id": None,
        "agent_id": "alice",
        "queue": "support",
        "disposition": "resolved",
        "notes": "",
    }


def test_validate_customer_canonicalises_phones_and_emails() -> None:
    raw = Customer(
        id="c1",
        name="Ann",
        phones=("+44 20 7946 0958", "tel:+44-20-7946-0958", "+1 (202) 555-0147"),
        emails=("Ann <ANN@Example.com>", "ann@example.com"),
    )
    clean = validate_customer(raw)
    assert clean.phones == ("+442079460958", "+12025550147")
    assert clean.emails == ("ann@example.com",)


@pytest.mark.parametrize(
    ("changes", "field", "value"),
    [
        ({"id": ""}, "id", ""),
        ({"id": "   "}, "id", "   "),
        ({"phones": ("020 7946 0958",)}, "phones", "020 7946 0958"),
        ({"phones": ("anonymous",)}, "phones", "anonymous"),
        ({"emails": ("not-an-address",)}, "emails", "not-an-address"),
        ({"consents": (_consent(True, "yesterday"),)}, "consents.at", "yesterday"),
    ],
)
def test_validate_customer_rejects_naming_field_and_value(
    changes: dict[str, object], field: str, value: str
) -> None:
    customer = dataclasses.replace(Customer(id="c1", name="Ann"), **changes)  # type: ignore[arg-type]
    with pytest.raises(InvalidCustomer) as caught:
        validate_customer(customer)
    assert caught.value.field == field
    assert repr(value) in str(caught.value)
    assert field in str(caught.value)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"id": ""}, "id"),
        ({"customer_id": ""}, "customer_id"),
        ({"channel": "fax"}, "channel"),
        ({"direction": "sideways"}, "direction"),
        ({"at": "last tuesday"}, "at"),
    ],
)
def test_validate_interaction_rejects(changes: dict[str, str], field: str) -> None:
    good = Interaction(
        id="i1", customer_id="c1", at="2024-05-01T10:00:00Z", channel="chat", direction="inbound"
    )
    assert validate_interaction(good) == good
    with pytest.raises(InvalidInteraction) as caught:
        validate_interaction(dataclasses.replace(good, **changes))
    assert caught.value.field == field
