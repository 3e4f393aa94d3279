"""Demo customers for `ringway serve --demo`, the simulator and tests of other packages.

Numbers come from ranges reserved for drama and documentation, so a demo can
never ring a real person: Ofcom's 020 7946 0xxx (London) and 07700 900xxx
(mobile), and NANP 555-01xx. The set covers what routing cares about: every
tier, UK and US callers, a household sharing a landline (a ``multiple`` lookup),
a switchboard, an e-mail-only customer and a withdrawn marketing consent.
Account managers are the demo agents ``alice`` and ``bob``.
"""

from __future__ import annotations

from crm.errors import DuplicateCustomer
from crm.model import Consent, Customer, Tier
from crm.store import CustomerStore

HOUSEHOLD_PHONE = "+442079460321"  # the Shah household landline


def _consent(purpose: str, granted: bool, at: str, source: str) -> Consent:
    return Consent(purpose=purpose, granted=granted, at=at, source=source)


def demo_customers() -> list[Customer]:
    """A fresh list of the demo customers (new objects on every call)."""
    return [
        Customer(
            id="cust-1001",
            name="Margaret Thompson",
            phones=("+442079460958", "+447700900123"),
            emails=("margaret.thompson@example.co.uk",),
            tier=Tier.GOLD,
            account_manager="alice",
            backup_agent="bob",
            language="en-GB",
            preferences={"preferred_channel": "voice", "callback_window": "09:00-12:00"},
            consents=(_consent("service_calls", True, "2024-01-15T10:12:00+00:00", "web"),),
            segment="premier",
        ),
        Customer(
            id="cust-1002",
            name="James Okafor",
            phones=("+447700900456",),
            emails=("j.okafor@example.com",),
            tier=Tier.SILVER,
            account_manager="bob",
            language="en-GB",
            consents=(
                _consent("marketing_calls", True, "2023-11-02T14:30:00+00:00", "ivr"),
                _consent("sms", True, "2023-11-02T14:30:00+00:00", "ivr"),
            ),
            segment="consumer",
        ),
        Customer(
            id="cust-1003",
            name="Priya Shah",
            phones=(HOUSEHOLD_PHONE, "+447700900789"),
            emails=("priya.shah@example.org",),
            tier=Tier.GOLD,
            account_manager="alice",
            language="en-GB",
            preferences={"preferred_channel": "chat"},
            segment="premier",
        ),
        Customer(
            id="cust-1004",
            name="Arjun Shah",
            phones=(HOUSEHOLD_PHONE,),
            tier=Tier.BRONZE,
            language="en-GB",
            segment="consumer",
        ),
        Customer(
            id="cust-1005",
            name="Daniel Reyes",
            phones=("+12025550147",),
            emails=("daniel.reyes@example.com",),
            tier=Tier.GOLD,
            account_manager="bob",
            backup_agent="alice",
            language="es-US",
            preferences={"preferred_channel": "voice"},
            segment="premier",
        ),
        Customer(
            id="cust-1006",
            name="Emily Carter",
            phones=("+13125550182",),
            emails=("emily.carter@example.net",),
            tier=Tier.BRONZE,
            language="en-US",
            consents=(
                _consent("marketing_calls", True, "2023-06-01T09:00:00-05:00", "web"),
                # Withdrawn later on a call: the dialer must not call her for campaigns.
                _consent("marketing_calls", False, "2024-03-20T16:45:00-05:00", "agent:alice"),
                _consent("service_calls", True, "2023-06-01T09:00:00-05:00", "web"),
            ),
            segment="consumer",
        ),
        Customer(
            id="cust-1007",
            name="Hollis & Grant LLP (switchboard)",
            phones=("+16175550100",),
            emails=("accounts@hollisgrant.example",),
            tier=Tier.SILVER,
            account_manager="alice",
            language="en-US",
            preferences={"invoice_reference": "HG-2024"},
            segment="business",
        ),
        Customer(
            id="cust-1008",
            name="Sophie Martin",
            emails=("sophie.martin@example.fr",),
            tier=Tier.BRONZE,
            language="fr-FR",
            preferences={"preferred_channel": "email"},
            consents=(_consent("email", True, "2024-02-10T08:00:00+01:00", "web"),),
            segment="consumer",
        ),
    ]


async def seed(store: CustomerStore) -> int:
    """Create the demo customers that are missing; returns how many were created."""
    created = 0
    for customer in demo_customers():
        if await store.get(customer.id) is not None:
            continue
        try:
            await store.create(customer)
        except DuplicateCustomer:
            continue  # created concurrently by another seeder: absent-or-present is all we need
        created += 1
    return created
