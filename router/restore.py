"""Rebuild a router from a store's records: restart and failover.

The store holds the records (contacts, agents, reservations, the event
sequence); the router's heaps are only indexes over them. `restore` re-reads
the records, rebuilds the indexes and repairs what a crash can leave half-done,
so that no contact is lost and no agent stays reserved:

* a reservation whose contact or agent no longer points back at it is dropped;
* an agent holding a reservation the store does not have is freed;
* a contact ringing an agent without a live reservation goes back to its place.

Reservations that expired while nobody was routing are left for the first
`tick`, which turns them into RONAs like any other timeout.
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Iterable

from router.engine import Router
from router.model import ContactStatus
from router.queues import Queue
from router.store.base import RoutingStore


def restore(
    queues: Iterable[Queue],
    *,
    rng: random.Random,
    store: RoutingStore,
    explain_detail_limit: int = 50,
) -> tuple[Router, list[str]]:
    """A router over ``store``'s records, and the repairs it had to make."""
    router = Router(queues, rng=rng, store=store, explain_detail_limit=explain_detail_limit)
    repairs: list[str] = []
    for agent in store.agents():
        router.agents[agent.id] = agent
        router._index_memberships(agent)
        router._turns = max([router._turns, *agent.offers_by_queue.values()])
    _restore_reservations(router, store, repairs)
    _restore_contacts(router, store, repairs)
    for agent in router.agents.values():
        if agent.reservation is not None and agent.reservation not in router._reservations:
            repairs.append(f"agent {agent.id}: freed from lost reservation {agent.reservation}")
            agent.reservation = None
        router._agent_changed(agent, router._changed_at)
    router._finish()
    return router, repairs


def _restore_reservations(router: Router, store: RoutingStore, repairs: list[str]) -> None:
    for reservation in store.reservations():
        contact = store.get_contact(reservation.contact_id)
        agent = store.get_agent(reservation.agent_id)
        if (
            contact is None
            or agent is None
            or contact.reservation_id != reservation.id
            or agent.reservation != reservation.id
            or contact.status is not ContactStatus.OFFERED
        ):
            repairs.append(f"reservation {reservation.id}: dropped (half-written)")
            store.delete_reservation(reservation.id)
            continue
        router._reservations[reservation.id] = reservation
        heapq.heappush(router._res_deadlines, (reservation.deadline, reservation.id))


def _restore_contacts(router: Router, store: RoutingStore, repairs: list[str]) -> None:
    live = [c for c in store.contacts() if not c.status.is_final]
    for contact in sorted(live, key=lambda c: c.seq):
        queue = router.queues.get(contact.queue)
        if queue is None:
            repairs.append(f"contact {contact.id}: queue {contact.queue!r} no longer configured")
            continue
        router._contacts[contact.id] = contact
        router._arrivals = max(router._arrivals, contact.seq)
        if contact.status is ContactStatus.OFFERED and (
            contact.reservation_id not in router._reservations
        ):
            repairs.append(f"contact {contact.id}: offer lost, back to its place")
            contact.status, contact.agent_id, contact.reservation_id = (
                ContactStatus.QUEUED,
                None,
                None,
            )
        if contact.status.is_waiting:
            router._waiting[queue.name][contact.id] = contact
        if contact.status is ContactStatus.QUEUED:
            router._push_contact(contact, queue)
        elif contact.status is ContactStatus.WRAP_UP and contact.wrap_until is not None:
            heapq.heappush(router._wrap_deadlines, (contact.wrap_until, contact.id))
        router._touch_contact(contact)
