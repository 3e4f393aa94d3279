"""What the pages show, built from the router's records: rows, contacts, queue figures.

Pure reads of the service's state at ``now``; nothing here awaits, so a view
and the frames around it always describe the same moment.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from router.agents import Agent
from router.explain import Decision
from router.model import Contact

if TYPE_CHECKING:  # ringway.service is imported through ringway.api (an import cycle)
    from ringway.service import RoutingService

ChannelView = Callable[[str], dict[str, Any] | None]  # contact id -> chat / e-mail details
SKIP_ATTRIBUTES = ("pop", "chat", "email")


def agent_row(agent: Agent) -> dict[str, Any]:
    """One line of the wallboard's agent grid (time in state = now - since)."""
    return {
        "id": agent.id,
        "name": agent.name,
        "state": agent.state.value,
        "presence": agent.presence.value,
        "reason": agent.reason,
        "since": agent.state_since,
        "extension": agent.extension,
        "contacts": len(agent.active),
        "pending": None if agent.pending is None else agent.pending.action.value,
    }


def queue_row(service: RoutingService, name: str, now: float) -> dict[str, Any]:
    """One line of the wallboard's queue table; ``meets_target`` colours it."""
    live = service.reads.queue_snapshot(name, now)
    kpis = service.stats.queue_kpis(name, now)
    queue = service.reads.queues[name]
    return {
        "name": name,
        "channel": live["channel"],
        "waiting": live["waiting"],
        "ringing": live["offered"],
        "oldest_wait": live["oldest_wait"],
        "target": queue.service_level.target,
        "threshold_s": queue.service_level.threshold_s,
        "service_level": kpis.service_level,
        "meets_target": kpis.meets_target,
        "asa": kpis.asa,
        "aht": kpis.aht,
        "offered": kpis.offered,
        "answered": kpis.answered,
        "abandoned": kpis.abandoned,
        "abandon_rate": kpis.abandon_rate,
        "handled": kpis.handled,
        "agents": live["agents"],
    }


def queue_stats(service: RoutingService, now: float) -> dict[str, Any]:
    queues = [queue_row(service, name, now) for name in service.reads.queues]
    states = Counter(agent.state.value for agent in service.reads.agents.values())
    return {"type": "queue_stats", "at": now, "queues": queues, "agents_by_state": dict(states)}


def contact_view(contact: Contact, channels: Iterable[ChannelView] = ()) -> dict[str, Any]:
    """A contact as the agent desktop shows it: routing facts plus its channel's details."""
    inputs = {k: v for k, v in contact.attributes.items() if k not in SKIP_ATTRIBUTES}
    view: dict[str, Any] = {
        "id": contact.id,
        "channel": contact.channel.value,
        "queue": contact.queue,
        "status": contact.status.value,
        "tier": contact.tier,
        "priority": contact.priority,
        "origin": contact.origin,
        "entry_point": contact.entry_point,
        "customer_id": contact.customer_id,
        "created_at": contact.created_at,
        "answered_at": contact.answered_at,
        "wrap_until": contact.wrap_until,
        "label": (contact.attributes.get("pop") or {}).get("label"),
        "inputs": inputs,
        "email": contact.attributes.get("email"),
        "chat": None,
        "case": None,
    }
    for channel in channels:
        details = channel(contact.id)
        if details is not None:
            view["chat" if "chat_id" in details else "case"] = details
    return view


def routing_reason(decision: Decision | None) -> dict[str, Any] | None:
    """Why this agent got the contact: a sentence and the decision behind it."""
    if decision is None:
        return None
    count = len(decision.candidates)
    summary = (
        f"{decision.trigger.replace('_', ' ')}: {decision.strategy} in queue "
        f"{decision.queue} (step {decision.step}, requires {decision.requirement}); "
        f"{count} candidate{'s' if count != 1 else ''}"
    )
    if decision.note:
        summary += f"; {decision.note}"
    return {"summary": summary, "decision": decision.to_dict()}
