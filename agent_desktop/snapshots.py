"""Snapshots: a view's whole state in one frame, on connect, on ``sync`` and after a gap.

A snapshot is built synchronously (no await between reading the router and
numbering the frame), so it is exactly the state as of its ``seq``. The only
I/O, the current offer's history, is fetched *before* and used only if the
offer still concerns the same customer. Frames of events that happened before a
snapshot but were dispatched after it may restate what it shows; clients apply
frames idempotently (by contact, reservation and message id).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from agent_desktop.pop import History
from agent_desktop.session import Session, View
from agent_desktop.views import agent_row, contact_view, queue_stats
from ringway.dialer_live.wallboard import dialer_figures
from router.model import Contact

if TYPE_CHECKING:
    from agent_desktop.hub import Hub

Prefetched = tuple[str | None, History]  # (customer id, their history)


async def prefetch(hub: Hub, session: Session) -> Prefetched:
    """History of the customer currently offered to the session's agent (if any)."""
    if session.view is not View.AGENT:
        return None, ([], "none")
    offered = _offer_contact(hub, session.user)
    if offered is None:
        return None, ([], "none")
    return offered.customer_id, await hub.feed.history(offered.customer_id)


def push_snapshot(hub: Hub, session: Session, prefetched: Prefetched) -> int:
    """Number and keep the session's snapshot now; returns its seq."""
    if session.view is View.AGENT:
        return session.push(agent_snapshot(hub, session, prefetched))
    return session.push(supervisor_snapshot(hub))


def agent_snapshot(hub: Hub, session: Session, prefetched: Prefetched) -> dict[str, Any]:
    router = hub.service.reads
    agent = router.agent(session.user)
    now = hub.service.now()
    reservation = router.store.get_reservation(agent.reservation or "")
    offer = None
    if reservation is not None:
        contact = router.contact(reservation.contact_id)
        customer, history = prefetched
        if contact.customer_id != customer:
            history = ([], "omitted")
        offer = hub.feed.offer_frame(session, reservation, contact, history)
    contacts = [contact_view(router.contact(cid), hub.channel_views) for cid in agent.active]
    return {
        "type": "snapshot",
        "view": "agent",
        "at": now,
        "agent": agent.to_dict(now),
        "offer": offer,
        "contacts": contacts,
        **_settings(hub),
    }


def _offer_contact(hub: Hub, agent_id: str) -> Contact | None:
    router = hub.service.reads
    reservation = router.store.get_reservation(router.agent(agent_id).reservation or "")
    return None if reservation is None else router.contact(reservation.contact_id)


def supervisor_snapshot(hub: Hub) -> dict[str, Any]:
    now = hub.service.now()
    stats = queue_stats(hub.service, now)
    agents = [agent_row(agent) for agent in hub.service.reads.agents.values()]
    dialer = dialer_figures(hub.service)  # None: this service runs no dialer
    return {
        **stats,
        "type": "snapshot",
        "view": "supervisor",
        "agents": agents,
        "dialer": dialer,
        **_settings(hub),
    }


def _settings(hub: Hub) -> dict[str, Any]:
    desktop = hub.config.desktop
    queues = hub.service.reads.queues.values()
    return {
        "dispositions": list(desktop.dispositions),
        "wrap_up_extend_s": desktop.wrap_up_extend_s,
        "queues_directory": [{"name": q.name, "channel": q.channel.value} for q in queues],
        "server_time": hub.service.now(),
    }
