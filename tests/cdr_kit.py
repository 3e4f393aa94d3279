"""Real objects for the CDR tests: a routing service whose router holds the contacts a
test names, the contacts themselves, and call records with a chosen CDR builder.

`ringway.cdr` and `ringway.telephony_records` are compiled (scripts/build_native.py),
and a compiled function checks the declared type of what it is given: a stand-in
service or contact (a SimpleNamespace) is refused there. These are the real classes,
with only what a test needs set.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from crm.memory import MemoryCustomerStore
from ringway.calls import CallRecords
from ringway.cdr import CallDetails, CdrStore
from ringway.config import load_config_text
from ringway.recordings import Recordings
from ringway.service import RoutingService
from router.engine import Router
from router.model import Channel, Contact, ContactStatus
from router.store.memory import MemoryStore

T0 = 1_800_000_000.0


def contact(
    contact_id: str,
    *,
    answered: bool,
    status: ContactStatus,
    queue: str = "sales",
    origin: str | None = "+442079460958",
) -> Contact:
    """A routed call as the CDR reads it: queue, customer, agent, disposition, origin."""
    return Contact(
        id=contact_id,
        channel=Channel.VOICE,
        queue=queue,
        created_at=T0,
        origin=origin,
        customer_id="cust-1",
        status=status,
        agent_id="alice",
        answered_at=T0 + 5 if answered else None,
        disposition="sold" if answered else None,
    )


def service_with(
    contacts: Iterable[Contact] = (),
    *,
    now: float = T0 + 99,
    data_dir: str = "/nowhere",
    queues: str = "[{name: sales}, {name: support}]",
    region: str = "US",
) -> RoutingService:
    """A routing service whose clock says ``now`` and whose router knows ``contacts``
    (in its store, as a router that saw them would), not started: no event log."""
    config = load_config_text(
        f'service: {{data_dir: "{data_dir}", default_region: {region}}}\nqueues: {queues}'
    )
    service = RoutingService(config, MemoryCustomerStore(), clock=lambda: now)
    store = MemoryStore()
    for found in contacts:
        store.put_contact(found)
    service._router = Router(config.queues, rng=random.Random(0), store=store)
    return service


class NoStore(CdrStore):
    """A CDR store for builders whose tests never file: nothing opened, nothing kept."""

    def __init__(self) -> None:
        super().__init__(Path("/nowhere/calls.sqlite3"))


class Records(CallRecords):
    """`CallRecords` with the parts a test gives (the rest absent): what `CallArchive`
    reads of it is ``cdrs`` and ``recordings``."""

    def __init__(self, cdrs: CallDetails | Any = None, recordings: Recordings | Any = None) -> None:
        self.cdrs = cdrs
        self.recordings = recordings
        self.call_control = None
