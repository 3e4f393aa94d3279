"""`crm.model.slot_constructor`: the positional constructors of the records built per
call on the router path make the same records as the dataclasses' own constructors."""

from __future__ import annotations

from dataclasses import FrozenInstanceError, dataclass, fields
from typing import Any

import pytest

from crm.lookup import LookupResult, LookupStatus, _result
from crm.model import Consent, Customer, Tier
from ringway.cdr import CallDetailRecord
from ringway.service_types import NewContact
from ringway.telephony import _make_new_contact
from router.model import Channel
from router.record import slot_constructor


def distinct_values(cls: type[Any]) -> dict[str, Any]:
    """A different value per field: a field set in the wrong place shows."""
    return {f.name: f"v{i}-{f.name}" for i, f in enumerate(fields(cls))}


@pytest.mark.parametrize("cls", [Customer, LookupResult, NewContact, CallDetailRecord, Consent])
def test_a_slot_constructor_makes_what_the_dataclass_makes(cls: type[Any]) -> None:
    values = distinct_values(cls)
    made = slot_constructor(cls)(*values.values())
    expected = cls(**values)
    assert type(made) is cls
    assert made == expected and repr(made) == repr(expected)
    assert all(getattr(made, name) == value for name, value in values.items())
    with pytest.raises(FrozenInstanceError):
        setattr(made, next(iter(values)), "changed")


def test_every_field_must_be_given() -> None:
    with pytest.raises(TypeError):
        slot_constructor(Customer)("cust-1", "Ann")


def test_a_field_named_like_its_locals_is_refused() -> None:
    @dataclass(frozen=True, slots=True)
    class Clash:
        made: int

    with pytest.raises(TypeError, match="clashes"):
        slot_constructor(Clash)


def test_a_routed_calls_new_contact_and_lookup_are_the_keyword_built_ones() -> None:
    customer = Customer(id="cust-1", name="Ann", tier=Tier.GOLD, preferences={"k": "v"})
    found = _result("+447700900456", [customer])
    assert found == LookupResult(
        status=LookupStatus.MATCHED, normalized="+447700900456", candidates=(customer,)
    )
    assert _result("+447700900457", []) == LookupResult(
        status=LookupStatus.UNKNOWN, normalized="+447700900457"
    )
    attributes = {"cli": "+447700900456", "sip_call_id": "1-core@h"}
    made = _make_new_contact(
        Channel.VOICE, "cps", None, "sip:x@h", None, 3, attributes, "c-1", None, False, found
    )
    expected = NewContact(
        channel=Channel.VOICE,
        queue="cps",
        origin="sip:x@h",
        priority=3,
        attributes=attributes,
        id="c-1",
        lookup=found,
    )
    assert made == expected and made.lookup is found


def test_the_services_contact_is_the_keyword_built_one() -> None:
    from router.model import Contact
    from router.model import arriving_contact as _new_contact  # the service's constructor

    kw: dict[str, Any] = {
        "id": "c-1",
        "channel": Channel.VOICE,
        "queue": "cps",
        "created_at": 1_800_000_000.5,
        "priority": 2,
        "origin": "sip:x@h",
        "entry_point": "dnis",
        "language": "en-GB",
        "customer_id": "cust-1",
        "tier": "gold",
        "preferred_agent": "alice",
        "exclusive_agent": True,
        "attributes": {"pop": {"status": "matched"}},
    }
    made = _new_contact(*kw.values())
    assert made == Contact(**kw)
    assert made.decisions == [] and made.decisions is not _new_contact(*kw.values()).decisions
