"""`arriving_contact`, the service's constructor of a new contact, builds the contact the
dataclass's own constructor builds: every field set, the defaults the same."""

from __future__ import annotations

import dataclasses

from router.model import Channel, Contact, ContactStatus, arriving_contact


def test_arriving_contact_equals_the_dataclass_constructor_field_for_field() -> None:
    attributes = {"cli": "+447700900456", "pop": {"customer_id": "cust-1002"}}
    made = arriving_contact(
        "c-1", Channel.VOICE, "cps", 12.5, 3, "sip:x@y", "dnis", "en", "cust-1002", "gold",
        "ann", True, attributes,
    )  # fmt: skip
    expected = Contact(
        id="c-1",
        channel=Channel.VOICE,
        queue="cps",
        created_at=12.5,
        priority=3,
        origin="sip:x@y",
        entry_point="dnis",
        language="en",
        customer_id="cust-1002",
        tier="gold",
        preferred_agent="ann",
        exclusive_agent=True,
        attributes=attributes,
    )
    for field in dataclasses.fields(Contact):  # a field it forgot to set raises here
        assert getattr(made, field.name) == getattr(expected, field.name), field.name
    assert made == expected
    assert made.status is ContactStatus.QUEUED
    assert made.attributes is attributes  # taken as given, as the constructor does


def test_each_arriving_contact_has_its_own_decisions_list() -> None:
    first = arriving_contact(
        "c-1", Channel.CHAT, "q", 0.0, 0, None, None, None, None, None, None, False, {}
    )
    second = arriving_contact(
        "c-2", Channel.CHAT, "q", 0.0, 0, None, None, None, None, None, None, False, {}
    )
    assert first.decisions == [] and first.decisions is not second.decisions
